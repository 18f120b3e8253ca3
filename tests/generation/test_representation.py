"""Who is represented: the authors' FairFace mapping covers the 14 strings once each, and every
share and spread equals a direct count (pandas crosstab, pandas ``var`` as the authors compute
it, a loop) on random image tables."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from emonet.data import demographics, taxonomy
from emonet.data.registry import DataError
from emonet.generation import representation


def test_the_authors_mapping_covers_each_string_once():
    members = [s for group in demographics.FAIRFACE_GROUPS.values() for s in group]
    assert sorted(members) == sorted(demographics.ETHNICITIES) and len(set(members)) == 14
    assert demographics.FAIRFACE_OF["South Asian"] == "Indian"
    assert demographics.FAIRFACE_OF["Native Hawaiian or Other Pacific Islander"] == "AI/AN-NHPI"
    assert len(demographics.FAIRFACE_GROUPS) == 8


def random_images(seed: int, n: int, n_strings: int) -> pd.DataFrame:
    """``n`` images with random emotions and one of ``n_strings`` ethnicity strings."""
    rng = np.random.default_rng(seed)
    strings = rng.choice(demographics.ETHNICITIES, n_strings, replace=False)
    return pd.DataFrame(
        {"ethnicity": rng.choice(strings, n), "emotion": rng.choice(taxonomy.EMOTIONS, n)}
    )


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 10_000), st.integers(1, 300), st.integers(1, 14))
def test_shares_and_spreads_equal_a_direct_count(seed, n, n_strings):
    frame = random_images(seed, n, n_strings)
    groups, families = representation.represented({"s": frame})
    group = frame["ethnicity"].map(demographics.FAIRFACE_OF)
    family = frame["emotion"].map(taxonomy.FAMILY_OF)
    for row in groups.itertuples():
        assert row.images == (group == row.group).sum()
        assert row.share == pytest.approx((group == row.group).mean())
    # the authors: counts by group and family, shares within each group, pandas' var per group
    freq = pd.crosstab(group, family)
    authors = (
        freq.div(freq.sum(axis=1), axis=0)
        .reindex(columns=taxonomy.FAMILIES, fill_value=0.0)
        .var(axis=1)
    )
    by_group = groups.set_index("group")
    for name, variance in authors.items():
        assert by_group.loc[name, "authors_variance"] == pytest.approx(variance)
    for name in set(representation.GROUPS) - set(authors.index):
        assert np.isnan(by_group.loc[name, "authors_variance"])
        assert np.isnan(by_group.loc[name, "tv_from_even"])
    for name in authors.index:
        inside = family[group == name]
        distance = 0.0
        for f in taxonomy.FAMILIES:
            even = sum(taxonomy.FAMILY_OF[e] == f for e in taxonomy.EMOTIONS) / 40
            share = (inside == f).mean()
            distance += abs(share - even) / 2
            got = families[(families["group"] == name) & (families["family"] == f)]
            assert got["share"].item() == pytest.approx(share)
            assert got["images"].item() == (inside == f).sum()
        assert by_group.loc[name, "tv_from_even"] == pytest.approx(distance)


def test_an_even_design_is_zero_from_even_and_one_family_is_far():
    even = pd.DataFrame(
        {"ethnicity": "Black or African American", "emotion": list(taxonomy.EMOTIONS) * 3}
    )
    groups, _ = representation.represented({"even": even})
    assert groups.set_index("group").loc["Black", "tv_from_even"] == pytest.approx(0.0)
    one = even.assign(emotion="Concentration")  # all Cognitive States and Processes
    far = representation.represented({"one": one})[0].set_index("group").loc["Black"]
    assert far["tv_from_even"] == pytest.approx(1 - 2 / 40)


@settings(max_examples=20, deadline=None)
@given(st.integers(0, 10_000), st.integers(2, 200))
def test_strings_by_emotion_equals_a_loop(seed, n):
    frame = random_images(seed, n, 14)
    table = representation.strings_by_emotion(frame).set_index("group")
    for group, members in demographics.ETHNICITY_GROUPS.items():
        if len(members) < 2:
            assert group not in table.index
            continue
        inside = frame[frame["ethnicity"].isin(members)]
        emotions = single = 0
        for _, images in inside.groupby("emotion"):
            if len(images) > 1:
                emotions += 1
                single += images["ethnicity"].nunique() == 1
        assert table.loc[group, "emotions"] == emotions
        assert table.loc[group, "single_string"] == single


def test_strings_tied_to_emotions_are_named():
    tied = pd.DataFrame(
        {
            "ethnicity": ["Asian", "Asian", "Southeast Asian", "Southeast Asian"],
            "emotion": ["Anger", "Anger", "Fear", "Fear"],
        }
    )
    named = representation.single_string_groups(representation.strings_by_emotion(tied))
    assert named == ["East & Southeast Asian"]
    mixed = tied.assign(emotion="Anger")
    assert representation.single_string_groups(representation.strings_by_emotion(mixed)) == []


def test_an_unknown_string_names_its_row():
    frame = pd.DataFrame({"ethnicity": ["Asian", "martian"], "emotion": ["Anger", "Anger"]})
    with pytest.raises(DataError, match=r"src row 1: ethnicity 'martian' .*\(1 such rows\)"):
        representation.represented({"src": frame})
    with pytest.raises(DataError, match=r"src row 0: emotion 'Glee'"):
        representation.represented({"src": frame.assign(ethnicity="Asian", emotion="Glee")})


def test_the_extremes_name_every_tied_group():
    groups = pd.DataFrame({"group": ["A", "B", "C"], "share": [0.5, 0.25, 0.25]})
    assert representation.extreme_groups(groups, "largest") == (["A"], 0.5)
    assert representation.extreme_groups(groups, "smallest") == (["B", "C"], 0.25)
