"""Chapter 04 as the notebook runs it: its parameters are the profiles', a tiny run puts on the
page every text, figure and table the notebook's prose and cells ask for and returns what it
found, and the phrases the prose quotes follow the numbers."""

import numpy as np
import pandas as pd
import pytest

from emonet.book.page import Page
from emonet.build.notebooks import notebook_defaults
from emonet.data import taxonomy
from emonet.generation import images
from emonet.hq import chapter, panel, simulation, study
from emonet.paths import NOTEBOOK_DIR
from emonet.stats import agreement
from tests.helpers import missing_from_page

STEM = "04_hq_panel"
NOTEBOOK = NOTEBOOK_DIR / f"{STEM}.py"


def test_params_read_the_raters_and_sweeps_of_the_local_profile():
    defaults = notebook_defaults(NOTEBOOK)
    params = chapter.PanelParams.from_namespace(defaults)
    assert params.raters.per_image == defaults["panel_per_image"]
    assert params.sweeps["marked"] == defaults["sim_marked"]


TINY = dict(
    seed=3,
    panel_source="simulated",
    n_bootstrap=20,
    bootstrap_order="keyed",
    kappa_method="truncate",
    panel_raters=8,
    panel_per_image=4,
    panel_marked=8.0,
    panel_noise_sd=1.5,
    panel_leniency_sd=0.5,
    panel_shared_sd=0.5,
    panel_vlm_noise_sd=1.5,
    sim_images=60,
    sim_replications=1,
    sim_noise=[1.0, 2.0],
    sim_per_image=[2, 4],
    sim_marked=[8, 40],
    sim_offsets=[-0.5, 0.0],
    sim_model_noise=[0.5, 1.5, 2.5],
    sim_reference_noise=1.0,
)


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
def run(tmp_path_factory, mirror):
    """``(page, result)`` of a tiny run."""
    root = tmp_path_factory.mktemp("artifacts")
    _offline_manifest(160, 0).to_parquet(images.manifest_path(root), index=False)
    page = Page.for_profile("local", root)
    with pytest.MonkeyPatch.context() as env:  # the simulated VLMs read the zero-shot protocol
        env.setenv("EMONET_DATA_DIR", str(mirror))
        return page, chapter.run(chapter.PanelParams(**TINY), page)


@pytest.fixture(scope="module")
def page(run):
    return run[0]


@pytest.mark.integration
def test_the_page_has_everything_the_notebook_quotes_and_shows(page):
    assert missing_from_page(page, NOTEBOOK) == {}
    assert all(isinstance(value, str) for value in page.texts.values())
    assert (page.root / panel.SIMULATED_FILE).exists()
    assert {p.stem for p in (page.root / "figures").glob("*.png")} == {
        "hq_panel",
        "hq_alpha",
        "hq_alpha_bootstrap",
        "hq_kappa_matrix",
        "hq_agreement_lines",
        "hq_kappa_methods",
        "hq_groups",
        "hq_could_be",
        "hq_rho",
        "hq_matched",
        "hq_simulation_sweeps",
        "hq_simulation_offset",
        "hq_simulation_ranking",
    }
    assert len(list((page.root / "tables").glob("hq_*.csv"))) == 23


@pytest.mark.integration
def test_the_page_reads_like_the_design(page):
    assert page.texts["label"] == "simulated panel"
    assert page.texts["panel_file"] == panel.SIMULATED_FILE.name
    assert page.texts["n_images"] == "40"  # a quarter of the 160 faces have the HQ role
    assert page.texts["n_experts"] == "8" and page.texts["experts_per_image"] == "4.0"
    # the Random Baseline and two simulated VLMs, one per protocol
    assert page.texts["n_models"] == "3"
    groups = page.tables["hq_annotators"].set_index("annotator")["group"]
    assert groups["Simulated VLM ZS"] == "VLMs Zero-Shot"
    assert groups["Simulated VLM MS"] == "VLMs Multi-Shot"
    assert page.tables["hq_group_inference"]["p_holm"].between(0, 1).all()
    assert page.texts["sim_few"] == "2 of 8" and page.texts["sim_shared_few"] == "2"
    settings = page.tables["hq_simulation_settings"].set_index("setting")["value"]
    assert settings["the ranked models' noise SDs"] == "0.5, 1.5, 2.5"
    ends = page.tables["hq_simulation_ends"]
    assert len(ends) == len(chapter.SWEEP_ENDS) and ends.notna().all().all()
    assert ends.loc[ends["sweep"] == "marked", "highest"].eq(40).all()


@pytest.mark.integration
def test_the_alpha_table_has_the_mean_and_the_median_row_beside_each_other(page):
    alphas = pd.read_csv(page.root / "tables" / "hq_alpha.csv")
    overall = alphas[alphas["scope"] == "overall"].set_index("name")
    per_emotion = alphas.loc[alphas["scope"] == "emotion", "alpha"]
    assert list(overall.index) == ["Mean of 40", "Median of 40"]
    assert overall.loc["Median of 40", "alpha"] == pytest.approx(per_emotion.median())
    assert overall.loc["Median of 40", "endpoints_low"] == pytest.approx(
        alphas.loc[alphas["scope"] == "emotion", "ci_low"].median()
    )
    median = overall.loc["Median of 40"]
    assert page.texts["alpha_median"] == (
        f"{median['alpha']:.3f} (95% CI {median['ci_low']:.3f} to {median['ci_high']:.3f})"
    )


def test_result_holds_the_panel_and_the_suite(run):
    page, result = run
    assert result.panel.n_images == 40 and int(result.panel.human.sum()) == 8
    assert result.statistics.rho_summary.equals(page.tables["hq_rho_summary"])
    assert result.bootstrap.rho.shape[0] == 1 + TINY["n_bootstrap"]
    assert list(result.recovery.index) == sorted(result.recovery.index)
    assert set(result.simulation["sweep"]) >= {"noise_sd", "per_image", "marked", "ranking"}
    # the notebook's show-input cell: one emotion's alpha is the alpha table's row
    experts = result.panel.ratings[result.panel.human]
    awe = agreement.krippendorff_alpha(experts[:, :, taxonomy.INDEX["Awe"]], level="interval")
    assert awe == pytest.approx(result.statistics.alpha.set_index("name").loc["Awe", "alpha"])


def test_rho_values_name_the_best_model_and_the_baseline():
    def summary(rows):
        return pd.DataFrame(rows, columns=["annotator", "group", "human", "mean_rho"])

    experts = [
        ("human-1", "Human Annotators", True, 0.4),
        ("human-2", "Human Annotators", True, 0.35),
    ]
    baseline = ("Random Baseline", "Random Baseline", False, -0.0012)
    model = ("Model A MS", "VLMs Multi-Shot", False, 0.31)
    assert chapter.rho_values(summary([*experts, model, baseline])) == {
        "expert_rho_range": "0.350 to 0.400",
        "best_model": "Model A MS (0.310)",
        "baseline_rho": "-0.001",
    }
    only_baseline = chapter.rho_values(summary([*experts, baseline]))
    assert only_baseline["best_model"] == "none in this panel"
    assert chapter.rho_values(summary([*experts, model]))["baseline_rho"].startswith("n/a")


def test_could_be_values():
    noise = [0.5, 1.0, 1.5, 2.5]
    shares = pd.Series([0.0, 0.5, 1 / 3, 0.0], index=pd.Index(noise, name="noise_sd"))
    assert chapter.could_be_values(shares, 1.5) == {
        "less_noisy_pass": "25%",
        "most_passing": "model (noise 1) (50%)",
        "closest_model": "model (noise 1.5)",
    }
    assert chapter.could_be_values(shares, 0.5)["less_noisy_pass"] == "n/a"
    with_gap = shares.copy()
    with_gap.iloc[1] = np.nan  # a model the study did not report: the most passing of the rest
    assert (
        chapter.could_be_values(with_gap, 1.2)["most_passing"]
        == study.ranking_model(1.5) + " (33%)"
    )
