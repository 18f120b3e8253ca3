"""Chapter 03's page and result: every text, table and figure the notebook quotes or shows,
produced from a small simulated label file."""

import numpy as np
import pytest

from emonet.binary import chapter, protocol
from emonet.book.page import Page
from emonet.build.notebooks import page_keys
from emonet.paths import NOTEBOOK_DIR
from emonet.stats import agreement
from tests.helpers import missing_from_page

NOTEBOOK = NOTEBOOK_DIR / "03_binary_labels.py"
STEM = NOTEBOOK.stem
TABLES = {
    "binary_facts",
    "binary_role_rules",
    "binary_vote_patterns",
    "binary_agreement_splits",
    "binary_annotators",
    "binary_rater_model",
    "binary_rater_model_coefficients",
    "binary_alpha",
    "binary_simulation",
    "binary_role_rates",
    "binary_roles_by_emotion",
    "binary_roles_by_family",
    "binary_agreement_splits_by_family",
}
FIGURES = {
    "binary_agreement_splits",
    "binary_annotators",
    "binary_alpha",
    "binary_simulation",
    "binary_families",
}


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """``(page, labels, result)``: the chapter run on 1,500 simulated images (the answers the
    sequential protocol collects) at a tiny size."""
    sim = protocol.simulate_protocol(
        1500,
        0.85,
        [-1.0, 0.0, 0.5, 1.0],
        [4, 3, 2, 1],
        p_target=0.8,
        p_contrast=0.05,
        rng=np.random.default_rng(3),
    )
    labels = sim.loc[sim["asked"], ["image", "annotator", "value", "emotion", "line"]]
    params = chapter.BinaryParams(
        seed=1,
        n_bootstrap=20,
        sim_images=150,
        sim_accuracies=[0.7, 0.9, 1.0],
        sim_leniency_spread=1.0,
        sim_p_target=0.8,
        sim_p_contrast=0.05,
    )
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(chapter.loaders, "load_binary", lambda: labels.reset_index(drop=True))
        page = Page.for_profile("local", tmp_path_factory.mktemp("art"))
        result = chapter.run(params, page)
    return page, labels, result


@pytest.mark.integration
def test_page_holds_exactly_what_the_notebook_quotes_and_shows(run):
    page, _, _ = run
    assert missing_from_page(page, NOTEBOOK) == {}
    keys = page_keys(NOTEBOOK)
    assert set(page.texts) == keys["text"] and set(page.figures) == keys["figure"]  # none unused
    assert {p.stem for p in (page.root / "tables").glob("*.csv")} == TABLES
    assert {p.stem for p in (page.root / "figures").glob("*.png")} == FIGURES


@pytest.mark.integration
def test_page_numbers_follow_the_simulated_protocol(run):
    page, labels, _ = run
    texts = page.texts
    assert texts["n_labels"] == f"{len(labels):,}"
    assert texts["n_annotators"] == "4" and texts["items_per_image"] == "2"
    assert texts["n_off_protocol"] == "0" and texts["n_two_no"] == "0"
    assert texts["alpha"].startswith(f"{texts['alpha_closed']} (95% CI ")  # the closed form holds
    assert texts["sim_best_accuracy"] == "90%"  # perfect raters are left out
    assert float(texts["sim_max_sequential"]) <= 0
    assert texts["both_roles"].split(" (")[0].isdigit()


def test_result_holds_the_chapters_tables(run):
    page, labels, result = run
    assert result.labels.equals(labels.reset_index(drop=True))
    assert len(result.items) == 2 * result.facts["n_images"] == result.facts["n_items"]
    overall = result.alphas[result.alphas["scope"] == "overall"].iloc[0]
    assert page.texts["alpha"].startswith(f"{overall['alpha']:.3f}")
    assert set(result.simulation["design"]) == {"full", "sequential"}
    assert result.rater_model.prsquared == pytest.approx(float(page.texts["pseudo_r2"]), abs=0.01)
    # the notebook's show-input cell: alpha of the items' no/yes counts is the overall row's
    counts = protocol.items(result.labels)[["n_no", "n_yes"]].to_numpy()
    assert agreement.krippendorff_alpha(counts=counts) == pytest.approx(overall["alpha"])
