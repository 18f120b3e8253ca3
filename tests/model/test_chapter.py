"""Chapter 05's page: the parameters cell against the profiles, the data source chosen by the
parameters, the tables and sentences written from numbers, and one tiny run of the chapter that
produces every glue key and table the notebook uses."""

import dataclasses

import numpy as np
import pandas as pd
import pytest
import torch

from emonet.book.page import Page
from emonet.build.notebooks import notebook_defaults
from emonet.build.params import load_params
from emonet.data import hub, taxonomy
from emonet.generation import images, prompts
from emonet.hq import simulation
from emonet.model import ablation, chapter, encoder, metrics, roles, scoring, training
from emonet.model.training import Result, TrainingDataError
from emonet.paths import NOTEBOOK_DIR
from tests.helpers import GUIDE, missing_from_page

NOTEBOOK = NOTEBOOK_DIR / "05_training.py"


def test_parameters_cell_is_the_local_profile_and_full_has_the_same_keys():
    cell = notebook_defaults(NOTEBOOK)
    local = load_params("local")["05_training"]
    assert cell == {"profile": "local", "artifacts_dir": None, **local}
    assert {k: type(v) for k, v in cell.items() if k in local} == \
        {k: type(v) for k, v in local.items()}
    assert set(load_params("full")["05_training"]) == set(local)
    fields = {f.name for f in dataclasses.fields(chapter.TrainingParams)}
    assert fields == set(cell) - {"artifacts_dir"}


def test_load_roles_needs_all_sources_or_none(tmp_path):
    with pytest.raises(TrainingDataError, match=r"\['hq_images'\] are null"):
        roles.load_roles("big.parquet", "binary.parquet", None, tmp_path, 0, {}, {})
    with pytest.raises(TrainingDataError, match="chapter 02's offline faces"):
        roles.load_roles(None, None, None, tmp_path, 0, {}, {})


def votes_frame():
    rows = [("a", "Anger", True, 0, "target"), ("a", "Anger", True, 1, "target"),
            ("a", "Anger", False, 2, "target"), ("a", "Pride", False, 3, "contrast"),
            ("b", "Fear", False, 4, "target"), ("b", "Awe", True, 5, "contrast")]
    return pd.DataFrame(rows, columns=["image", "emotion", "value", "line", "role"])


def test_role_counts_paths_and_vote_item_roles():
    data = roles.Roles({"big": np.arange(10).astype(str), "binary": np.array(["a", "b"]),
                        "hq": np.array(["h1", "h2", "h3"])},
                       {"big": [], "binary": [], "hq": b"lazy"}, np.zeros((10, 40)),
                       votes_frame())
    big, votes, _ = roles.stages(data, {"big": np.zeros((10, 4)), "binary": np.zeros((2, 4))},
                                 0.2, 0.3, seed=0)
    counts = roles.role_counts(data, big, votes)
    assert counts["images"].tolist() == [10, 2, 3]
    assert counts["validation images"].tolist() == [2, 1, 0]
    assert counts["test images"].tolist() == [3, 1, 0]
    assert counts["use"].iloc[-1] == "held out (chapters 04 and 06)"
    assert data.paths("hq") == ["h1", "h2", "h3"] and data.paths("big") == []
    recorded = roles.vote_item_roles(data.votes).set_index(["image", "emotion"])["role"]
    assert len(recorded) == 4 and recorded[("b", "Awe")] == "contrast"
    assert recorded[("a", "Anger")] == "target"
    rebuilt = roles.vote_item_roles(data.votes.drop(columns="role"))
    assert len(rebuilt) == 4 and "role" in rebuilt


def test_the_panels_images_and_the_training_images_are_disjoint(tmp_path):
    """No leakage: the simulated panel of chapter 04 rates the HQ-role faces, and chapter 05
    trains on the Big and Binary roles of the same manifest; the two share no image, and a run
    whose roles share an id stops."""
    design = prompts.design(120, GUIDE, seed=3)
    manifest = images.generate(design, images.OfflineFaces(size=32, batch_size=40), tmp_path,
                               progress=False)
    params = chapter.TrainingParams.from_namespace(notebook_defaults(NOTEBOOK))
    _, panel_ids = simulation.hq_role_truth(manifest, seed=params.seed)  # chapter 04's panel
    data = roles.local_roles(manifest, tmp_path, params.seed, params.weak, params.panel)
    trained = set(data.ids["big"]) | set(data.ids["binary"])
    assert panel_ids and trained and not set(panel_ids) & trained
    assert set(panel_ids) == set(data.ids["hq"])
    roles.check_disjoint(data)
    leaky = roles.Roles({**data.ids, "binary": np.append(data.ids["binary"], panel_ids[0])},
                        data.images, data.weak, data.votes, data.truth)
    with pytest.raises(TrainingDataError, match="in both the binary and the hq role"):
        roles.check_disjoint(leaky)


def test_encoder_from_id():
    assert encoder.from_id("untrained", 7, "bfloat16") == encoder.untrained(7)
    assert encoder.from_id("some/siglip", 7, "bfloat16") == encoder.hub("some/siglip", "bfloat16")


def test_settings_table():
    table = training.settings_table(training.Settings(shape="small"), input_dim=8, encoder="x")
    assert list(table.columns) == ["setting", "value"]
    assert table["setting"].iloc[0] == "shape" and table["value"].iloc[0] == "small"
    assert table.iloc[-2:].values.tolist() == [["input_dim", "8"], ["encoder", "x"]]


def ablation_table(best: str) -> pd.DataFrame:
    table = pd.DataFrame({"recipe": ["pretrain", "finetune", "both", ablation.UNANCHORED],
                          "vote_auc": [0.7, 0.55, 0.72, 0.68], "weak_spearman": 0.1})
    table.loc[table["recipe"] == best, "vote_auc"] = 0.9
    return table


def test_ablation_verdict_metrics_and_seconds():
    assert ablation.verdict(ablation_table("both")) == \
        "The highest vote AUC comes from 'both', the paper's recipe, which is kept as the model."
    assert ablation.verdict(ablation_table("pretrain")).startswith(
        "The highest vote AUC comes from 'pretrain'; the paper's recipe ('both') is kept")
    assert [c for c, _ in ablation.metric_columns(ablation_table("both"))] == \
        ["weak_spearman", "vote_auc"]
    with_truth = ablation_table("both").assign(truth_spearman=0.2, truth_mae=0.6)
    assert len(ablation.metric_columns(with_truth)) == 4
    results = {"pretrain": Result("pretrain", None, None, 10.0),
               "finetune": Result("finetune", None, None, 3.0),
               "both": Result("both", None, None, 14.0, {"finetune_seconds": 4.0})}
    assert ablation.total_seconds(results) == 17.0


def test_weak_label_note_and_best_emotions():
    quality = pd.DataFrame({"emotion": list(taxonomy.EMOTIONS[:4]),
                            "spearman": [0.1, np.nan, 0.5, 0.3], "mae": [1.0, 0.5, 0.25, 0.25]})
    assert metrics.weak_label_note(quality) == (
        "The simulated weak labels agree with the ground truth at a mean Spearman rho of 0.30 "
        "over the 40 categories (mean absolute error 0.50 on 0-7).")
    assert "no ground truth" in metrics.weak_label_note(None)
    e = taxonomy.EMOTIONS
    assert metrics.best_emotions(quality, 2) == f"{e[2]} (0.50), {e[3]} (0.30)"


@pytest.mark.integration
def test_a_tiny_run_gives_every_key_table_and_output_of_the_page(tmp_path):
    design = prompts.design(120, GUIDE, seed=3)
    images.generate(design, images.OfflineFaces(size=32, batch_size=40), tmp_path,
                    progress=False)
    params = chapter.TrainingParams.from_namespace({
        **notebook_defaults(NOTEBOOK), "embed_batch_size": 64, "max_epochs_pretrain": 2,
        "max_epochs_finetune": 2, "patience": 1, "n_neutral": 2,
        "torch_threads": torch.get_num_threads()})
    page = chapter.run(params, Page.for_profile("local", tmp_path))
    assert missing_from_page(page, NOTEBOOK) == {}
    assert all(isinstance(v, str) for v in page.texts.values())
    for name in ("data", "weak_label_quality", "vote_patterns", "settings", "ablation",
                 "history", "per_emotion", "neutral_means", "diversity", "diversity_cell",
                 "duplicates"):
        assert (tmp_path / "tables" / f"training_{name}.csv").is_file()
    assert page.texts["tr_div_images"] == "120" and page.texts["tr_div_unlabelled"] == "0"
    assert page.texts["tr_div_label"] == "offline faces, untrained encoder"
    assert page.texts["tr_dup_sets"] == "0"
    for name in ("ablation", "learning_curves", "per_emotion", "hq_examples", "diversity"):
        assert (tmp_path / "figures" / f"training_{name}.png").is_file()
    hq = scoring.load_predictions(tmp_path, "softmax")
    assert len(hq) == page.tables["training_data"].set_index("role").loc["hq", "images"]
    np.testing.assert_allclose(hq.sum(axis=1), 1.0, rtol=1e-6)
    assert (tmp_path / scoring.CHECKPOINT_PATH).is_file()
    assert page.texts["tr_verdict"].startswith("The highest vote AUC comes from")


@pytest.mark.integration
def test_a_tiny_run_on_real_data_schemas(tmp_path, replica_data):
    """Sources set: the chapter reads Big, Binary and HQ in the Hugging Face datasets' published
    schemas (the rehearsal's replicas as local folders: no ground truth, votes without recorded
    roles, rows named by position)."""
    params = chapter.TrainingParams.from_namespace({
        **notebook_defaults(NOTEBOOK), **{f"{n}_source": str(replica_data.root / n)
                                          for n in ("big", "binary")},
        "hq_images": str(replica_data.root / "hq"), "max_epochs_pretrain": 2,
        "max_epochs_finetune": 2, "patience": 1, "n_neutral": 2,
        "torch_threads": torch.get_num_threads()})
    page = chapter.run(params, Page.for_profile("full", tmp_path / "artifacts"))
    assert missing_from_page(page, NOTEBOOK) == {}
    assert page.texts["tr_weak_note"] == metrics.weak_label_note(None)
    assert page.texts["tr_reference"] == "weak labels"
    assert page.tables["training_weak_label_summary"].empty
    assert page.tables["training_data"]["images"].tolist() == [48, 40, 40]
    assert page.tables["training_hub_sources"]["note"].tolist() == [
        "no Hugging Face artefacts in this build"]  # local folders, the untrained encoder
    hq = pd.read_parquet(tmp_path / "artifacts" / scoring.HQ_PREDICTIONS_PATH)
    assert hq["path"].tolist() == hq["id"].tolist() == list(hub.row_ids("hq", 40))
    # the diversity section covers the Binary images, the only ones with prompt slots
    assert page.texts["tr_div_images"] == "40" and page.texts["tr_div_unlabelled"] == "88"
    assert page.texts["tr_div_label"].startswith(str(replica_data.root / "binary"))
