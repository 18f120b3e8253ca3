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
# # Benchmarking any model
#
# The paper's second comparison is with vision-language models (VLMs) prompted to rate the faces
# {cite}`schuhmann2025emonetface`. This chapter reads the authors' two prompting protocols from
# their notebooks, shows what their rules on a reply force, asks how much of a VLM's result is its
# *readout* rather than its perception, runs a transformer VLM under the protocols, and puts a
# score file through the paper's analysis. The same code is on the command line: `emonet
# annotate` runs any VLM that `transformers` loads for image-text-to-text under the protocols,
# and `emonet evaluate` runs any model's scores through the HQ suite of chapter 04, with the
# panel and the model of chapter 06.

# %% tags=["parameters"]
profile = "local"
artifacts_dir = None
seed = 42
panel_source = "simulated"  # the simulated panel of 04_hq_panel (stand-in for hq.csv); full: real
model_name = "Empathic Insight Face (this build)"
n_bootstrap = 1000
hq_images = None  # HQ images the VLM annotates when the panel has no faces
vlm_model = None  # the VLM under the authors' protocols (hub id, folder); None: a tiny random one
vlm_demo_images = 2  # HQ images it annotates, every attempt recorded
vlm_max_new_tokens = 16  # cap on its replies; None: the authors' 1000 / 2000
vlm_rating_sd = 1.0  # spread of a simulated VLM's rating probabilities (0-7 scale)
vlm_slip_rate = 0.1  # share of a simulated VLM's replies that break the protocol's rule

# %%
import pandas as pd
from IPython.display import display

from emonet.benchmarking import chapter
from emonet.book.page import Page

page = Page.for_profile(profile, artifacts_dir)
result = chapter.run(chapter.BenchmarkingParams.from_namespace(globals()), page)
page.glue()

# %% [markdown]
# ## The authors' two protocols
#
# Both protocols are read at run time from the authors' notebooks ({glue:text}`protocol_files`),
# parsed without executing them; nothing of them is copied into this book's sources. The
# **zero-shot** prompt ({glue:text}`zero_shot_chars` characters for one image) is mostly what the
# human experts saw: their guideline ({glue:text}`zero_shot_guideline` of the prompt, in HTML) and
# the 40 labels with their descriptor words ({glue:text}`zero_shot_options`), then an example
# answer that names {glue:text}`zero_shot_n` categories. The **multi-shot** prompt
# ({glue:text}`multi_shot_chars` characters, the same for every image) defines the task, the 40
# emotions and the 4 extra dimensions, and spends {glue:text}`multi_shot_examples` of its length
# on worked examples.

# %%
page.show("vlm_prompt_anatomy", 3)

# %% [markdown]
# What a reply must look like to count, as the authors' code checks it:

# %%
with pd.option_context("display.max_colwidth", None):
    display(page.show("vlm_protocol_rules"))

# %% [markdown]
# Zero-shot asks again, with a retry text appended ("an aha moment"), until a reply has exactly
# {glue:text}`zero_shot_n` entries and no 0, up to {glue:text}`zero_shot_attempts` attempts; the
# authors' loop checks neither which categories a reply names nor its values. Multi-shot checks
# every entry but asks once: a reply with more than {glue:text}`multi_shot_max` non-zero emotions
# is lost. `emonet annotate` follows both loops exactly, records every attempt with its reply and
# the reason it was turned down, and counts a reply that a protocol accepts but `hq.csv` cannot
# hold (a key that is not a category, a value outside 0–7) as unusable instead of dropping it.
# Each reply goes through one check; here a zero-shot reply with the example's keys, one of them
# rated 0:

# %% tags=["show-input"]
import json

from emonet.benchmarking import replies

# the 25 keys of the authors' example output, each rated 3, the first one 0
ratings = {**dict.fromkeys(result.zero_shot.keys, 3), result.zero_shot.keys[0]: 0}
replies.check_zero_shot(json.dumps({"value": ratings}), result.zero_shot)

# %% [markdown]
# ## What the acceptance rules force
#
# The experts of this panel mark {glue:text}`experts_nonzero` categories per image on
# average ({numref}`fig-vlm-nonzero`), and in {glue:text}`experts_over_max` of their ratings
# of an image more than {glue:text}`multi_shot_max`. An accepted zero-shot reply rates exactly
# {glue:text}`zero_shot_n` categories above 0, an accepted multi-shot reply at most
# {glue:text}`multi_shot_max`: neither is how the experts rate. The third readout below, an
# expected rating, is above 0 for every category; where to cut it would be one more choice.

# %%
page.show("vlm_nonzero", 2)

# %% [markdown]
# ```{glue:figure} fig_vlm_nonzero
# :name: fig-vlm-nonzero
#
# Categories rated above 0 per image: each expert's ratings, and the accepted replies of the
# simulated VLMs below under each readout ({glue:text}`vlm_label`); dashed: what the protocols
# demand.
# ```
#
# ## Same perception, three readouts
#
# How much of a VLM's result is its readout? On the panel with known truth, a simulated VLM
# perceives exactly what a perceiver scores (here: {glue:text}`vlm_perceivers`) and answers as
# each protocol asks. Zero-shot: it names the 25 categories it perceives most, each rated at
# least 1, because 0 is forbidden. Multi-shot: it keeps the 5 it perceives most and rates the
# rest 0. The third readout, which neither protocol has, reads the model's own probability of
# each rating 0–7 for each category (for the simulated VLM a discretised normal around its
# perception, SD {glue:text}`vlm_rating_sd`) and takes the expected rating, without forcing a
# number of non-zero categories {cite}`readout2026`. {glue:text}`vlm_slip` of the simulated
# replies break their protocol's rule (one category too few, a sixth non-zero emotion), as real
# VLMs' replies do. The replies go through the runner of `emonet annotate` and the acceptance
# rules above; the accepted ones become `hq.csv` rows, and `emonet evaluate` joins them to the
# panel ({numref}`fig-vlm-readouts`).

# %%
page.show("vlm_readouts", 3)

# %% [markdown]
# ```{glue:figure} fig_vlm_readouts
# :name: fig-vlm-readouts
#
# Mean weighted kappa with the experts and mean Spearman rho against their median (95% CI) of
# each simulated VLM under each readout; grey band: the experts' own range
# ({glue:text}`vlm_label`).
# ```
#
# The VLM seeing our model reaches a mean rho of {glue:text}`vlm_zero_shot` zero-shot,
# {glue:text}`vlm_multi_shot` multi-shot and {glue:text}`vlm_logits` from its rating
# probabilities: the readout alone moves its rho by {glue:text}`vlm_swing`. With one attempt,
# the {glue:text}`multi_shot_lost` multi-shot replies that broke the rule are lost (counted as
# failed; their images have no row), while zero-shot asked again:
# {glue:text}`zero_shot_attempts_mean` attempts per image, {glue:text}`zero_shot_failed` images
# without an accepted reply. Within a perceiver the perception is the same and only the readout
# differs, so the differences between its rows are the protocol's, not the perception's.
#
# ## A transformer VLM under the protocols
#
# `emonet annotate` sends each image with the authors' prompts to a chat VLM (batched, with the
# KV cache), checks every reply, and reads the rating probabilities from the logits: one prefill
# of the multi-shot chat per batch, then for each emotion the reply written up to its
# `"rating":` on the cached prefix. Here it runs {glue:text}`demo_model` on
# {glue:text}`demo_images` image(s), replies {glue:text}`demo_cap`: the zero-shot prompt is
# {glue:text}`demo_zero_shot_tokens` tokens with the image ({glue:text}`demo_retry_tokens` with
# the retry text), the multi-shot prompt {glue:text}`demo_multi_shot_tokens`. What became of the
# replies under each readout (a reply that is turned down is counted with its reason, never
# dropped):

# %%
page.show("vlm_demo_summary", 3)

# %%
page.show("vlm_demo_reasons")

# %% [markdown]
# The rating probabilities give every image an expected rating; the model put
# {glue:text}`demo_rating_mass` of its next-token probability on the 8 rating tokens. Every
# reply, its attempt and the reason it was turned down stay in `attempts.jsonl` next to the
# `hq.csv` rows. The profile's `vlm_model` names any other model (a hub id or a folder).
#
# ## Your model: `emonet evaluate`
#
# A model's scores (a CSV with a column `image` and the 40 categories, or an `hq.csv`-format file
# such as `emonet annotate` writes) join the panel as one more annotator, and the paper's suite
# runs unchanged. The chapter writes this build's scores to such a file
# ({glue:text}`bench_scores` in the artifacts folder) and evaluates it as `emonet evaluate
# --scores FILE --out DIR` does:

# %%
page.show("bench_summary", 3)

# %% [markdown]
# ```{glue:figure} fig_bench_profile
# :name: fig-bench-profile
#
# Agreement with the experts per emotion of *{glue:text}`model`* as `emonet evaluate` reports
# it, against the experts' own range and mean ({glue:text}`label`).
# ```
#
# *{glue:text}`model`* gets a mean kappa of {glue:text}`bench_kappa` and a mean rho of
# {glue:text}`bench_rho` (could it be an annotator? {glue:text}`bench_could_be`, p =
# {glue:text}`bench_p`): {glue:text}`bench_same`. The command also writes the per-emotion
# tables, the figures ({numref}`fig-bench-profile` is one) and one self-contained report to
# attach to a paper ({glue:text}`bench_report`, {glue:text}`bench_report_kb` kB with its
# figures embedded).
