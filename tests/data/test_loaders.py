"""The loaders of the authors' files (:mod:`emonet.data.loaders`): the real files, and every
class of bad content, with the content of each error message asserted."""

import ast
import json
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from emonet.data import loaders, taxonomy
from emonet.data.registry import DataError
from tests.helpers import BINARY_CSV


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


# ------------------------------------------------------------------ binary.csv content


@pytest.mark.parametrize(
    "text, message",
    [
        ("", r"empty file \(0 bytes\)"),
        ("path,annotator,value,emotion\n", "no data rows after the header"),
        (
            "path,annotator,emotion\n00001,human-1,Anger\n",
            r"line 1: missing column\(s\) \['value'\]",
        ),
        (
            "path,annotator,value,emotion,note\n00001,human-1,True,Anger,x\n",
            r"unexpected column\(s\) \['note'\]",
        ),
        (
            BINARY_CSV + "00002,human-1,yes,Anger\n",
            r"field 'value': not a boolean .* in 1 row\(s\): line 4 \('yes'\)",
        ),
        (
            BINARY_CSV + "00002,human-1,True,Joy\n00003,human-1,True,anger\n",
            r"field 'emotion': unknown emotion name in 2 row\(s\): line 4 \('Joy'\), line 5 \('anger'\)",
        ),
        (
            BINARY_CSV + "00001,human-1,False,Anger\n",
            r"duplicate label .* line 4 \('00001/human-1'\)",
        ),
        (
            BINARY_CSV + "00002,human-1\n",
            r"field 'value': empty or missing value \(truncated row\?\).*line 4",
        ),
        (BINARY_CSV + "00002,human-1,True,Anger,extra\n", r"malformed CSV"),
        (BINARY_CSV + ",human-1,True,Anger\n", r"field 'path': empty or missing value .* line 4"),
    ],
)
def test_bad_binary_csv(tmp_path, text, message):
    path = write(tmp_path, "binary.csv", text)
    with pytest.raises(DataError, match=message) as err:
        loaders.load_binary(path)
    assert str(path) in str(err.value)


def test_binary_alias_and_line_numbers(tmp_path):
    b = loaders.load_binary(
        write(tmp_path, "b.csv", BINARY_CSV + "00002,human-3,true,Hopelessness\n")
    )
    assert b["emotion"].tolist() == ["Anger", "Fear", "Helplessness"]
    assert b["line"].tolist() == [2, 3, 4] and b["value"].tolist() == [True, False, True]
    assert b["image"].tolist()[0] == "00001"  # ids stay strings with leading zeros


def test_many_bad_rows_are_counted_not_listed_in_full(tmp_path):
    rows = "".join(f"{i:05d},human-1,maybe,Anger\n" for i in range(12))
    with pytest.raises(DataError, match=r"in 12 row\(s\): line 2 .* and 7 more"):
        loaders.load_binary(write(tmp_path, "b.csv", "path,annotator,value,emotion\n" + rows))


# ------------------------------------------------------------------ json / jsonl content


def ferd_line(image="ferd_images/0001_Happy.jpg", **changes):
    results = {
        taxonomy.head_name(e): {"raw": 1.0, "mean_subtracted": 0.5, "softmax": 1 / 40}
        for e in taxonomy.EMOTIONS
    }
    results.update(
        {
            taxonomy.head_name(d): {"raw": 1.0, "mean_subtracted": 0.5, "softmax": None}
            for d in taxonomy.EXTRA_DIMENSIONS
        }
    )
    for head, scores in changes.items():
        if scores is None:
            del results[head]
        else:
            results[head] = scores
    return json.dumps({"image_path": image, "results": results})


def test_model_outputs_fixture_ok(tmp_path):
    f = loaders.load_model_outputs(
        write(tmp_path, "f.jsonl", ferd_line() + "\n" + ferd_line("x/0002_Surprised.jpg") + "\n")
    )
    assert set(f["gold"]) == {"happy", "surprise"} and len(f) == 88


@pytest.mark.parametrize(
    "lines, message",
    [
        ([ferd_line()[:-40]], r"line 1: invalid JSON .*truncated file\?"),
        ([ferd_line(), ferd_line()], r"line 2, field 'image_path': duplicate image .* line 1"),
        ([ferd_line("x/0003_Joyful.jpg")], r"suffix 'Joyful' is not one of"),
        ([ferd_line(model_anger_best=None)], r"missing head\(s\) \['model_anger_best'\]"),
        ([ferd_line(model_joy_best={"raw": 1})], r"unknown head\(s\) \['model_joy_best'\]"),
        (
            [ferd_line(model_anger_best={"raw": 1.0, "mean_subtracted": 0.1, "softmax": 1.7})],
            r"field 'results.model_anger_best.softmax': softmax 1.7 outside \[0, 1\]",
        ),
        (
            [ferd_line(model_anger_best={"raw": "high", "mean_subtracted": 0.1, "softmax": 0.1})],
            r"field 'results.model_anger_best.raw': expected a finite number, got 'high'",
        ),
        (
            [ferd_line(model_anger_best={"raw": 1.0, "mean_subtracted": 0.1, "softmax": None})],
            r"field 'results.model_anger_best.softmax': expected a finite number, got None",
        ),
        (
            [ferd_line(model_anger_best={"raw": 1.0, "softmax": 0.1})],
            r"field 'results.model_anger_best': missing 'mean_subtracted'",
        ),
        ([ferd_line(), ""], r"line 2: blank line"),
    ],
)
def test_bad_model_outputs(tmp_path, lines, message):
    with pytest.raises(DataError, match=message):
        loaders.load_model_outputs(write(tmp_path, "f.jsonl", "\n".join(lines) + "\n"))


def test_bad_guide_and_mappings(tmp_path, mirror):
    raw = json.loads((mirror / "guide.json").read_text())
    raw["options"]["labels"]["Joy"] = raw["options"]["labels"].pop("Elation")
    with pytest.raises(
        DataError,
        match=r"field 'options.labels': unknown name\(s\) \['Joy'\], "
        r"missing name\(s\) \['Elation'\]",
    ):
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
    if (
        not isinstance(parsed, dict)
        or not all(isinstance(k, str) for k in parsed)
        or not all(type(v) in (int, float) and math.isfinite(v) for v in parsed.values())
    ):
        return None
    return {k: float(v) for k, v in parsed.items()}


_numbers = st.one_of(
    st.integers(-(10**20), 10**20),
    st.floats(allow_nan=True, allow_infinity=True),
    st.just(-0.0),
    st.booleans(),
    st.none(),
)


@settings(max_examples=400, deadline=None)
@given(
    st.one_of(
        st.dictionaries(st.text(max_size=12), _numbers, max_size=5).map(repr),
        st.dictionaries(st.text(max_size=12), _numbers, max_size=5).map(
            lambda d: json.dumps(d).replace('"', "'")
        ),
        st.text(alphabet="{}'\":,. -+eE0123456789NaInfityTrueFalsnl_jx[]()#\t\\|", max_size=40),
    )
)
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
    assert loaders._as_json("{'A|Amusement': 3, 'A|Elation': 0.5}") == {
        "A|Amusement": 3.0,
        "A|Elation": 0.5,
    }
    for declined in (
        "{'A': True}",
        "{'A': NaN}",
        "{'A': Infinity}",
        "{'it\\'s': 1}",
        '{"A": 1}',
        "{'A': 1,}",
        "[1]",
    ):
        assert loaders._as_json(declined) is None
