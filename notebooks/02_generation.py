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
# # Generation: balanced prompts and synthetic faces
#
# EmoNet-Face contains no photographs of real people. Its images were drawn by text-to-image
# models (Midjourney v6, FLUX and others) from prompts that ask for a clear, full-face expression
# of one of the 40 categories, and that spread the faces evenly over ethnicity, age and gender
# {cite}`schuhmann2025emonetface`. This chapter rebuilds that stage: a balanced prompt design, a
# generator behind one interface, and a manifest that later chapters read.
#
# In the **local** profile the generator is an *offline face generator*: a small drawing program
# that renders a face from facial action units (FACS) and demographic cues, without downloaded
# weights. Its images are labelled **offline faces** below. They are cartoons, not photographs;
# their value is that each comes with a known ground truth, which later chapters use to test the
# paper's annotation and evaluation methods. In the **full** profile the same code runs a
# diffusers text-to-image model (FLUX, SDXL, SD3, ...).

# %% tags=["parameters"]
profile = "local"
artifacts_dir = None
seed = 42
backend = "offline"  # "offline" (offline faces) or "diffusers" (a text-to-image model)
n_images = 3600
image_size = 128
generation_batch_size = 32
generation_workers = 2  # offline faces: processes that draw them (the same images for any number)
intensity = [0.6, 1.0]  # offline faces: expression intensity drawn from this range
model_id = None  # diffusers: hub id or local folder
dtype = "float32"
steps = None
guidance_scale = None
negative_prompt = None
grid_per_row = 6
real_source = None  # a real dataset whose balance is shown (hub id or parquet file)
replace_images = False  # True: regenerate images whose settings changed (else the run stops)

# %%
from emonet.book.page import Page
from emonet.generation import chapter

page = Page.for_profile(profile, artifacts_dir)
result = chapter.run(chapter.GenerationParams.from_namespace(globals()), page)
page.glue()

# %% [markdown]
# ## Prompt slots and templates
#
# A prompt has four slots: the ethnicity, the age, the gender and the emotion's descriptor words
# (from `guide.json`, chapter 01). The paper lists 14 ethnicity strings, several of which name
# the same population in different words ("White", "white caucasian european", ...). To balance
# and analyse, we group them into broader groups; the grouping is ours, not the authors':

# %%
page.show("generation_ethnicity_groups")

# %% [markdown]
# The {glue:text}`n_ethnicities` strings fall into {glue:text}`n_groups` groups. With
# {glue:text}`n_ages` ages ({glue:text}`age_range` by decade) and {glue:text}`n_genders` genders
# (man, woman, non-binary person) and the 40 emotions, the design has {glue:text}`n_cells` cells.
# Prompts use {glue:text}`n_templates` templates in the shape of the paper's: one modelled on the
# Binary set's ("a focused close-up photo of ... who seems to genuinely experience ...") and two on
# the HQ set's ("an authentic, realistic closeup image ...", "very realistic high quality portrait
# DSLR photo ...").

# %%
page.show("generation_templates")

# %% [markdown]
# ## A balanced design
#
# For a requested number of images, the design visits the cells in an order in which every
# prefix is balanced. The counts of any two cells differ by at most one, and so do the counts of
# any two emotions and, within each emotion, of any two ethnicity groups, ages or genders, so no
# demographic slot is confounded with the emotion. The overall demographic counts (groups, ages,
# genders, their pairs) differ by at most two. The module `emonet.generation.prompts` explains the
# construction, and the tests check it for every size up to two full rounds of the design. The
# seed relabels the levels, picks the ethnicity string within its group, the template, three
# descriptor words and each image's generator seed.

# %%
page.show("generation_balance_summary")

# %% [markdown]
# The {glue:text}`n_images` prompts of this build give about {glue:text}`per_emotion` images per
# emotion. Counts of the emotion and of the emotion crossed with each slot differ by at most
# {glue:text}`max_spread_emotion`, the demographic counts by at most
# {glue:text}`max_spread_demo` ({numref}`fig-generation-balance`). Some examples:

# %%
page.show("generation_prompt_examples")

# %% [markdown]
# The design is one call. Because every prefix of the design is balanced, a smaller design with
# the same seed is the beginning of this build's: its first 80 rows (two per emotion) are the
# build's first 80 prompts.

# %% tags=["show-input"]
from emonet.data import loaders
from emonet.generation import prompts

first = prompts.design(80, loaders.load_guide(), seed=seed)  # one prompt row per image
print("the build's first 80 prompts:", first.equals(result.design.head(80)))
first[["emotion", "ethnicity", "age", "gender", "prompt"]].head(3)

# %% [markdown]
# ```{glue:figure} fig_balance
# :name: fig-generation-balance
#
# Images per cell of the prompt design ({glue:text}`n_images` prompts). Each emotion's row is
# spread evenly over the ethnicity groups; the demographic panels are balanced to within
# {glue:text}`max_spread_demo` images.
# ```
#
# ## Generating the images
#
# A backend turns a batch of prompt rows into images; `emonet.generation.images` writes each image
# as a PNG and records it in a manifest (one row per image: the prompt row, backend, model, seed,
# file, SHA-256 and, for the offline faces, the ground truth). The manifest is rewritten atomically
# after each batch, so an interrupted run resumes where it stopped, without losing or repeating an
# image.

# %%
page.show("generation_timing")

# %% [markdown]
# The {glue:text}`backend_label` backend made the {glue:text}`n_images` images of
# {glue:text}`image_px` pixels square in {glue:text}`gen_seconds` s of generation time:
# {glue:text}`images_per_s` images per second ({glue:text}`ms_per_image` ms per image) on
# this machine. The time is recorded per batch in the manifest, so a resumed run still reports
# the time its images took. {numref}`Figure %s <fig-generation-grid>` shows a sample of the images.
#
# ```{glue:figure} fig_grid
# :name: fig-generation-grid
#
# Generated images ({glue:text}`backend_label`) for {glue:text}`n_grid_emotions` of the 40
# categories, up to {glue:text}`grid_per_row` per row, each
# captioned with its ethnicity group, age and gender.
# ```
#
# ## Ground truth of the offline faces
#
# Each offline face is drawn from an action-unit vector: the prompted category's prototype (the
# EMFACS combinations for the basic emotions, plausible combinations for the others) at an intensity
# drawn from {glue:text}`intensity_range`, plus a weak admixture of another category and noise. Its
# ground truth scores how strongly the drawn action units express each of the 40 categories (0-7).
# The prompted category usually scores highest ({numref}`fig-generation-truth`), and categories that
# share action units with it (sadness and disappointment, surprise and awe) score high too: the
# stand-in has built-in ambiguity of the kind that human raters face.
#
# ```{glue:figure} fig_truth
# :name: fig-generation-truth
#
# Mean ground-truth intensity of each category (columns) over the offline faces prompted for each
# category (rows). The prompted category has the highest ground truth for
# {glue:text}`truth_top1` of the images; its mean is {glue:text}`truth_target_mean` on the 0-7
# scale.
# ```
#
# ## Balance of the real datasets
#
# The paper's images live on the Hugging Face hub (`laion/emonet-face-hq`, `-binary`, `-big`), with
# the prompt slots as metadata columns. The full profile reads those columns of the dataset that
# `real_source` names and shows their balance with the same tables and figure
# ({numref}`fig-generation-real-balance`); offline, this section is skipped (the code path is tested
# on a small local file in the `laion/emonet-face-binary` schema).

# %%
page.show("generation_real_balance_summary")

# %% [markdown]
# ```{glue:figure} fig_real_balance
# :name: fig-generation-real-balance
#
# Images per cell of the real dataset ({glue:text}`real_source_label`), drawn as for the prompt
# design above.
# ```
#
# What this chapter read from the Hugging Face hub (the text-to-image model, the real dataset),
# at which revision and commit, and how each file was checked after download:

# %%
page.show("generation_hub_sources")

# %% [markdown]
# ## Who is represented
#
# The authors summarise who their faces show with two world maps (their
# `statistics/worldmap.ipynb`): the 14 prompt strings are mapped to the race groups of FairFace
# {cite}`karkkainen2021fairface`, which has 7 (White, Black, Indian, East Asian, Southeast
# Asian, Middle Eastern, Latino), plus an eighth group of their own, "AI/AN-NHPI", for the two
# indigenous categories of the US census, and each group is painted onto a set of countries.
# Neither map shows the groups' shares of the images. The left map's scores are written into the
# code (White 1, every other group 0). The right map colours a group by the variance of its
# images' shares over the 7 emotion families, averaged over the groups a country is given and
# scaled to 0–1 between the lowest and the highest country; its colour bar calls this "Emotion
# Diversity", but a larger variance means a *less* even spread, and the scaling stretches any
# difference, however small, over the whole colour range.
#
# Here the same mapping, taken from the authors' notebook
# (`emonet.data.demographics.FAIRFACE_GROUPS`), is applied to the images, and both quantities are
# computed: each group's share of the images, and how its images spread over the families. The
# spread is measured two ways: the authors' variance (`authors_variance`) and the total variation
# distance from the spread of a design even over the 40 emotions (`tv_from_even`; 0 when a group
# holds every emotion equally often, whatever the families' sizes). We draw a chart
# ({numref}`fig-generation-represented`) rather than a map: no package installed here ships country
# shapes (the authors' `geopandas` read them from a dataset that its version 1.0 removed, as the
# warning in their notebook's output says), and a map would need a group-to-country assignment that
# neither the paper nor FairFace defines (the authors' own puts the United States into three
# groups).

# %%
page.show("generation_represented", decimals=3)

# %% [markdown]
# ```{glue:figure} fig_represented
# :name: fig-generation-represented
#
# Who is represented, per source ({glue:text}`represented_sources`): left, each of the
# {glue:text}`n_fairface_groups` FairFace groups' share of the images (the authors' mapping of the
# 14 prompt strings; dotted: an equal share); right, how each group's images spread over the 7
# emotion families, above the spread of a design even over the 40 emotions. For this build's images
# (offline faces) the groups and emotions are those the prompts asked for, not what a rater would
# see in the drawn faces.
# ```
#
# In this build ({glue:text}`backend_label`), the largest share of the images goes to
# {glue:text}`largest_groups` and the smallest to {glue:text}`smallest_groups`
# ({numref}`fig-generation-represented`). {glue:text}`farthest_group` is farthest from an even
# spread over the emotions (total variation distance {glue:text}`farthest_distance`; the closest
# group is at {glue:text}`closest_distance`). The shares follow from the grouping: the design
# balances this compendium's 8 groups (section *Prompt slots* above), and the authors' 8 groups
# cut the strings differently, so a group that joins two of ours holds twice an equal share and a
# group that is half of one of ours holds half. Who counts as "represented" depends on who counts
# as a group. A real dataset, when the profile reads one (here: {glue:text}`real_source_label`),
# has rows of its own in the table above.
#
# The spread over the emotions follows from the design too. It balances its own groups over the
# emotions, not the strings within them; in this build the groups of several strings whose images
# of each emotion all carry one string are: {glue:text}`single_string_groups` (table below). A
# FairFace group made of one such string holds only some of the emotions, so its images can spread
# unevenly over the families.

# %%
page.show("generation_strings_by_emotion")

# %% [markdown]
# ## Roles of the images
#
# The paper uses three disjoint image sets: *Big* (weak labels, pre-training), *Binary* (expert
# yes/no labels, fine-tuning) and *HQ* (the expert panel, testing). Later chapters split this
# build's images the same way with `emonet.generation.prompts.assign_subsets`: within each
# emotion a seeded shuffle, cut in fixed proportions, so each role holds every emotion in
# proportion and no image is used for training and testing.

# %%
page.show("generation_subsets")

# %% [markdown]
# This build has {glue:text}`n_big` images in the Big role, {glue:text}`n_binary` in the Binary
# role and {glue:text}`n_hq` in the HQ role.
#
# ## For later chapters
#
# The manifest `manifest.parquet` in the profile's artifacts folder lists every image with its
# prompt row and (offline faces) its ground truth as 40 columns `truth:<category>`; the module
# docstring of `emonet.generation.images` documents the schema. For several GPUs, launch
# `emonet.generation.images.generate_sharded` with `accelerate launch`: each process takes a
# disjoint slice and the main process merges the shard manifests.
