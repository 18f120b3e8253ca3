"""The chapter's figures draw their inputs."""

import matplotlib
import numpy as np
import pandas as pd

from emonet.model_vs_experts import fairness, figures, top_k
from tests.helpers import synthetic_fairness, wide

matplotlib.use("Agg")


def test_figures_draw_the_inputs():
    agreement, demo = synthetic_fairness(200)
    coefs, _, _ = fairness.fairness_regression(agreement, demo)
    fig = figures.fairness_effects(coefs, "t")
    assert [t.get_text() for t in fig.axes[0].get_yticklabels()] == coefs["term"][::-1].tolist()
    probs = wide(np.full((3, 40), 1 / 40), index=["a", "b", "c"])
    human = wide(np.arange(120).reshape(3, 40) % 8, index=probs.index)
    fig = figures.distribution_panels(probs, human, "t", thumbnails=[np.zeros((4, 4))] * 3)
    assert len(fig.axes) == 9
    assert [p.get_height() for p in fig.axes[2].patches] == human.iloc[0].tolist()
    chance = top_k.overlap_chance(
        pd.Series([0, 1, 2]), np.array([0.5, 0.3, 0.1, 0.05, 0.05, 0.0]), 0.8
    )
    assert len(figures.overlap_bars(chance, "t").axes[0].patches) == 12
