"""Validation metrics of the trained heads: per-emotion agreement with a 0-7 reference, and the
area under the ROC curve of the scores for the first yes/no vote on each asked item, with its
standard error.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from emonet.data import taxonomy
from emonet.stats import agreement


def per_emotion_metrics(pred: np.ndarray, truth: np.ndarray) -> pd.DataFrame:
    """Per category (canonical order): Spearman rho and Pearson r of predictions ``(n, 40)``
    with a 0-7 reference ``(n, 40)``, mean absolute error, and the reference's SD (a category
    whose reference barely varies cannot be ranked)."""
    pred, truth = np.asarray(pred, float), np.asarray(truth, float)
    rho = agreement.spearman(pred, truth, axis=0)
    pc, tc = pred - pred.mean(0), truth - truth.mean(0)
    with np.errstate(invalid="ignore", divide="ignore"):
        r = (pc * tc).sum(0) / np.sqrt((pc**2).sum(0) * (tc**2).sum(0))
    return pd.DataFrame(
        {
            "emotion": list(taxonomy.EMOTIONS),
            "family": [taxonomy.FAMILY_OF[e] for e in taxonomy.EMOTIONS],
            "spearman": rho,
            "pearson": r,
            "mae": np.abs(pred - truth).mean(0),
            "reference_sd": truth.std(0),
        }
    )


def first_votes(labels: pd.DataFrame, image_ids) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The first vote on each asked item: row (position in ``image_ids``), column (canonical
    emotion index) and the answer (True = yes), each ``(n_items,)``."""
    position = {str(i): k for k, i in enumerate(image_ids)}
    first = (
        labels.sort_values("line")
        .groupby(["image", "emotion"], observed=True, sort=False)["value"]
        .first()
        .reset_index()
    )
    return (
        first["image"].astype(str).map(position).to_numpy(),
        first["emotion"].astype(str).map(taxonomy.INDEX).to_numpy(),
        first["value"].to_numpy(bool),
    )


def vote_auc(pred: np.ndarray, labels: pd.DataFrame, image_ids) -> float:
    """Area under the ROC curve of the head scores for the first vote on each asked item
    ("yes" vs "no"): how well the scores rank the items the raters said yes to."""
    rows, cols, yes = first_votes(labels, image_ids)
    if yes.all() or not yes.any():
        return float("nan")
    ranks = stats.rankdata(pred[rows, cols])
    return float((ranks[yes].sum() - yes.sum() * (yes.sum() + 1) / 2) / (yes.sum() * (~yes).sum()))


def auc_standard_error(auc: float, n_yes: int, n_no: int) -> float:
    """Standard error of an AUC from ``n_yes`` positive and ``n_no`` negative items (Hanley &
    McNeil 1982, exponential approximation)."""
    q1, q2 = auc / (2 - auc), 2 * auc**2 / (1 + auc)
    return float(
        np.sqrt(
            (auc * (1 - auc) + (n_yes - 1) * (q1 - auc**2) + (n_no - 1) * (q2 - auc**2))
            / (n_yes * n_no)
        )
    )


def best_emotions(metrics: pd.DataFrame, k: int = 3) -> str:
    """The ``k`` categories with the highest Spearman rho of per-emotion ``metrics``, with their
    rho: ``"Amusement (0.61), Anger (0.55), ..."``."""
    top = metrics.sort_values("spearman", ascending=False).head(k)
    return ", ".join(
        f"{emotion} ({rho:.2f})" for emotion, rho in zip(top["emotion"], top["spearman"])
    )
