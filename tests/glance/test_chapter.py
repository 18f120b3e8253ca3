"""Results at a glance: rows from the earlier chapters' tables, verdicts that follow the numbers,
a Markdown table whose every row links to a section that exists."""

import re

import pandas as pd
import pytest

from emonet.book.artifacts import Artifacts
from emonet.book.page import Page
from emonet.evaluation import claims
from emonet.glance import chapter
from emonet.paths import NOTEBOOK_DIR
from tests.helpers import missing_from_page

NOTEBOOK = NOTEBOOK_DIR / "07_at_a_glance.py"


def facts(**values) -> pd.DataFrame:
    return pd.DataFrame({"fact": list(values), "value": list(values.values())})


def claims_table(verdict_of_ferd=claims.REPRODUCED) -> pd.DataFrame:
    rows = [(name, "paper says", "we measured", claims.STAND_INS, claims.NOT_TESTABLE, "why")
            for name in ("Human-expert level on HQ", "Beats the VLMs", "Blind study",
                         "Real photographs (AffectNet)", "Demographic balance")]
    rows.insert(3, ("Real photographs (FERD)", "78.3%", "78.3%", claims.REAL, verdict_of_ferd,
                    "why"))
    return pd.DataFrame(rows, columns=["claim", "paper", "this_build", "evidence", "verdict",
                                       "why"])


def write_tables(root, *, families=7, labels=65_686, panel_real=False, hq_images=880,
                 evaluation=None) -> Artifacts:
    art = Artifacts(root)
    art.table(pd.DataFrame({"family": [f"f{i}" for i in range(families)],
                            "n_categories": [40 - 6 * (families - 1)] + [6] * (families - 1)}),
              "taxonomy_families")
    art.table(facts(n_labels=labels, n_images=19_999, n_annotators=7), "binary_facts")
    art.table(facts(n_images=hq_images, n_experts=8, experts_per_image=4.0), "hq_facts")
    art.table(pd.DataFrame({"panel": ["the authors' hq.csv" if panel_real else
                                      "simulated panel"], "real": [panel_real]}), "hq_source")
    art.table(claims_table() if evaluation is None else evaluation, "evaluation_claims")
    return art


def test_the_rows_follow_the_tables(tmp_path):
    table = chapter.results(write_tables(tmp_path)).set_index("check")
    assert list(table.index[:3]) == ["Taxonomy", "Binary set", "HQ panel"]
    assert table.loc["Taxonomy", "this_build"] == "40 categories in 7 families"
    assert table.loc["Taxonomy", "verdict"] == claims.REPRODUCED
    assert table.loc["Binary set", "this_build"] == "19,999 images, 65,686 labels from 7 experts"
    assert table.loc["Binary set", "verdict"] == claims.REPRODUCED
    # a simulated panel's size is a setting, not a finding
    assert table.loc["HQ panel", "evidence"] == claims.STAND_INS
    assert table.loc["HQ panel", "verdict"] == claims.NOT_TESTABLE
    assert "(simulated panel)" in table.loc["HQ panel", "this_build"]
    assert table.loc["Real photographs (FERD)", "verdict"] == claims.REPRODUCED  # as chapter 06
    assert set(table["section"]) <= set(chapter.SECTIONS.values())


def test_verdicts_turn_when_the_numbers_differ(tmp_path):
    table = chapter.results(write_tables(tmp_path, families=6, labels=64_000, panel_real=True,
                                         hq_images=2_400)).set_index("check")
    assert table.loc["Taxonomy", "verdict"] == claims.NOT_REPRODUCED
    assert table.loc["Binary set", "verdict"] == claims.NOT_REPRODUCED
    assert table.loc["HQ panel", "evidence"] == claims.REAL
    assert table.loc["HQ panel", "verdict"] == claims.NOT_REPRODUCED
    real = chapter.results(write_tables(tmp_path, panel_real=True, hq_images=2_500))
    assert real.set_index("check").loc["HQ panel", "verdict"] == claims.REPRODUCED


def test_bad_or_missing_tables_are_named(tmp_path):
    with pytest.raises(FileNotFoundError, match="taxonomy_families.csv is missing: run the"):
        chapter.results(Artifacts(tmp_path))
    odd = claims_table()
    odd.loc[0, "claim"] = "A claim nobody wrote a section for"
    with pytest.raises(ValueError, match="no section is known for check"):
        chapter.results(write_tables(tmp_path, evaluation=odd))
    odd = claims_table(verdict_of_ferd="sort of")
    with pytest.raises(ValueError, match=r"unknown verdict\(s\) \['sort of'\]"):
        chapter.results(write_tables(tmp_path, evaluation=odd))
    with pytest.raises(ValueError, match=r"evaluation_claims.csv: no column\(s\) \['verdict'\]"):
        chapter.results(write_tables(tmp_path, evaluation=claims_table().drop(
            columns="verdict")))


def test_the_markdown_table_links_every_row(tmp_path):
    table = chapter.results(write_tables(tmp_path))
    table.loc[0, "this_build"] = "a | b\nc"  # pipes and line breaks would break the table
    table.loc[1, "this_build"] = "the number; the details"
    text = chapter.markdown_table(table)
    lines = text.splitlines()
    assert len(lines) == 2 + len(table)
    assert all(line.count(" | ") == 4 for line in lines[2:])
    assert "a \\| b c" in lines[2] and "| the number … |" in lines[3]
    assert re.findall(r"\{ref\}`[^<`]+ <([\w-]+)>`", text) == table["section"].tolist()
    assert "{ref}`Taxonomy <taxonomy-families>`" in lines[2]
    assert "✓ reproduced on real data" in text and "– not testable here" in text
    assert "| stand-in |" in text


def test_every_section_is_a_label_of_a_chapter():
    labels = {m for p in NOTEBOOK_DIR.glob("0*.py")
              for m in re.findall(r"^# \(([\w-]+)\)=$", p.read_text(), re.M)}
    assert set(chapter.SECTIONS.values()) <= labels


def test_the_page_has_everything_the_notebook_uses(tmp_path):
    page = Page(write_tables(tmp_path))
    chapter.run(chapter.GlanceParams(profile="local", seed=42), page)
    assert missing_from_page(page, NOTEBOOK) == {}
    assert page.texts["glance_counts"].startswith("Of the 9 checks, 3 reproduced on real data")
    assert page.texts["glance_n_real"] == "3" and page.texts["glance_n_stand_ins"] == "6"
    assert (tmp_path / "tables" / "glance_results.csv").exists()
    assert (tmp_path / "figures" / "glance_verdicts.png").exists()
