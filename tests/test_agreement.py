"""Krippendorff's alpha and the unit bootstrap against the reference package and hand checks."""

import krippendorff
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from emonet import agreement

# (raters, units) arrays with values 0..3 and NaN = not rated
ratings_arrays = arrays(
    float, st.tuples(st.integers(2, 6), st.integers(2, 25)),
    elements=st.sampled_from([0.0, 1.0, 2.0, 3.0, np.nan]))


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
    assert agreement.krippendorff_alpha(counts=counts, values=values) == pytest.approx(ours,
                                                                                       abs=1e-12)


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
    data = np.array([
        [1, 2, 3, 3, 2, 1, 4, 1, 2, nan, nan, nan],
        [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, nan, 3],
        [nan, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, nan],
        [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, nan]])
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
        agreement.unit_coincidences(counts).sum(axis=-3), agreement.distance([0, 1]))
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
