"""Statistics on bootstrap resamples from weighted sums, against the reference computed on the
expanded data (each unit repeated as often as the resample drew it), and the tests' helpers
against direct loops and statsmodels."""

import warnings
from unittest import mock

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from scipy.stats import spearmanr
from statsmodels.stats.multitest import multipletests

from emonet.stats import agreement, inference
from tests.helpers import authors_kappa

weights_of = st.integers(1, 6).flatmap(
    lambda b: st.integers(2, 18).flatmap(
        lambda m: st.tuples(st.just(m), arrays(int, (b, m), elements=st.integers(0, 3)))
    )
)

kappa_values = st.one_of(
    st.sampled_from([0.0, 0.0, 1.0, 3.0, 7.0]), st.floats(-1.5, 9.5, allow_nan=False)
)


def _expanded_kappa(x, y, w, method):
    """The authors' kappa of one pair on the data expanded by the weights ``w``."""
    return authors_kappa(np.repeat(x, w), np.repeat(y, w), method)


@settings(max_examples=150, deadline=None)
@given(weights_of, st.data(), st.sampled_from(agreement.DISCRETIZE))
def test_resampled_kappa_equals_sklearn_on_the_expanded_data(mw, data, method):
    m, w = mw
    x = data.draw(arrays(float, (m, 2), elements=kappa_values))
    y = data.draw(arrays(float, (m, 2), elements=kappa_values))
    got = inference.resampled_kappa(
        agreement.discretize(x, method), agreement.discretize(y, method), w
    )
    assert got.shape == (len(w), 2)
    for b in range(len(w)):
        for e in range(2):
            ref = _expanded_kappa(x[:, e], y[:, e], w[b], method)
            assert (np.isnan(ref) and np.isnan(got[b, e])) or got[b, e] == pytest.approx(
                ref, abs=1e-9
            )


def test_resampled_kappa_with_unit_weights_is_the_pairwise_kappa():
    rng = np.random.default_rng(3)
    levels = rng.integers(0, 8, (2, 30, 5)).astype(float)
    levels[0, rng.random((30, 5)) < 0.2] = np.nan
    kappa, _ = agreement.quadratic_kappa(levels)
    got = inference.resampled_kappa(levels[0], levels[1], np.ones((1, 30)))
    np.testing.assert_allclose(got[0], kappa[0, 1], atol=1e-12)


def test_resampled_kappa_in_float32_equals_the_float64_sums(monkeypatch):
    """Whole levels and weights: the float32 products give bit for bit the kappas of the
    float64 sums ``1 - N (Sxx + Syy - 2 Sxy) / (N (Sxx + Syy) - 2 Sx Sy)``."""
    rng = np.random.default_rng(4)
    m = 200
    x, y = rng.integers(0, 8, (2, m, 6, 40)).astype(float)
    x[rng.random(x.shape) < 0.3] = np.nan
    shared = rng.random((m, 6, 1)) < 0.7
    w = np.vstack([np.ones(m), agreement.bootstrap_weights(m, 30, 1)])
    assert inference._float32_exact(w, np.nan_to_num(x), y)
    got = inference.resampled_kappa(x, y, w, shared)
    both = ~np.isnan(x)
    a, b = np.where(both, x, 0.0), np.where(both, y, 0.0)
    n, sx, sy, sxx, syy, sxy, units = (
        np.einsum("bu,u...->b...", w, v)
        for v in (both * 1.0, a, b, a * a, b * b, a * b, np.broadcast_to(shared, x.shape) * 1.0)
    )
    expected = n * (sxx + syy) - 2.0 * sx * sy
    with np.errstate(invalid="ignore", divide="ignore"):
        ref = np.where(
            (expected > 0) & (units >= 2), 1.0 - n * (sxx + syy - 2.0 * sxy) / expected, np.nan
        )
    np.testing.assert_array_equal(got, ref)
    monkeypatch.setattr(inference, "_float32_exact", lambda *args: False)
    np.testing.assert_array_equal(inference.resampled_kappa(x, y, w, shared), got)


def test_float32_sums_only_where_they_are_exact():
    levels = np.array([[0.0, 7.0], [3.0, 1.0]])
    assert inference._float32_exact(np.ones((3, 2)), levels)
    assert not inference._float32_exact(np.full((1, 2), 0.5), levels)  # fractional weights
    assert not inference._float32_exact(np.ones((1, 2)), levels + 0.5)  # fractional levels
    assert not inference._float32_exact(np.full((1, 2), 50_000.0), levels)  # sums past 2 ** 24


def test_resampled_kappa_refuses_mismatched_shapes():
    with pytest.raises(ValueError, match="weights"):
        inference.resampled_kappa(np.zeros((4, 2)), np.zeros((4, 2)), np.ones((3, 5)))


@settings(max_examples=150, deadline=None)
@given(weights_of, st.data())
def test_resampled_spearman_equals_scipy_on_the_expanded_data(mw, data):
    m, w = mw
    values = st.sampled_from([0.0, 1.0, 1.0, 2.5, 6.0, np.nan])
    x = data.draw(arrays(float, (m, 3), elements=values))
    y = data.draw(arrays(float, (m, 3), elements=st.one_of(values, st.floats(0, 7))))
    got = inference.resampled_spearman(x, y, w)
    for b in range(len(w)):
        for k in range(3):
            known = ~(np.isnan(x[:, k]) | np.isnan(y[:, k]))
            xs, ys = np.repeat(x[known, k], w[b, known]), np.repeat(y[known, k], w[b, known])
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                ref = spearmanr(xs, ys).statistic if len(xs) >= 2 else np.nan
            assert (np.isnan(ref) and np.isnan(got[b, k])) or got[b, k] == pytest.approx(
                ref, abs=1e-9
            )


@pytest.mark.parametrize(
    "x_ties, y_ties", [(True, True), (True, False), (False, True), (False, False)]
)
def test_resampled_spearman_on_panel_sized_columns_equals_scipy(x_ties, y_ties):
    """Columns of hundreds of units, with ties on either side or none (every shortcut of the
    tie-group sums), against scipy on the expanded data of a few resamples."""
    rng = np.random.default_rng(11)
    m = 300
    x = rng.integers(0, 8, (m, 3)).astype(float) if x_ties else rng.normal(3, 2, (m, 3))
    y = rng.integers(0, 15, (m, 3)) / 2 if y_ties else rng.normal(3, 2, (m, 3))
    x[rng.random((m, 3)) < 0.3] = np.nan
    w = np.vstack([np.ones(m, int), agreement.bootstrap_weights(m, 4, 7)])
    got = inference.resampled_spearman(x, y, w)
    for b in range(len(w)):
        for k in range(3):
            known = ~(np.isnan(x[:, k]) | np.isnan(y[:, k]))
            ref = spearmanr(
                np.repeat(x[known, k], w[b, known]), np.repeat(y[known, k], w[b, known])
            ).statistic
            assert got[b, k] == pytest.approx(ref, abs=1e-12)


def test_resampled_spearman_with_unit_weights_is_spearman():
    rng = np.random.default_rng(5)
    x, y = rng.integers(0, 5, (40, 4)).astype(float), rng.normal(size=(40, 4))
    x[rng.random((40, 4)) < 0.1] = np.nan
    np.testing.assert_allclose(
        inference.resampled_spearman(x, y, np.ones((1, 40)))[0],
        agreement.spearman(x, y, axis=0),
        atol=1e-12,
    )


@pytest.mark.parametrize("n", [1, 5, 881])
def test_weights_from_a_generator_follow_a_loop_of_choice_calls(n):
    loop, ours = np.random.default_rng(42), np.random.default_rng(42)
    picks = [loop.choice(n, size=n, replace=True) for _ in range(7)]
    weights = agreement.bootstrap_weights(n, 7, ours)
    np.testing.assert_array_equal(weights, [np.bincount(p, minlength=n) for p in picks])
    assert loop.random() == ours.random()  # both generators are left at the same place


@settings(max_examples=150, deadline=None)
@given(
    arrays(
        float,
        st.tuples(st.integers(1, 60), st.integers(1, 3)),
        elements=st.one_of(st.floats(-2, 2), st.just(0.0), st.just(0.5), st.just(np.nan)),
    ),
    st.floats(-1, 1),
    st.sampled_from([0.8, 0.95]),
)
def test_basic_interval_and_p_equal_direct_loops(samples, point, level):
    lo, hi = inference.basic_interval(np.full(samples.shape[1], point), samples, level)
    p = inference.basic_p(point, samples)
    for k in range(samples.shape[1]):
        known = [v for v in samples[:, k] if not np.isnan(v)]
        if not known:
            assert np.isnan([lo[k], hi[k], p[k]]).all()
            continue
        q = np.quantile(known, [(1 - level) / 2, (1 + level) / 2])
        assert (lo[k], hi[k]) == pytest.approx((2 * point - q[1], 2 * point - q[0]), abs=1e-12)
        beyond = min(sum(v >= 2 * point for v in known), sum(v <= 2 * point for v in known))
        assert p[k] == pytest.approx(min(1.0, 2 * (1 + beyond) / (1 + len(known))))


def test_the_basic_interval_corrects_a_bias_of_the_resamples():
    samples = np.random.default_rng(0).normal(0.0, 0.1, size=2000)
    lo, hi = inference.basic_interval(0.0, samples)  # centred: the percentile interval mirrored
    np.testing.assert_allclose([lo, hi], -np.quantile(samples, [0.975, 0.025]), atol=1e-12)
    lo, hi = inference.basic_interval(0.3, samples)  # resamples lie 0.3 below the point
    assert lo > 0.3 and hi < 0.9 and inference.basic_p(0.3, samples) < 0.01


@settings(max_examples=150, deadline=None)
@given(
    arrays(
        float,
        st.integers(1, 12),
        elements=st.one_of(st.floats(0, 1), st.sampled_from([0.01, 0.04, np.nan])),
    )
)
def test_holm_equals_statsmodels_on_the_known_values(p):
    got = inference.holm(p)
    known = ~np.isnan(p)
    assert np.isnan(got[~known]).all()
    if known.any():
        # statsmodels' Holm branch calls gc.collect(), a full collection of the whole test
        # process (0.2-1 s each, minutes over the examples); it frees nothing the result needs
        with mock.patch("gc.collect", return_value=0):
            reference = multipletests(p[known], method="holm")[1]
        np.testing.assert_allclose(got[known], reference, atol=1e-12)


@settings(max_examples=200, deadline=None)
@given(
    arrays(
        float,
        st.integers(1, 12),
        elements=st.one_of(
            st.floats(0, 1), st.sampled_from([0.01, 0.0125, 0.025, 0.05 / 3, 0.05, np.nan])
        ),
    ),
    st.sampled_from([0.05, 0.1]),
)
def test_holm_rejections_equal_statsmodels(p, alpha):
    """The same rejections as multipletests(method="holm"), ties and p-values on a step's
    threshold included; NaN entries are not rejected."""
    got = inference.holm_reject(p, alpha)
    known = ~np.isnan(p)
    assert not got[~known].any()
    if known.any():
        np.testing.assert_array_equal(
            got[known], multipletests(p[known], alpha=alpha, method="holm")[0]
        )


def test_resampled_kappa_counts_the_shared_units_before_discretization():
    """A pair whose truncated levels drop out still shares its rated units (the authors'
    ``dropna`` counts rows before ``astype(int)``): as the pairwise kappa with ``rated``."""
    rng = np.random.default_rng(8)
    ratings = rng.uniform(-1.5, 9, (3, 12, 4))
    rated = rng.random((3, 12)) < 0.6
    ratings[~rated] = np.nan
    levels = agreement.discretize(ratings, "truncate")
    kappa, _ = agreement.quadratic_kappa(levels, rated=rated)
    for a, b in ((0, 1), (0, 2), (1, 2)):
        shared = np.broadcast_to((rated[a] & rated[b])[:, None], (12, 4))
        got = inference.resampled_kappa(levels[a], levels[b], np.ones((1, 12)), shared)
        np.testing.assert_allclose(got[0], kappa[a, b], atol=1e-12)
