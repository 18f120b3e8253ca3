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
# entry is a number of this run (the *{glue:text}`glance_profile`* profile), not a copy of the
# paper.

# %% tags=["parameters"]
profile = "local"
artifacts_dir = None
seed = 42

# %%
from emonet.book.page import Page
from emonet.glance import chapter

page = chapter.run(chapter.GlanceParams.from_namespace(globals()),
                   Page.for_profile(profile, artifacts_dir))
page.glue()

# %% [markdown]
# (glance-results)=
# ## The paper against this build
#
# ```{glue:md} glance_table
# :format: myst
# ```
#
# {glue:text}`glance_counts` Of the {glue:text}`glance_n_checks` rows,
# {glue:text}`glance_n_real` rest on real data and {glue:text}`glance_n_stand_ins` on stand-ins;
# {numref}`fig-glance-verdicts` shows where each check lands.
#
# ```{glue:figure} fig_glance_verdicts
# :name: fig-glance-verdicts
#
# Each check of the table above in the column of its verdict: filled where it rests on the
# paper's real data, hollow where it rests on a stand-in of this build (*{glue:text}`glance_profile`*
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
# The closing section of the evaluation chapter ({ref}`evaluation-claims`) gives each claim's
# reasoning in full; this page adds the three dataset rows and keeps the verdicts as that table
# has them. The CSV behind this page is `tables/glance_results.csv` among the artifacts.
