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
# # The taxonomy: 40 emotions in 7 families
#
# EmoNet-Face describes facial expressions with 40 fine-grained emotion categories rather than the
# six or eight "basic" emotions of older benchmarks. The authors derived them from the *Handbook of
# Emotions*: text chunks of the handbook went through LLM term extraction, the terms were clustered,
# and experts refined the clusters into categories, each with a list of descriptor words, grouped
# into 7 families {cite}`schuhmann2025emonetface`. Four further dimensions (arousal, valence,
# dominance, emotional vulnerability) are rated outside the 40.
#
# This chapter reads the taxonomy from the authors' `guide.json` (real data, CC BY 4.0) and the
# 40-to-8 basic-emotion mappings the authors use for real photographs, and checks both against the
# canonical order that every later chapter uses.

# %% tags=["parameters"]
profile = "local"
artifacts_dir = None
seed = 42

# %%
from emonet.book.page import Page
from emonet.taxonomy import chapter

page = Page.for_profile(profile, artifacts_dir)
result = chapter.run(chapter.TaxonomyParams.from_namespace(globals()), page)
page.glue()

# %% [markdown]
# (taxonomy-families)=
# ## Families and members
#
# The canonical order of the 40 categories is the order of `guide.json`; the families
# ({numref}`fig-taxonomy-families`) regroup them by valence and energy. Every array, table and
# figure in this book uses this order (the full list with head names is
# `tables/taxonomy_categories.csv` among the artifacts).

# %%
page.show("taxonomy_families")

# %% [markdown]
# The taxonomy is one file, read with one call: each row of `guide.json` is a descriptor word of
# a category, with the category's family. Counting the categories per family gives the table above:

# %% tags=["show-input"]
from emonet.data import loaders

guide = loaders.load_guide()  # one row per descriptor entry: emotion, family, position, word
guide.groupby("family", sort=False)["emotion"].nunique()

# %% [markdown]
# ```{glue:figure} fig_families
# :name: fig-taxonomy-families
#
# The {glue:text}`n_emotions` categories in {glue:text}`n_families` families. The largest family,
# *{glue:text}`largest_family`*, holds {glue:text}`largest_family_size` categories; the smallest,
# *{glue:text}`smallest_family`*, {glue:text}`smallest_family_size`.
# ```
#
# The four extra dimensions and their scales:

# %%
page.show("taxonomy_extra_dimensions")

# %% [markdown]
# ## Descriptor words
#
# Each category comes with descriptor words, which the image prompts used (chapter 02 builds
# prompts from them) and which the annotators saw as a definition. Their number varies a lot
# between categories ({numref}`fig-taxonomy-descriptors`).
#
# ```{glue:figure} fig_descriptors
# :name: fig-taxonomy-descriptors
#
# Distinct descriptor words per category, coloured by family. *{glue:text}`max_words_emotion`* has
# the most ({glue:text}`max_words`); the shortest lists have {glue:text}`min_words`.
# ```
#
# `guide.json` lists {glue:text}`n_words_listed` descriptor entries, {glue:text}`n_words_distinct`
# distinct words after case-folding. Nothing is dropped silently: {glue:text}`n_repeated` words are
# listed twice inside the same category (a plain repeat and a capitalised one), which we count once
# per category in the analyses below:

# %%
page.show("taxonomy_repeated_words")

# %% [markdown]
# ## Words shared between categories
#
# {glue:text}`n_shared_words` descriptor words describe more than one category, and
# {glue:text}`n_shared_cross_family` of them cross family lines ({numref}`fig-taxonomy-sharing`).
# They mark where the taxonomy's boundaries are thin, and where annotators (and models) may
# reasonably disagree: *bliss* is both pleasure and contentment, *loathing* both contempt and
# disgust, *malicious envy* both bitterness and malice.

# %%
page.show("taxonomy_shared_words")

# %% [markdown]
# ```{glue:figure} fig_sharing
# :name: fig-taxonomy-sharing
#
# Pairs of categories that share descriptor words. Most of the 780 pairs share none; the few
# that do are the taxonomy's thin boundaries.
# ```
#
# ## From 40 categories to 8 basic emotions
#
# To test the model on real photographs labelled with the basic emotions (FERD, AffectNet; chapter
# 08), the authors map each of the 40 heads to one basic emotion, and they use a different mapping
# for each dataset (the dictionaries of their `eval/config.py`, mirrored as
# `basic_emotion_mappings.json`). The choice matters: an image counts as correct when any head
# mapped to its gold label is confident, so a basic emotion that receives many heads is easier to
# hit.

# %%
page.show("taxonomy_basic_mapping_sizes")

# %% [markdown]
# ```{glue:figure} fig_mapping
# :name: fig-taxonomy-mapping
#
# Where each category goes under the authors' FERD and AffectNet mappings. The two disagree for
# {glue:text}`n_mapping_disagree` of the 40 categories (ringed).
# ```
#
# The mappings disagree for {glue:text}`n_mapping_disagree` categories
# ({numref}`fig-taxonomy-mapping`). Under the FERD mapping *happy* receives
# {glue:text}`n_happy_ferd` heads and *neutral* {glue:text}`n_neutral_ferd`; under the AffectNet
# mapping *happy* receives {glue:text}`n_happy_affectnet` and *neutral*
# {glue:text}`n_neutral_affectnet`. Chapter 08 measures how much this choice moves the accuracy
# on the same predictions. The categories on which the two mappings disagree:

# %%
page.show("taxonomy_mapping_disagreements")
