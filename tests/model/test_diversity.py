"""The diversity statistics against the authors' computation (scikit-learn's cosine similarity
matrix, its upper triangle) and direct loops over pairs, on random embeddings and labels."""

import itertools

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.metrics.pairwise import cosine_similarity

from emonet.data import demographics, taxonomy
from emonet.model import diversity


def random_set(seed: int, n: int, d: int, shared: float = 1.0):
    """``n`` embeddings of ``d`` dimensions (a shared direction plus noise, so the similarities
    are far from 0) and random prompt slots."""
    rng = np.random.default_rng(seed)
    x = shared * rng.normal(size=d) + rng.normal(size=(n, d)) * rng.uniform(0.2, 3.0, (n, 1))
    labels = pd.DataFrame(
        {
            "emotion": rng.choice(taxonomy.EMOTIONS[:6], n),
            "ethnicity": rng.choice(demographics.ETHNICITIES[:5], n),
            "age": rng.choice(demographics.AGES[:3], n),
            "gender": rng.choice(demographics.GENDERS, n),
        }
    )
    return x, diversity.labels_table(labels)


def authors_pairs(x: np.ndarray) -> np.ndarray:
    """The authors' ``upper_tri_sims``: the upper triangle of scikit-learn's matrix."""
    sims = cosine_similarity(x)
    return sims[np.triu_indices_from(sims, k=1)]


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 10_000), st.integers(0, 40), st.integers(1, 30))
def test_pair_stats_equal_a_loop_over_the_pairs(seed, n, d):
    x, _ = random_set(seed, n, d)
    u = diversity.unit_rows(x, list(range(n)))
    pairs, mean, sd = diversity.pair_stats(u)
    dots = [float(u[i] @ u[j]) for i, j in itertools.combinations(range(n), 2)]
    assert pairs == len(dots)
    if dots:
        assert mean == pytest.approx(np.mean(dots), abs=1e-12)
    else:
        assert np.isnan(mean)
    if len(dots) > 1:
        assert sd == pytest.approx(np.std(dots, ddof=1), abs=1e-9)
    else:
        assert np.isnan(sd)


@settings(max_examples=25, deadline=None)
@given(
    st.integers(0, 10_000),
    st.integers(2, 80),
    st.sampled_from([3, 16, 64, 200]),
    st.sampled_from([0.0, 1.0, 5.0]),
)
def test_group_similarity_equals_the_authors_upper_triangle(seed, n, d, shared):
    x, labels = random_set(seed, n, d, shared)
    table = diversity.group_similarity(diversity.unit_rows(x, list(range(n))), labels)
    everything = table.iloc[0]
    reference = authors_pairs(x)
    assert everything["grouping"] == "all" and everything["pairs"] == len(reference)
    assert everything["mean"] == pytest.approx(reference.mean(), abs=1e-9)
    if len(reference) > 1:
        assert everything["sd"] == pytest.approx(reference.std(ddof=1), abs=1e-7)
    else:
        assert np.isnan(everything["sd"])
    for name, columns in diversity.GROUPINGS.items():
        rows = table[table["grouping"] == name].set_index("group")
        for key, part in labels.groupby(list(columns)):
            key = key if isinstance(key, tuple) else (key,)
            row = rows.loc[" / ".join(map(str, key))]
            sims = authors_pairs(x[part.index]) if len(part) > 1 else np.array([])
            assert row["images"] == len(part) and row["pairs"] == len(sims)
            if len(sims):
                assert row["mean"] == pytest.approx(sims.mean(), abs=1e-9)
            else:
                assert np.isnan(row["mean"])
            if len(sims) > 1:
                assert row["sd"] == pytest.approx(sims.std(ddof=1), abs=1e-7)
            else:
                assert np.isnan(row["sd"])
        assert rows["images"].sum() == n


def test_sd_stays_right_for_nearly_identical_embeddings():
    rng = np.random.default_rng(1)
    x = np.ones(64) + 1e-3 * rng.normal(size=(300, 64))  # similarities all near 1
    table = diversity.group_similarity(
        diversity.unit_rows(x, list(range(300))), random_set(0, 300, 2)[1]
    )
    reference = authors_pairs(x)
    assert table.iloc[0]["sd"] == pytest.approx(reference.std(ddof=1), rel=1e-6)


def test_grouping_summary_pools_the_pairs():
    x, labels = random_set(3, 60, 8)
    table = diversity.group_similarity(diversity.unit_rows(x, list(range(60))), labels)
    summary = diversity.grouping_summary(table).set_index("grouping")
    for name, columns in diversity.GROUPINGS.items():
        pooled = np.concatenate(
            [
                authors_pairs(x[part.index])
                for _, part in labels.groupby(list(columns))
                if len(part) > 1
            ]
        )
        assert summary.loc[name, "pairs"] == len(pooled)
        assert summary.loc[name, "mean"] == pytest.approx(pooled.mean())
    assert list(summary.index) == ["all", *diversity.GROUPINGS]


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 10_000), st.integers(1, 30))
def test_cross_similarity_equals_a_loop(seed, n):
    x, labels = random_set(seed, n, 12)
    u = diversity.unit_rows(x, list(range(n)))
    heat = diversity.cross_similarity(u, labels["ethnicity"])
    assert list(heat.index) == sorted(labels["ethnicity"].unique())
    for a, b in itertools.product(heat.index, repeat=2):
        ia, ib = np.flatnonzero(labels["ethnicity"] == a), np.flatnonzero(labels["ethnicity"] == b)
        values = [float(u[i] @ u[j]) for i in ia for j in ib if i != j]
        if values:
            assert heat.loc[a, b] == pytest.approx(np.mean(values), abs=1e-9)
        else:
            assert np.isnan(heat.loc[a, b])


def test_duplicates_are_found_and_across_roles_flagged():
    x, _ = random_set(0, 10, 6)
    x = x.astype(np.float32)
    x[7] = x[2]
    x[9] = x[2]
    x[5] = x[4]
    ids = [f"img{i}" for i in range(10)]
    roles = ["big"] * 5 + ["hq"] * 5
    dups = diversity.duplicates(x, ids, roles)
    assert dups.to_dict("records") == [
        {"images": 3, "ids": "img2, img7, img9", "roles": "big, hq, hq", "across_roles": True},
        {"images": 2, "ids": "img4, img5", "roles": "big, hq", "across_roles": True},
    ]
    x[5] = np.nextafter(x[4], np.inf)  # one ulp apart: not identical
    assert len(diversity.duplicates(x, ids, ["big"] * 10)) == 1
    assert diversity.duplicates(x[:2], ids[:2], roles[:2]).empty


def test_clear_errors():
    x = np.ones((3, 4))
    x[1] = 0
    with pytest.raises(
        diversity.DiversityError,
        match="image 'b': its embedding has no "
        r"direction .*1 such image",
    ):
        diversity.unit_rows(x, ["a", "b", "c"])
    with pytest.raises(diversity.DiversityError, match=r"lack column\(s\) \['gender'\]"):
        diversity.labels_table(pd.DataFrame({"emotion": [], "ethnicity": [], "age": []}))
    bad = pd.DataFrame(
        {"emotion": ["Anger", "Glee"], "ethnicity": "White", "age": 20, "gender": "man"}
    )
    with pytest.raises(diversity.DiversityError, match="row 1: unknown emotion 'Glee'"):
        diversity.labels_table(bad)


def test_the_heat_map_cell():
    labels = diversity.labels_table(
        pd.DataFrame(
            {
                "emotion": ["Anger"] * 4 + ["Fear"] * 3,
                "ethnicity": ["White", "Asian", "Asian", "Asian", "White", "Indian", "Asian"],
                "age": [20] * 4 + [30] * 3,
                "gender": "man",
            }
        )
    )
    assert diversity.pick_cell(labels) == (30, "man", "Fear")  # three strings beat four images
    assert diversity.pick_cell(labels.iloc[:5]) == (20, "man", "Anger")  # then the most images
    assert diversity.pick_cell(labels, [20, "man", "Anger"]) == (20, "man", "Anger")
    assert diversity.in_cell(labels, (20, "man", "Anger")).tolist() == [True] * 4 + [False] * 3
    with pytest.raises(diversity.DiversityError, match=r"\[40, 'man', 'Fear'\] holds no image"):
        diversity.pick_cell(labels, [40, "man", "Fear"])
