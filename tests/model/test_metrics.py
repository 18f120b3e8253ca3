"""Model metrics (:mod:`emonet.model.metrics`): the vote AUC, its standard error, the weak-label
note and the best emotions."""

import numpy as np
import pandas as pd
import pytest

from emonet.data import taxonomy
from emonet.model import metrics


def test_auc_standard_error_at_chance():
    # Hanley & McNeil at AUC 0.5: (0.25 + (n-1)(1/3 - 1/4) * 2) / n^2
    n = 50
    assert metrics.auc_standard_error(0.5, n, n) == pytest.approx(
        np.sqrt((0.25 + (n - 1) * (1 / 3 - 0.25) * 2) / n**2)
    )


def test_vote_auc():
    labels = pd.DataFrame(
        {
            "image": ["a", "b", "c"],
            "value": [True, False, True],
            "emotion": pd.Categorical(["Anger"] * 3, categories=taxonomy.EMOTIONS),
            "line": [2, 3, 4],
        }
    )
    pred = np.zeros((3, 40))
    pred[:, taxonomy.INDEX["Anger"]] = [3.0, 1.0, 2.0]
    assert metrics.vote_auc(pred, labels, ["a", "b", "c"]) == 1.0
    pred[:, taxonomy.INDEX["Anger"]] = [0.0, 1.0, 2.0]
    assert metrics.vote_auc(pred, labels, ["a", "b", "c"]) == 0.5


def test_best_emotions():
    quality = pd.DataFrame(
        {
            "emotion": list(taxonomy.EMOTIONS[:4]),
            "spearman": [0.1, np.nan, 0.5, 0.3],
            "mae": [1.0, 0.5, 0.25, 0.25],
        }
    )
    e = taxonomy.EMOTIONS
    assert metrics.best_emotions(quality, 2) == f"{e[2]} (0.50), {e[3]} (0.30)"
