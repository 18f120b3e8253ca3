"""Chapter 06 as the notebook runs it, on a tiny build (60 offline faces, a simulated panel, a
model on a tiny untrained encoder, the real FERD file): every text and figure the page's prose
quotes and every table it shows is produced, in the local profile's shape and, offline, in the
full profile's (the real panel's format, the released heads on the HQ dataset, AffectNet) and
without demographics."""

import os
from dataclasses import replace
from pathlib import Path

import matplotlib
import numpy as np
import pandas as pd
import pytest
from datasets import Dataset, Features, Image, Value

from emonet.book.page import Page
from emonet.data import hub, loaders, registry, taxonomy
from emonet.evaluation import chapter
from emonet.evaluation import experts as evaluation_experts
from emonet.generation import images, prompts
from emonet.hq import panel, simulation
from emonet.model import encoder, heads, released, scoring
from emonet.paths import PROJECT_ROOT
from emonet.rehearsal import datasets as replicas
from tests.helpers import GUIDE, affectnet_line, missing_from_page

matplotlib.use("Agg")

NOTEBOOK = PROJECT_ROOT / "notebooks" / "06_evaluation.py"
TINY_ENCODER = {"image_size": 32, "patch_size": 16, "hidden_size": 16, "intermediate_size": 32,
                "num_hidden_layers": 1, "num_attention_heads": 2}

LOCAL = chapter.EvaluationParams(
    profile="local", seed=42, panel_source="simulated", model_name="tiny model",
    n_bootstrap=20, bootstrap_order="keyed", kappa_method="truncate", released_heads=None,
    hq_images=None,
    example_emotions=["Amusement", "Sadness", "Anger", "Astonishment/Surprise"], top_k_shown=5,
    n_permutations=99, affectnet=False, affectnet_expected_records=9, vlm_model=None,
    vlm_demo_images=1, vlm_max_new_tokens=3, vlm_rating_sd=1.0, vlm_slip_rate=0.2)

#: The tables the local profile writes (as the complete local build does).
LOCAL_TABLES = {
    "evaluation_claims", "expert_agreement", "expert_could_be", "expert_distribution_examples",
    "expert_fairness_coefficients", "expert_fairness_factors", "expert_group_tests",
    "expert_group_inference", "expert_group_values", "expert_inference", "expert_kappa_matrix",
    "expert_like_for_like", "expert_model_coverage", "expert_readouts", "expert_vs_vlms",
    "expert_rho", "expert_rho_summary", "expert_spread", "expert_top5_chance",
    "expert_hub_sources",
    "expert_top5_overlap", "expert_top5_test", "photos_ferd_acceptance", "photos_ferd_accuracy",
    "photos_ferd_confusion", "photos_ferd_images", "photos_ferd_mapping_flips",
    "photos_ferd_mapping_sensitivity", "photos_ferd_reproduction", "photos_ferd_score_check",
    "photos_mapping_differences", "photos_namesake_heads", "vlm_prompt_anatomy",
    "vlm_protocol_rules", "vlm_nonzero", "vlm_readouts", "vlm_demo_summary", "vlm_demo_reasons",
    "bench_summary"}


@pytest.fixture(scope="module")
def build(tmp_path_factory):
    """A tiny build's artifacts (what chapters 02, 04 and 05 leave behind), and the HQ panel and
    images in the full profile's formats: ``(artifacts root, hq.csv, HQ dataset parquet)``."""
    root = tmp_path_factory.mktemp("artifacts")
    design = prompts.design(60, GUIDE, seed=3)
    manifest = images.generate(design, images.OfflineFaces(size=32, batch_size=60), root,
                               progress=False)
    experts = simulation.simulate_panel(images.truth_matrix(manifest), manifest["id"],
                                        simulation.RaterModel(per_image=4), seed=1)
    panel.write_hq_csv(experts, root / panel.SIMULATED_FILE)
    spec = encoder.untrained(3, **TINY_ENCODER)
    checkpoint = heads.Checkpoint(heads.Heads("small", TINY_ENCODER["hidden_size"], seed=0),
                                  spec.to_dict(), np.zeros(taxonomy.N_EMOTIONS))
    heads.save_checkpoint(checkpoint, root / scoring.CHECKPOINT_PATH)
    embeddings = np.random.default_rng(0).normal(size=(len(manifest), TINY_ENCODER["hidden_size"]))
    scoring.write_predictions(root / scoring.HQ_PREDICTIONS_PATH, manifest["id"], manifest["path"],
                              checkpoint.scores(embeddings))
    released.save_released(heads.Heads("small", TINY_ENCODER["hidden_size"], seed=2),
                           root / "released")
    hq_csv = panel.write_hq_csv(experts, root / "hq.csv")
    hq_images = root / "hq.parquet"  # the HQ dataset's schema: no file names, ratings in label
    Dataset.from_dict({
        "path": [{"bytes": (root / p).read_bytes(), "path": "tmp.png"} for p in manifest["path"]],
        **{c: manifest[c].astype(str).tolist() for c in ("prompt", "age", "ethnicity", "gender",
                                                         "emotion")},
        "label": [replicas._expert_label(
            [(experts.annotators[a], experts.ratings[a, i])
             for a in np.flatnonzero(experts.human & experts.rated[:, i])])
            for i in range(len(manifest))]},
        features=Features({"path": Image(), **{c: Value("string") for c in (
            "prompt", "age", "ethnicity", "gender", "emotion", "label")}})).to_parquet(
        str(hq_images))
    return root, hq_csv, hq_images


@pytest.fixture
def dataset_predictions(build):
    """Chapter 05's predictions as the full profile writes them: the HQ dataset's row ids (its
    rows in the manifest's order here); the local ids are restored afterwards."""
    path = build[0] / scoring.HQ_PREDICTIONS_PATH
    table = pd.read_parquet(path)
    table.assign(id=hub.row_ids("hq", len(table))).to_parquet(path)
    yield
    table.to_parquet(path)


@pytest.fixture
def real_panel(build, monkeypatch):
    """``registry.fetch("hq.csv")`` gives the tiny panel in the real format (no download)."""
    fetch = registry.fetch
    monkeypatch.setattr(registry, "fetch", lambda name, **kw: build[1] if name == "hq.csv"
                        else fetch(name, **kw))
    monkeypatch.setenv("HF_DATASETS_CACHE", str(build[0] / "hf"))


def run(build, params: chapter.EvaluationParams) -> Page:
    root = build[0]
    for old in (root / "tables", root / "figures"):
        for path in old.glob("*") if old.exists() else ():
            path.unlink()
    return chapter.run(params, Page.for_profile(params.profile, root))


def written(page: Page, kind: str) -> set[str]:
    return {p.stem for p in (page.root / kind).iterdir()}


def assert_the_notebook_finds_everything(page: Page) -> None:
    assert missing_from_page(page, NOTEBOOK) == {}
    assert len(written(page, "figures")) == len(page.figures)


def test_local_profile(mirror, build):
    page = run(build, LOCAL)
    assert_the_notebook_finds_everything(page)
    assert written(page, "tables") == LOCAL_TABLES
    assert page.texts["ev_label"] == "untrained encoder, simulated panel"
    assert page.texts["ev_panel_text"].startswith("a simulated panel of 8 experts")
    assert page.texts["ev_readout_perceivers"].startswith("Two perceivers here")
    assert page.texts["ev_readout_text"].count("For ") == 2
    assert page.texts["ev_n_examples"] == "4"  # one per example emotion: prompts are known
    assert page.texts["ev_fair_meta"] == "60 of 60 panel images have demographics"
    assert page.texts["ev_affectnet_summary"].startswith("This build runs the local profile")
    assert page.texts["ev_ferd_authors_acc"] == "78.3%"  # real data in every build
    assert page.texts["ev_p_note"] == "the smallest value 99 permutations can give"
    assert page.tables["photos_affectnet_accuracy"]["note"].tolist() == [
        "AffectNet is not read in the local profile"]
    claims = page.tables["evaluation_claims"].set_index("claim")
    assert claims.loc["Real photographs (FERD)", "verdict"] == "reproduced on real data"
    assert (claims.drop(["Real photographs (FERD)", "Real photographs (AffectNet)"])["evidence"]
            == "stand-ins").all()
    assert claims.loc["Real photographs (AffectNet)", "verdict"] == "not testable here"
    assert claims.loc["Beats the VLMs", "verdict"] == "not testable here"  # none in this panel


def test_full_profile_offline(mirror, build, real_panel, dataset_predictions):
    supplied = Path(os.environ["EMONET_CACHE_DIR"])  # AffectNet classes 0-7, one outside the 8
    for k, name in enumerate(loaders.AFFECTNET_PARTS):
        labels = [2 * k, 2 * k + 1] if k < 3 else [6, 7, 9]
        (supplied / name).write_text("".join(affectnet_line(label) + "\n" for label in labels))
    full = replace(LOCAL, profile="full", panel_source="real", affectnet=True,
                   released_heads=str(build[0] / "released"), hq_images=str(build[2]))
    page = run(build, full)
    assert_the_notebook_finds_everything(page)
    assert written(page, "tables") == LOCAL_TABLES | {
        "expert_released_head_files", "photos_affectnet_files", "photos_affectnet_accuracy",
        "photos_affectnet_reproduction"}
    assert page.texts["ev_label"] == "untrained encoder"
    assert page.texts["ev_panel_text"] == "the authors' hq.csv: 8 experts and 1 model annotators"
    assert page.texts["ev_released_text"].startswith("The authors' released heads are scored")
    assert "joined to the panel's images by the experts' ratings: 60 of 60 rows" in \
        page.texts["ev_join_text"]
    coverage = page.tables["expert_model_coverage"].set_index("what")["count"]
    assert coverage["matched to one hq.csv image"] == 60
    assert coverage["scored by this build's model (chapter 05)"] == 60
    rho = page.tables["expert_rho_summary"].set_index("annotator")
    assert rho.loc[evaluation_experts.RELEASED_MODEL, "group"] == "Our Models"
    assert page.texts["ev_readout_perceivers"] == "The perceiver here is our model."
    assert page.texts["ev_fair_meta"] == "60 of 60 panel images have demographics"
    assert page.texts["ev_affectnet_summary"].startswith(
        "In this run: 9 AffectNet images (1 with a class outside the 8, counted wrong)")
    assert len(page.tables["photos_affectnet_files"]) == 4
    affectnet = page.tables["evaluation_claims"].set_index("claim").loc[
        "Real photographs (AffectNet)"]
    assert affectnet["paper"] == "75.7% with the authors' rule"
    assert affectnet["verdict"] == "not reproduced"  # nine made-up records, not the authors'


def test_without_demographics(mirror, build, real_panel):
    page = run(build, replace(LOCAL, panel_source="real"))
    assert_the_notebook_finds_everything(page)
    assert page.texts["ev_fair_result"] == "This build has no image demographics (set hq_images)"
    assert page.texts["ev_fair_n"] == "n/a"
    assert "expert_fairness" in written(page, "figures")
    assert "expert_fairness_coefficients" not in written(page, "tables")
    assert page.texts["ev_n_examples"] == "4"  # the images the experts agree on most
    claims = page.tables["evaluation_claims"].set_index("claim")
    assert claims.loc["Demographic balance", "verdict"] == "consistent on stand-ins"


def test_released_heads_need_the_hq_images():
    with pytest.raises(ValueError, match="released_heads='laion/x' needs hq_images"):
        replace(LOCAL, released_heads="laion/x")
