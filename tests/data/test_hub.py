"""The Hugging Face datasets read in their published schemas (:mod:`emonet.data.hub`, on the
rehearsal's replicas): rows named by position, Binary's votes, Big's weak labels, and one clear
error for a record that does not fit."""

import numpy as np
import pandas as pd
import pytest

from emonet.binary import protocol
from emonet.data import hub, taxonomy
from emonet.data.registry import DataError
from emonet.model import training


def test_hq_rows_are_named_by_position_and_classlabels_map_through_their_names(
    replica_data, offline_hub
):
    offline_hub(replica_data.hub)
    hq = hub.load_hf_hq(replica_data.source("hq"))
    assert hq.image_column == "path" and len(hq.ids) == 40 and hq.ids[0] == "hq-000000"
    stored = hq.data[0]["path"]["path"]
    assert stored.startswith("tmp") and stored not in set(replica_data.faces["hq"].table["id"])
    assert hq.images[0].startswith(b"\x89PNG")
    names = hq.data.features["ethnicity"].names
    assert names != sorted(names)  # an order of our own would mislabel the rows
    meta = hub.metadata(hq).set_index(hq.frame(["prompt"])["prompt"].to_numpy())
    truth = replica_data.faces["hq"].table.set_index("prompt").loc[meta.index]
    assert list(meta["ethnicity"]) == list(truth["ethnicity"])
    assert list(meta["age"]) == list(truth["age"]) and list(meta["emotion"]) == list(
        truth["emotion"]
    )
    assert hq.snapshot.record()["pinned"] == "yes (commit hash)"


def test_binary_votes_from_the_label_lists(replica_data):
    binary, votes = hub.load_hf_binary(str(replica_data.root / "binary"))
    assert binary.image_column == "path" and list(votes.columns) == [
        "image",
        "annotator",
        "value",
        "emotion",
        "line",
    ]
    assert votes["annotator"].str.match(r"human-\d$").all()
    assert set(votes["image"]) == set(binary.ids)
    item_table = protocol.items(votes)  # the sequential protocol: two categories per image
    assert (item_table.groupby("image").size() == 2).all()
    assert item_table["n_ratings"].max() <= 3
    target, weight = training.vote_targets(votes, binary.ids, 6.0)
    assert target.shape == (40, 40) and weight.sum() == len(votes)


def test_binary_answers_that_are_not_yes_or_no_name_the_row(tmp_path):
    from datasets import Dataset

    Dataset.from_dict(
        {
            "image": [{"bytes": b"x", "path": None}] * 2,
            "label": ["[{'human-1': {'Anger': True}}]", "[{'human-1': {'Anger': 'maybe'}}]"],
        }
    ).to_parquet(str(tmp_path / "b.parquet"))
    with pytest.raises(
        DataError,
        match=r"b.parquet row 1, field 'label': human-1's answer on "
        r"'Anger' is 'maybe'",
    ):
        hub.load_hf_binary(str(tmp_path / "b.parquet"))


def test_big_weak_labels_and_a_record_in_another_form(replica_data, tmp_path):
    big, weak = hub.load_hf_big(str(replica_data.root / "big"))
    assert big.image_column == "image" and weak.shape == (48, 40)
    assert weak.max() <= 7 and (weak > 0).any(axis=1).all()
    with pytest.raises(DataError, match=r"big row 3: annotations must be a dict .*, got int: '5'"):
        hub.parse_annotations(5, "big row 3")
    with pytest.raises(DataError, match=r"unknown emotion 'Angst'.*the record: \"\{'Angst': 2\}"):
        hub.parse_annotations({"Angst": 2}, "big row 1")
    with pytest.raises(DataError, match="row 3: .*outside 0-7"):
        hub.parse_annotations({"Anger": 9}, "big row 3")
    np.testing.assert_allclose(
        hub.parse_annotations([{"Anger": 2}, {"Anger": 4}], "x")[taxonomy.INDEX["Anger"]], 3.0
    )


def test_a_repeated_rater_in_a_label_is_averaged(tmp_path):
    from datasets import Dataset

    key = taxonomy.family_key("Anger")
    labels = [
        repr(
            [
                {"human-1": {key: 2}},
                {
                    "human-1": {key: 4},
                },
                {"human-2": {"Mood|Joy": 1}},
            ]
        )
    ]
    Dataset.from_dict({"image": [{"bytes": b"x", "path": None}], "label": labels}).to_parquet(
        str(tmp_path / "hq.parquet")
    )
    ratings = hub.hq_expert_ratings(str(tmp_path / "hq.parquet"))
    assert ratings.ratings["hq-000000"]["human-1"][taxonomy.INDEX["Anger"]] == 3.0
    assert ratings.unknown_keys.to_dict("records") == [{"key": "Mood|Joy", "rows": 1}]
    assert pd.Series(ratings.ratings["hq-000000"]["human-2"]).sum() == 0
