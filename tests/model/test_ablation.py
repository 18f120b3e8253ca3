"""The recipe ablation (:mod:`emonet.model.ablation`): scored on held-out test images alone, its
metric columns and seconds (the phrases the chapter chooses from it: ``tests/model/test_chapter.py``)."""

import numpy as np
import pandas as pd
import pytest

from emonet.data import taxonomy
from emonet.model import ablation, heads, roles, training
from emonet.model import metrics as model_metrics
from emonet.model.training import Result
from tests.helpers import synthetic_stages


def test_the_ablation_scores_the_test_images_alone():
    """The ablation's metrics come from images that neither training nor early stopping saw:
    recomputed from the test rows alone, they equal the table's; without test rows it refuses."""
    big, votes, truth = synthetic_stages()
    n = len(truth)
    ids = np.array([f"b{i:03d}" for i in range(n)])
    big = training.Stage(big.x, big.target, big.weight, big.val, np.arange(n) % 5 == 2)
    asked = np.argmax(votes.weight, axis=1)
    rows = [(ids[i], taxonomy.EMOTIONS[asked[i]], truth[i, asked[i]] > 3.5, i) for i in range(n)]
    labels = pd.DataFrame(rows, columns=["image", "emotion", "value", "line"])
    votes = training.Stage(votes.x, votes.target, votes.weight, votes.val, np.arange(n) % 5 == 3)
    assert not (big.test & big.val).any() and not (big.test & big.train).any()
    data = roles.Roles(
        {"big": ids, "binary": ids, "hq": np.array([])},
        {},
        big.target,
        labels,
        {"big": truth, "binary": truth},
    )
    settings = training.Settings(
        shape="small",
        dropout=0.0,
        batch_size=32,
        max_epochs_pretrain=3,
        max_epochs_finetune=2,
        patience=5,
    )
    results, table, _ = ablation.ablation(data, big, votes, settings, unanchored=False)
    pre = table.set_index("recipe").loc["pretrain"]
    weak = model_metrics.per_emotion_metrics(
        heads.predict(results["pretrain"].heads, big.x[big.test]), big.target[big.test]
    )
    assert pre["weak_spearman"] == pytest.approx(np.nanmean(weak["spearman"]))
    test_labels = labels[labels["image"].isin(ids[votes.test])]
    assert pre["vote_auc"] == pytest.approx(
        model_metrics.vote_auc(
            heads.predict(results["pretrain"].heads, votes.x[votes.test]),
            test_labels,
            ids[votes.test],
        )
    )
    with pytest.raises(ValueError, match="needs test images"):
        ablation.ablation(
            data, training.Stage(big.x, big.target, big.weight, big.val), votes, settings
        )


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


def test_metric_columns_and_seconds():
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
