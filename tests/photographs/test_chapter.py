"""Chapter 08 as the notebook runs it on the real FERD file: every text and figure the prose
quotes and every table it shows, without AffectNet (local) and with four supplied files."""

import os
from dataclasses import replace
from pathlib import Path

import matplotlib
import pytest

from emonet.book.page import Page
from emonet.data import loaders
from emonet.paths import NOTEBOOK_DIR
from emonet.photographs import chapter
from tests.helpers import affectnet_line, missing_from_page

matplotlib.use("Agg")

NOTEBOOK = NOTEBOOK_DIR / "08_real_photographs.py"

LOCAL = chapter.PhotographsParams(
    profile="local", seed=42, n_permutations=99, affectnet=False, affectnet_expected_records=9
)

TABLES = {
    "photos_ferd_acceptance",
    "photos_ferd_accuracy",
    "photos_ferd_confusion",
    "photos_ferd_images",
    "photos_ferd_mapping_flips",
    "photos_ferd_mapping_sensitivity",
    "photos_ferd_reproduction",
    "photos_ferd_score_check",
    "photos_mapping_differences",
    "photos_namesake_heads",
    "photos_summary",
}


def written(page: Page, kind: str) -> set[str]:
    return {p.stem for p in (page.root / kind).iterdir()}


@pytest.mark.integration
def test_local_profile(mirror, tmp_path):
    page = Page.for_profile("local", tmp_path)
    result = chapter.run(LOCAL, page)
    assert missing_from_page(page, NOTEBOOK) == {}
    assert written(page, "tables") == TABLES
    assert len(written(page, "figures")) == len(page.figures)
    assert page.texts["ferd_authors_accuracy"] == "78.3%"  # real data in every build
    assert page.texts["ferd_reproduces"] == "reproduce exactly"
    assert page.texts["ferd_p_note"] == "the smallest value 99 permutations can give"
    assert page.texts["affectnet_status"].startswith("This build runs the local profile")
    assert page.tables["photos_affectnet_accuracy"]["note"].tolist() == [
        "AffectNet is not read in the local profile"
    ]
    summary = result.summary.set_index("dataset")
    assert summary.loc["ferd", "read"] and not summary.loc["affectnet", "read"]
    assert summary.loc["ferd", "max_difference"] == 0 and result.affectnet is None


@pytest.mark.integration
def test_affectnet_when_its_files_are_supplied(mirror, tmp_path):
    supplied = Path(os.environ["EMONET_CACHE_DIR"])  # AffectNet classes 0-7, one outside the 8
    for k, name in enumerate(loaders.AFFECTNET_PARTS):
        labels = [2 * k, 2 * k + 1] if k < 3 else [6, 7, 9]
        (supplied / name).write_text("".join(affectnet_line(label) + "\n" for label in labels))
    page = Page.for_profile("full", tmp_path)
    result = chapter.run(replace(LOCAL, profile="full", affectnet=True), page)
    assert missing_from_page(page, NOTEBOOK) == {}
    assert written(page, "tables") == TABLES | {
        "photos_affectnet_files",
        "photos_affectnet_accuracy",
        "photos_affectnet_reproduction",
        "photos_affectnet_summary",
    }
    summary = page.tables["photos_affectnet_summary"].set_index("what")["value"]
    assert summary["images"] == "9" and summary["with a class outside the 8 (counted wrong)"] == "1"
    assert len(page.tables["photos_affectnet_files"]) == 4
    assert result.summary.set_index("dataset").loc["affectnet", "read"]
