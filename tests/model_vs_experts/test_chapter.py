"""Chapter 06 as the notebook runs it, on a tiny build (:func:`tests.conftest.tiny_build`): every
text and figure the prose quotes and every table it shows, in the local profile's shape and,
offline, in the full profile's (the real panel's format, the released heads on the HQ dataset),
and without demographics."""

from dataclasses import replace

import matplotlib
import pytest

from emonet.book.page import Page
from emonet.model_vs_experts import chapter, joined
from emonet.paths import NOTEBOOK_DIR
from tests.helpers import missing_from_page, tiny_experts_params

matplotlib.use("Agg")

NOTEBOOK = NOTEBOOK_DIR / "06_model_vs_experts.py"

LOCAL = tiny_experts_params()

#: The tables the local profile writes (as the complete local build does).
LOCAL_TABLES = {
    "expert_agreement",
    "expert_could_be",
    "expert_distribution_examples",
    "expert_fairness_coefficients",
    "expert_fairness_factors",
    "expert_group_tests",
    "expert_group_inference",
    "expert_group_values",
    "expert_inference",
    "expert_kappa_matrix",
    "expert_like_for_like",
    "expert_model_coverage",
    "expert_readouts",
    "expert_vs_vlms",
    "expert_rho",
    "expert_rho_summary",
    "expert_spread",
    "expert_stand_ins",
    "expert_top5_chance",
    "expert_hub_sources",
    "expert_top5_overlap",
    "expert_top5_test",
}


def run(build, params: chapter.ModelVsExpertsParams) -> tuple[Page, chapter.ModelVsExpertsResult]:
    for old in (build.root / "tables", build.root / "figures"):
        for path in old.glob("*") if old.exists() else ():
            path.unlink()
    page = Page.for_profile(params.profile, build.root)
    return page, chapter.run(params, page)


def written(page: Page, kind: str) -> set[str]:
    return {p.stem for p in (page.root / kind).iterdir()}


def assert_the_notebook_finds_everything(page: Page) -> None:
    assert missing_from_page(page, NOTEBOOK) == {}
    assert len(written(page, "figures")) == len(page.figures)


@pytest.mark.integration
def test_local_profile(mirror, tiny_build):
    page, result = run(tiny_build, LOCAL)
    assert_the_notebook_finds_everything(page)
    assert written(page, "tables") == LOCAL_TABLES
    assert page.texts["label"] == "untrained encoder, simulated panel"
    assert page.texts["panel"] == "simulated panel" and page.texts["n_experts"] == "8"
    assert page.texts["readout_perceivers"] == "our model, ground truth (oracle)"
    assert page.texts["n_examples"] == "4"  # one per example emotion: prompts are known
    assert page.texts["fair_demographics"] == "60 of 60 panel images have demographics"
    assert page.texts["vlm_strongest"] == "none"  # no VLM in this tiny panel
    assert result.models == ["tiny model"] and result.fairness is not None
    assert set(result.readouts["perceiver"]) == {"our model", "ground truth (oracle)"}
    assert (
        result.statistics.rho_summary.set_index("annotator").loc["tiny model", "group"]
        == "Our Models"
    )


@pytest.mark.integration
def test_full_profile_offline(mirror, tiny_build, real_panel, dataset_predictions):
    full = replace(
        LOCAL,
        profile="full",
        panel_source="real",
        released_heads=str(tiny_build.root / "released"),
        hq_images=str(tiny_build.hq_images),
    )
    page, result = run(tiny_build, full)
    assert_the_notebook_finds_everything(page)
    assert written(page, "tables") == LOCAL_TABLES | {"expert_released_head_files"}
    assert page.texts["label"] == "untrained encoder"
    assert page.texts["panel"] == "the authors' hq.csv"
    assert page.texts["n_panel_models"] == "1"
    assert page.texts["released"].startswith("are scored here as well")
    assert page.texts["join_by"].startswith("through the HQ dataset")
    coverage = page.tables["expert_model_coverage"].set_index("what")["count"]
    assert coverage["matched to one hq.csv image"] == 60
    assert coverage["scored by this build's model (chapter 05)"] == 60
    rho = page.tables["expert_rho_summary"].set_index("annotator")
    assert rho.loc[joined.RELEASED_MODEL, "group"] == "Our Models"
    assert page.texts["readout_perceivers"] == "our model"
    assert page.texts["fair_demographics"] == "60 of 60 panel images have demographics"
    assert result.models == ["tiny model", joined.RELEASED_MODEL]


@pytest.mark.integration
def test_without_demographics(mirror, tiny_build, real_panel):
    page, result = run(tiny_build, replace(LOCAL, panel_source="real"))
    assert_the_notebook_finds_everything(page)
    assert page.texts["fair_flagged"].startswith("none (this build has no image demographics")
    assert page.texts["fair_n"] == "n/a" and result.fairness is None
    assert "expert_fairness" in written(page, "figures")
    assert "expert_fairness_coefficients" not in written(page, "tables")
    assert page.tables["expert_fairness_factors"].empty  # written, for the claims: no factors
    assert page.texts["n_examples"] == "4"  # the images the experts agree on most


def test_a_readout_that_leaves_no_rho_says_so():
    row = {
        "n_emotions": 0,
        "difference": float("nan"),
        "diff_low": float("nan"),
        "diff_high": float("nan"),
    }
    assert "cannot be measured" in chapter._readout_move(
        row
    ) and "nan" not in chapter._readout_move(row)
    row.update(n_emotions=25, difference=0.01, diff_low=-0.02, diff_high=0.04)
    assert chapter._readout_move(row) == (
        "+0.010 (95% CI over images -0.020 to +0.040; mean over 25 emotions)"
    )


def test_released_heads_need_the_hq_images():
    with pytest.raises(ValueError, match="released_heads='laion/x' needs hq_images"):
        replace(LOCAL, released_heads="laion/x")
