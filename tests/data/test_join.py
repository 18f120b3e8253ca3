"""The HQ dataset joined to hq.csv by content (:mod:`emonet.data.join`): the replica's rows
match its hq.csv images one to one, and what cannot be matched is counted (and stops the join
above a threshold)."""

import numpy as np
import pytest

from emonet.data import hub, join
from emonet.data.registry import DataError
from emonet.hq import panel
from emonet.model_vs_experts import joined


def test_hq_rows_join_hq_csv_by_the_experts_ratings(replica_data):
    labels = hub.hq_expert_ratings(str(replica_data.root / "hq"))
    experts = panel.read_hq(replica_data.root / "hq.csv")
    mapping, coverage = join.join_by_ratings(labels.ratings, joined.expert_ratings(experts), "hq")
    assert len(mapping) == 40 and mapping.is_unique
    counts = coverage.set_index("what")["count"]
    assert counts["matched to one hq.csv image"] == 40 and counts.iloc[2:].sum() == 0
    # the planted repeated expert row is averaged on both sides, so its image still matches
    assert replica_data.planted["expert_image"] in set(mapping)
    prompts = hub.load_hf_hq(str(replica_data.root / "hq")).frame(["prompt"])["prompt"]
    names = replica_data.faces["hq"].table.set_index("prompt")["id"]
    assert all(mapping[i] == f"hq/{names[prompts[i]]}.png" for i in mapping.index)


def test_join_counts_what_it_cannot_match_and_stops_above_the_threshold():
    a, b = np.eye(40)[0] * 3, np.eye(40)[1] * 5
    images = {"x.png": {"human-1": a}, "y.png": {"human-2": b}, "z.png": {"human-2": b}}
    rows = {"r0": {"human-1": a}, "r1": {"human-1": a}, "r2": {"human-2": b}, "r3": {"human-3": a}}
    with pytest.raises(
        DataError,
        match=r"hq: 3 of 4 rows have no unique hq.csv image .* e.g. "
        r"row r3 \(unmatched\): human-3: Amusement 3",
    ):
        join.join_by_ratings(rows, images, "hq")
    mapping, coverage = join.join_by_ratings(rows, images, "hq", max_unmatched=0.75)
    assert mapping.to_dict() == {"r0": "x.png"}
    assert coverage["count"].tolist() == [4, 1, 1, 1, 1, 2]
    assert coverage["share"].iloc[-1] == pytest.approx(2 / 3)
