"""How widely a distribution spreads, and which images are shown as examples."""

import matplotlib
import numpy as np
import pandas as pd
import pytest

from emonet.model_vs_experts import (
    distributions,
)
from tests.helpers import wide

matplotlib.use("Agg")


def test_effective_categories():
    values = np.zeros((3, 40))
    values[0, 4] = 3.0
    values[1] = 1.0
    out = distributions.effective_categories(wide(values))
    assert out.iloc[0] == pytest.approx(1) and out.iloc[1] == pytest.approx(40)
    assert np.isnan(out.iloc[2])
    with pytest.raises(ValueError, match="non-negative"):
        distributions.effective_categories(wide(-values - 1))


def test_example_images_one_per_prompted_emotion_else_the_clearest():
    prompted = pd.Series(["Anger", "Fear", "Anger", "Pain"], index=["a", "b", "c", "d"])
    median = wide(np.zeros((4, 40)), index=list(prompted.index))
    median.iloc[:, 0] = [1, 6, 3, 7]
    assert distributions.example_images(prompted, ["Pain", "Awe", "Anger"], median) == [
        "d",
        "a",
    ]  # in the order asked; no image was prompted for Awe
    nothing = pd.Series(dtype=str)
    assert distributions.example_images(nothing, ["Pain", "Awe", "Anger"], median) == [
        "d",
        "b",
        "c",
    ]  # as many as asked, the highest median peaks first
