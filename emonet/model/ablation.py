"""The ablation of the training recipe: every recipe trained on the same data (pre-training
once), evaluated on test images that neither training nor early stopping saw (the validation
images chose each recipe's best epoch, so their metrics would flatter it).
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd

from emonet.model.heads import predict
from emonet.model.metrics import (
    auc_standard_error,
    first_votes,
    per_emotion_metrics,
    vote_auc,
)
from emonet.model.roles import Roles
from emonet.model.training import Result, Settings, Stage, finetune, train

#: The ablation's extra row: "both" fine-tuned without the anchor (``anchor_weight=0``).
UNANCHORED = "unanchored"


#: The recipe kept as the model whatever the ablation shows: the paper's, pre-training then
#: fine-tuning.
CHOSEN = "both"


#: The ablation table's metrics and their labels; the ground-truth ones only where the images
#: have ground truth.
METRICS = {
    "weak_spearman": "Spearman with weak labels",
    "vote_auc": "AUC of first vote",
    "truth_spearman": "Spearman with ground truth",
    "truth_mae": "Mean absolute error (0-7)",
}


def ablation(
    data: Roles, big: Stage, votes: Stage, settings: Settings, unanchored: bool = True
) -> tuple[dict[str, Result], pd.DataFrame, dict[str, pd.DataFrame]]:
    """Train every recipe (pre-training once: ``"both"`` fine-tunes the ``"pretrain"`` result)
    and, with ``unanchored``, ``"both"`` without the anchor (:data:`UNANCHORED`); evaluate each
    on the test images of both roles (``big.test``, ``votes.test``: seen by no recipe, neither
    in training nor in early stopping). Returns the results, the ablation table (one row per
    recipe: seconds of training including a shared pre-training, epochs, weak-label agreement on
    Big test images, vote AUC on Binary test images and, where there is ground truth, agreement
    with it) and per-emotion metrics against the ground truth (or the weak labels)."""
    if big.test is None or votes.test is None or not (big.test.any() and votes.test.any()):
        raise ValueError("the ablation needs test images in both stages (test_fraction > 0)")
    results = {
        "pretrain": train("pretrain", big.x.shape[1], big, None, settings),
        "finetune": train("finetune", big.x.shape[1], None, votes, settings),
    }
    results["both"] = finetune(results["pretrain"], votes, settings)
    if unanchored:
        results[UNANCHORED] = finetune(
            results["pretrain"], votes, replace(settings, anchor_weight=0.0), UNANCHORED
        )
    rows, per_emotion = [], {}
    test_ids = data.ids["binary"][votes.test]
    test_votes = data.votes[data.votes["image"].isin(set(test_ids))]
    answers = first_votes(test_votes, test_ids)[2]
    for recipe, result in results.items():
        pred_big, pred_bin = (
            predict(result.heads, big.x[big.test]),
            predict(result.heads, votes.x[votes.test]),
        )
        weak_metrics = per_emotion_metrics(pred_big, big.target[big.test])
        row = {
            "recipe": recipe,
            "seconds": round(result.seconds, 2),
            "epochs": int(result.history.groupby("stage")["epoch"].max().sum()),
            "weak_spearman": float(np.nanmean(weak_metrics["spearman"])),
            "vote_auc": vote_auc(pred_bin, test_votes, test_ids),
        }
        row["vote_auc_se"] = auc_standard_error(
            row["vote_auc"], int(answers.sum()), int((~answers).sum())
        )
        if data.truth is not None:
            truth = np.concatenate([data.truth["big"][big.test], data.truth["binary"][votes.test]])
            metrics = per_emotion_metrics(np.concatenate([pred_big, pred_bin]), truth)
            row.update(
                {
                    "truth_spearman": float(np.nanmean(metrics["spearman"])),
                    "truth_mae": float(metrics["mae"].mean()),
                }
            )
        else:
            metrics = weak_metrics
        per_emotion[recipe] = metrics
        rows.append(row)
    return results, pd.DataFrame(rows), per_emotion


def metric_columns(table: pd.DataFrame) -> list[tuple[str, str]]:
    """``(column, label)`` of the :data:`METRICS` the ablation table holds."""
    return [(column, label) for column, label in METRICS.items() if column in table]


def total_seconds(results: dict[str, Result]) -> float:
    """Seconds spent training every recipe of :func:`ablation`, the shared pre-training once
    (a fine-tuned result counts its fine-tuning alone)."""
    return sum(result.extra.get("finetune_seconds", result.seconds) for result in results.values())
