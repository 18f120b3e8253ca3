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
# # Training
#
# EmpathicInsight-Face is a frozen SigLIP2 image encoder whose 1152-dimensional embedding feeds
# 40 small regression networks, one per category, each predicting an intensity on 0-7
# {cite}`schuhmann2025emonetface`. The heads were pre-trained on the *Big* set's weak labels and
# fine-tuned on the *Binary* set's expert yes/no labels (the paper). That a vision-language model
# produced the weak labels is our inference: the sources this book can read do not name the
# labeller. The authors released the heads but not the training recipe (loss, optimiser, how the
# yes/no votes became regression targets). This chapter designs one, trains it, and tests its
# parts with an ablation.
#
# In the **local** profile every ingredient is a labelled stand-in: the images are chapter 02's
# offline faces (Big, Binary and HQ roles), the weak labels come from a *simulated weak labeler*
# (noisy ground truth, as a VLM would give), the yes/no votes from a *simulated Binary panel*
# that follows the sequential protocol chapter 03 reconstructs from `binary.csv`, and the encoder
# is an **untrained encoder**: the
# SigLIP architecture built from a small config with random weights, because no weights can be
# downloaded. Its numbers test the code and the recipe's logic, not the paper's model. The
# **full** profile runs the same code on `laion/emonet-face-big`, `-binary` and
# `google/siglip2-so400m-patch16-384`.

# %% tags=["parameters"]
profile = "local"
artifacts_dir = None
seed = 42
big_source = None  # null: the local stand-ins; full profile: laion/emonet-face-big
binary_source = None  # full profile: laion/emonet-face-binary
hq_images = None  # full profile: laion/emonet-face-hq
weak_noise_sd = 1.0  # simulated weak labeler (stand-in)
weak_bias_sd = 0.5
weak_scale_sd = 0.15
weak_floor = 1.0
panel_threshold = 4.0  # simulated Binary panel (stand-in)
panel_slope = 1.0
panel_leniency = [-0.8, -0.3, 0.0, 0.3, 0.8]
panel_rater_weights = [3, 2, 2, 2, 1]
encoder_id = "untrained"  # "untrained" (local stand-in) or a SigLIP2 hub id / folder
encoder_dtype = "float32"
device = None
embed_batch_size = 128
torch_threads = 2
head_shape = "small"
dropout = 0.5
batch_size = 128
lr_pretrain = 0.0003
lr_finetune = 0.0001
weight_decay = 0.05
max_epochs_pretrain = 80
max_epochs_finetune = 40
patience = 10
standardise = True
anchor_weight = 1.0
precision = "float32"  # or "bfloat16" (CPU autocast for the matmuls; see the README)
val_fraction = 0.2
test_fraction = 0.2  # held out from training and early stopping: the ablation's metrics
n_neutral = 80
diversity_cell = None  # [age, gender, emotion] of the ethnicity heat map; None: fullest

# %%
from emonet.book.page import Page
from emonet.model import chapter

page = chapter.run(chapter.TrainingParams.from_namespace(globals()),
                   Page.for_profile(profile, artifacts_dir))
page.glue()

# %% [markdown]
# ## Data
#
# The images split into three disjoint roles as in the paper (chapter 02): *Big* for
# pre-training, *Binary* for fine-tuning and *HQ* for testing. HQ images are never used here;
# this chapter only scores them for chapter 06 (the run stops if an image id is in two roles,
# and a test checks that the panel's images and the training images are disjoint). Each
# training role is split again by image into a training part, a validation part that early
# stopping judges by (a seeded {glue:text}`tr_val_pct` of the images) and a test part that
# neither training nor early stopping sees (another {glue:text}`tr_test_pct`), on which the
# ablation below is scored.

# %%
page.show("training_data")

# %% [markdown]
# What the chapter read from the Hugging Face hub (the datasets and the encoder), at which
# revision and commit, and how each file was checked after download:

# %%
page.show("training_hub_sources")

# %% [markdown]
# **Weak labels.** Big's weak labels rate each image on the 40 categories; that a VLM gave them
# is inferred (see above), and their exact form in `laion/emonet-face-big` is not confirmed
# either, so the loader accepts the forms it may take and names any record it cannot read.
# Locally, a *simulated weak labeler* rates the Big-role faces from their ground
# truth with a per-category miscalibration, rating noise (SD {glue:text}`tr_weak_sd`), rounding
# to integers and silence below {glue:text}`tr_weak_floor` (a VLM names only salient emotions).
# How far the labels are from the truth:

# %%
page.show("training_weak_label_summary", 3)

# %% [markdown]
# {glue:text}`tr_weak_note`
#
# **Expert votes.** The Binary set's protocol, as chapter 03 reconstructs it from the vote
# patterns of `binary.csv` (the stopping rule is read from the data, not quoted from the paper):
# each image is asked about its prompted category, first to one expert and, while the answers stay
# "yes", to a second and a third; a contrast category is asked once. Locally a *simulated Binary
# panel* runs this protocol on the Binary-role faces: rater *r* says "yes" with probability
# logistic({glue:text}`tr_slope` × (intensity − {glue:text}`tr_threshold`) + leniency*r*), so half
# the time at intensity {glue:text}`tr_threshold` on the 0-7 scale. The vote patterns it produced
# (Y = yes, N = no, in order):

# %%
page.show("training_vote_patterns")

# %% [markdown]
# The panel cast {glue:text}`tr_n_votes` votes on {glue:text}`tr_n_items` items;
# {glue:text}`tr_yes_rate` of them are "yes".
#
# ## Embeddings
#
# Every image is embedded once by the encoder ({glue:text}`tr_encoder`) and cached by its
# content and the encoder's identity, so re-runs and chapter 06 reuse the embeddings.
#
# The embeddings have {glue:text}`tr_dim` dimensions (cached in {glue:text}`tr_cache` under the
# artifacts folder).
#
# ## How diverse are the images?
#
# A dataset of generated faces can be less varied than its balanced prompts suggest: a
# generator may draw every "30-year-old woman" alike, or repeat an image outright. The authors
# check this in their `statistics/descriptive.ipynb` on the Binary images, with SigLIP2 image
# embeddings (`google/siglip2-so400m-patch14-384` as this project's notes on their repository
# record it, not the `patch16` checkpoint of the released model): within a group of images (one
# emotion, family, gender, ethnicity string, age, or age and gender), the cosine similarity of
# every pair, and for one (age, gender, emotion) cell the mean similarity between the images of
# every two ethnicity strings. We compute the same statistics with the encoder of this run on the
# images whose prompt slots are known (local: every image; full profile: the Binary set;
# {glue:text}`tr_div_images` images here, and {glue:text}`tr_div_unlabelled` embedded images
# without prompt slots are left out), from sums over the embeddings rather than a matrix of every
# pair
# (`emonet.model.diversity`; `benchmarks/bench_diversity.py` compares it with a loop over the
# pairs). In this build the images are **offline faces** and the encoder is the
# **untrained encoder**: the numbers show what the analysis reports, not how varied the paper's
# images are ({glue:text}`tr_div_label`).

# %%
page.show("training_diversity_summary", 3)

# %% [markdown]
# ```{glue:figure} fig_tr_diversity
# :name: fig-tr-diversity
#
# Pairwise cosine similarity of the image embeddings ({glue:text}`tr_div_label`). Left: the
# mean within each group (dots; bars: ± 1 SD over the group's pairs), by grouping; line and
# band: all pairs of images. Right: mean similarity between the ethnicity strings of one
# (age, gender, emotion) cell, {glue:text}`tr_div_cell` ({glue:text}`tr_div_cell_images`
# images, {glue:text}`tr_div_cell_strings` strings); the diagonal averages the pairs of distinct
# images of one string and is empty for a string with a single image.
# ```
#
# Two images of this set have a cosine similarity of {glue:text}`tr_div_all` on average (SD
# {glue:text}`tr_div_all_sd`; {numref}`fig-tr-diversity`). Pairs within one emotion average
# {glue:text}`tr_div_emotion`; the tightest grouping is *{glue:text}`tr_div_tightest`*
# ({glue:text}`tr_div_tightest_mean`). A grouping whose pairs are no more similar than two images
# drawn at random does not shape the embedding; one that raises the similarity does, and for a
# model that should read emotions, emotion should be among them. Per group, in
# `tables/training_diversity.csv`.
#
# A similarity of exactly 1 between two different images means identical embeddings, most
# likely the same image twice. (In a heat map like the authors', a diagonal of 1.00 also arises
# when an image is compared with itself; here an image's similarity with itself is never
# counted.) Among all {glue:text}`tr_n_embedded` embedded images of every role,
# {glue:text}`tr_dup_sets` sets of images share an embedding ({glue:text}`tr_dup_images` images,
# {glue:text}`tr_dup_across` sets spanning two roles, where one image would be both trained and
# tested on):

# %%
page.show("training_duplicates")

# %% [markdown]
# ## The recipe
#
# - **Pre-training** on Big: every image has a weak label for all 40 categories; loss: mean
#   squared error over images and heads.
# - **Fine-tuning** on Binary: every vote is one regression observation, "yes" standing for the
#   intensity {glue:text}`tr_yes_value` (the mean of each Big image's highest weak label, so the
#   two stages share one scale) and "no" for 0. Squared error summed over an item's votes equals
#   the number of votes times the squared error against their mean, so an item's target is
#   {glue:text}`tr_yes_value` × (share of "yes") with weight = number of votes; categories not
#   asked about an image get no loss. The share of "yes" is the maximum-likelihood estimate of
#   the item's yes-probability even under the sequential stopping rule, and an item re-asked
#   three times carries three times the weight of a single answer.
# - **The anchor.** Half of the asked items are the image's prompted category, which a random
#   image shows with probability 1/40, so fitting the asked items alone pulls every head up on
#   every image. When fine-tuning follows pre-training, each unasked category of a training
#   image keeps the pre-trained model's own prediction as its target, with the weight of
#   {glue:text}`tr_anchor` vote(s) ("learning without forgetting"): the votes move what they
#   say something about. Validation images keep their votes alone, so early stopping judges the
#   fine-tuning by held-out votes.
# - The embeddings are standardised (per-dimension mean and SD of the training images, stored
#   in the model and applied whenever it scores). AdamW, mini-batches of {glue:text}`tr_batch`,
#   early stopping on the validation loss (patience {glue:text}`tr_patience` epochs; the best
#   epoch's weights are kept, the starting weights included), fine-tuning at a lower learning
#   rate. Seeded.

# %%
page.show("training_settings")

# %% [markdown]
# The heads have the *{glue:text}`tr_shape`* shape ({glue:text}`tr_widths`;
# {glue:text}`tr_shape_source`), all 40
# trained together as one batched module (`emonet.model.heads.Heads`; `benchmarks/bench_heads.py`
# compares it with training 40 separate networks).
#
# ## Ablation: pre-training, fine-tuning, both
#
# Each recipe starts from the same seeded initialisation; *both* fine-tunes the *pretrain*
# result (pre-training runs once), and a fourth row, *unanchored*, fine-tunes it on the asked
# items alone to test the anchor. Every model is scored on the test images of both roles
# ({numref}`fig-tr-ablation`), which no recipe trained on and none used to choose its epoch (the
# validation images did that, so their metrics would flatter every recipe): agreement with the weak
# labels (Big test images, mean Spearman rho over the 40), how well the scores rank the test items
# the panel said "yes" to (area under the ROC curve of the first vote; 0.5 is chance; with its
# standard error) and, where the images have one, agreement with the ground truth (mean Spearman
# rho over the 40, and the mean absolute error of the intensities on 0-7).

# %%
page.show("training_ablation", 3)

# %% [markdown]
# ```{glue:figure} fig_tr_ablation
# :name: fig-tr-ablation
#
# Test-image metrics of the recipes ({glue:text}`tr_encoder`; local profile: simulated weak
# labels and simulated Binary panel).
# ```
#
# {glue:text}`tr_summary` {glue:text}`tr_verdict`
#
# What to expect and why: each Binary image informs two of the 40 heads, so fine-tuning alone
# gives a head about {glue:text}`tr_items_per_head` labelled images, where pre-training gives it
# every Big image; *finetune* alone should stay near chance at this scale; the
# ranking within each category comes from the weak labels of pre-training, and fine-tuning can
# only adjust it where the votes carry evidence. Without the anchor the fine-tuned heads learn
# the asked items' base rate (half "yes") and raise their scores on every image, which shows as
# a larger error of the intensities. With an encoder that sees little of the expression, as the
# untrained one here, the effects of fine-tuning are small and of the order of their standard
# error; the paper's 20,000 Binary images and SigLIP2 embeddings are another regime. Training
# all four ({numref}`fig-tr-curves`) took {glue:text}`tr_total_seconds` s on this machine
# (pre-training {glue:text}`tr_sec_pretrain` s, once).
#
# ```{glue:figure} fig_tr_curves
# :name: fig-tr-curves
#
# Training (dashed) and validation (solid) loss per epoch for each recipe; dots mark the epochs
# whose weights were kept, epoch 0 being the starting weights ({glue:text}`tr_encoder`). In the
# anchored fine-tuning of *both* the training loss includes the anchored categories, the
# validation loss the held-out votes alone.
# ```
#
# ## Per-emotion test metrics
#
# The chosen model is the paper's recipe, pre-training then fine-tuning. Its agreement per
# category on the test images (with the ground truth where the images have one, else with the
# weak labels):

# %%
page.show("training_per_emotion", 3, rows=10)

# %% [markdown]
# ```{glue:figure} fig_tr_per_emotion
# :name: fig-tr-per-emotion
#
# Spearman rho per category between the chosen model's scores and the
# {glue:text}`tr_reference` on the test images ({glue:text}`tr_encoder`), coloured by
# family.
# ```
#
# Mean rho over the 40 ({numref}`fig-tr-per-emotion`): {glue:text}`tr_mean_rho`; highest:
# {glue:text}`tr_best_emotions`. With the untrained encoder these numbers measure what random
# features of a face retain, not what SigLIP2 knows: the heads can only recover what the embedding
# carries.
#
# ## Neutral means, mean-subtracted scores and the softmax
#
# The released model's outputs (`ferd.jsonl`, chapter 06) hold three readings per head: the raw
# score, a *mean-subtracted* score and a softmax over the 40 mean-subtracted scores, a
# distribution over plausible emotions. In that file raw minus mean-subtracted is one constant per
# head, which we read as the head's neutral mean. The constants are not published: chapter 06
# derives them from `ferd.jsonl`, and how the authors obtained them is not documented in the
# sources this book can read. Our heads get theirs from a neutral reference:
# {glue:text}`tr_n_neutral` offline faces rendered at expression intensity 0, spread over the
# demographic cells.

# %%
page.show("training_neutral_summary", 3)

# %% [markdown]
# The neutral means range from {glue:text}`tr_neutral_range`. Subtracting them removes each
# head's baseline, so the softmax compares how far each category rises above its own neutral
# level rather than the heads' raw scales.
#
# ## Scores of the HQ images for chapter 06
#
# The chosen model scores the held-out HQ-role images (three of them in
# {numref}`fig-tr-examples`); the three readings are saved for the evaluation chapter.
#
# ```{glue:figure} fig_tr_examples
# :name: fig-tr-examples
#
# The five categories with the highest softmax for three HQ-role images
# ({glue:text}`tr_encoder`), coloured by family.
# ```
#
# ### Scoring your own images
#
# The chosen model scores any image files. This is the call behind `emonet predict`, here on two
# of this build's images; put the paths of your own in `my_images` (faces, cropped close; research
# use only, see {doc}`data_ethics`). Each reading is a table of images by the 40 categories.
# {glue:text}`tr_scores_note`

# %% tags=["show-input"]
from emonet.model import heads, scoring

checkpoint = heads.load_checkpoint(page.root / scoring.CHECKPOINT_PATH)
my_images = sorted((page.root / "images").glob("*.png"))[:2]
# three readings, each images x 40: raw, mean_subtracted, softmax
scores = scoring.score_images(my_images, checkpoint)
scoring.top_emotions(scores["softmax"].iloc[0], 5).rename("softmax").to_frame().round(3)

# %% [markdown]
# ## For later chapters
#
# - `models/empathic_insight_face.safetensors` with `empathic_insight_face.json` beside it: the
#   chosen heads, the encoder they were trained on, the neutral means and the settings. Load
#   with `emonet.model.heads.load_checkpoint`; score any images with
#   `emonet.model.scoring.score_images` or `emonet predict IMAGE... --checkpoint PATH`.
# - `predictions/hq.parquet`: the {glue:text}`tr_n_hq_scored` HQ-role images with raw,
#   mean-subtracted and softmax scores; `emonet.model.scoring.load_predictions(artifacts, field)`
#   returns one field as an images × 40 table.
