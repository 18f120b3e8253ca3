"""Per-image agreement against scipy, and the fairness regression: planted effects recovered, calibrated
under the null."""

import matplotlib
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from emonet.model_vs_experts import (
    fairness,
)
from tests.helpers import small_panel, synthetic_fairness, wide

matplotlib.use("Agg")


@settings(max_examples=20, deadline=None)
@given(st.integers(0, 10_000))
def test_per_image_agreement_matches_scipy(seed):
    p = small_panel(seed=seed)
    model = wide(np.random.default_rng(seed).normal(size=(12, 40)), index=list(p.images))
    joined = p.with_annotator("Empathic Insight m", model, "Our Models")
    table = fairness.per_image_agreement(joined)
    assert table.shape == (12, 5) and list(table.columns) == list(joined.annotators)
    for a, name in enumerate(joined.annotators):
        for i, image in enumerate(joined.images):
            others = [k for k in range(4) if k != a and joined.rated[k, i]]
            if not joined.rated[a, i] or not others:
                assert np.isnan(table.loc[image, name])
                continue
            median = np.median(joined.ratings[others, i], axis=0)
            own = joined.ratings[a, i]
            if np.ptp(own) == 0 or np.ptp(median) == 0:
                assert np.isnan(table.loc[image, name])
            else:
                assert table.loc[image, name] == pytest.approx(
                    stats.spearmanr(own, median).statistic, abs=1e-9
                )


def test_fairness_regression_recovers_planted_effects():
    agreement, demo = synthetic_fairness()
    agreement.iloc[:3] = np.nan
    coefs, factors, info = fairness.fairness_regression(agreement, demo)
    assert info["n_excluded"] == 3 and info["n_used"] == 597
    assert info["references"] == {"ethnicity": "A", "gender": _majority(demo["gender"])}
    c = coefs.set_index("term")
    assert c.loc["ethnicity: B", "estimate"] == pytest.approx(-0.2, abs=0.04)
    assert c.loc["age (per 10 years)", "estimate"] == pytest.approx(-0.05, abs=0.01)
    assert c.loc["ethnicity: B", "reject"] and c.loc["age (per 10 years)", "reject"]
    assert c.loc["ethnicity: C", "estimate"] == pytest.approx(0, abs=0.04)
    assert (coefs["p_holm"] >= coefs["p"] - 1e-15).all()
    f = factors.set_index("factor")
    assert f.loc["ethnicity", "df"] == 2 and f.loc["ethnicity", "reject"]
    assert not f.loc["gender", "reject"]
    with pytest.raises(ValueError, match=r"lack column\(s\) \['gender'\]"):
        fairness.fairness_regression(agreement, demo.drop(columns="gender"))


def test_fairness_regression_is_calibrated_under_the_null():
    # pure-noise agreement: with Holm over the factors, a false rejection in at most a few seeds
    rejections = 0
    for seed in range(20):
        agreement, demo = synthetic_fairness(300, seed)
        noise = np.random.default_rng(100 + seed).normal(0, 0.1, len(agreement))
        _, factors, _ = fairness.fairness_regression(pd.Series(noise, index=demo.index), demo)
        rejections += bool(factors["reject"].any())
    assert rejections <= 3


def _majority(values):
    counts = values.value_counts()
    return sorted(counts.index[counts == counts.max()])[0]
