"""Registry resolution (mirror -> cache -> download) and every class of bad input, with the
content of each error message asserted."""

import ast
import hashlib
import json
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from emonet.data import loaders, registry, taxonomy
from emonet.data.registry import DataError, RemoteFile

GOOD_CSV = "path,annotator,value,emotion\n00001,human-1,True,Anger\n00001,human-2,False,Fear\n"


def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text)
    return path


# ------------------------------------------------------------------ real files

def test_real_binary(mirror):
    b = loaders.load_binary()
    assert len(b) == 65686 and b["image"].nunique() == 19999 and b["annotator"].nunique() == 7
    assert b["value"].dtype == bool and b["value"].sum() == 37800
    assert list(b["emotion"].cat.categories) == list(taxonomy.EMOTIONS)
    assert "Hopelessness" not in set(b["emotion"]) and (b["emotion"] == "Helplessness").any()
    assert b["image"].str.fullmatch(r"\d{5}").all()


def test_real_model_outputs(mirror):
    f = loaders.load_model_outputs()
    assert f["image"].nunique() == 152 and len(f) == 152 * 44
    assert set(f["gold"]) == set(taxonomy.BASIC_EMOTIONS)
    cats = f[f["is_category"]]
    # softmax is over the 40 category heads: it sums to one per image
    assert cats.groupby("image")["softmax"].sum().sub(1).abs().max() < 1e-5
    assert f.loc[~f["is_category"], "softmax"].isna().all()


def test_real_guide_and_mappings(mirror):
    g = loaders.load_guide()
    assert list(g["emotion"].unique()) == list(taxonomy.EMOTIONS)
    m = loaders.load_basic_mappings()
    assert list(m["ferd"].index) == list(taxonomy.EMOTIONS)
    assert m["affectnet_label_index"][7] == "surprise"


# ------------------------------------------------------------------ resolution order

@pytest.fixture
def fake_entry(monkeypatch, tmp_path):
    """A registry entry for a small file, with its content."""
    content = GOOD_CSV.encode()
    entry = RemoteFile("fake.csv", "data/fake.csv", size=len(content),
                       sha256=hashlib.sha256(content).hexdigest())
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
    monkeypatch.setitem(registry.REGISTRY, "hq.csv", RemoteFile("hq.csv", "data/hq.csv",
                                                            git_blob=blob))
    folder, base = http_folder
    (folder / "data").mkdir()
    (folder / "data" / "hq.csv").write_bytes(content)
    monkeypatch.setattr(registry, "RAW_URL", base + "/{path}")
    monkeypatch.delenv("EMONET_DATA_DIR", raising=False)
    assert registry.fetch("hq.csv").read_bytes() == content
    (registry.cache_dir() / "hq.csv").write_bytes(content + b"x")
    with pytest.raises(DataError, match=r"corrupt \(git blob id [0-9a-f]{12}\.\.\., expected [0-9a-f]{12}\.\.\.\) for hq.csv"):
        registry.fetch("hq.csv")


def test_unreachable_download_names_the_way_out(monkeypatch, fake_entry):
    monkeypatch.setattr(registry, "RAW_URL", "http://127.0.0.1:9/{path}")  # discard port: refused
    monkeypatch.delenv("EMONET_DATA_DIR", raising=False)
    with pytest.raises(DataError, match="could not download fake.csv.*EMONET_DATA_DIR"):
        registry.fetch("fake.csv")


def config_py(mappings: dict) -> str:
    """An ``eval/config.py`` in the shape the mappings file was converted from."""
    labels = {int(k): v for k, v in mappings["affectnet_label_index"].items()}
    return (f"import os\nferd_mapping = {mappings['ferd']!r}\n"
            f"affectnet_mapping = {mappings['affectnet']!r}\nlabels = {labels!r}\n"
            "model_dir = os.path.join('x', 'y')\n")


def test_the_mappings_are_derived_from_the_authors_config_and_verified(
        mirror, monkeypatch, http_folder):
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


# ------------------------------------------------------------------ checksums, size, empty

def test_wrong_checksum(monkeypatch, tmp_path, fake_entry):
    entry, content = fake_entry
    (tmp_path / "m").mkdir()
    (tmp_path / "m" / "fake.csv").write_bytes(content.replace(b"Fear", b"Awe!"))
    monkeypatch.setenv("EMONET_DATA_DIR", str(tmp_path / "m"))
    with pytest.raises(DataError, match=r"m/fake.csv: corrupt \(sha256 [0-9a-f]{12}\.\.\., "
                                        r"expected " + entry.sha256[:12]):
        registry.fetch("fake.csv")


def test_truncated_registry_file(monkeypatch, tmp_path, fake_entry):
    entry, content = fake_entry
    (tmp_path / "m").mkdir()
    (tmp_path / "m" / "fake.csv").write_bytes(content[:-10])
    monkeypatch.setenv("EMONET_DATA_DIR", str(tmp_path / "m"))
    with pytest.raises(DataError, match=rf"truncated \({len(content) - 10} of "
                                        rf"{len(content)} bytes\)"):
        registry.fetch("fake.csv")


def test_empty_registry_file(monkeypatch, tmp_path, fake_entry):
    (tmp_path / "m").mkdir()
    (tmp_path / "m" / "fake.csv").write_bytes(b"")
    monkeypatch.setenv("EMONET_DATA_DIR", str(tmp_path / "m"))
    with pytest.raises(DataError, match=r"truncated \(0 bytes\)"):
        registry.fetch("fake.csv")


# ------------------------------------------------------------------ binary.csv content

@pytest.mark.parametrize("text, message", [
    ("", r"empty file \(0 bytes\)"),
    ("path,annotator,value,emotion\n", "no data rows after the header"),
    ("path,annotator,emotion\n00001,human-1,Anger\n",
     r"line 1: missing column\(s\) \['value'\]"),
    ("path,annotator,value,emotion,note\n00001,human-1,True,Anger,x\n",
     r"unexpected column\(s\) \['note'\]"),
    (GOOD_CSV + "00002,human-1,yes,Anger\n",
     r"field 'value': not a boolean .* in 1 row\(s\): line 4 \('yes'\)"),
    (GOOD_CSV + "00002,human-1,True,Joy\n00003,human-1,True,anger\n",
     r"field 'emotion': unknown emotion name in 2 row\(s\): line 4 \('Joy'\), line 5 \('anger'\)"),
    (GOOD_CSV + "00001,human-1,False,Anger\n",
     r"duplicate label .* line 4 \('00001/human-1'\)"),
    (GOOD_CSV + "00002,human-1\n", r"field 'value': empty or missing value \(truncated row\?\).*line 4"),
    (GOOD_CSV + "00002,human-1,True,Anger,extra\n", r"malformed CSV"),
    (GOOD_CSV + ",human-1,True,Anger\n", r"field 'path': empty or missing value .* line 4"),
])
def test_bad_binary_csv(tmp_path, text, message):
    path = write(tmp_path, "binary.csv", text)
    with pytest.raises(DataError, match=message) as err:
        loaders.load_binary(path)
    assert str(path) in str(err.value)


def test_binary_alias_and_line_numbers(tmp_path):
    b = loaders.load_binary(write(tmp_path, "b.csv", GOOD_CSV + "00002,human-3,true,Hopelessness\n"))
    assert b["emotion"].tolist() == ["Anger", "Fear", "Helplessness"]
    assert b["line"].tolist() == [2, 3, 4] and b["value"].tolist() == [True, False, True]
    assert b["image"].tolist()[0] == "00001"  # ids stay strings with leading zeros


def test_many_bad_rows_are_counted_not_listed_in_full(tmp_path):
    rows = "".join(f"{i:05d},human-1,maybe,Anger\n" for i in range(12))
    with pytest.raises(DataError, match=r"in 12 row\(s\): line 2 .* and 7 more"):
        loaders.load_binary(write(tmp_path, "b.csv", "path,annotator,value,emotion\n" + rows))


# ------------------------------------------------------------------ json / jsonl content

def ferd_line(image="ferd_images/0001_Happy.jpg", **changes):
    results = {taxonomy.head_name(e): {"raw": 1.0, "mean_subtracted": 0.5, "softmax": 1 / 40}
               for e in taxonomy.EMOTIONS}
    results.update({taxonomy.head_name(d): {"raw": 1.0, "mean_subtracted": 0.5, "softmax": None}
                    for d in taxonomy.EXTRA_DIMENSIONS})
    for head, scores in changes.items():
        if scores is None:
            del results[head]
        else:
            results[head] = scores
    return json.dumps({"image_path": image, "results": results})


def test_model_outputs_fixture_ok(tmp_path):
    f = loaders.load_model_outputs(write(tmp_path, "f.jsonl", ferd_line() + "\n"
                                      + ferd_line("x/0002_Surprised.jpg") + "\n"))
    assert set(f["gold"]) == {"happy", "surprise"} and len(f) == 88


@pytest.mark.parametrize("lines, message", [
    ([ferd_line()[:-40]], r"line 1: invalid JSON .*truncated file\?"),
    ([ferd_line(), ferd_line()], r"line 2, field 'image_path': duplicate image .* line 1"),
    ([ferd_line("x/0003_Joyful.jpg")], r"suffix 'Joyful' is not one of"),
    ([ferd_line(model_anger_best=None)], r"missing head\(s\) \['model_anger_best'\]"),
    ([ferd_line(model_joy_best={"raw": 1})], r"unknown head\(s\) \['model_joy_best'\]"),
    ([ferd_line(model_anger_best={"raw": 1.0, "mean_subtracted": 0.1, "softmax": 1.7})],
     r"field 'results.model_anger_best.softmax': softmax 1.7 outside \[0, 1\]"),
    ([ferd_line(model_anger_best={"raw": "high", "mean_subtracted": 0.1, "softmax": 0.1})],
     r"field 'results.model_anger_best.raw': expected a finite number, got 'high'"),
    ([ferd_line(model_anger_best={"raw": 1.0, "mean_subtracted": 0.1, "softmax": None})],
     r"field 'results.model_anger_best.softmax': expected a finite number, got None"),
    ([ferd_line(model_anger_best={"raw": 1.0, "softmax": 0.1})],
     r"field 'results.model_anger_best': missing 'mean_subtracted'"),
    ([ferd_line(), ""], r"line 2: blank line"),
])
def test_bad_model_outputs(tmp_path, lines, message):
    with pytest.raises(DataError, match=message):
        loaders.load_model_outputs(write(tmp_path, "f.jsonl", "\n".join(lines) + "\n"))


def test_bad_guide_and_mappings(tmp_path, mirror):
    raw = json.loads((mirror / "guide.json").read_text())
    raw["options"]["labels"]["Joy"] = raw["options"]["labels"].pop("Elation")
    with pytest.raises(DataError, match=r"field 'options.labels': unknown name\(s\) \['Joy'\], "
                                        r"missing name\(s\) \['Elation'\]"):
        loaders.load_guide(write(tmp_path, "g.json", json.dumps(raw)))
    with pytest.raises(DataError, match=r"g2.json: line \d+: invalid JSON .*truncated file"):
        loaders.load_guide(write(tmp_path, "g2.json", (mirror / "guide.json").read_text()[:500]))
    m = json.loads((mirror / "basic_emotion_mappings.json").read_text())
    m["ferd"]["model_anger_best"] = "rage"
    with pytest.raises(DataError, match=r"field 'ferd.model_anger_best': 'rage' is not a basic"):
        loaders.load_basic_mappings(write(tmp_path, "m.json", json.dumps(m)))


def test_not_utf8(tmp_path):
    path = tmp_path / "g.json"
    path.write_bytes(b"\xff\xfe{}")
    with pytest.raises(DataError, match="not UTF-8"):
        loaders.load_guide(path)


def _literal_annotations(text: str) -> dict | None:
    """The straightforward reading of an ``annotations`` field: ``ast.literal_eval``, kept when
    it is a dict of string keys and finite numbers."""
    try:
        parsed = ast.literal_eval(text)
    except Exception:
        return None
    if not isinstance(parsed, dict) or not all(isinstance(k, str) for k in parsed) or \
            not all(type(v) in (int, float) and math.isfinite(v) for v in parsed.values()):
        return None
    return {k: float(v) for k, v in parsed.items()}


_numbers = st.one_of(st.integers(-10**20, 10**20), st.floats(allow_nan=True, allow_infinity=True),
                     st.just(-0.0), st.booleans(), st.none())


@settings(max_examples=400, deadline=None)
@given(st.one_of(
    st.dictionaries(st.text(max_size=12), _numbers, max_size=5).map(repr),
    st.dictionaries(st.text(max_size=12), _numbers, max_size=5).map(
        lambda d: json.dumps(d).replace('"', "'")),
    st.text(alphabet="{}'\":,. -+eE0123456789NaInfityTrueFalsnl_jx[]()#\t\\|", max_size=40)))
def test_annotations_read_as_json_equal_literal_eval(text):
    """The JSON shortcut of ``load_hq`` gives what ``ast.literal_eval`` gives, or declines (None)
    and leaves the text to it: never a different value, never a value where it fails."""
    fast = loaders._as_json(text)
    if fast is not None:
        reference = _literal_annotations(text)
        assert reference is not None
        assert list(fast) == list(reference)
        assert [repr(v) for v in fast.values()] == [repr(v) for v in reference.values()]


def test_the_json_shortcut_reads_the_usual_fields():
    assert loaders._as_json("{'A|Amusement': 3, 'A|Elation': 0.5}") == \
        {"A|Amusement": 3.0, "A|Elation": 0.5}
    for declined in ("{'A': True}", "{'A': NaN}", "{'A': Infinity}", "{'it\\'s': 1}",
                     "{\"A\": 1}", "{'A': 1,}", "[1]"):
        assert loaders._as_json(declined) is None
