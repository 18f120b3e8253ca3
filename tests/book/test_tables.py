"""Tables as a reader sees them: headers in words, rounded numbers, no bare row numbers, and an
empty table as a word."""

import re

import numpy as np
import pandas as pd

from emonet.book.tables import HEADERS, header, readable


def test_a_table_reads_in_words_and_rounded():
    frame = pd.DataFrame(
        {
            "group1": ["Human Annotators"],
            "group2": ["Our Models"],
            "mean1": [0.29908691585],
            "mean2": [np.nan],
            "p_holm": [0.0019980019],
            "reject": [True],
            "n_images": [12500],
            "odd_name": [1.5],
            "u": [12079.0],
        }
    )
    html = readable(frame).to_html()
    for shown in (
        "group",
        "reference group",
        "mean (reference)",
        "p (Holm)",
        "rejected (Holm)",
        "images",
        "odd name",
        "0.299",
        "0.002",
        "yes",
        "12,500",
        "–",
        "1.500",
        "Mann–Whitney U",
        "12,079",
    ):
        assert f">{shown}<" in html, shown
    assert "0.2990" not in html and "mean1" not in html and "odd_name" not in html
    assert 'class="row_heading' not in html  # the 0, 1, 2 ... index is hidden


def test_a_meaningful_index_stays():
    frame = pd.DataFrame({"kappa": [0.5]}, index=pd.Index(["human-1"], name="annotator"))
    html = readable(frame, decimals=2).to_html()
    assert ">human-1<" in html and ">κ<" in html and ">0.50<" in html


def test_every_header_is_words():
    """No shared header keeps the code's underscores or a bare digit suffix."""
    for name, shown in HEADERS.items():
        assert "_" not in shown and not re.search(r"[a-z]\d+$", shown), (name, shown)
    assert header("share_dropped") == "share dropped" and header(3) == 3


def test_a_page_shows_an_empty_table_as_none(tmp_path):
    from emonet.book.artifacts import Artifacts
    from emonet.book.page import Page

    page = Page(Artifacts(tmp_path))
    page.table(pd.DataFrame({"images": [], "roles": []}), "duplicates")
    page.table(pd.DataFrame({"images": [3]}), "counts")
    assert page.show("duplicates").data == "*None.*"
    assert ">3<" in page.show("counts").to_html()
    assert (tmp_path / "tables" / "duplicates.csv").read_text().strip() == "images,roles"
