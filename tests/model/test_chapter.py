"""Chapter 05's page: the data source chosen by the parameters, and the tables and sentences
written from numbers."""

import numpy as np
import pandas as pd
import pytest

from emonet.data import taxonomy
from emonet.model import ablation, encoder, metrics, roles, training
from emonet.model.training import Result, TrainingDataError


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
    counts = roles.role_counts(data, 0.2)
    assert counts["images"].tolist() == [10, 2, 3]
    assert counts["validation images"].tolist() == [2, 0, 0]
    assert counts["use"].iloc[-1] == "held out (chapter 06)"
    assert data.paths("hq") == ["h1", "h2", "h3"] and data.paths("big") == []
    recorded = roles.vote_item_roles(data.votes).set_index(["image", "emotion"])["role"]
    assert len(recorded) == 4 and recorded[("b", "Awe")] == "contrast"
    assert recorded[("a", "Anger")] == "target"
    rebuilt = roles.vote_item_roles(data.votes.drop(columns="role"))
    assert len(rebuilt) == 4 and "role" in rebuilt


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
