"""Chapter 05 (:mod:`emonet.model.chapter`): the parameters cell against the profiles, the phrases
chosen from the ablation's numbers, and tiny runs of the chapter (on offline faces and on the real
datasets' schemas) that produce every glue key and table the notebook uses and return what it
trained."""

import dataclasses

import numpy as np
import pandas as pd
import pytest
import torch

from emonet.book.page import Page
from emonet.build.notebooks import notebook_defaults
from emonet.build.params import load_params
from emonet.data import hub
from emonet.generation import images, prompts
from emonet.model import ablation, chapter, heads, scoring
from emonet.model.training import Result
from emonet.paths import NOTEBOOK_DIR
from tests.helpers import GUIDE, missing_from_page

NOTEBOOK = NOTEBOOK_DIR / "05_training.py"


def test_parameters_cell_is_the_local_profile_and_full_has_the_same_keys():
    cell = notebook_defaults(NOTEBOOK)
    local = load_params("local")["05_training"]
    assert cell == {"profile": "local", "artifacts_dir": None, **local}
    assert {k: type(v) for k, v in cell.items() if k in local} == {
        k: type(v) for k, v in local.items()
    }
    assert set(load_params("full")["05_training"]) == set(local)
    fields = {f.name for f in dataclasses.fields(chapter.TrainingParams)}
    assert fields == set(cell) - {"artifacts_dir"}


@pytest.mark.integration
def test_a_tiny_run_gives_every_key_table_and_output_of_the_page(tmp_path):
    design = prompts.design(120, GUIDE, seed=3)
    images.generate(design, images.OfflineFaces(size=32, batch_size=40), tmp_path, progress=False)
    params = chapter.TrainingParams.from_namespace(
        {
            **notebook_defaults(NOTEBOOK),
            "embed_batch_size": 64,
            "max_epochs_pretrain": 2,
            "max_epochs_finetune": 2,
            "patience": 1,
            "n_neutral": 2,
            "torch_threads": torch.get_num_threads(),
        }
    )
    page = Page.for_profile("local", tmp_path)
    result = chapter.run(params, page)
    assert missing_from_page(page, NOTEBOOK) == {}
    assert all(isinstance(v, str) for v in page.texts.values())
    for name in (
        "data",
        "weak_label_quality",
        "vote_patterns",
        "settings",
        "ablation",
        "history",
        "per_emotion",
        "neutral_means",
        "diversity",
        "diversity_cell",
        "duplicates",
    ):
        assert (tmp_path / "tables" / f"training_{name}.csv").is_file()
    assert page.texts["diversity_images"] == "120" and page.texts["diversity_unlabelled"] == "0"
    assert page.texts["diversity_label"] == "offline faces, untrained encoder"
    assert page.texts["duplicate_sets"] == "0" and result.duplicates.empty
    for name in ("ablation", "learning_curves", "per_emotion", "hq_examples", "diversity"):
        assert (tmp_path / "figures" / f"training_{name}.png").is_file()
    hq = scoring.load_predictions(tmp_path, "softmax")
    assert len(hq) == page.tables["training_data"].set_index("role").loc["hq", "images"]
    np.testing.assert_allclose(hq.sum(axis=1), 1.0, rtol=1e-6)
    assert (tmp_path / scoring.CHECKPOINT_PATH).is_file()
    assert page.texts["best_recipe"] in set(result.ablation["recipe"])
    assert page.texts["weak_rho"] != "n/a"  # the offline faces have a ground truth
    assert set(result.results) == set(result.ablation["recipe"])
    assert set(result.embeddings) == {"big", "binary", "hq"}
    np.testing.assert_allclose(result.hq_scores["softmax"].to_numpy(), hq.to_numpy(), rtol=1e-6)
    # the notebook's show-input cell loads the saved checkpoint: the chosen model
    saved = heads.load_checkpoint(tmp_path / scoring.CHECKPOINT_PATH)
    np.testing.assert_allclose(saved.neutral_means, result.checkpoint.neutral_means, atol=1e-6)


@pytest.mark.integration
def test_a_tiny_run_on_real_data_schemas(tmp_path, replica_data):
    """Sources set: the chapter reads Big, Binary and HQ in the Hugging Face datasets' published
    schemas (the rehearsal's replicas as local folders: no ground truth, votes without recorded
    roles, rows named by position)."""
    params = chapter.TrainingParams.from_namespace(
        {
            **notebook_defaults(NOTEBOOK),
            **{f"{n}_source": str(replica_data.root / n) for n in ("big", "binary")},
            "hq_images": str(replica_data.root / "hq"),
            "max_epochs_pretrain": 2,
            "max_epochs_finetune": 2,
            "patience": 1,
            "n_neutral": 2,
            "torch_threads": torch.get_num_threads(),
        }
    )
    page = Page.for_profile("full", tmp_path / "artifacts")
    chapter.run(params, page)
    assert missing_from_page(page, NOTEBOOK) == {}
    assert page.texts["weak_rho"] == page.texts["weak_mae"] == "n/a"
    assert page.texts["both_mae"] == "n/a"  # no ground truth
    assert page.texts["reference"] == "weak labels"
    assert page.tables["training_weak_label_summary"].empty
    assert page.tables["training_data"]["images"].tolist() == [48, 40, 40]
    assert page.tables["training_hub_sources"]["note"].tolist() == [
        "no Hugging Face artefacts in this build"
    ]  # local folders, the untrained encoder
    hq = pd.read_parquet(tmp_path / "artifacts" / scoring.HQ_PREDICTIONS_PATH)
    assert hq["path"].tolist() == hq["id"].tolist() == list(hub.row_ids("hq", 40))
    # the diversity section covers the Binary images, the only ones with prompt slots
    assert page.texts["diversity_images"] == "40" and page.texts["diversity_unlabelled"] == "88"
    assert page.texts["diversity_label"].startswith(str(replica_data.root / "binary"))


def ablation_table(best: str) -> pd.DataFrame:
    table = pd.DataFrame(
        {
            "recipe": ["pretrain", "finetune", "both", ablation.UNANCHORED],
            "vote_auc": [0.7, 0.55, 0.72, 0.68],
            "weak_spearman": 0.1,
        }
    )
    table.loc[table["recipe"] == best, "vote_auc"] = 0.9
    return table


def test_ablation_values_metrics_and_seconds():
    values = chapter.ablation_values(ablation_table("both").assign(vote_auc_se=0.03))
    assert values["best_recipe"] == "both" and values["both_auc"] == "0.900"
    assert values["auc_change"] == "up by more than" and values["auc_se"] == "0.030"
    assert values["both_mae"] == values["unanchored_mae"] == "n/a"  # no ground truth
    assert (
        chapter.ablation_values(ablation_table("pretrain").assign(vote_auc_se=0.03))["auc_change"]
        == "down by more than"
    )
    within = ablation_table("none").assign(vote_auc_se=0.03, truth_mae=[0.6, 1.5, 0.7, 1.3])
    values = chapter.ablation_values(within)  # 0.70 -> 0.72: within one standard error
    assert values["auc_change"] == "within" and values["best_recipe"] == "both"
    assert (values["both_mae"], values["unanchored_mae"]) == ("0.70", "1.30")
    assert [c for c, _ in ablation.metric_columns(ablation_table("both"))] == [
        "weak_spearman",
        "vote_auc",
    ]
    with_truth = ablation_table("both").assign(truth_spearman=0.2, truth_mae=0.6)
    assert len(ablation.metric_columns(with_truth)) == 4
    results = {
        "pretrain": Result("pretrain", None, None, 10.0),
        "finetune": Result("finetune", None, None, 3.0),
        "both": Result("both", None, None, 14.0, {"finetune_seconds": 4.0}),
    }
    assert ablation.total_seconds(results) == 17.0
