"""The registry of the authors' files (:mod:`emonet.data.registry`): resolution (mirror, then
cache, then a verified download), the mappings derived from the authors' config, and every
checksum, size and setting error, with the content of each message asserted."""

import hashlib
import json

import pytest

from emonet.data import loaders, registry
from emonet.data.registry import DataError, RemoteFile
from tests.helpers import BINARY_CSV


@pytest.fixture
def fake_entry(monkeypatch, tmp_path):
    """A registry entry for a small file, with its content."""
    content = BINARY_CSV.encode()
    entry = RemoteFile(
        "fake.csv", "data/fake.csv", size=len(content), sha256=hashlib.sha256(content).hexdigest()
    )
    monkeypatch.setitem(registry.REGISTRY, "fake.csv", entry)
    return entry, content


def test_mirror_wins_over_cache(monkeypatch, tmp_path, fake_entry):
    entry, content = fake_entry
    (tmp_path / "m").mkdir()
    (tmp_path / "m" / "fake.csv").write_bytes(content)
    monkeypatch.setenv("EMONET_DATA_DIR", str(tmp_path / "m"))
    assert registry.fetch("fake.csv") == tmp_path / "m" / "fake.csv"


def test_cache_used_when_mirror_lacks_file(monkeypatch, tmp_path, fake_entry):
    entry, content = fake_entry
    (tmp_path / "m").mkdir()
    monkeypatch.setenv("EMONET_DATA_DIR", str(tmp_path / "m"))
    cached = registry.cache_dir() / "fake.csv"
    cached.parent.mkdir(parents=True, exist_ok=True)
    cached.write_bytes(content)
    assert registry.fetch("fake.csv") == cached


def test_download_verified_and_cached(monkeypatch, http_folder, fake_entry):
    entry, content = fake_entry
    folder, base = http_folder
    (folder / "data").mkdir()
    (folder / "data" / "fake.csv").write_bytes(content)
    monkeypatch.setattr(registry, "RAW_URL", base + "/{path}")
    monkeypatch.delenv("EMONET_DATA_DIR", raising=False)
    path = registry.fetch("fake.csv")
    assert path == registry.cache_dir() / "fake.csv" and path.read_bytes() == content
    assert loaders.load_binary(path)["emotion"].tolist() == ["Anger", "Fear"]
    (folder / "data" / "fake.csv").unlink()  # second call: from the cache, no network
    assert registry.fetch("fake.csv") == path


def test_download_with_wrong_content_is_rejected(monkeypatch, http_folder, fake_entry):
    entry, content = fake_entry
    folder, base = http_folder
    (folder / "data").mkdir()
    (folder / "data" / "fake.csv").write_bytes(content.replace(b"Anger", b"Fear!"))
    monkeypatch.setattr(registry, "RAW_URL", base + "/{path}")
    monkeypatch.delenv("EMONET_DATA_DIR", raising=False)
    with pytest.raises(DataError, match="fake.csv.*failed verification"):
        registry.fetch("fake.csv")
    assert not list(registry.cache_dir().glob("fake.csv*"))  # nothing half-written left behind


def test_download_of_git_blob_pinned_file(monkeypatch, http_folder):
    content = b"image,annotator,human,annotations\n"
    blob = hashlib.sha1(b"blob %d\0" % len(content) + content).hexdigest()
    monkeypatch.setitem(
        registry.REGISTRY, "hq.csv", RemoteFile("hq.csv", "data/hq.csv", git_blob=blob)
    )
    folder, base = http_folder
    (folder / "data").mkdir()
    (folder / "data" / "hq.csv").write_bytes(content)
    monkeypatch.setattr(registry, "RAW_URL", base + "/{path}")
    monkeypatch.delenv("EMONET_DATA_DIR", raising=False)
    assert registry.fetch("hq.csv").read_bytes() == content
    (registry.cache_dir() / "hq.csv").write_bytes(content + b"x")
    with pytest.raises(
        DataError,
        match=r"corrupt \(git blob id [0-9a-f]{12}\.\.\., expected [0-9a-f]{12}\.\.\.\) for hq.csv",
    ):
        registry.fetch("hq.csv")


def test_unreachable_download_names_the_way_out(monkeypatch, fake_entry):
    monkeypatch.setattr(registry, "RAW_URL", "http://127.0.0.1:9/{path}")  # discard port: refused
    monkeypatch.delenv("EMONET_DATA_DIR", raising=False)
    with pytest.raises(DataError, match="could not download fake.csv.*EMONET_DATA_DIR"):
        registry.fetch("fake.csv")


def config_py(mappings: dict) -> str:
    """An ``eval/config.py`` in the shape the mappings file was converted from."""
    labels = {int(k): v for k, v in mappings["affectnet_label_index"].items()}
    return (
        f"import os\nferd_mapping = {mappings['ferd']!r}\n"
        f"affectnet_mapping = {mappings['affectnet']!r}\nlabels = {labels!r}\n"
        "model_dir = os.path.join('x', 'y')\n"
    )


def test_the_mappings_are_derived_from_the_authors_config_and_verified(
    mirror, monkeypatch, http_folder
):
    folder, base = http_folder
    original = (mirror / "basic_emotion_mappings.json").read_bytes()
    mappings = json.loads(original)
    (folder / "eval").mkdir()
    (folder / "eval" / "config.py").write_text(config_py(mappings))
    monkeypatch.setattr(registry, "RAW_URL", base + "/{path}")
    monkeypatch.delenv("EMONET_DATA_DIR", raising=False)
    path = registry.fetch("basic_emotion_mappings.json")
    assert path.read_bytes() == original and path.parent == registry.cache_dir()
    path.unlink()
    mappings["ferd"]["model_awe_best"] = "happy"  # upstream changed: the pin catches it
    (folder / "eval" / "config.py").write_text(config_py(mappings))
    with pytest.raises(DataError, match="derived from .*config.py does not match its pin"):
        registry.fetch("basic_emotion_mappings.json")
    assert not path.exists()


def test_bad_mirror_setting(monkeypatch, tmp_path):
    monkeypatch.setenv("EMONET_DATA_DIR", str(tmp_path / "nope"))
    with pytest.raises(DataError, match="is not a folder"):
        registry.fetch("guide.json")
    with pytest.raises(DataError, match="unknown data file 'nope.csv'"):
        registry.fetch("nope.csv")


def test_wrong_checksum(monkeypatch, tmp_path, fake_entry):
    entry, content = fake_entry
    (tmp_path / "m").mkdir()
    (tmp_path / "m" / "fake.csv").write_bytes(content.replace(b"Fear", b"Awe!"))
    monkeypatch.setenv("EMONET_DATA_DIR", str(tmp_path / "m"))
    with pytest.raises(
        DataError,
        match=r"m/fake.csv: corrupt \(sha256 [0-9a-f]{12}\.\.\., "
        r"expected " + entry.sha256[:12],
    ):
        registry.fetch("fake.csv")


def test_truncated_registry_file(monkeypatch, tmp_path, fake_entry):
    entry, content = fake_entry
    (tmp_path / "m").mkdir()
    (tmp_path / "m" / "fake.csv").write_bytes(content[:-10])
    monkeypatch.setenv("EMONET_DATA_DIR", str(tmp_path / "m"))
    with pytest.raises(
        DataError,
        match=rf"truncated \({len(content) - 10} of "
        rf"{len(content)} bytes\)",
    ):
        registry.fetch("fake.csv")


def test_empty_registry_file(monkeypatch, tmp_path, fake_entry):
    (tmp_path / "m").mkdir()
    (tmp_path / "m" / "fake.csv").write_bytes(b"")
    monkeypatch.setenv("EMONET_DATA_DIR", str(tmp_path / "m"))
    with pytest.raises(DataError, match=r"truncated \(0 bytes\)"):
        registry.fetch("fake.csv")
