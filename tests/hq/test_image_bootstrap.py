"""The suite on image resamples: row 0 is the suite itself, every resample is the suite on the
expanded panel (each image repeated as often as the resample drew it), and the matched and
like-for-like comparisons equal direct loops with scikit-learn and scipy."""

import warnings
from itertools import combinations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import spearmanr
from statsmodels.stats.multitest import multipletests

from emonet.data import taxonomy
from emonet.hq import image_bootstrap, panel, paper_statistics
from emonet.stats import agreement
from tests.helpers import authors_kappa, random_panel

EMOTIONS = list(taxonomy.EMOTIONS)


def expanded(p: panel.Panel, units: np.ndarray, weights: np.ndarray) -> panel.Panel:
    """The panel of one resample: image ``units[u]`` repeated ``weights[u]`` times."""
    idx = np.repeat(units, weights.astype(int))
    images = [f"{p.images[i]}#{k}" for k, i in enumerate(idx)]
    return panel.Panel(p.ratings[:, idx], p.annotators, p.human, p.groups, images)


@settings(max_examples=5, deadline=None)
@given(st.integers(0, 10_000), st.integers(3, 5), st.sampled_from(agreement.DISCRETIZE))
def test_every_resample_is_the_suite_on_the_expanded_panel(seed, n_experts, method):
    p = random_panel(seed, n_experts, 2, 14, 0.7)
    res = image_bootstrap.resample(p, n_boot=4, seed=seed, method=method)
    assert res.weights.shape == (5, len(res.units)) and (res.weights[0] == 1).all()
    for row, w in enumerate(res.weights):
        q = expanded(p, res.units, w)
        kappa, _ = paper_statistics.pairwise_kappa(q, method)
        np.testing.assert_allclose(
            res.agreement[row],
            paper_statistics.agreement_table(q, kappa)[EMOTIONS].to_numpy(float),
            rtol=0,
            atol=1e-9,
        )
        np.testing.assert_allclose(
            res.rho[row],
            paper_statistics.spearman_table(q)[EMOTIONS].to_numpy(float),
            rtol=0,
            atol=1e-9,
        )


def loop_matched(p: panel.Panel, method: str, annotator: int) -> float:
    """The matched could-be difference of one annotator by a direct loop: per expert pair (the
    annotator left out) and emotion, three sklearn kappas on the images all three rated."""
    experts = [a for a in range(p.n_annotators) if p.human[a]]
    terms = []
    for e, f in combinations([x for x in experts if x != annotator], 2):
        images = p.rated[annotator] & p.rated[e] & p.rated[f]
        for j in range(len(EMOTIONS)):
            xa, xe, xf = (p.ratings[r, images, j] for r in (annotator, e, f))
            ae, af, ef = (
                authors_kappa(xa, xe, method),
                authors_kappa(xa, xf, method),
                authors_kappa(xe, xf, method),
            )
            ours = np.nan if np.isnan(ae) and np.isnan(af) else np.nanmean([ae, af])
            terms.append(ours - ef)
    terms = [t for t in terms if not np.isnan(t)]
    return np.mean(terms) if terms else np.nan


@settings(max_examples=6, deadline=None)
@given(
    st.integers(0, 10_000),
    st.integers(3, 4),
    st.sampled_from(agreement.DISCRETIZE),
    st.integers(0, 2),
    st.data(),
)
def test_the_matched_difference_equals_a_direct_loop(seed, n_experts, method, row, data):
    """One resample row (row 0: the panel itself) and one annotator (an expert or a model) per
    example: the loop makes thousands of sklearn calls for all of them."""
    p = random_panel(seed, n_experts, 2, 16, 0.8)
    res = image_bootstrap.resample(p, n_boot=2, seed=1, method=method)
    annotator = data.draw(st.integers(0, p.n_annotators - 1), label="annotator")
    q = expanded(p, res.units, res.weights[row])
    np.testing.assert_allclose(
        res.matched[row, annotator], loop_matched(q, method, annotator), rtol=0, atol=1e-9
    )


def test_like_for_like_scores_a_model_against_each_experts_reference():
    p = random_panel(4, 4, 2, 18, 0.7)
    res = image_bootstrap.resample(p, n_boot=20, seed=2)
    model = p.annotators[-1]
    table = image_bootstrap.like_for_like_table(res, [model]).set_index("expert")
    own = paper_statistics.spearman_table(p).set_index("annotator")[EMOTIONS]
    m = p.index(model)
    for e in np.flatnonzero(p.human):
        name = p.annotators[e]
        others = [x for x in np.flatnonzero(p.human) if x != e]
        rhos = []
        for j in range(len(EMOTIONS)):
            ref = pd.DataFrame(p.ratings[others, :, j].T).median(axis=1).to_numpy()
            keep = p.rated[e] & p.rated[m] & ~np.isnan(ref)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                rhos.append(
                    spearmanr(p.ratings[m, keep, j], ref[keep]).statistic
                    if keep.sum() >= 2
                    else np.nan
                )
        assert table.loc[name, "model_rho"] == pytest.approx(np.nanmean(rhos), abs=1e-9)
        assert table.loc[name, "expert_rho"] == pytest.approx(np.nanmean(own.loc[name]), abs=1e-9)
    mean = table.loc["mean of experts"]
    assert mean["difference"] == pytest.approx(mean["model_rho"] - mean["expert_rho"])
    assert mean["ci_low"] <= mean["difference"] <= mean["ci_high"]


def test_group_intervals_pool_the_authors_values_and_adjust_by_holm():
    p = random_panel(9, 4, 3, 20, 0.7)
    res = image_bootstrap.resample(p, n_boot=50, seed=3)
    statistics = paper_statistics.compute(p, n_boot=10)
    table = image_bootstrap.group_intervals(res)
    authors = statistics.groups.set_index(["group1", "group2"])
    for row in table.itertuples():
        assert row.mean1 == pytest.approx(authors.loc[(row.group1, row.group2), "mean1"])
        assert row.mean_difference == pytest.approx(
            authors.loc[(row.group1, row.group2), "mean_difference"]
        )
    np.testing.assert_allclose(table["p_holm"], multipletests(table["p_value"], method="holm")[1])
    people = image_bootstrap.annotator_intervals(res).set_index("annotator")
    np.testing.assert_allclose(
        people["mean_kappa"].to_numpy(float),
        statistics.agreement["average"].to_numpy(float),
        atol=1e-12,
    )
    rho = statistics.rho_summary.set_index("annotator").loc[list(p.annotators), "mean_rho"]
    np.testing.assert_allclose(people["mean_rho"], rho.to_numpy(float), atol=1e-12)
    assert set(people["could_be"]) <= {"yes", "no"}


def test_a_paired_difference_of_identical_annotators_is_zero():
    p = random_panel(2, 4, 1, 15, 0.8)
    scores = pd.DataFrame(np.nan_to_num(p.ratings[-1]), index=list(p.images), columns=EMOTIONS)
    q = p.with_annotator("twin", scores, "Our Models")
    res = image_bootstrap.resample(q, n_boot=30, seed=0)
    same = image_bootstrap.paired_difference(res, "twin", "twin")
    assert same["difference"] == 0 and same["ci_low"] == same["ci_high"] == 0
    assert same["p_value"] == 1.0
