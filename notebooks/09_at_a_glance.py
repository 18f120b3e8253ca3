# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Results at a glance
#
# What this build found, claim by claim. Each row sets one of the paper's claims or headline
# numbers {cite}`schuhmann2025emonetface` beside the value this build measured, says whether that
# value rests on the paper's **real data** or on a **stand-in** (the offline faces, a simulated
# panel, the untrained encoder; see {doc}`data_ethics`), gives the verdict and links to the section
# that shows the evidence. The page is written last, from the tables the chapters wrote, so every
# entry is a number of this run (the *{glue:text}`profile`* profile), not a copy of the
# paper.

# %% tags=["parameters"]
profile = "local"
artifacts_dir = None
seed = 42
model_name = "Empathic Insight Face (this build)"  # the model whose claims are judged

# %%
import pandas as pd
from IPython.display import display

from emonet.book.page import Page
from emonet.glance import chapter

page = Page.for_profile(profile, artifacts_dir)
result = chapter.run(chapter.GlanceParams.from_namespace(globals()), page)
page.glue()

# %% [markdown]
# (glance-results)=
# ## The paper against this build
#
# ```{glue:md} glance_table
# :format: myst
# ```
#
# Of the {glue:text}`n_checks` checks, {glue:text}`checks_reproduced` reproduced on real data,
# {glue:text}`checks_consistent` are consistent on stand-ins (evidence about the pipeline and
# the statistics, not about the paper's model), {glue:text}`checks_not_reproduced` did not
# reproduce and {glue:text}`checks_not_testable` are not testable here;
# {glue:text}`n_real` rest on real data and {glue:text}`n_stand_ins` on stand-ins.
# {numref}`fig-glance-verdicts` shows where each check lands.
#
# ```{glue:figure} fig_glance_verdicts
# :name: fig-glance-verdicts
#
# Each check of the table above in the column of its verdict: filled where it rests on the
# paper's real data, hollow where it rests on a stand-in of this build (*{glue:text}`profile`*
# profile).
# ```

# %% [markdown]
# ## How to read the verdicts
#
# - **✓ reproduced on real data**: the claim holds, measured on the paper's own data (the
#   taxonomy, the Binary labels and the released model's outputs on real photographs in every
#   build; the HQ ratings, the images and SigLIP2 in the full profile).
# - **≈ consistent on stand-ins**: the claim holds on a stand-in. This says the pipeline and the
#   statistics behave, not that the paper's model does; it is never counted as reproduced.
# - **✗ not reproduced**: this build measured something other than the paper's value, or the test
#   the claim implies fails. The linked section says by how much and why.
# - **– not testable here**: this build cannot check the claim: the data it needs are not public
#   (the blind study's judgments), not read in this profile (AffectNet's outputs, the VLMs'
#   ratings in `hq.csv`), or the number is a setting of a stand-in rather than a finding (the
#   design of a simulated panel).
#
# The section below ({ref}`evaluation-claims`) gives each claim's reasoning in full; the table
# above adds the three dataset rows and keeps the verdicts as the claims have them. The CSVs
# behind this page are `tables/glance_results.csv` and `tables/evaluation_claims.csv` among the
# artifacts.
#
# (evaluation-claims)=
# ## What reproduced, what did not, and why
#
# Each claim of the paper that chapters 06 and 08 can check, what this run measured, on what
# evidence, and a verdict. The verdicts name their evidence: a claim that holds is "reproduced
# on real data" only where it rests on the paper's data, and "consistent on stand-ins" where it
# rests on a stand-in; the others are "not reproduced" or "not testable here". The HQ rows judge
# like for like (the model against each expert's own reference; could-be on matched images;
# against each VLM paired over images) and quote the paper's version beside it. The table is
# assembled from the run's numbers, so it changes when the data, the model or the profile change.

# %%
with pd.option_context("display.max_colwidth", None):
    display(page.show("evaluation_claims"))

# %% [markdown]
# Of the {glue:text}`n_claims` claims, {glue:text}`claims_reproduced` reproduced on real data,
# {glue:text}`claims_consistent` are consistent on stand-ins, {glue:text}`claims_not_reproduced`
# did not reproduce and {glue:text}`claims_not_testable` are not testable here. The HQ rows of
# this build rest on {glue:text}`hq_evidence`. A stand-in tests the pipeline and the statistics,
# not the paper's model; the full profile runs the same code on the real ratings and SigLIP2.
# The real-photograph number reproduces from the authors' own outputs, and the chance level and
# the mapping sensitivity of chapter 08 say how much of it the scoring rule supplies.
