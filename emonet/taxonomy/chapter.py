"""Chapter 01, *Taxonomy*: everything the page shows, computed from ``guide.json`` and the
authors' basic-emotion mappings (real data).

:func:`run` fills a :class:`emonet.book.page.Page` with the chapter's tables
(``taxonomy_*.csv``), figures and the numbers its prose quotes.
"""

from __future__ import annotations

from dataclasses import dataclass

from emonet.book.page import Page, Params
from emonet.data import loaders, taxonomy
from emonet.taxonomy import figures, vocabulary


@dataclass(frozen=True)
class TaxonomyParams(Params):
    seed: int


def run(params: TaxonomyParams, page: Page) -> Page:
    """Families, extra dimensions, descriptor words and their overlaps, and the mappings."""
    guide = loaders.load_guide()
    mappings = loaders.load_basic_mappings()
    _families(page)
    _descriptors(page, guide)
    _mappings(page, mappings)
    return page


def _families(page: Page) -> None:
    families = page.table(taxonomy.families_table(), "taxonomy_categories")
    summary = page.table(taxonomy.families_summary(), "taxonomy_families")
    page.table(taxonomy.extra_dimensions_table(), "taxonomy_extra_dimensions")
    sizes = summary.set_index("family")["n_categories"]
    page.text(n_emotions=f"{taxonomy.N_EMOTIONS}", n_families=f"{len(taxonomy.FAMILIES)}",
              largest_family=sizes.idxmax(), largest_family_size=f"{sizes.max()}",
              smallest_family=sizes.idxmin(), smallest_family_size=f"{sizes.min()}")
    page.figure(figures.families_overview(families), "taxonomy_families", "fig_families")


def _descriptors(page: Page, guide) -> None:
    counts = page.table(vocabulary.descriptor_counts(guide), "taxonomy_descriptor_counts")
    repeated = page.table(vocabulary.repeated_within(guide), "taxonomy_repeated_words")
    shared = page.table(vocabulary.shared_words(guide), "taxonomy_shared_words")
    page.text(n_words_listed=f"{counts['n_listed'].sum()}",
              n_words_distinct=f"{guide['word'].str.strip().str.casefold().nunique()}",
              max_words=f"{counts['n_distinct'].max()}",
              max_words_emotion=counts.loc[counts["n_distinct"].idxmax(), "emotion"],
              min_words=f"{counts['n_distinct'].min()}", n_repeated=f"{len(repeated)}",
              n_shared_words=f"{len(shared)}",
              n_shared_cross_family=f"{shared['cross_family'].sum()}")
    page.figure(figures.descriptor_bars(counts), "taxonomy_descriptor_counts", "fig_descriptors")
    sharing = page.table(vocabulary.sharing_matrix(guide), "taxonomy_sharing_matrix", index=True)
    page.figure(figures.sharing_heatmap(sharing), "taxonomy_sharing_heatmap", "fig_sharing")


def _mappings(page: Page, mappings: dict) -> None:
    mapping = page.table(vocabulary.mapping_table(mappings), "taxonomy_basic_mappings")
    sizes = page.table(vocabulary.mapping_sizes(mappings),
                       "taxonomy_basic_mapping_sizes").set_index("basic_emotion")
    disagree = mapping[~mapping["agree"]]
    page.view(disagree.drop(columns="agree"), "taxonomy_mapping_disagreements")
    page.text(n_mapping_disagree=f"{len(disagree)}",
              n_neutral_ferd=f"{sizes.loc['neutral', 'ferd']}",
              n_neutral_affectnet=f"{sizes.loc['neutral', 'affectnet']}",
              n_happy_ferd=f"{sizes.loc['happy', 'ferd']}",
              n_happy_affectnet=f"{sizes.loc['happy', 'affectnet']}")
    page.figure(figures.mapping_grid(mapping, taxonomy.BASIC_EMOTIONS), "taxonomy_basic_mappings",
                "fig_mapping")
