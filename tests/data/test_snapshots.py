"""Hub artefacts pinned by revision (:mod:`emonet.data.snapshots`): refused offline without
their revision, checked after download, and the sources table of a build."""

import shutil

import pytest

from emonet.data import hub, snapshots
from emonet.data.registry import DataError
from emonet.rehearsal import hubcache


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
        "note": ["no Hugging Face artefacts in this build"]
    }


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
