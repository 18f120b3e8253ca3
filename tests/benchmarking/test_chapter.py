"""Chapter 07 as the notebook runs it, on a tiny build (:func:`tests.conftest.tiny_build`) after
chapter 06: every text and figure the prose quotes and every table it shows, with chapter 02's
faces and, offline in the full profile's shape, with the HQ dataset's images."""

from dataclasses import replace

import matplotlib
import pytest

from emonet.benchmarking import chapter
from emonet.book.page import Page
from emonet.model_vs_experts import chapter as experts_chapter
from emonet.paths import NOTEBOOK_DIR
from tests.helpers import missing_from_page, tiny_experts_params

matplotlib.use("Agg")

NOTEBOOK = NOTEBOOK_DIR / "07_benchmarking.py"
EXPERTS = tiny_experts_params()

LOCAL = chapter.BenchmarkingParams(
    profile="local",
    seed=42,
    panel_source="simulated",
    model_name=EXPERTS.model_name,
    n_bootstrap=20,
    hq_images=None,
    vlm_model=None,
    vlm_demo_images=1,
    vlm_max_new_tokens=3,
    vlm_rating_sd=1.0,
    vlm_slip_rate=0.2,
)

TABLES = {
    "vlm_prompt_anatomy",
    "vlm_protocol_rules",
    "vlm_nonzero",
    "vlm_readouts",
    "vlm_demo_summary",
    "vlm_demo_reasons",
    "bench_summary",
}


def run(build, params: chapter.BenchmarkingParams, experts=EXPERTS):
    """Chapter 06 (whose tables chapter 07 compares with), then chapter 07."""
    experts_chapter.run(experts, Page.for_profile(params.profile, build.root))
    page = Page.for_profile(params.profile, build.root)
    return page, chapter.run(params, page)


@pytest.mark.integration
def test_local_profile(mirror, tiny_build):
    page, result = run(tiny_build, LOCAL)
    assert missing_from_page(page, NOTEBOOK) == {}
    assert {p.stem for p in (page.root / "tables").iterdir()} >= TABLES
    assert page.texts["bench_same"] == "the same numbers as chapter 06"
    assert page.texts["vlm_perceivers"] == "our model, ground truth (oracle)"
    assert page.texts["demo_images"] == "1" and page.texts["demo_cap"] == "capped at 3 tokens"
    assert set(result.readouts["readout"]) == {"zero-shot", "multi-shot", "logits"}
    assert len(result.zero_shot.keys) == 25 and result.demo is not None


@pytest.mark.integration
def test_full_profile_offline(mirror, tiny_build, real_panel, dataset_predictions):
    images = str(tiny_build.hq_images)
    page, result = run(
        tiny_build,
        replace(LOCAL, panel_source="real", hq_images=images),
        replace(EXPERTS, panel_source="real", hq_images=images),
    )
    assert missing_from_page(page, NOTEBOOK) == {}
    assert page.texts["vlm_perceivers"] == "our model"  # no drawn faces: no oracle
    assert page.texts["demo_images"] == "1"  # an HQ dataset image, placed by the content join
    assert page.texts["bench_same"] == "the same numbers as chapter 06"
    assert (
        result.evaluation.summary.set_index("annotator").loc[EXPERTS.model_name, "n_images"] == 60
    )
