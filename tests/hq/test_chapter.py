"""Chapter 04 as the notebook runs it: its parameters are the profiles', and a tiny run puts on
the page every text, figure and table the notebook's prose and cells ask for."""


import pandas as pd
import pytest

from emonet.book.page import Page
from emonet.build.notebooks import notebook_defaults
from emonet.data import taxonomy
from emonet.generation import images
from emonet.hq import chapter, panel, simulation
from emonet.paths import NOTEBOOK_DIR
from tests.helpers import missing_from_page

STEM = "04_hq_panel"
NOTEBOOK = NOTEBOOK_DIR / f"{STEM}.py"


def test_params_read_the_raters_and_sweeps_of_the_local_profile():
    defaults = notebook_defaults(NOTEBOOK)
    params = chapter.PanelParams.from_namespace(defaults)
    assert params.raters.per_image == defaults["panel_per_image"]
    assert params.sweeps["marked"] == defaults["sim_marked"]


TINY = dict(seed=3, panel_source="simulated", n_bootstrap=20, bootstrap_order="keyed",
            kappa_method="truncate", panel_raters=8, panel_per_image=4, panel_marked=8.0,
            panel_noise_sd=1.5, panel_leniency_sd=0.5, panel_shared_sd=0.5,
            panel_vlm_noise_sd=1.5, sim_images=60, sim_replications=1,
            sim_noise=[1.0, 2.0], sim_per_image=[2, 4], sim_marked=[8, 40],
            sim_offsets=[-0.5, 0.0], sim_model_noise=[0.5, 1.5, 2.5], sim_reference_noise=1.0)


def _offline_manifest(n_images: int, seed: int) -> pd.DataFrame:
    """What chapter 02's offline faces leave for this chapter: ids, emotions, ground truth."""
    emotions = [taxonomy.EMOTIONS[k % taxonomy.N_EMOTIONS] for k in range(n_images)]
    truth = simulation.synthetic_truth(n_images, seed)
    frame = pd.DataFrame(truth, columns=list(images.TRUTH_COLUMNS))
    frame.insert(0, "id", [f"img{k:04d}" for k in range(n_images)])
    frame.insert(1, "emotion", emotions)
    frame["path"] = [f"images/{i}.png" for i in frame["id"]]
    frame["requested"] = True
    for column in images.MANIFEST_COLUMNS:  # the rest of the schema, unused here
        if column not in frame:
            frame[column] = ""
    return frame[list(images.MANIFEST_COLUMNS)]


@pytest.fixture(scope="module")
def page(tmp_path_factory, mirror):
    root = tmp_path_factory.mktemp("artifacts")
    _offline_manifest(160, 0).to_parquet(images.manifest_path(root), index=False)
    with pytest.MonkeyPatch.context() as env:  # the simulated VLMs read the zero-shot protocol
        env.setenv("EMONET_DATA_DIR", str(mirror))
        return chapter.run(chapter.PanelParams(**TINY), Page.for_profile("local", root))


@pytest.mark.integration
def test_the_page_has_everything_the_notebook_quotes_and_shows(page):
    assert missing_from_page(page, NOTEBOOK) == {}
    assert all(isinstance(value, str) for value in page.texts.values())
    assert (page.root / panel.SIMULATED_FILE).exists()
    assert {p.stem for p in (page.root / "figures").glob("*.png")} == {
        "hq_panel", "hq_alpha", "hq_alpha_bootstrap", "hq_kappa_matrix", "hq_agreement_lines",
        "hq_kappa_methods", "hq_groups", "hq_could_be", "hq_rho", "hq_matched",
        "hq_simulation_sweeps", "hq_simulation_offset", "hq_simulation_ranking"}
    assert len(list((page.root / "tables").glob("hq_*.csv"))) == 23


@pytest.mark.integration
def test_the_page_reads_like_the_design(page):
    assert page.texts["hq_label"] == "simulated panel"
    assert page.texts["hq_n_images"] == "40"  # a quarter of the 160 faces have the HQ role
    assert page.texts["hq_n_experts"] == "8" and page.texts["hq_experts_per_image"] == "4.0"
    # the Random Baseline and two simulated VLMs, one per protocol
    assert page.texts["hq_models_text"] == "3 model annotators"
    groups = page.tables["hq_annotators"].set_index("annotator")["group"]
    assert groups["Simulated VLM ZS"] == "VLMs Zero-Shot"
    assert groups["Simulated VLM MS"] == "VLMs Multi-Shot"
    assert page.tables["hq_group_inference"]["p_holm"].between(0, 1).all()
    assert page.texts["hq_sim_most"] == "40 (no threshold)"
    assert page.texts["hq_sim_pool"] == "8" and page.texts["hq_sim_shared_few"] == "2"
    assert page.texts["hq_sim_model_noise"] == "0.5, 1.5, 2.5"


@pytest.mark.integration
def test_the_alpha_table_has_the_mean_and_the_median_row_beside_each_other(page):
    alphas = pd.read_csv(page.root / "tables" / "hq_alpha.csv")
    overall = alphas[alphas["scope"] == "overall"].set_index("name")
    per_emotion = alphas.loc[alphas["scope"] == "emotion", "alpha"]
    assert list(overall.index) == ["Mean of 40", "Median of 40"]
    assert overall.loc["Median of 40", "alpha"] == pytest.approx(per_emotion.median())
    assert overall.loc["Median of 40", "endpoints_low"] == pytest.approx(
        alphas.loc[alphas["scope"] == "emotion", "ci_low"].median())
    assert page.texts["hq_alpha_median"] == f"{per_emotion.median():.3f}"
