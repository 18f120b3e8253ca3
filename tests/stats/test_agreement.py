"""Krippendorff's alpha and the unit bootstrap against the reference package and hand checks."""

import krippendorff
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from emonet.stats import agreement, seeds

# (raters, units) arrays with values 0..3 and NaN = not rated
ratings_arrays = arrays(
    float,
    st.tuples(st.integers(2, 6), st.integers(2, 25)),
    elements=st.sampled_from([0.0, 1.0, 2.0, 3.0, np.nan]),
)


@settings(max_examples=200, deadline=None)
@given(ratings_arrays)
def test_alpha_matches_krippendorff_package_with_missing_values(ratings):
    counts, values = agreement.value_counts(ratings)
    pairable = (counts.sum(axis=1) > 1) & (counts > 0).any(axis=1)
    # the reference needs at least two distinct values among pairable units
    if len(values) < 2 or (counts[pairable] > 0).any(axis=0).sum() < 2:
        return
    ours = agreement.krippendorff_alpha(ratings)
    ref = krippendorff.alpha(reliability_data=ratings, level_of_measurement="nominal")
    assert ours == pytest.approx(ref, abs=1e-9)
    assert agreement.krippendorff_alpha(counts=counts, values=values) == pytest.approx(
        ours, abs=1e-12
    )


def test_hand_checked_perfect_and_systematic_disagreement():
    perfect = np.array([[0, 1, 0, 1], [0, 1, 0, 1]], float)
    assert agreement.krippendorff_alpha(perfect) == pytest.approx(1.0)
    # every unit splits 1:1 -> o_01 = o_10 = 4, n_0 = n_1 = 4, n = 8:
    # alpha = 1 - 7 * 8 / (2 * 4 * 4) = -0.75
    opposed = np.array([[0, 1, 0, 1], [1, 0, 1, 0]], float)
    assert agreement.krippendorff_alpha(opposed) == pytest.approx(-0.75)


def test_hand_checked_missing_values():
    # Krippendorff (2011), nominal example: 4 coders, 12 units, 1-5 with gaps; alpha = 0.743
    nan = np.nan
    data = np.array(
        [
            [1, 2, 3, 3, 2, 1, 4, 1, 2, nan, nan, nan],
            [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, nan, 3],
            [nan, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, nan],
            [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, nan],
        ]
    )
    assert agreement.krippendorff_alpha(data) == pytest.approx(0.743, abs=5e-4)


def test_single_ratings_do_not_count_and_one_value_is_undefined():
    counts = np.array([[2, 0], [0, 3], [1, 0], [0, 1]])
    with_singles = agreement.krippendorff_alpha(counts=counts)
    assert with_singles == pytest.approx(agreement.krippendorff_alpha(counts=counts[:2]))
    assert np.isnan(agreement.krippendorff_alpha(counts=np.array([[2, 0], [3, 0]])))


def test_coincidences_are_vectorised_over_leading_axes():
    rng = np.random.default_rng(0)
    counts = rng.integers(0, 3, size=(5, 30, 2))
    batched = agreement.alpha_from_coincidences(
        agreement.unit_coincidences(counts).sum(axis=-3), agreement.distance([0, 1])
    )
    single = [agreement.krippendorff_alpha(counts=c) for c in counts]
    np.testing.assert_allclose(batched, single)


def test_unknown_level_is_refused():
    with pytest.raises(ValueError, match="level"):
        agreement.distance([0, 1], "interval-ish")


def test_bootstrap_is_deterministic_and_matches_explicit_resampling():
    rng = np.random.default_rng(1)
    contrib = rng.random((40, 3))
    a = agreement.bootstrap_sums(contrib, n_boot=50, seed=42)
    b = agreement.bootstrap_sums(contrib, n_boot=50, seed=42)
    np.testing.assert_array_equal(a, b)
    picks = np.random.default_rng(42).integers(0, 40, size=(50, 40))
    np.testing.assert_allclose(a, contrib[picks].sum(axis=1))
    assert not np.allclose(a, agreement.bootstrap_sums(contrib, n_boot=50, seed=43))


def test_bootstrap_weights_count_each_resample_to_n():
    weights = agreement.bootstrap_weights(17, 30, seed=3)
    assert weights.shape == (30, 17)
    assert (weights.sum(axis=1) == 17).all()


def test_percentile_ci_ignores_nan_resamples():
    samples = np.array([[0.0, np.nan], [1.0, 2.0], [2.0, 4.0], [np.nan, 6.0]])
    lo, hi = agreement.percentile_ci(samples, level=0.5)
    np.testing.assert_allclose(lo, [0.5, 3.0])
    np.testing.assert_allclose(hi, [1.5, 5.0])


def test_percentile_ci_of_one_sample():
    lo, hi = agreement.percentile_ci(np.arange(101.0), level=0.9)
    assert float(lo) == pytest.approx(5.0) and float(hi) == pytest.approx(95.0)


# ------------------------------------------------------------------ interval alpha

# (raters, units) ratings on a continuous 0-7 scale or in integers, NaN = not rated
rating_values = st.one_of(
    st.sampled_from([0.0, 1.0, 2.0, 3.0, 5.0, 7.0, np.nan]), st.floats(0, 7, allow_nan=False)
)
interval_arrays = arrays(
    float, st.tuples(st.integers(2, 6), st.integers(2, 25)), elements=rating_values
)


@settings(max_examples=200, deadline=None)
@given(interval_arrays)
def test_interval_alpha_matches_krippendorff_package_with_missing_values(ratings):
    pairable = (~np.isnan(ratings)).sum(axis=0) > 1
    values = ratings[:, pairable]
    if np.unique(values[~np.isnan(values)]).size < 2:
        assert np.isnan(agreement.interval_alpha(ratings))  # no expected disagreement
        return
    with np.errstate(invalid="ignore"):
        ref = krippendorff.alpha(reliability_data=ratings, level_of_measurement="interval")
    # the coincidence-matrix route with the interval distance gives the same number
    for ours in (
        float(agreement.interval_alpha(ratings)),
        agreement.krippendorff_alpha(ratings, level="interval"),
    ):
        assert (np.isnan(ref) and np.isnan(ours)) or ours == pytest.approx(ref, abs=1e-9)


def test_interval_alpha_is_vectorised_over_trailing_axes():
    rng = np.random.default_rng(5)
    ratings = rng.integers(0, 8, size=(4, 30, 6)).astype(float)
    ratings[rng.random((4, 30)) < 0.3] = np.nan
    per_column = [agreement.interval_alpha(ratings[:, :, k]) for k in range(6)]
    np.testing.assert_allclose(agreement.interval_alpha(ratings), per_column)


def test_interval_distance_is_squared_difference():
    np.testing.assert_array_equal(
        agreement.distance([0, 1, 3], "interval"), [[0, 1, 9], [1, 0, 4], [9, 4, 0]]
    )


# ------------------------------------------------------------------ weighted kappa


def _sklearn_kappa(x, y, levels_x, levels_y):
    """The authors' kappa of one pair: shared rated units, at least 2, sklearn on the levels;
    undefined (NaN) where sklearn warns or refuses."""
    import warnings

    from sklearn.metrics import cohen_kappa_score

    both = ~np.isnan(x) & ~np.isnan(y)
    if both.sum() < 2:
        return np.nan
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return cohen_kappa_score(
                levels_x[both], levels_y[both], weights="quadratic", labels=list(range(8))
            )
        except ValueError:
            return np.nan


kappa_values = st.one_of(
    st.sampled_from([0.0, 0.0, 1.0, 3.0, 7.0, np.nan]), st.floats(-1.5, 9.5, allow_nan=False)
)


@settings(max_examples=150, deadline=None)
@given(
    arrays(
        float,
        st.tuples(st.integers(2, 5), st.integers(1, 20), st.integers(1, 3)),
        elements=kappa_values,
    ),
    st.sampled_from(agreement.DISCRETIZE),
)
def test_quadratic_kappa_matches_sklearn_for_every_pair(ratings, method):
    rated = ~np.isnan(ratings).all(axis=-1)
    ratings = np.where(rated[..., None], np.nan_to_num(ratings, nan=0.0), np.nan)
    levels = agreement.discretize(ratings, method)
    kappa, n = agreement.quadratic_kappa(levels, rated=rated)
    as_int = {
        "truncate": lambda v: np.nan_to_num(v).astype(int),
        "round": lambda v: np.clip(np.floor(np.nan_to_num(v) + 0.5), 0, 7).astype(int),
    }
    for a in range(len(ratings)):
        assert np.isnan(kappa[a, a]).all()
        for b in range(len(ratings)):
            if a == b:
                continue
            for e in range(ratings.shape[-1]):
                x, y = ratings[a, :, e], ratings[b, :, e]
                ref = _sklearn_kappa(x, y, as_int[method](x), as_int[method](y))
                got = kappa[a, b, e]
                assert (np.isnan(ref) and np.isnan(got)) or got == pytest.approx(ref, abs=1e-9)


def test_discretize_truncates_like_astype_int_and_drops_outside_levels():
    x = np.array([-1.2, -0.5, 0.0, 3.9, 7.0, 7.99, 8.0, np.nan])
    np.testing.assert_array_equal(
        agreement.discretize(x, "truncate"), [np.nan, 0, 0, 3, 7, 7, np.nan, np.nan]
    )
    np.testing.assert_array_equal(agreement.discretize(x, "round"), [0, 0, 0, 4, 7, 7, 7, np.nan])
    with pytest.raises(ValueError, match="discretization"):
        agreement.discretize(x, "floor")


def test_kappa_of_identical_and_of_constant_raters():
    x = np.array([[0, 1, 2, 3, 7], [0, 1, 2, 3, 7], [2, 2, 2, 2, 2], [2, 2, 2, 2, 2]], float)
    kappa, n = agreement.quadratic_kappa(x[..., None])
    assert kappa[0, 1, 0] == pytest.approx(1.0)
    assert kappa[0, 2, 0] == 0.0  # a constant rater agrees no better than chance
    assert np.isnan(kappa[2, 3, 0])  # two equal constants: no expected disagreement
    assert n[0, 1, 0] == 5


def test_pairs_sharing_fewer_than_two_rated_units_get_no_kappa():
    x = np.array([[1, 2, np.nan, np.nan], [2, np.nan, 3, 4], [1, 2, 3, 4]], float)[..., None]
    kappa, n = agreement.quadratic_kappa(x)
    assert np.isnan(kappa[0, 1, 0]) and np.isnan(kappa[1, 0, 0])  # one shared unit
    assert not np.isnan(kappa[1, 2, 0])


def test_no_units_give_no_kappa_rather_than_an_error():
    kappa, n = agreement.quadratic_kappa(np.empty((3, 0, 40)))  # e.g. a resample without them
    assert kappa.shape == n.shape == (3, 3, 40)
    assert np.isnan(kappa).all() and (n == 0).all()


# ------------------------------------------------------------------ Spearman, means


@settings(max_examples=200, deadline=None)
@given(
    arrays(
        float,
        st.tuples(st.integers(1, 4), st.integers(1, 15)),
        elements=st.sampled_from([0.0, 1.0, 2.0, 2.5, 6.0, np.nan]),
    ),
    arrays(float, st.integers(1, 15), elements=st.floats(0, 7)),
)
def test_spearman_matches_scipy_with_missing_values_and_ties(x, y):
    import warnings

    from scipy.stats import spearmanr

    y = np.resize(y, x.shape[1])
    rho = agreement.spearman(x, y[None], axis=1)
    for row, got in zip(x, rho):
        known = ~np.isnan(row)
        if known.sum() < 2:
            assert np.isnan(got)
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ref = spearmanr(row[known], y[known]).statistic
        assert (np.isnan(ref) and np.isnan(got)) or got == pytest.approx(ref, abs=1e-9)


def test_nanmean_ignores_gaps_without_warnings():
    x = np.array([[1.0, np.nan, 3.0], [np.nan, np.nan, np.nan]])
    np.testing.assert_array_equal(agreement.nanmean(x, axis=1), [2.0, np.nan])


def test_nanmedian_ignores_gaps_without_warnings():
    import warnings

    x = np.array([[1.0, np.nan, 3.0, 7.0], [np.nan, np.nan, np.nan, np.nan]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        np.testing.assert_array_equal(agreement.nanmedian(x, axis=1), [3.0, np.nan])


def test_nanstd_ignores_gaps_without_warnings():
    import warnings

    x = np.array([[1.0, np.nan, 3.0, 7.0], [np.nan, 2.0, np.nan, np.nan], [np.nan] * 4])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        sd = agreement.nanstd(x, axis=1)
        np.testing.assert_allclose(agreement.nanstd(x.T, axis=0), sd)
    np.testing.assert_allclose(sd, [np.std([1.0, 3.0, 7.0], ddof=1), np.nan, np.nan])


def test_bootstrap_means_depend_on_the_values_not_their_order():
    x = np.array([0.3, -0.1, 0.8, 0.5, 0.2])
    a = agreement.bootstrap_means(x, 200, seed=seeds.keyed_seed(42, "group"))
    b = agreement.bootstrap_means(x[::-1], 200, seed=seeds.keyed_seed(42, "group"))
    np.testing.assert_array_equal(a, b)
    picks = np.random.default_rng([42, *b"group"]).integers(0, 5, size=(200, 5))
    np.testing.assert_allclose(a, np.sort(x)[picks].mean(axis=1))
    assert not np.array_equal(a, agreement.bootstrap_means(x, 200, seeds.keyed_seed(42, "x")))
