"""Chapter 01, *Taxonomy*: everything the page shows, computed from ``guide.json`` and the
authors' basic-emotion mappings (real data).

:func:`run` fills the page (tables ``taxonomy_*.csv``, figures, the numbers the prose quotes) and
returns a :class:`TaxonomyResult`.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from emonet.book.page import Page, Params
from emonet.data import loaders, taxonomy
from emonet.taxonomy import figures, vocabulary


@dataclass(frozen=True)
class TaxonomyParams(Params):
    """The parameters cell (``notebooks/params/<profile>.yaml``, ``common``)."""

    seed: int


@dataclass(frozen=True)
class TaxonomyResult:
    """What chapter 01 read and found; every table is also a CSV under ``tables/``."""

    guide: pd.DataFrame  # guide.json, one row per descriptor entry: emotion, family, position, word
    categories: pd.DataFrame  # the 40 categories in canonical order, with family and head name
    families: pd.DataFrame  # per family: how many categories, which
    descriptor_counts: pd.DataFrame  # per category: descriptor words listed, distinct, shared
    shared_words: pd.DataFrame  # the descriptor words of more than one category
    mappings: pd.DataFrame  # per category: its basic emotion under the FERD and AffectNet mapping
    mapping_sizes: pd.DataFrame  # per basic emotion: how many categories each mapping sends to it


def run(params: TaxonomyParams, page: Page) -> TaxonomyResult:
    """Families, extra dimensions, descriptor words and their overlaps, and the mappings."""
    guide = loaders.load_guide()
    categories, families = _families(page)
    counts, shared = _descriptors(page, guide)
    mapping, sizes = _mappings(page, loaders.load_basic_mappings())
    return TaxonomyResult(guide, categories, families, counts, shared, mapping, sizes)


def _families(page: Page) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The categories and their families, and the extra dimensions."""
    categories = page.table(taxonomy.families_table(), "taxonomy_categories")
    summary = page.table(taxonomy.families_summary(), "taxonomy_families")
    page.table(taxonomy.extra_dimensions_table(), "taxonomy_extra_dimensions")
    sizes = summary.set_index("family")["n_categories"]
    page.text(
        n_emotions=f"{taxonomy.N_EMOTIONS}",
        n_families=f"{len(taxonomy.FAMILIES)}",
        largest_family=sizes.idxmax(),
        largest_family_size=f"{sizes.max()}",
        smallest_family=sizes.idxmin(),
        smallest_family_size=f"{sizes.min()}",
    )
    page.figure(figures.families_overview(categories), "taxonomy_families", "fig_families")
    return categories, summary


def _descriptors(page: Page, guide: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Descriptor words per category, repeated within one and shared between categories."""
    counts = page.table(vocabulary.descriptor_counts(guide), "taxonomy_descriptor_counts")
    repeated = page.table(vocabulary.repeated_within(guide), "taxonomy_repeated_words")
    shared = page.table(vocabulary.shared_words(guide), "taxonomy_shared_words")
    page.text(
        n_words_listed=f"{counts['n_listed'].sum()}",
        n_words_distinct=f"{guide['word'].str.strip().str.casefold().nunique()}",
        max_words=f"{counts['n_distinct'].max()}",
        max_words_emotion=counts.loc[counts["n_distinct"].idxmax(), "emotion"],
        min_words=f"{counts['n_distinct'].min()}",
        n_repeated=f"{len(repeated)}",
        n_shared_words=f"{len(shared)}",
        n_shared_cross_family=f"{shared['cross_family'].sum()}",
    )
    page.figure(figures.descriptor_bars(counts), "taxonomy_descriptor_counts", "fig_descriptors")
    sharing = page.table(vocabulary.sharing_matrix(guide), "taxonomy_sharing_matrix", index=True)
    page.figure(figures.sharing_heatmap(sharing), "taxonomy_sharing_heatmap", "fig_sharing")
    return counts, shared


def _mappings(page: Page, mappings: dict) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The authors' two 40-to-8 mappings side by side, and where they disagree."""
    mapping = page.table(vocabulary.mapping_table(mappings), "taxonomy_basic_mappings")
    sizes = page.table(vocabulary.mapping_sizes(mappings), "taxonomy_basic_mapping_sizes")
    disagree = mapping[~mapping["agree"]]
    page.view(disagree.drop(columns="agree"), "taxonomy_mapping_disagreements")
    per_emotion = sizes.set_index("basic_emotion")
    page.text(
        n_mapping_disagree=f"{len(disagree)}",
        n_neutral_ferd=f"{per_emotion.loc['neutral', 'ferd']}",
        n_neutral_affectnet=f"{per_emotion.loc['neutral', 'affectnet']}",
        n_happy_ferd=f"{per_emotion.loc['happy', 'ferd']}",
        n_happy_affectnet=f"{per_emotion.loc['happy', 'affectnet']}",
    )
    page.figure(
        figures.mapping_grid(mapping, taxonomy.BASIC_EMOTIONS),
        "taxonomy_basic_mappings",
        "fig_mapping",
    )
    return mapping, sizes
