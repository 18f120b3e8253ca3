"""Balanced prompt design: balance for many sizes, determinism, prompt text, real metadata."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from emonet.data import demographics, hub, taxonomy
from emonet.data.registry import DataError
from emonet.data.taxonomy import UnknownEmotionError
from emonet.generation import prompts
from tests.helpers import GUIDE


def spreads(frame: pd.DataFrame) -> dict[str, int]:
    return dict(zip(*prompts.balance_summary(frame)[["factor", "spread"]].to_numpy().T))


PROVEN = (
    "emotion",
    "emotion x ethnicity group",
    "emotion x age",
    "emotion x gender",
    "emotion x demographic cell",
)


def prefix_spread(labels: np.ndarray, n_levels: int) -> np.ndarray:
    """Max - min count over levels after each prefix of ``labels``: ``(len(labels),)``."""
    counts = np.zeros((len(labels), n_levels), np.int32)
    counts[np.arange(len(labels)), labels] = 1
    counts = counts.cumsum(0)
    return counts.max(1) - counts.min(1)


def test_every_prefix_is_balanced_exhaustively():
    """All sizes 1..2 x 6,720 at once: cells, emotions and emotion x factor within one;
    demographic factors, their pairs and cells within two."""
    cells = prompts.cell_order(2 * prompts.N_CELLS)
    e, g, a, s = cells.T
    flat = np.ravel_multi_index(cells.T, (40, 8, 7, 3))
    # cells: the first 6,720 positions are distinct and the order then repeats
    assert len(np.unique(flat[: prompts.N_CELLS])) == prompts.N_CELLS
    assert (flat[prompts.N_CELLS :] == flat[: prompts.N_CELLS]).all()
    within_one = {
        "emotion": (e, 40),
        "emotion x group": (e * 8 + g, 320),
        "emotion x age": (e * 7 + a, 280),
        "emotion x gender": (e * 3 + s, 120),
    }
    within_two = {
        "group": (g, 8),
        "age": (a, 7),
        "gender": (s, 3),
        "group x age": (g * 7 + a, 56),
        "group x gender": (g * 3 + s, 24),
        "age x gender": (a * 3 + s, 21),
        "demographic cell": ((g * 7 + a) * 3 + s, 168),
    }
    for name, (labels, levels) in within_one.items():
        assert prefix_spread(labels, levels).max() <= 1, name
    for name, (labels, levels) in within_two.items():
        assert prefix_spread(labels, levels).max() <= 2, name


@settings(max_examples=25, deadline=None)
@given(n=st.integers(1, 3000), seed=st.integers(0, 2**32 - 1), k=st.integers(1, 40))
def test_design_balanced_for_any_size_seed_and_subset(n, seed, k):
    emotions = list(taxonomy.EMOTIONS[:k])
    table = prompts.design(n, GUIDE, seed=seed, emotions=emotions)
    assert len(table) == n and table["id"].is_unique
    assert set(table["emotion"]) <= set(emotions)
    spread = spreads(table)
    assert all(spread[f] <= 1 for f in PROVEN), spread
    if k == 40:
        assert max(spread.values()) <= 2, spread
    for group, members in demographics.ETHNICITY_GROUPS.items():  # strings balanced within a group
        counts = table.loc[table["ethnicity_group"] == group, "ethnicity"].value_counts()
        counts = counts.reindex(members, fill_value=0)
        assert counts.max() - counts.min() <= 1


def test_full_rounds_cover_every_cell_equally():
    table = prompts.design(2 * prompts.N_CELLS, GUIDE, seed=3)
    counts = table.groupby(["emotion", "ethnicity_group", "age", "gender"]).size()
    assert len(counts) == prompts.N_CELLS and set(counts) == {2}


def test_same_seed_same_table_other_seed_differs():
    a, b = prompts.design(300, GUIDE, seed=7), prompts.design(300, GUIDE, seed=7)
    pd.testing.assert_frame_equal(a, b)
    assert not a.equals(prompts.design(300, GUIDE, seed=8))


def test_prompt_text_fills_the_slots():
    table = prompts.design(200, GUIDE, seed=1)
    assert list(table.columns) == list(prompts.PROMPT_COLUMNS)
    for row in table.itertuples():
        assert row.ethnicity in row.prompt and f"{row.age} years" in row.prompt
        assert row.gender in row.prompt and row.descriptors in row.prompt
        assert row.ethnicity_group == demographics.GROUP_OF[row.ethnicity]
        assert "{" not in row.prompt
    binary = table[table["template"] == "binary"].iloc[0]
    assert binary.prompt.startswith("a focused close-up photo of a")
    assert binary.prompt.count(binary.descriptors) == 2
    assert "an American Indian" in prompts.TEMPLATES["binary"].format(
        a=prompts._article("American"),
        ethnicity="American Indian",
        gender="man",
        age=20,
        descriptors="x",
    )


def test_descriptors_drop_case_duplicates():
    words = prompts.descriptor_lists(GUIDE)["Anger"]
    assert words == ["anger", "anger feeling", "strong anger"]


def test_slots_match_the_paper():
    assert len(demographics.ETHNICITIES) == 14 == len(set(demographics.ETHNICITIES))
    assert demographics.AGES == (20, 30, 40, 50, 60, 70, 80)
    assert demographics.GENDERS == ("man", "woman", "non-binary person")
    assert prompts.N_CELLS == 40 * 8 * 7 * 3


@pytest.mark.parametrize("n", [0, -5, 2.5, True, "10"])
def test_bad_sizes_raise(n):
    with pytest.raises(prompts.DesignError, match="positive integer"):
        prompts.design(n, GUIDE)


def test_unknown_emotion_and_template_raise():
    with pytest.raises(UnknownEmotionError, match="did you mean 'Anger'"):
        prompts.design(10, GUIDE, emotions=["anger"])
    with pytest.raises(prompts.DesignError, match="unknown template"):
        prompts.design(10, GUIDE, templates=["midjourney"])
    with pytest.raises(prompts.DesignError, match="without repeats"):
        prompts.design(10, GUIDE, emotions=["Anger", "Anger"])


def test_real_metadata_of_the_binary_set(replica_data):
    """The Binary replica (published schema: ClassLabel slots, one row per image) read for its
    balance, as chapter 02 reads the real set."""
    table = replica_data.faces["binary"].table
    meta = hub.load_real_metadata(str(replica_data.root / "binary"), "binary")
    assert len(meta) == len(table) and meta["id"].iloc[0] == "binary-000000"
    assert list(meta["ethnicity"]) == list(table["ethnicity"])
    assert list(meta["age"]) == list(table["age"]) and list(meta["gender"]) == list(table["gender"])
    assert list(meta["emotion"]) == list(table["emotion"])  # Hopelessness read as Helplessness
    panels = prompts.balance_panels(meta)
    assert [t.to_numpy().sum() for t in panels.values()] == [len(table)] * 3
    pd.testing.assert_frame_equal(
        prompts.balance_summary(meta)[1:], prompts.balance_summary(table)[1:]
    )


def test_real_metadata_reports_unknown_levels():
    frame = pd.DataFrame(
        {
            "id": ["a", "b"],
            "age": ["30", "40"],
            "ethnicity": ["Asian", "Martian"],
            "gender": ["man", "woman"],
            "emotion": ["Anger", "Fear"],
        }
    )
    with pytest.raises(
        DataError,
        match=r"field 'ethnicity': 1 image\(s\) with an unknown value, "
        r"e.g. \['Martian'\] \(first at row 1\)",
    ):
        hub.real_metadata(frame, "binary")
    with pytest.raises(DataError, match="lacks column"):
        hub.real_metadata(frame.drop(columns="age"))
    with pytest.raises(DataError, match="row 0, field 'emotion'"):
        hub.real_metadata(frame.assign(ethnicity="Asian", emotion=["Angst", "Fear"]))


@settings(max_examples=12, deadline=None)  # each draws a design of up to 400 rows, twice
@given(n=st.integers(1, 400), seed=st.integers(0, 2**16))
def test_subsets_are_proportional_per_emotion_and_order_free(n, seed):
    table = prompts.design(n, GUIDE, seed=seed)
    subset = prompts.assign_subsets(table, seed=seed)
    assert set(subset) <= set(prompts.SUBSETS)
    for _, roles in subset.groupby(table["emotion"]):
        share = roles.value_counts().reindex(list(prompts.SUBSETS), fill_value=0)
        expected = np.array(list(prompts.SUBSETS.values())) * len(roles)
        assert np.all(np.abs(share.to_numpy() - expected) < 1)
    shuffled = table.sample(frac=1, random_state=seed)
    assert prompts.assign_subsets(shuffled, seed=seed).reindex(table.index).equals(subset)


def test_subsets_reject_bad_fractions_and_duplicate_ids():
    table = prompts.design(40, GUIDE)
    with pytest.raises(prompts.DesignError, match="sum to 1"):
        prompts.assign_subsets(table, {"big": 0.5, "hq": 0.6})
    with pytest.raises(prompts.DesignError, match="duplicate ids"):
        prompts.assign_subsets(pd.concat([table, table.head(1)]))


def test_max_spreads_split_emotion_and_demographic_factors():
    summary = pd.DataFrame(
        {"factor": ["emotion", "emotion x age", "age", "age x gender"], "spread": [1, 2, 0, 3]}
    )
    assert prompts.max_spreads(summary) == (2, 3)


def test_subset_counts():
    table = pd.DataFrame({"emotion": ["Anger"] * 3 + ["Fear"] * 5})
    subsets = pd.Series(["big", "hq", "big", "big", "big", "big", "binary", "hq"])
    counts = prompts.subset_counts(table, subsets)
    assert list(counts.columns) == list(prompts.SUBSETS)
    assert counts.loc["images"].tolist() == [5, 1, 2]
    assert counts.loc["min per emotion"].tolist() == [2, 0, 1]
    assert counts.loc["max per emotion"].tolist() == [3, 1, 1]
    only_big = prompts.subset_counts(table, pd.Series(["big"] * 8))
    assert only_big.loc["images"].tolist() == [8, 0, 0]


def test_examples_and_panel_names():
    design = prompts.design(30, GUIDE, seed=1)
    shown = prompts.examples(design, per_template=1)
    assert list(shown.columns) == ["id", "emotion", "template", "prompt"]
    assert sorted(shown["template"]) == sorted(design["template"].unique())
    assert [prompts.panel_name(t) for t in prompts.balance_panels(design)] == [
        "emotion_by_ethnicity_group",
        "ethnicity_group_by_age",
        "age_by_gender",
    ]


def test_design_is_prefix_stable():
    big = prompts.design(120, GUIDE, seed=5)
    for n in (1, 17, 40, 119):
        pd.testing.assert_frame_equal(prompts.design(n, GUIDE, seed=5), big.head(n))
