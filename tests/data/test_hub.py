"""The Hugging Face datasets in their published schemas (the rehearsal's replicas), hub artefacts
pinned by revision and checked after download, and the HQ dataset joined to hq.csv by content."""

import shutil

import numpy as np
import pandas as pd
import pytest

from emonet.binary import protocol
from emonet.data import hub, join, snapshots, taxonomy
from emonet.data.registry import DataError
from emonet.hq import panel
from emonet.model import training
from emonet.model_vs_experts import joined
from emonet.rehearsal import hubcache


def test_hq_rows_are_named_by_position_and_classlabels_map_through_their_names(
        replica_data, offline_hub):
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
        truth["emotion"])
    assert hq.snapshot.record()["pinned"] == "yes (commit hash)"


def test_a_source_without_its_revision_is_refused_offline(replica_data, offline_hub):
    """The replica cache holds no branch: code that dropped the pin could not read it."""
    offline_hub(replica_data.hub)
    with pytest.raises(DataError, match="cannot fetch dataset emonet-replica/emonet-face-hq "):
        hub.load_hf_hq("emonet-replica/emonet-face-hq")
    with pytest.raises(DataError, match="neither an existing file or folder nor"):
        snapshots.parse("not a repo id", "model")
    assert snapshots.parse("a/b@main", "model") == snapshots.HubRef("a/b", "model", "main")
    assert not snapshots.parse("a/b@main", "model").pinned
    assert snapshots.short("a/b@" + "f" * 40) == "a/b@" + "f" * 12


def test_the_sources_table_skips_what_was_not_read(replica_data, offline_hub, tmp_path):
    cache = tmp_path / "hub"
    shutil.copytree(replica_data.hub, cache, symlinks=True)
    offline_hub(cache)
    snapshot = snapshots.fetch(snapshots.parse(replica_data.source("big"), "dataset"))
    table = snapshots.sources_table([None, snapshot, None])
    assert len(table) == 1 and table.iloc[0].to_dict() == snapshot.record()
    assert snapshots.sources_table([None]).to_dict("list") == {
        "note": ["no Hugging Face artefacts in this build"]}


def test_files_are_checked_after_download(replica_data, offline_hub, tmp_path):
    cache = tmp_path / "hub"
    shutil.copytree(replica_data.hub, cache, symlinks=True)
    offline_hub(cache)
    ref = snapshots.parse(replica_data.source("big"), "dataset")
    checked = snapshots.fetch(ref).files
    assert set(checked["checked_against"]) == {"hub tree listing"}
    parquet = checked.loc[checked["file"].str.endswith(".parquet")].iloc[0]
    assert len(parquet["expected"]) == 64  # an LFS file: its content's SHA-256
    storage = hubcache.repo_folder(cache, ref.repo_id, "dataset")
    (storage / "trees" / f"{ref.revision}.json").unlink()
    assert set(snapshots.fetch(ref).files["checked_against"]) == {"cache blob name"}
    blob = storage / "blobs" / parquet["expected"]
    blob.chmod(0o644)
    with open(blob, "ab") as fh:
        fh.write(b"x")
    with pytest.raises(DataError, match=r"data/train-00000-of-00001.parquet is corrupt \(sha256"):
        snapshots.fetch(ref)
    readme = storage / "snapshots" / ref.revision / "README.md"
    text = readme.read_text()
    readme.unlink()
    readme.write_text(text)  # a plain file, no listing: nothing to check it against
    with pytest.raises(DataError, match="README.md cannot be checked"):
        snapshots.verify(ref, ref.revision, storage / "snapshots" / ref.revision)


def test_binary_votes_from_the_label_lists(replica_data):
    binary, votes = hub.load_hf_binary(str(replica_data.root / "binary"))
    assert binary.image_column == "path" and list(votes.columns) == [
        "image", "annotator", "value", "emotion", "line"]
    assert votes["annotator"].str.match(r"human-\d$").all()
    assert set(votes["image"]) == set(binary.ids)
    item_table = protocol.items(votes)  # the sequential protocol: two categories per image
    assert (item_table.groupby("image").size() == 2).all()
    assert item_table["n_ratings"].max() <= 3
    target, weight = training.vote_targets(votes, binary.ids, 6.0)
    assert target.shape == (40, 40) and weight.sum() == len(votes)


def test_binary_answers_that_are_not_yes_or_no_name_the_row(tmp_path):
    from datasets import Dataset

    Dataset.from_dict({"image": [{"bytes": b"x", "path": None}] * 2, "label": [
        "[{'human-1': {'Anger': True}}]", "[{'human-1': {'Anger': 'maybe'}}]"]}).to_parquet(
        str(tmp_path / "b.parquet"))
    with pytest.raises(DataError, match=r"b.parquet row 1, field 'label': human-1's answer on "
                                        r"'Anger' is 'maybe'"):
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
    np.testing.assert_allclose(hub.parse_annotations(
        [{"Anger": 2}, {"Anger": 4}], "x")[taxonomy.INDEX["Anger"]], 3.0)


def test_hq_rows_join_hq_csv_by_the_experts_ratings(replica_data):
    labels = hub.hq_expert_ratings(str(replica_data.root / "hq"))
    experts = panel.read_hq(replica_data.root / "hq.csv")
    mapping, coverage = join.join_by_ratings(labels.ratings,
                                             joined.expert_ratings(experts), "hq")
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
    rows = {"r0": {"human-1": a}, "r1": {"human-1": a}, "r2": {"human-2": b},
            "r3": {"human-3": a}}
    with pytest.raises(DataError, match=r"hq: 3 of 4 rows have no unique hq.csv image .* e.g. "
                                        r"row r3 \(unmatched\): human-3: Amusement 3"):
        join.join_by_ratings(rows, images, "hq")
    mapping, coverage = join.join_by_ratings(rows, images, "hq", max_unmatched=0.75)
    assert mapping.to_dict() == {"r0": "x.png"}
    assert coverage["count"].tolist() == [4, 1, 1, 1, 1, 2]
    assert coverage["share"].iloc[-1] == pytest.approx(2 / 3)


def test_a_repeated_rater_in_a_label_is_averaged(tmp_path):
    from datasets import Dataset

    key = taxonomy.family_key("Anger")
    labels = [repr([{"human-1": {key: 2}}, {"human-1": {key: 4}, }, {"human-2": {"Mood|Joy": 1}}])]
    Dataset.from_dict({"image": [{"bytes": b"x", "path": None}], "label": labels}).to_parquet(
        str(tmp_path / "hq.parquet"))
    ratings = hub.hq_expert_ratings(str(tmp_path / "hq.parquet"))
    assert ratings.ratings["hq-000000"]["human-1"][taxonomy.INDEX["Anger"]] == 3.0
    assert ratings.unknown_keys.to_dict("records") == [{"key": "Mood|Joy", "rows": 1}]
    assert pd.Series(ratings.ratings["hq-000000"]["human-2"]).sum() == 0
