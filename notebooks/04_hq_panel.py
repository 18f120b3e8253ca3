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
# # Expert panel (HQ): agreement
#
# *Chapter 04.* The paper's central statistics come from its test set, EmoNet-Face
# **HQ**: 2,500 synthetic faces, each rated on all 40 categories on a 0–7 scale by 4 of 8 experts,
# with 14 models entered into the same file as further "annotators"
# {cite}`schuhmann2025emonetface`. How far the experts agree with one another bounds what any
# model can be asked to do, and the paper judges its models by how close they come to that bound.
#
# The ratings (`hq.csv`, about 91 MB) are published in the authors' repository but are not part
# of the offline mirror. The **full** profile downloads them and verifies them by their git blob
# id. The **local** profile analyses a **simulated panel** instead: eight simulated experts rate
# the HQ-role faces of chapter 02, whose ground truth is known, under the paper's design (4 of 8
# per image, 0–7 on every category) and marking about 8 of the 40 categories per image, the rate
# a third-party re-scoring of `hq.csv` reports for the real experts (not checked here, since
# `hq.csv` cannot be read offline), next to a Random Baseline and two simulated VLMs that answer
# by the authors' zero-shot and multi-shot protocols (chapter 07 describes them). It is written
# to a file in the `hq.csv` format and read back through the same loader, so both profiles run
# exactly the same analysis. Every result below says which of the two it comes from.
#
# The chapter first rebuilds the authors' analyses (their notebook `statistics/analysis-hq.ipynb`)
# with their conventions, says where a convention matters, and then uses simulated panels with a
# known truth to ask what these statistics can and cannot show.

# %% tags=["parameters"]
profile = "local"
artifacts_dir = None
seed = 42
panel_source = "simulated"
n_bootstrap = 1000
bootstrap_order = "keyed"  # "authors": their generator's order for the alpha and rho intervals
kappa_method = "truncate"
panel_raters = 8
panel_per_image = 4
panel_marked = 8.0
panel_noise_sd = 1.5
panel_leniency_sd = 0.5
panel_shared_sd = 0.5
panel_vlm_noise_sd = 1.5  # two simulated VLMs (zero-shot, multi-shot): perception noise
sim_images = 500
sim_replications = 3
sim_noise = [0.5, 1.0, 1.5, 2.0, 3.0]
sim_per_image = [2, 3, 4, 6, 8]
sim_marked = [4, 8, 16, 40]
sim_offsets = [-1.5, -1.0, -0.5, 0.0, 0.5, 1.0]
sim_model_noise = [0.5, 1.0, 1.25, 1.5, 1.75, 2.5]
sim_reference_noise = 1.0

# %%
from emonet.book.page import Page
from emonet.hq import chapter

page = Page.for_profile(profile, artifacts_dir)
result = chapter.run(chapter.PanelParams.from_namespace(globals()), page)
page.glue()

# %% [markdown]
# (hq-panel)=
# ## The panel
#
# The analysis reads the file {glue:text}`panel_file` ({glue:text}`label`): in the full profile
# the authors' `hq.csv`, verified by its git blob id; in the local profile the simulated panel
# this chapter writes to `panel/hq_simulated.csv` in the profile's artifacts folder. Each row of
# the file is one annotator's ratings of one image, as a dictionary from `"Family|Emotion"` to a
# rating; the loader checks every row (booleans, finite numbers, expert ratings within 0–7) and
# follows the authors' conventions: a category missing from a dictionary counts as 0, the four
# `Extra Dimensions|` keys are kept apart (they take no part in the analysis), the scores of the
# proprietary `Hume Face*` model, on 0–1, are multiplied by 7, and rows that repeat an image and
# annotator are averaged, as the authors' analysis does. Keys that name neither a category nor an
# extra dimension are ignored. What the loader averaged, ignored and read as 0 in this file is
# counted here:

# %%
page.show("hq_file_checks")

# %% [markdown]
# The ratings become one array, annotators × images × 40 categories, with a gap wherever an
# annotator did not rate an image.

# %%
page.show("hq_annotators", decimals=3)

# %% [markdown]
# ```{glue:figure} fig_panel
# :name: fig-hq-panel
#
# The panel ({glue:text}`label`). Left: how the experts use the levels 1–7 when they mark a
# category. Right: categories rated above 0 per image, per annotator, coloured by group.
# ```
#
# This panel has {glue:text}`n_experts` experts and {glue:text}`n_models` model annotators on
# {glue:text}`n_images` images, with {glue:text}`experts_per_image` experts per image on average.
# The experts mark {glue:text}`marked` of the 40 categories per image ({numref}`fig-hq-panel`), so
# {glue:text}`share_zero` of their ratings are 0. Two experts share {glue:text}`shared_pair`
# images on average, a model and an expert {glue:text}`shared_model`: every pairwise statistic
# below rests on the images the pair has in common, and different pairs rest on different images.
#
# ## How far the experts agree: Krippendorff's alpha
#
# Krippendorff's alpha handles any number of raters per unit and missing ratings, and at the
# interval level it weighs a disagreement by the squared distance between the two ratings
# {cite}`krippendorff2011alpha`. As the authors do, we compute it per emotion over the experts
# only, with each image a unit, and bootstrap the images ({glue:text}`n_bootstrap` resamples) for
# 95% intervals. One difference: the authors draw the resamples of each emotion one after another
# from a single generator, so an emotion's interval depends on how many emotions come before it in
# the file; here all emotions share the same resamples, which makes each interval independent of
# the order and gives the mean over the 40 an interval of its own (the authors average the
# endpoints).
#
# ```{glue:figure} fig_alpha
# :name: fig-hq-alpha
#
# Krippendorff's alpha (interval) of the experts per emotion with 95% bootstrap intervals
# ({glue:text}`label`). Dashed: the mean over the 40 emotions.
# ```
#
# Averaged over the emotions, alpha is {glue:text}`alpha_mean`, from {glue:text}`alpha_best` at
# best down to {glue:text}`alpha_worst` ({numref}`fig-hq-alpha`). The alpha table the authors'
# notebook writes puts the median of the 40 beside the mean, and so do we: the median is
# {glue:text}`alpha_median`, less moved by a few emotions with extreme alphas. In the authors'
# table these two rows get an interval by averaging (or taking the median of) the 40 emotions'
# endpoints; the columns `endpoints_low` and `endpoints_high` of the table below give those
# numbers. They are not intervals of the mean or the median: the 40 endpoints do not occur on the
# same resamples, and unless the 40 alphas rise and fall together from resample to resample, an
# average of 2.5% quantiles lies further out than the 2.5% quantile of an average. The intervals
# in `ci_low` and `ci_high` come from the mean and the median of the 40 alphas computed on each
# resample.

# %%
page.show("hq_alpha_summary", decimals=3)

# %% [markdown]
# One emotion's alpha is one call of `emonet.stats.agreement` on the experts' ratings of that
# emotion (experts × images, a gap where an expert did not rate an image); it is the emotion's
# row of the alpha table:

# %% tags=["show-input"]
from emonet.data import taxonomy
from emonet.stats import agreement

experts = result.panel.ratings[result.panel.human]  # experts x images x 40, NaN: not rated
awe = experts[:, :, taxonomy.INDEX["Awe"]]
alpha = agreement.krippendorff_alpha(awe, level="interval")
print(
    f"alpha of Awe: {alpha:.6f}, in the table:",
    f"{result.statistics.alpha.set_index('name').loc['Awe', 'alpha']:.6f}",
)

# %% [markdown]
# The authors' notebook draws alpha as a box plot of the bootstrap resamples of each emotion,
# sorted by alpha; we draw it in {numref}`fig-hq-alpha-boxes` from the same resamples as the
# intervals above.
#
# ```{glue:figure} fig_alpha_boxes
# :name: fig-hq-alpha-boxes
#
# Bootstrap distributions of Krippendorff's alpha (interval) per emotion over
# {glue:text}`n_bootstrap` resamples of the images ({glue:text}`label`): boxes span the quartiles,
# whiskers reach 1.5 times the interquartile range, dots are resamples beyond; the black tick is
# the estimate on all images, dashed and dotted lines the mean and the median of the 40. Boxes and
# labels coloured by family.
# ```
#
# The width of a box is the uncertainty that comes from which images happened to be rated: the
# bootstrap standard error of an emotion's alpha lies between {glue:text}`alpha_se_range`
# (widest: *{glue:text}`alpha_se_widest`*). The resamples in numbers, per emotion, are in
# `tables/hq_alpha_bootstrap.csv`.
#
# ## Pairwise agreement: weighted kappa
#
# The paper's main agreement measure is Cohen's kappa with quadratic weights on the eight levels
# 0–7, for every pair of annotators and every emotion, computed with scikit-learn over the images
# both annotators rated. For two experts that is the {glue:text}`shared_pair` images they happen
# to share, for a model and an expert the expert's images. A pair's kappa is corrected for chance
# with that pair's own use of the scale on those images. Averaging kappas over pairs then gives
# every partner the same weight, however many images the pair shares; a pair with fewer than two
# images in common gets no kappa at all. We keep all of this as the authors have it. The heat map
# ({numref}`fig-hq-kappa`) shows each pair's kappa averaged over the 40 emotions.
#
# ```{glue:figure} fig_kappa
# :name: fig-hq-kappa
#
# Mean quadratic-weighted kappa over the 40 emotions for every pair of annotators, experts first
# ({glue:text}`label`; levels {glue:text}`kappa_method`).
# ```
#
# Of the pair-and-emotion kappas, {glue:text}`undefined_kappas` are undefined (a pair with no
# shared variation, e.g. both rating an emotion 0 on every shared image) and are left out of every
# mean, as the authors' `nanmean` does. Between two experts the mean kappa is
# {glue:text}`expert_kappa`. Per emotion, the paper draws two line graphs ({numref}`fig-hq-lines`):
# each expert against the other experts, and each model against the experts.

# %%
page.show("hq_agreement_summary", decimals=3)

# %% [markdown]
# ```{glue:figure} fig_lines
# :name: fig-hq-lines
#
# Mean weighted kappa per emotion ({glue:text}`label`): top, each expert with the other experts;
# bottom, each model with the experts. Emotion labels coloured by family.
# ```
#
# The summary table is the paper's: for every annotator the mean, standard deviation and median of
# its 40 per-emotion values and its best emotion. First comes {glue:text}`top_annotator`.
#
# ## Truncation or rounding
#
# Before the kappa, the authors cast every rating with `astype(int)`. For the experts' integer
# ratings that changes nothing. A model's continuous score is cut down to the level below it
# (3.9 becomes 3), and a score that lands outside 0–7 after the cut (a negative or a
# mean-subtracted score, say) is silently dropped from the pair by scikit-learn, because the
# levels are fixed to 0–7. The principled alternative maps a score to the nearest level and
# clips it to the scale, so every score keeps a level. The table gives each annotator's mean
# kappa with the experts both ways; `share_dropped` is the share of its scores that truncation
# removes.

# %%
page.show("hq_kappa_methods", decimals=4)

# %% [markdown]
# ```{glue:figure} fig_methods
# :name: fig-hq-methods
#
# Mean kappa with the experts per annotator with the paper's truncated levels (x) and with
# rounded levels (y), {glue:text}`label`; annotators off the diagonal are named.
# ```
#
# {glue:text}`n_method_changed` annotators change ({numref}`fig-hq-methods`), by the amounts in
# the table's `difference` column. Only an annotator whose scores are not integers on 0–7 can
# change: for one that rates in integers both variants give identical kappas, and the simulation
# study below shows the difference for continuous scores.
#
# ## Groups of annotators
#
# The paper sorts the annotators into groups: human annotators, its own models, proprietary
# models, vision-language models prompted multi-shot and zero-shot, and a random baseline. For
# each group it pools the per-emotion agreement values of its annotators (an expert's values are
# its agreement with the other experts), draws them as box plots, and compares every two groups
# with a two-sided Mann–Whitney U test and a bootstrap interval for the difference of the means.
# Each group is resampled with a seed derived from its name, so adding a group or a model does
# not move the other intervals.

# %%
page.show("hq_group_tests", decimals=3)

# %% [markdown]
# ```{glue:figure} fig_groups
# :name: fig-hq-groups
#
# Per-emotion agreement with the experts by annotator group ({glue:text}`label`).
# ```
#
# {numref}`fig-hq-groups` shows the groups of this panel. The table lists each pair's mean
# difference with its 95% interval and the test's p-value; with 40 values per annotator, even
# small differences reach significance, so the interval says more than the p-value.
#
# ## Could a model be one of the experts?
#
# The paper's test of "human-level" agreement: for each model, its kappas with each expert on
# each emotion form one sample, all expert–expert kappas the other; if a two-sided Mann–Whitney U
# test cannot tell them apart (p > 0.05), the model "could be an annotator". For an expert, the
# sample is its kappas with the other experts and the reference the kappas among those others.

# %%
page.show("hq_could_be", decimals=3)

# %% [markdown]
# ```{glue:figure} fig_could_be
# :name: fig-hq-could-be
#
# Each annotator's mean kappa with the experts minus the experts' mean kappa among themselves,
# with 95% bootstrap intervals ({glue:text}`label`). Filled: p > 0.05, "could be an annotator".
# ```
#
# {glue:text}`n_could_be` annotators pass ({numref}`fig-hq-could-be`),
# {glue:text}`n_could_be_experts` of them experts. The test is two-sided: an annotator that agrees
# with the experts *better* than they agree with each other fails it just like a poor one
# ({glue:text}`n_above` annotators fail from above here). "Could be an annotator" therefore means
# "indistinguishable", not "at least as good", and it is not a ranking.
#
# ## Ranking against the human median: Spearman's rho
#
# The paper's headline figure ranks the models by Spearman's rho between a model's scores and the
# per-image median of the expert ratings, computed per emotion and averaged over the 40, with a
# bootstrap interval over the emotions. Rank correlation needs no common scale, so it treats a
# continuous score and a 0–7 rating alike. The authors compute it for the models only; we add
# each expert against the median of the *other* experts who rated the image (a leave-one-out
# median of 3 ratings rather than 4, so slightly noisier than the models' reference). The
# emotions are resampled once for all annotators; an emotion where an annotator's scores, or the
# median, do not vary has no rho and is left out of that annotator's mean, as in the paper.

# %%
page.show("hq_rho_summary", decimals=3)

# %% [markdown]
# ```{glue:figure} fig_rho
# :name: fig-hq-rho
#
# Mean Spearman rho over the 40 emotions against the per-image median of the expert ratings (for
# an expert: of the other experts), with 95% bootstrap intervals over emotions
# ({glue:text}`label`), coloured by group.
# ```
#
# The experts reach between {glue:text}`expert_rho_range` against their colleagues' median
# ({numref}`fig-hq-rho`). The best model annotator other than the Random Baseline is
# {glue:text}`best_model`; the Random Baseline, which ignores the images, sits at
# {glue:text}`baseline_rho`. Chapter 06 adds the compendium's own trained model to this panel and
# reruns the suite.
#
# ## Inference that respects the design
#
# The tests above are the paper's, kept as its reproduction. They pool per-emotion kappas and
# treat them as independent observations, which they are not: an annotator's 40 kappas rest on
# the same images, every expert enters many pairs, and two pairs that share an expert share
# images. Their bootstrap intervals resample those same dependent values, so they are too
# narrow, and with hundreds of pooled "observations" the p-values are too small. Beside them we
# therefore resample what was sampled, the images ({glue:text}`n_bootstrap` resamples, those of
# the order-free alpha bootstrap), and recompute every statistic on each resample: every kappa
# and rho, each annotator's mean and each group's. These intervals hold the annotators fixed:
# they say how much the results would move with other images, not with other experts. Kappa, a
# ratio over few non-zero ratings, is biased low in small samples, and its resamples come out
# lower than the data by about as much; so the intervals are basic bootstrap intervals, which
# correct for that (a percentile interval would sit almost entirely below the point value), and
# each p-value is the level at which such an interval just reaches 0.
#
# **Groups.** The difference of two groups' mean agreement (the values the paper pools), with
# its 95% interval over image resamples and a two-sided bootstrap p-value; the p-values of all
# pairs of groups are adjusted together with Holm's method. The Mann–Whitney tests above find
# {glue:text}`groups_mwu` pairs different at 0.05; resampling images and adjusting for the number
# of comparisons leaves {glue:text}`groups_holm`.

# %%
page.show("hq_group_inference", decimals=3)

# %% [markdown]
# **Could it be an annotator, on matched images.** The paper's test sets a model's kappas, each
# resting on all the images an expert rated (about {glue:text}`shared_model` here), against the
# experts' kappas among themselves, each resting on the images two experts share (about
# {glue:text}`shared_pair`); the simulation study below shows that kappa moves with the number of
# images it rests on. The matched comparison puts the annotator in the place of one expert of a
# pair, on the very images the pair's own kappa rests on: for every pair of experts e and f
# (neither of them the annotator) and every emotion, the annotator's mean kappa with e and with f
# minus the kappa of e with f, all three on the images the annotator, e and f rated; averaged over
# the pairs and emotions, with its interval over image resamples. "Could be an annotator" again
# means p > 0.05, two-sided. Annotators that pass ({numref}`fig-hq-matched`):
# {glue:text}`n_matched` ({glue:text}`n_matched_experts` of them experts); annotators whose answer
# differs from the paper's test: {glue:text}`n_matched_changed`.

# %%
page.show("hq_inference", decimals=3)

# %% [markdown]
# ```{glue:figure} fig_matched
# :name: fig-hq-matched
#
# The matched could-be comparison ({glue:text}`label`): each annotator's kappa with an expert
# minus the kappa of that expert with another, on the images all three rated, averaged over the
# pairs of experts and the emotions, with 95% intervals over image resamples. Filled: p > 0.05.
# ```
#
# The table also gives each annotator's mean kappa with the experts and mean rho with intervals
# over image resamples. The paper's interval for mean rho resamples the 40 emotions instead, as
# if they were a sample of possible emotions; the two answer different questions, and differ in
# width: {glue:text}`rho_width_emotions` on average over emotions,
# {glue:text}`rho_width_images` over images.
#
# ## What the statistics can show: a simulation study
#
# How much of a kappa, an alpha or a rho is the annotator and how much the design? With simulated
# panels we know the truth and can turn one thing at a time. The truth comes from the offline
# faces' expression model of chapter 02: {glue:text}`sim_images` images, each expressing one
# category at a random intensity, scored on all 40. Every image shows everyone (experts and
# models) the same deviation from that truth, its ambiguity. A simulated expert adds its own
# noise (varying between experts), leniency and use of the scale, and marks a category only
# above a threshold set so that it marks a given number of categories per image on average. A
# synthetic model gives continuous scores: the ambiguous truth plus noise of a known SD, clipped
# to 0–7. Each condition runs several times, and replicate *k* of every condition draws the same
# faces, experts and noise (common random numbers), so two conditions differ only in the setting
# that is swept (**simulated panels**, not the real experts). The settings, where a sweep does not
# change them:

# %%
page.show("hq_simulation_settings")

# %% [markdown]
# ```{glue:figure} fig_sim_sweeps
# :name: fig-hq-sim-sweeps
#
# **Simulated panels.** Columns: the experts' noise, the number of experts per image (from a pool
# of at least 8), and how many categories an expert marks per image (40: no threshold). Top:
# alpha and kappa among the experts. Bottom: a synthetic model (the reference model of the
# settings) against the experts (kappa, rho against their median) and how well the experts'
# median itself follows the truth (rho). Mean and SD over the replicates.
# ```
#
# What each sweep does at its ends, in numbers (means over the replicates; the annotator is the
# experts, their median or the reference model, the metric as in {numref}`fig-hq-sim-sweeps`):

# %%
page.show("hq_simulation_ends", decimals=2)

# %% [markdown]
# Three things stand out. First, alpha and kappa among the experts measure the experts: as the
# experts' noise grows, their alpha falls, and so does **the same model's** kappa with them (the
# first two rows). A model's agreement with a panel is bounded by the panel, so it compares models
# only on the same panel. Second, the number of experts per image leaves alpha where it is, but
# not the pairwise kappa, which changes for the very same experts (the next rows). With
# {glue:text}`sim_few` experts per image two experts share only about
# {glue:text}`sim_shared_few` of the {glue:text}`sim_images` images, and a chance-corrected kappa
# computed on a few mostly-zero ratings comes out low; alpha pools every image and does not pay
# that price. More experts also sharpen the median: its rho with the truth rises, and so does the
# fixed model's rho against the median. The paper's rho of a model against the median of 4
# experts is therefore a lower estimate of how well the model tracks what the faces show. Third,
# how many categories the experts mark is a convention of the rating task, not a property of the
# faces, and it moves the numbers too: the experts' alpha and the model's kappa at the fewest and
# at the most categories marked (the last two rows).
#
# ### Truncated or rounded levels, with a known answer
#
# The same synthetic model with its scores shifted by a constant, scored both ways
# ({numref}`fig-hq-sim-offset`):
#
# ```{glue:figure} fig_sim_offset
# :name: fig-hq-sim-offset
#
# **Simulated panels.** Mean kappa with the experts of a synthetic model (the reference model of
# the settings) whose scores are shifted by a constant, with the paper's truncated levels and with
# rounded levels (mean and SD over replicates).
# ```
#
# Unshifted, the model scores {glue:text}`unshifted_truncate` with truncation and
# {glue:text}`unshifted_round` with rounding. On the scale 0–7, truncating a score is rounding it
# after a shift of half a level downwards, so up to the clipping at the ends (and the replicates'
# noise) the two curves are one curve moved half a level sideways: truncation scores best at a
# shift of {glue:text}`peak_truncate`, rounding at {glue:text}`peak_round` (of the shifts tried).
# Quadratic weights penalise any systematic offset between two raters, so the discretisation
# decides how much a model is penalised for where its scale sits relative to the experts', which
# has nothing to do with how well it reads the faces. Neither variant is neutral; we keep the
# paper's truncation for the reproduction, report both, and prefer rank-based rho for comparing
# models with differently calibrated scores.
#
# ### Do the statistics recover a known ranking?
#
# Finally, synthetic models of known quality (the ranked models of the settings) join simulated
# panels, and the suite ranks them ({numref}`fig-hq-sim-ranking`).

# %%
page.show("hq_simulation_recovery", decimals=3)

# %% [markdown]
# ```{glue:figure} fig_sim_ranking
# :name: fig-hq-sim-ranking
#
# **Simulated panels.** Synthetic models of known noise SD (x; dotted: the experts' noise SD).
# Left: mean rho against the expert median and against the truth. Middle: mean kappa with the
# experts, dashed the experts' kappa among themselves. Right: the share of replicates in which the
# "could be an annotator" test says yes.
# ```
#
# Ordered by mean rho against the expert median, the models come out in their true order with a
# Kendall's tau of {glue:text}`tau_rho` on average (the table gives the other statistics), and the
# truly best model comes first in {glue:text}`best_found_rho` of the replicates: the rho ranking,
# the paper's headline, recovers quality when the models are compared on one panel. The "could be
# an annotator" test does not rank: models less noisy than the experts pass it in
# {glue:text}`less_noisy_pass` of the replicates, because they agree with the experts *more* than
# the experts agree with each other; the model that passes most often is
# {glue:text}`most_passing`, and the model whose noise is closest to the experts' is
# {glue:text}`closest_model`. Read "could be an annotator: yes" as "agrees with the experts about
# as well as they agree with each other", and "no" as "better or worse; see the mean difference".
#
# ## What to take from this chapter
#
# - The suite reproduces the authors' analyses with their conventions (interval alpha on experts,
#   pairwise quadratic kappa over shared images with truncated levels, group tests, the could-be
#   test, rho against the median) and runs unchanged on the real `hq.csv` (full profile) and on the
#   {glue:text}`label` here.
# - Bootstrap intervals share their resamples across emotions and annotators and derive each
#   sample's seed from its name: adding a model, or reordering the file, moves no other number
#   (`bootstrap_order: authors` draws the alpha and rho resamples in the authors' order instead,
#   to match their intervals digit for digit on their file).
# - The authors' tests treat dependent kappas as independent. Resampling the images and
#   recomputing every statistic gives intervals that respect the design; Holm's adjustment
#   accounts for the number of group comparisons; the could-be comparison on matched images sets
#   like against like.
# - Truncation versus rounding is a choice about calibration, not about perception; rank-based rho
#   is the fairer yardstick between models with different score scales.
# - The could-be test is two-sided: it flags models that beat the experts' mutual agreement as
#   "no". Rho against the median ranks; it is a lower estimate because the median of 4 experts is
#   itself noisy.
