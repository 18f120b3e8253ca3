"""Results at a glance: the claims from chapters 06 and 08's tables equal the claims computed in
memory, rows from the earlier chapters' tables, verdicts that follow the numbers, a Markdown
table whose every row links to a section that exists."""

import re

import numpy as np
import pandas as pd
import pytest

from emonet.book.artifacts import Artifacts
from emonet.book.page import Page
from emonet.glance import chapter, claims
from emonet.hq import image_bootstrap, paper_statistics
from emonet.paths import NOTEBOOK_DIR
from tests.helpers import missing_from_page, small_panel, wide

NOTEBOOK = NOTEBOOK_DIR / "09_at_a_glance.py"
MODEL = "Empathic Insight m"


def facts(**values) -> pd.DataFrame:
    return pd.DataFrame({"fact": list(values), "value": list(values.values())})


def claims_table(verdict_of_ferd=claims.REPRODUCED) -> pd.DataFrame:
    rows = [
        (name, "paper says", "we measured", claims.STAND_INS, claims.NOT_TESTABLE, "why")
        for name in (
            "Human-expert level on HQ",
            "Beats the VLMs",
            "Blind study",
            "Real photographs (AffectNet)",
            "Demographic balance",
        )
    ]
    rows.insert(
        3, ("Real photographs (FERD)", "78.3%", "78.3%", claims.REAL, verdict_of_ferd, "why")
    )
    return pd.DataFrame(
        rows, columns=["claim", "paper", "this_build", "evidence", "verdict", "why"]
    )


def write_tables(root, *, families=7, labels=65_686, panel_real=False, hq_images=880) -> Artifacts:
    art = Artifacts(root)
    art.table(
        pd.DataFrame(
            {
                "family": [f"f{i}" for i in range(families)],
                "n_categories": [40 - 6 * (families - 1)] + [6] * (families - 1),
            }
        ),
        "taxonomy_families",
    )
    art.table(facts(n_labels=labels, n_images=19_999, n_annotators=7), "binary_facts")
    art.table(facts(n_images=hq_images, n_experts=8, experts_per_image=4.0), "hq_facts")
    art.table(
        pd.DataFrame(
            {
                "panel": ["the authors' hq.csv" if panel_real else "simulated panel"],
                "real": [panel_real],
            }
        ),
        "hq_source",
    )
    return art


def write_evaluation_tables(art: Artifacts, stand_ins=("simulated panel",)) -> dict:
    """The tables chapters 06 and 08 hand to this page, from a small simulated panel with a
    model that copies the experts' median; returns the claims' inputs as computed in memory."""
    p = small_panel(n_images=40, seed=1, experts=4, per_image=4, noise=1.0)
    joined = p.with_annotator(
        MODEL,
        wide(np.nan_to_num(paper_statistics.expert_median(p)), index=list(p.images)),
        "Our Models",
    )
    stats = paper_statistics.compute(joined, n_boot=100, seed=0)
    res = image_bootstrap.resample(joined, n_boot=50, seed=0)
    inputs = {
        "people": art.table(image_bootstrap.annotator_intervals(res), "expert_inference"),
        "like": art.table(
            image_bootstrap.like_for_like_table(res, [MODEL]), "expert_like_for_like"
        ),
        "vlms": art.table(
            pd.DataFrame(columns=["vlm", "difference", "ci_low", "ci_high", "p_value"]),
            "expert_vs_vlms",
        ),
    }
    art.table(stats.rho_summary, "expert_rho_summary")
    art.table(stats.could_be, "expert_could_be")
    inputs["overlap"] = {
        "mean": 1.1,
        "chance_mean": 0.6,
        "p": 1e-4,
        "expert_chance": 0.5,
        "expert_mean": 1.6,
    }
    art.table(pd.DataFrame([inputs["overlap"]]), "expert_top5_test")
    factors = pd.DataFrame(
        {"factor": ["ethnicity", "age", "gender"], "df": [2, 1, 1], "reject": [False, True, False]}
    )
    art.table(
        pd.concat({"model": factors, "experts": factors}, names=["annotator"]).reset_index(level=0),
        "expert_fairness_factors",
    )
    inputs["fairness"] = factors
    art.table(pd.DataFrame({"stand_in": list(stand_ins)}, dtype=str), "expert_stand_ins")
    inputs["ferd"] = {
        "accuracy": 0.7829,
        "chance": 0.6,
        "top1": 0.5,
        "max_difference": 0.0,
        "published": 0.783,
    }
    art.table(
        pd.DataFrame(
            [
                {"dataset": "ferd", "read": True, **inputs["ferd"]},
                {"dataset": "affectnet", "read": False},
            ]
        ),
        "photos_summary",
    )
    rho = stats.rho_summary.set_index("annotator")
    could = stats.could_be.set_index("annotator").loc[MODEL]
    inputs["authors"] = {
        "mean_rho": rho.loc[MODEL, "mean_rho"],
        "experts_min": rho.loc[rho["human"], "mean_rho"].min(),
        "experts_max": rho.loc[rho["human"], "mean_rho"].max(),
        "could_be": could["could_be"],
        "p_value": could["p_value"],
    }
    return inputs


def test_the_claims_from_the_tables_equal_the_claims_in_memory(tmp_path):
    art = Artifacts(tmp_path)
    inputs = write_evaluation_tables(art)
    expected = claims.claims(
        MODEL,
        inputs["people"],
        inputs["like"],
        inputs["authors"],
        inputs["vlms"],
        inputs["overlap"],
        inputs["ferd"],
        None,
        inputs["fairness"],
        stand_in="simulated panel",
    )
    pd.testing.assert_frame_equal(chapter.closing_claims(art, MODEL), expected)
    write_evaluation_tables(art, stand_ins=())  # the real ratings and SigLIP2
    real = chapter.closing_claims(art, MODEL)
    assert (
        real.set_index("claim").drop(["Real photographs (FERD)", "Real photographs (AffectNet)"])[
            "evidence"
        ]
        == claims.REAL
    ).all()


def test_the_rows_follow_the_tables(tmp_path):
    table = chapter.results(write_tables(tmp_path), claims_table()).set_index("check")
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
    table = chapter.results(
        write_tables(tmp_path, families=6, labels=64_000, panel_real=True, hq_images=2_400),
        claims_table(),
    ).set_index("check")
    assert table.loc["Taxonomy", "verdict"] == claims.NOT_REPRODUCED
    assert table.loc["Binary set", "verdict"] == claims.NOT_REPRODUCED
    assert table.loc["HQ panel", "evidence"] == claims.REAL
    assert table.loc["HQ panel", "verdict"] == claims.NOT_REPRODUCED
    real = chapter.results(write_tables(tmp_path, panel_real=True, hq_images=2_500), claims_table())
    assert real.set_index("check").loc["HQ panel", "verdict"] == claims.REPRODUCED


def test_bad_or_missing_tables_are_named(tmp_path):
    with pytest.raises(FileNotFoundError, match="taxonomy_families.csv is missing: run the"):
        chapter.results(Artifacts(tmp_path), claims_table())
    odd = claims_table()
    odd.loc[0, "claim"] = "A claim nobody wrote a section for"
    with pytest.raises(ValueError, match="no section is known for check"):
        chapter.results(write_tables(tmp_path), odd)
    odd = claims_table(verdict_of_ferd="sort of")
    with pytest.raises(ValueError, match=r"unknown verdict\(s\) \['sort of'\]"):
        chapter.results(write_tables(tmp_path), odd)
    with pytest.raises(FileNotFoundError, match="expert_rho_summary.csv is missing"):
        chapter.closing_claims(write_tables(tmp_path), MODEL)
    art = write_tables(tmp_path)
    write_evaluation_tables(art)
    (tmp_path / "tables" / "photos_summary.csv").write_text("dataset,read\nferd,True\n")
    with pytest.raises(ValueError, match=r"photos_summary.csv: no column\(s\) \['accuracy'"):
        chapter.closing_claims(art, MODEL)


def test_the_markdown_table_links_every_row(tmp_path):
    table = chapter.results(write_tables(tmp_path), claims_table())
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
    labels = {
        m
        for p in NOTEBOOK_DIR.glob("0*.py")
        for m in re.findall(r"^# \(([\w-]+)\)=$", p.read_text(), re.M)
    }
    assert set(chapter.SECTIONS.values()) <= labels


def test_the_page_has_everything_the_notebook_uses(tmp_path):
    art = write_tables(tmp_path)
    write_evaluation_tables(art)
    page = Page(art)
    result = chapter.run(chapter.GlanceParams(profile="local", seed=42, model_name=MODEL), page)
    assert missing_from_page(page, NOTEBOOK) == {}
    assert page.texts["n_checks"] == "9" and page.texts["checks_reproduced"] == "3"
    assert page.texts["n_real"] == "4" and page.texts["n_stand_ins"] == "5"  # AffectNet: real
    assert page.texts["n_claims"] == "6" and page.texts["hq_evidence"] == "simulated panel"
    assert (tmp_path / "tables" / "glance_results.csv").exists()
    assert (tmp_path / "tables" / "evaluation_claims.csv").exists()
    assert list(result.results["check"][3:]) == list(result.claims["claim"])
    assert (tmp_path / "figures" / "glance_verdicts.png").exists()
