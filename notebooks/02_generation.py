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
n_images = 320
backend = "offline"
image_size = 128
batch_size = 32
intensity = [0.6, 1.0]  # offline faces: expression intensity drawn from this range
grid_per_row = 6
model_id = None
dtype = "float32"
steps = None
guidance_scale = None
negative_prompt = None
real_source = None

# %%
import pandas as pd
from IPython.display import display
from myst_nb import glue

from emonet.book import style
from emonet.book.artifacts import Artifacts
from emonet.data import demographics, hub, loaders, taxonomy
from emonet.generation import figures as generation_figures
from emonet.generation import images as generation_images
from emonet.generation import prompts

art = Artifacts.for_profile(profile, artifacts_dir)
guide = loaders.load_guide()

# %% [markdown]
# ## Prompt slots and templates
#
# A prompt has four slots: the ethnicity, the age, the gender and the emotion's descriptor words
# (from `guide.json`, chapter 01). The paper lists 14 ethnicity strings, several of which name
# the same population in different words ("White", "white caucasian european", ...). To balance
# and analyse, we group them into broader groups; the grouping is ours, not the authors':

# %%
groups = art.table(prompts.ethnicity_groups_table(), "generation_ethnicity_groups")
glue("n_ethnicities", len(demographics.ETHNICITIES), display=False)
glue("n_groups", len(demographics.ETHNICITY_GROUPS), display=False)
glue("n_ages", len(demographics.AGES), display=False)
glue("age_range", f"{demographics.AGES[0]} to {demographics.AGES[-1]}", display=False)
glue("n_genders", len(demographics.GENDERS), display=False)
glue("n_cells", f"{prompts.N_CELLS:,}", display=False)
glue("n_templates", len(prompts.TEMPLATES), display=False)
groups

# %% [markdown]
# The {glue:text}`n_ethnicities` strings fall into {glue:text}`n_groups` groups. With
# {glue:text}`n_ages` ages ({glue:text}`age_range` by decade) and {glue:text}`n_genders` genders (man, woman,
# non-binary person) and the 40 emotions, the design has {glue:text}`n_cells` cells. Prompts use
# {glue:text}`n_templates` templates in the shape of the paper's: one modelled on the Binary set's
# ("a focused close-up photo of ... who seems to genuinely experience ...") and two on the HQ
# set's ("an authentic, realistic closeup image ...", "very realistic high quality portrait DSLR
# photo ...").

# %%
templates = art.table(prompts.templates_table(), "generation_templates")
templates

# %% [markdown]
# ## A balanced design
#
# For a requested number of images, the design visits the cells in an order in which every
# prefix is balanced. The counts of any two cells differ by at most one, and so do the counts of
# any two emotions and, within each emotion, of any two ethnicity groups, ages or genders, so no
# demographic slot is confounded with the emotion. The overall demographic counts (groups, ages,
# genders, their pairs) differ by at most two. The module `emonet.prompts` explains the
# construction, and the tests check it for every size up to two full rounds of the design. The
# seed relabels the levels, picks the ethnicity string within its group, the template, three
# descriptor words and each image's generator seed.

# %%
design = prompts.design(n_images, guide, seed=seed)
art.table(design, "generation_prompts")
summary = art.table(prompts.balance_summary(design), "generation_balance_summary")
glue("n_images", len(design), display=False)
emotion_rows = summary["factor"].str.startswith("emotion")
glue("max_spread_emotion", int(summary.loc[emotion_rows, "spread"].max()), display=False)
glue("max_spread_demo", int(summary.loc[~emotion_rows, "spread"].max()), display=False)
glue("per_emotion", f"{len(design) / design['emotion'].nunique():.0f}", display=False)
summary

# %% [markdown]
# The {glue:text}`n_images` prompts of this build give about {glue:text}`per_emotion` images per
# emotion. Counts of the emotion and of the emotion crossed with each slot differ by at most
# {glue:text}`max_spread_emotion`, the demographic counts by at most
# {glue:text}`max_spread_demo`. Some examples:

# %%
design.groupby("template").head(2)[["id", "emotion", "template", "prompt"]]

# %%
panels = prompts.balance_panels(design)
for name, table in panels.items():
    art.table(table, "generation_balance_" + name.replace(" x ", "_by_").replace(" ", "_"),
              index=True)
glue("fig_balance", art.figure(generation_figures.balance_heatmaps(
    panels, f"Images per cell, {len(design)} prompts"), "generation_balance"), display=False)

# %% [markdown]
# ```{glue:figure} fig_balance
# :name: fig-balance
#
# Images per cell of the prompt design ({glue:text}`n_images` prompts). Each emotion's row is
# spread evenly over the ethnicity groups; the demographic panels are balanced to within
# {glue:text}`max_spread_demo` images.
# ```
#
# ## Generating the images
#
# A backend turns a batch of prompt rows into images; `emonet.generation.images` writes each image as a
# PNG and records it in a manifest (one row per image: the prompt row, backend, model, seed,
# file, SHA-256 and, for the offline faces, the ground truth). The manifest is rewritten
# atomically after each batch, so an interrupted run resumes where it stopped, without losing or
# repeating an image.

# %%
if backend == "offline":
    generator = generation_images.make_backend("offline", size=image_size, batch_size=batch_size,
                                      intensity=tuple(intensity))
else:
    generator = generation_images.make_backend(
        "diffusers", model_id=model_id, dtype=dtype, batch_size=batch_size, steps=steps,
        guidance_scale=guidance_scale, negative_prompt=negative_prompt, height=image_size,
        width=image_size)
manifest = generation_images.generate(design, generator, art.root, progress=False)
speed = art.table(generation_images.timing(manifest), "generation_timing")
glue("images_per_s", float(speed["images_per_s"].iloc[0]), display=False)
glue("ms_per_image", float(speed["ms_per_image"].iloc[0]), display=False)
glue("gen_seconds", float(speed["seconds"].iloc[0]), display=False)
glue("image_px", int(speed["width"].iloc[0]), display=False)
glue("backend_label", "offline faces" if backend == "offline" else f"{backend}: {model_id}",
     display=False)
speed

# %% [markdown]
# The {glue:text}`backend_label` backend made the {glue:text}`n_images` images of
# {glue:text}`image_px` pixels square in {glue:text}`gen_seconds:.1f` s of generation time:
# {glue:text}`images_per_s:.0f` images per second ({glue:text}`ms_per_image:.1f` ms per image) on
# this machine. The time is recorded per batch in the manifest, so a resumed run still reports
# the time its images took.

# %%
shown = ["Amusement", "Sadness", "Astonishment/Surprise", "Disgust", "Anger", "Fear",
         "Contempt", "Pain", "Embarrassment", "Concentration"]
images, captions = generation_images.examples(manifest, art.root, shown, per_row=grid_per_row)
glue("n_grid_emotions", len(shown), display=False)
glue("grid_per_row", grid_per_row, display=False)
glue("intensity_range", f"{intensity[0]} to {intensity[1]}", display=False)
label = "offline faces" if backend == "offline" else model_id
glue("fig_grid", art.figure(generation_figures.image_grid(
    images, shown, captions, f"Generated images by prompted emotion ({label})"),
    "generation_grid"), display=False)

# %% [markdown]
# ```{glue:figure} fig_grid
# :name: fig-grid
#
# Generated images ({glue:text}`backend_label`) for {glue:text}`n_grid_emotions` of the 40
# categories, up to {glue:text}`grid_per_row` per row, each
# captioned with its ethnicity group, age and gender.
# ```
#
# ## Ground truth of the offline faces
#
# Each offline face is drawn from an action-unit vector: the prompted category's prototype (the
# EMFACS combinations for the basic emotions, plausible combinations for the others) at an
# intensity drawn from {glue:text}`intensity_range`, plus a weak admixture of another category and noise. Its ground
# truth scores how strongly the drawn action units express each of the 40 categories (0-7). The
# prompted category usually scores highest, and categories that share action units with it
# (sadness and disappointment, surprise and awe) score high too: the stand-in has built-in
# ambiguity of the kind that human raters face.

# %%
if manifest[list(generation_images.TRUTH_COLUMNS)].notna().all().all():
    by_target = art.table(generation_images.truth_by_target(manifest), "generation_truth_by_target",
                          index=True)
    truth = generation_images.truth_matrix(manifest)
    target = manifest["emotion"].map(taxonomy.INDEX).to_numpy()
    top1 = float((truth.argmax(1) == target).mean())
    glue("truth_top1", f"{100 * top1:.0f}%", display=False)
    glue("truth_target_mean", f"{truth[range(len(truth)), target].mean():.1f}", display=False)
    fig = generation_figures.truth_heatmap(by_target)
else:
    glue("truth_top1", "n/a (no ground truth for this backend)", display=False)
    glue("truth_target_mean", "n/a", display=False)
    fig = style.message_figure(f"{backend} images carry no ground truth")
glue("fig_truth", art.figure(fig, "generation_truth"), display=False)

# %% [markdown]
# ```{glue:figure} fig_truth
# :name: fig-truth
#
# Mean ground-truth intensity of each category (columns) over the offline faces prompted for each
# category (rows). The prompted category has the highest ground truth for
# {glue:text}`truth_top1` of the images; its mean is {glue:text}`truth_target_mean` on the 0-7
# scale.
# ```
#
# ## Balance of the real datasets
#
# The paper's images live on the Hugging Face hub (`laion/emonet-face-hq`, `-binary`, `-big`),
# with the prompt slots as metadata columns. The full profile reads those columns and shows their
# balance with the same tables; offline, this section is skipped (the code path is tested on a
# small local file in the `laion/emonet-face-binary` schema).

# %%
if real_source:
    real = hub.load_real_metadata(real_source)
    summary_real = art.table(prompts.balance_summary(real), "generation_real_balance_summary")
    display(summary_real)
    display(art.figure(generation_figures.balance_heatmaps(
        prompts.balance_panels(real), f"Images per cell, {real_source}"),
        "generation_real_balance"))
else:
    print("skipped: no real_source in this profile (offline)")

# %% [markdown]
# ## Roles of the images
#
# The paper uses three disjoint image sets: *Big* (weak labels, pre-training), *Binary* (expert
# yes/no labels, fine-tuning) and *HQ* (the expert panel, testing). Later chapters split this
# build's images the same way with `emonet.generation.prompts.assign_subsets`: within each emotion a seeded
# shuffle, cut in fixed proportions, so each role holds every emotion in proportion and no image
# is used for training and testing.

# %%
roles = prompts.assign_subsets(manifest, seed=seed)
role_counts = art.table(pd.crosstab(manifest["emotion"], roles).agg(["sum", "min", "max"])
                        .rename(index={"sum": "images", "min": "min per emotion",
                                       "max": "max per emotion"})
                        .reindex(columns=list(prompts.SUBSETS)), "generation_subsets", index=True)
for name in prompts.SUBSETS:
    glue(f"n_{name}", int(role_counts.loc["images", name]), display=False)
role_counts

# %% [markdown]
# This build has {glue:text}`n_big` images in the Big role, {glue:text}`n_binary` in the Binary
# role and {glue:text}`n_hq` in the HQ role.
#
# ## For later chapters
#
# The manifest `manifest.parquet` in the profile's artifacts folder lists every image with its
# prompt row and (offline faces) its ground truth as 40 columns `truth:<category>`; the module
# docstring of `emonet.generation.images` documents the schema. For several GPUs, launch
# `emonet.generation.images.generate_sharded` with `accelerate launch`: each process takes a disjoint
# slice and the main process merges the shard manifests.
