"""The blind study's top-k lists and their overlap against random pairings, against direct loops."""

import matplotlib
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from emonet.hq import panel
from emonet.model_vs_experts import top_k
from tests.helpers import small_panel, wide

matplotlib.use("Agg")


def _reference_lists(values, k, seed):
    """The compare view's lists by a direct loop: per image, categories sorted by value (high
    first) then by the same uniform keys :func:`top_k_sets` draws; the first k non-zero."""
    keys = np.random.default_rng(seed).random(values.shape)
    return [
        {j for j in sorted(range(40), key=lambda j: (-row[j], key[j]))[:k] if row[j] != 0}
        for row, key in zip(values, keys)
    ]


@settings(max_examples=60, deadline=None)
@given(
    arrays(np.float64, (4, 40), elements=st.sampled_from([0.0, 0.0, 1.0, 2.5, 7.0])),
    st.integers(1, 8),
    st.integers(0, 1000),
)
def test_top_k_sets_list_the_k_highest_non_zero_with_seeded_random_ties(values, k, seed):
    sets, tie = top_k.top_k_sets(values, k, np.random.default_rng(seed))
    for row, got, ref, flagged in zip(values, sets, _reference_lists(values, k, seed), tie):
        assert set(np.flatnonzero(got)) == ref
        ranked = np.sort(row)[::-1]
        assert flagged == (ranked[k - 1] == ranked[k] != 0)


def test_top_k_ties_are_broken_at_random_not_in_canonical_order():
    values = np.zeros((400, 40))
    values[:, [3, 10, 20, 30, 35, 38]] = [6, 6, 6, 6, 6, 6]  # six tied, five listed
    sets, tie = top_k.top_k_sets(values, 5, np.random.default_rng(0))
    assert tie.all() and (sets.sum(axis=1) == 5).all()
    left_out = (~sets[:, [3, 10, 20, 30, 35, 38]]).mean(axis=0)
    assert (left_out > 0.1).all()  # each tied category is left out about a sixth of the time
    few = np.zeros((1, 40))
    few[0, [1, 2]] = [3.0, 1.0]
    short, _ = top_k.top_k_sets(few, 5, np.random.default_rng(0))
    assert np.flatnonzero(short[0]).tolist() == [1, 2]  # fewer than 5 non-zero: fewer listed


@settings(max_examples=30, deadline=None)
@given(
    arrays(np.float64, (6, 40), elements=st.sampled_from([0.0, 1.0, 2.5, 7.0])),
    arrays(np.float64, (6, 40), elements=st.floats(0, 7)),
    st.integers(1, 6),
    st.integers(0, 100),
)
def test_overlap_and_its_permutation_null_equal_direct_loops(a, b, k, seed):
    table, first, second = top_k.top_k_overlap(wide(a), wide(b), k=k, seed=seed)
    assert (table["overlap"] == (first & second).sum(axis=1)).all()
    assert (table["n_model"] <= k).all() and (table["n_human"] <= k).all()
    test = top_k.overlap_null(first, second, n_perm=50, seed=seed)
    lists = [set(np.flatnonzero(x)) for x in first], [set(np.flatnonzero(x)) for x in second]
    pairs = [len(x & y) for x in lists[0] for y in lists[1]]
    assert test["mean"] == pytest.approx(table["overlap"].mean())
    assert test["chance_mean"] == pytest.approx(np.mean(pairs))
    np.testing.assert_allclose(
        test["chance_shares"][: max(pairs) + 1], np.bincount(pairs) / len(pairs)
    )
    perms = np.random.default_rng(seed).permuted(np.tile(np.arange(6), (50, 1)), axis=1)
    null = [np.mean([len(lists[0][i] & lists[1][j]) for i, j in enumerate(perm)]) for perm in perms]
    assert test["p"] == pytest.approx((1 + sum(n >= test["mean"] - 1e-12 for n in null)) / 51)


def test_overlap_chance_tables_the_permutation_null():
    overlap = pd.Series([5, 0, 1, 1])
    table = top_k.overlap_chance(overlap, np.array([0.5, 0.3, 0.2]), 0.7)
    table = table.set_index("overlap")
    assert table.index.tolist() == ["0", "1", "2", "3", "4", "5", "mean"]
    assert table.loc[["0", "1", "2", "3"], "chance_share"].tolist() == [0.5, 0.3, 0.2, 0.0]
    assert table.loc["mean", "chance_share"] == 0.7
    assert table.loc["mean", "observed_share"] == pytest.approx(7 / 4)


def test_expert_top_k_overlap_by_hand():
    p = small_panel(n_images=6, seed=4, experts=3, per_image=3)
    ratings = p.ratings + np.random.default_rng(0).uniform(0.01, 0.2, p.ratings.shape)
    p = panel.Panel(ratings, p.annotators, p.human, p.groups, p.images)  # no ties anywhere
    overlap, chance = top_k.expert_top_k_overlap(p, k=5)
    assert len(overlap) == 18

    def best(v):
        return set(sorted(range(40), key=lambda j: -v[j])[:5])

    a, i = 1, 2
    others = np.median(p.ratings[[0, 2], i], axis=0)
    assert overlap.loc[("human-2", "img02")] == len(best(p.ratings[a, i]) & best(others))
    direct = []
    for a in range(3):
        own = [best(p.ratings[a, i]) for i in range(6)]
        med = [best(np.median(np.delete(p.ratings[:, i], a, axis=0), axis=0)) for i in range(6)]
        direct += [np.mean([len(x & y) for x in own for y in med])] * 6
    assert chance == pytest.approx(np.mean(direct))
