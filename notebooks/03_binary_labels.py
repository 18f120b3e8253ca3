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
# # What the Binary expert labels say
#
# The EmoNet-Face *Binary* set is the paper's fine-tuning data: synthetic faces, each prompted for
# one of the 40 categories, with yes/no answers from experts to the question "is this emotion
# present?" {cite}`schuhmann2025emonetface`. Its label file, `binary.csv`, is the one set of the
# paper's expert annotations that this book can read offline, so this chapter works on the **real
# labels**: the authors' `data/binary.csv` from their repository `LAION-AI/emonet-face` (commit
# `f4d4dab`, licence CC BY 4.0), verified by its SHA-256 before use. The images themselves are not
# needed here. One section uses **simulated raters** to explain a result; it is labelled as such.
#
# The chapter first reproduces the authors' descriptive numbers and agreement figure, then
# reconstructs the sequential protocol from the data, models the raters, computes chance-corrected
# agreement, and shows why raw and chance-corrected agreement tell such different stories here.

# %% tags=["parameters"]
profile = "local"
artifacts_dir = None
seed = 42
n_bootstrap = 1000
sim_images = 5000
sim_accuracies = [0.5, 0.6, 0.7, 0.8, 0.85, 0.9, 0.95, 1.0]
sim_leniency_spread = 1.5
sim_p_target = 0.8
sim_p_contrast = 0.05

# %%
from emonet.binary import chapter
from emonet.book.page import Page

page = Page.for_profile(profile, artifacts_dir)
result = chapter.run(chapter.BinaryParams.from_namespace(globals()), page)
page.glue()

# %% [markdown]
# (binary-file)=
# ## The file at a glance
#
# Each row of `binary.csv` is one answer: an image id, an annotator, the emotion asked about and
# the answer. We group the answers into *items*, one per (image, emotion) pair.

# %%
page.show("binary_facts")

# %% [markdown]
# The file holds {glue:text}`n_labels` answers from {glue:text}`n_annotators` experts on
# {glue:text}`n_images` images. Every image was asked about exactly {glue:text}`items_per_image`
# categories, which makes {glue:text}`n_items` items: {glue:text}`n_items_1` were rated once,
# {glue:text}`n_items_2` twice and {glue:text}`n_items_3` three times. Overall
# {glue:text}`positive_rate` of the answers are "yes". The experts' workloads differ a lot: the
# table gives the fewest and the most answers by one expert.
#
# ## The protocol, reconstructed from the data
#
# The vote counts point to a sequential design: the prompted (*target*) category goes to one
# expert and, while the answers stay "yes", to a second and a third; a *contrast* category is asked
# once. This stopping rule is reconstructed from `binary.csv` (the patterns below), not quoted
# from the paper. The file does not say which item is which, and its row order is not the order in
# which answers were given, so we reconstruct the roles from the vote counts alone, with explicit
# rules, and count every image under exactly one rule:

# %%
page.show("binary_role_rules")

# %% [markdown]
# {glue:text}`reasked` of the images have exactly one re-asked item, and that is the target. The
# first {glue:text}`single_phase` images (ids before {glue:text}`first_reasked`) were rated once
# per category: an early phase without follow-up questions, in which the roles cannot be told
# apart; they are kept in the descriptive counts and in the agreement analysis (as single ratings
# they do not enter it), and left out of the role analysis. After that phase, an image whose two
# items were both rated once means the target was answered "no" at the first question: in
# {glue:text}`single_no` images exactly one item is "no" (it is the target), in
# {glue:text}`both_no` both are "no" (the target's answer is known, its identity not).
# {glue:text}`both_yes` images with two single "yes" and {glue:text}`both_reasked` with two
# re-asked items contradict the protocol.
#
# The vote patterns (Y = yes, N = no, in any order) are what the design predicts: a re-asked item
# should hold at most one "no", and an item rated twice should never hold two "yes" (a second
# "yes" leads to a third question).

# %%
page.show("binary_vote_patterns")

# %% [markdown]
# {glue:text}`n_off_protocol` items have a pattern the protocol cannot produce;
# {glue:text}`n_yy` items were rated twice with two "yes". Which categories
# served as targets and which as contrasts, per emotion, is in
# `tables/binary_roles_by_emotion.csv` among the artifacts (and used below).
#
# ## The authors' agreement figure
#
# The authors summarise agreement over the items with more than one rating (their
# `statistics/analysis-binary.ipynb`): the share with full agreement, with a 2:1 split and with a
# 1:1 split, per emotion ({numref}`fig-bin-splits`).
#
# ```{glue:figure} fig_splits
# :name: fig-bin-splits
#
# Agreement among the {glue:text}`n_items_multi` items rated more than once (real labels), per
# emotion sorted by full agreement, overall at the bottom. Right: number of items and the shares
# rated twice and three times. Labels coloured by family.
# ```
#
# Overall, {glue:text}`full_share` of the multi-rated items show full agreement,
# {glue:text}`split21_share` a 2:1 split and {glue:text}`split11_share` a 1:1 split. The spread
# between emotions is wide: full agreement reaches {glue:text}`full_best` at best and only
# {glue:text}`full_worst` at worst. Every 1:1 split is a twice-rated item, and every twice-rated
# item is a 1:1 split: under the protocol an item stops at two ratings only when the second says
# "no". So "full agreement" here means "three yes in a row", and the shares mix two things: how much
# the experts agree, and how often the second expert said no.
#
# ## Seven raters, very different
#
# Who answered matters as much as what was asked. The experts took on different jobs and answer
# "yes" at very different rates:

# %%
page.show("binary_annotators")

# %% [markdown]
# ```{glue:figure} fig_annotators
# :name: fig-bin-annotators
#
# The seven experts (real labels). Left: answers per expert, by the role of the item. Right: share
# of "yes" per expert as target and as contrast, observed (dots, shown where the expert gave at
# least 50 answers in that role) and standardised by the logistic model (crosses; grey where the
# expert gave fewer than 50 answers in that role, so the model extrapolates).
# ```
#
# The share of "yes" runs from {glue:text}`yes_rate_lowest` to {glue:text}`yes_rate_highest` of an
# expert's questions. Most of that gap is the job, not the person ({numref}`fig-bin-annotators`):
# the experts were split into target askers and contrast askers, and only {glue:text}`both_roles`
# answered at least 50 questions in each role. A logistic regression of a "yes" on expert, emotion
# and role (statsmodels, on the {glue:text}`model_n` answers on items with a known role; the
# {glue:text}`model_excluded` answers on unassigned items are left out; McFadden's pseudo-R²
# {glue:text}`pseudo_r2`) separates the two: being the target multiplies the odds of a "yes" by
# about {glue:text}`role_odds_ratio` at a fixed expert and emotion, and among the experts who
# answered targets the standardised probability of a "yes" on a target still ranges from
# {glue:text}`target_yes_range`. The role effect rests on the few experts who worked in both roles,
# and follow-up questions go only to items that already got a "yes"; the model is a description of
# leniency, not a causal estimate (coefficients: `tables/binary_rater_model_coefficients.csv`).
#
# ## Chance-corrected agreement
#
# Raw agreement ignores how often agreement happens by chance. Krippendorff's alpha corrects for it
# and handles items with different numbers of ratings {cite}`krippendorff2011alpha`. We compute
# the nominal alpha with every (image, emotion) item as a unit, per emotion, per family and over all
# items, with 95% percentile intervals from a bootstrap over images (all resamples shared by all
# rows).

# %%
page.show("binary_alpha_groups")

# %% [markdown]
# ```{glue:figure} fig_alpha
# :name: fig-bin-alpha
#
# Krippendorff's alpha (nominal) per emotion with 95% bootstrap intervals
# ({glue:text}`n_bootstrap` resamples of images), real labels. Dashed: all items together.
# ```
#
# Over all items alpha is {glue:text}`alpha`, and it is negative for
# {glue:text}`n_alpha_negative` of the 40 emotions ({numref}`fig-bin-alpha`), from
# {glue:text}`alpha_highest` down to {glue:text}`alpha_lowest`. Taken at face value that says the
# experts agree *less* than chance, while {glue:text}`full_share` of the multi-rated items show
# full agreement. Both numbers are right; the design explains the gap.
#
# Alpha over all items is one call: each (image, emotion) item is a unit, and its numbers of "no"
# and "yes" are all alpha needs (an item rated once pairs with nothing and drops out). The call
# gives the overall row of the table above, without the interval:

# %% tags=["show-input"]
from emonet.binary import protocol
from emonet.data import loaders
from emonet.stats import agreement

items = protocol.items(loaders.load_binary())  # one row per (image, emotion): n_no, n_yes, ...
agreement.krippendorff_alpha(counts=items[["n_no", "n_yes"]].to_numpy())  # nominal: no, yes

# %% [markdown]
#
# ## Why the protocol pushes alpha below zero
#
# Alpha compares the disagreement observed within items to the disagreement expected if the
# answers were shuffled among all pairable answers. Under the sequential protocol a "no" ends the
# questioning, so a multi-rated item holds at most one "no", and that "no" always sits beside at
# least one "yes". Every "no" among the pairable answers is therefore a disagreement, and no two
# "no" ever meet. With $n_{yes}$ and $n_{no}$ pairable answers and no no-no pairs, the coincidence
# algebra reduces alpha to
#
# $$\alpha = \frac{1 - n_{no}}{n_{yes}} \le 0,$$
#
# whatever the experts' skill. The data satisfy the premise (no multi-rated item holds two "no"),
# and the formula reproduces the computed value exactly:
#
# {glue:text}`n_two_no` multi-rated items hold two "no"; with {glue:text}`pairable_yes` pairable
# "yes" and {glue:text}`pairable_no` pairable "no" the formula gives {glue:text}`alpha_closed`, the
# alpha above. The value measures how often a follow-up expert
# said "no", not how reliable the experts are.
#
# To see what the same experts would have shown under a complete design, we simulate the protocol
# with known truth (**simulated raters**, not the real experts): each simulated image has a target
# that is truly present with some probability and a contrast that is rarely present; seven raters,
# drawn in proportion to the real experts' workloads, answer with a given accuracy and their own
# leniency (a shift of the log-odds of "yes"). We score the same simulated answers twice: with all
# three raters answering both items (full design), and with only the answers the sequential
# protocol would collect.

# %%
page.show("binary_simulation")

# %% [markdown]
# ```{glue:figure} fig_simulation
# :name: fig-bin-simulation
#
# **Simulated raters** ({glue:text}`sim_images` images per accuracy; targets present with
# probability {glue:text}`sim_p_target`, contrasts {glue:text}`sim_p_contrast`; leniency from
# −{glue:text}`sim_spread` to +{glue:text}`sim_spread` on the log-odds scale). Left:
# alpha rises to 1 with rater accuracy under the full design but stays negative under the
# sequential protocol (with perfect raters no pairable "no" is left and alpha is undefined, so the
# last point is missing). Right: the raw full-agreement share barely depends on the design. Dashed:
# the real Binary labels.
# ```
#
# With raters of {glue:text}`sim_best_accuracy` accuracy, the full design gives an alpha of
# {glue:text}`sim_best_full`, the sequential protocol on the very same answers
# {glue:text}`sim_best_sequential`; across all accuracies the sequential alpha never exceeds
# {glue:text}`sim_max_sequential` ({numref}`fig-bin-simulation`). The real labels' full-agreement
# share and alpha sit where simulated raters of fairly high accuracy would put them, so the
# negative alpha is no evidence of unreliable experts, and no evidence of reliable ones either:
# this design cannot measure reliability. The paper's own reliability analysis rests on the HQ set,
# where four experts rate every image on all 40 categories {cite}`schuhmann2025emonetface`.
#
# ## What the labels can be trusted for
#
# What the design does measure well is the contrast it was built for: is the prompted emotion seen
# more often than an unrelated one? The *first* answer on each item is free of the follow-up
# selection. Over the images where both roles' first answers are known:

# %%
page.show("binary_role_rates")

# %% [markdown]
# On {glue:text}`role_images` images, the first expert said "yes" to the prompted emotion in
# {glue:text}`target_rate` of cases and to the contrast in {glue:text}`contrast_rate`. Per emotion
# the rates have bounds, because in both-no images we do not know which "no" was the target's;
# even so, for {glue:text}`n_separated` of the 40 emotions the lowest possible target
# rate lies above the highest possible contrast rate (`tables/binary_roles_by_emotion.csv`). The
# labels are good evidence that the images show what they were prompted for far more often than
# something else, which is how the paper uses them: as fine-tuning targets, not as a reliability
# benchmark {cite}`schuhmann2025emonetface`.
#
# ## The seven families at a glance

# %%
page.show("binary_agreement_splits_by_family")

# %% [markdown]
# ```{glue:figure} fig_families
# :name: fig-bin-families
#
# The Binary labels by family (real labels). Left: raw full agreement among multi-rated items.
# Middle: Krippendorff's alpha with 95% bootstrap interval, below zero for every family. Right:
# share of "yes" as first answer when the family's emotion was the target (blue) or the contrast
# (orange); bars span the bounds left by both-no images.
# ```
#
# The families read the same way ({numref}`fig-bin-families`): raw agreement is moderate to high,
# alpha is negative everywhere, least so for *{glue:text}`family_alpha_best`* and most for
# {glue:text}`family_alpha_worst`, and the target-vs-contrast gap is large for all seven. Where a
# family's follow-up experts often said "no", its alpha is lowest: alpha here ranks how often second
# opinions dissented, which is worth knowing, but it is not agreement in the usual sense.
