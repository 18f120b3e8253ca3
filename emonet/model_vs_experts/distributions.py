"""A distribution over plausible emotions: how widely a distribution spreads over the 40
categories, and which images to show as examples."""

from __future__ import annotations

import numpy as np
import pandas as pd

from emonet.model_vs_experts.joined import check_wide


def effective_categories(weights: pd.DataFrame) -> pd.Series:
    """Perplexity ``exp(entropy)`` of each image's distribution over the 40 categories: how many
    categories the distribution spreads over (1: one category, 40: uniform). Rows are normalised
    to sum 1 first (ratings work as well as probabilities); all-zero rows give NaN."""
    values = check_wide(weights, "weights").to_numpy(dtype=float)
    if (values < 0).any():
        raise ValueError("weights must be non-negative")
    total = values.sum(axis=1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        p = values / total
        entropy = -np.where(p > 0, p * np.log(p), 0.0).sum(axis=1)
    return pd.Series(
        np.where(total[:, 0] > 0, np.exp(entropy), np.nan),
        index=weights.index,
        name="effective_categories",
    )


def example_images(prompted: pd.Series, emotions: list[str], median: pd.DataFrame) -> list[str]:
    """Panel images to show as examples: for each of ``emotions`` the first image prompted for it
    (``prompted``: emotion per image, panel order; emotions no image was prompted for are
    skipped); when none was (no prompts known), the ``len(emotions)`` images whose expert median
    (images x 40) peaks highest."""
    examples = [prompted.index[prompted == e][0] for e in emotions if (prompted == e).any()]
    if examples:
        return examples
    return list(median.max(axis=1).sort_values(ascending=False).index[: len(emotions)])
