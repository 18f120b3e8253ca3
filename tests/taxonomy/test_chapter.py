"""Chapter 01's page and result, from the real ``guide.json`` and mappings of the mirror: every
key and table the notebook uses, and the call its show-input cell makes."""

import pytest

from emonet.book.page import Page
from emonet.paths import NOTEBOOK_DIR
from emonet.taxonomy import chapter
from tests.helpers import missing_from_page

NOTEBOOK = NOTEBOOK_DIR / "01_taxonomy.py"


@pytest.fixture(scope="module")
def run(tmp_path_factory, mirror):
    """One run of the chapter on the mirror (module scope: before the per-test data environment,
    so the mirror is set here)."""
    page = Page.for_profile("local", tmp_path_factory.mktemp("art"))
    with pytest.MonkeyPatch.context() as env:
        env.setenv("EMONET_DATA_DIR", str(mirror))
        return page, chapter.run(chapter.TaxonomyParams(seed=42), page)


def test_page_has_every_key_and_table_the_notebook_uses(run):
    page, _ = run
    assert missing_from_page(page, NOTEBOOK) == {}
    assert page.texts["n_emotions"] == "40" and page.texts["n_families"] == "7"


def test_result_holds_the_chapters_tables(run):
    page, result = run
    assert len(result.categories) == 40 and result.families["n_categories"].sum() == 40
    assert len(result.descriptor_counts) == 40
    assert page.texts["n_shared_words"] == f"{len(result.shared_words)}"
    disagree = (result.mappings["ferd"] != result.mappings["affectnet"]).sum()
    assert page.texts["n_mapping_disagree"] == f"{disagree}"
    # the notebook's show-input cell: the guide's categories per family are the families table
    per_family = result.guide.groupby("family", sort=False)["emotion"].nunique()
    assert per_family.to_dict() == result.families.set_index("family")["n_categories"].to_dict()
