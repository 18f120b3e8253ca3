"""The hq.csv loader (on small fixture files in the real schema), the dense Panel, its writer,
adding a model annotator, and the panel a profile reads."""

import numpy as np
import pandas as pd
import pytest

from emonet.data import loaders, registry, taxonomy
from emonet.data.registry import DataError
from emonet.hq import panel, simulation

HEADER = "image,annotator,human,annotations\n"
AMUSE = "Positive High-Energy Emotions|Amusement"
ANGER = "Negative High-Energy Emotions|Anger"
AROUSAL = "Extra Dimensions|Arousal"


def row(image, annotator, human, ratings: dict) -> str:
    """One line in the hq.csv format: the dict as a Python literal in a quoted CSV field."""
    return f'{image},{annotator},{human},"{ratings!r}"\n'


FIXTURE = (
    HEADER
    + row("img1.png", "human-1", True, {AMUSE: 5, ANGER: 0, AROUSAL: 4})
    + row("img1.png", "human-2", True, {AMUSE: 3, AROUSAL: 2})
    + row("img2.png", "human-1", True, {ANGER: 6})
    + row("img1.png", "Hume Face*", False, {AMUSE: 0.5, ANGER: 0.1})
    + row("img2.png", "Empathic Insight Face Large", False, {AMUSE: -0.4, ANGER: 7.6})
)


def write(tmp_path, text, name="hq.csv"):
    path = tmp_path / name
    path.write_text(text)
    return path


# ------------------------------------------------------------------ loader


def test_fixture_in_the_real_schema_loads(tmp_path):
    ratings, extra = loaders.load_hq(write(tmp_path, FIXTURE))
    assert list(ratings.columns[:5]) == ["image", "annotator", "human", "line", "n_missing"]
    assert list(ratings.columns[5:]) == list(taxonomy.EMOTIONS)
    assert ratings["line"].tolist() == [2, 3, 4, 5, 6]
    assert ratings["human"].tolist() == [True, True, True, False, False]
    first = ratings.iloc[0]
    assert first["Amusement"] == 5 and first["Anger"] == 0
    assert first["n_missing"] == 38  # 40 categories, 2 given
    assert ratings.iloc[1]["Anger"] == 0  # missing key counts as 0
    hume = ratings.iloc[3]
    assert hume["Amusement"] == pytest.approx(3.5) and hume["Anger"] == pytest.approx(0.7)
    model = ratings.iloc[4]  # model scores may leave 0-7 (e.g. mean-subtracted outputs)
    assert model["Amusement"] == -0.4 and model["Anger"] == 7.6
    assert extra[["image", "annotator", "dimension", "value", "line"]].values.tolist() == [
        ["img1.png", "human-1", "Arousal", 4.0, 2],
        ["img1.png", "human-2", "Arousal", 2.0, 3],
    ]


@pytest.mark.parametrize(
    "text, message",
    [
        ("", "empty file"),
        ("image,annotator,human,annotations\n", "no data rows"),
        ('image,annotator,annotations\nimg,human-1,"{}"\n', "missing column(s) ['human']"),
        (HEADER.strip() + ",extra\n" + 'img,human-1,True,"{}",1\n', "unexpected column(s)"),
        (HEADER + 'img,human-1,yes,"{}"\n', "field 'human': not a boolean"),
        (HEADER + "img,human-1,True\n", "truncated row"),
        (
            HEADER + "img,human-1,True,\"{'" + AMUSE + "': 3, 'Positive\"\n",
            "line 2, field 'annotations': malformed annotations",
        ),
        (HEADER + 'img,human-1,True,"[1, 2]"\n', "expected a dict of ratings, got list"),
        (HEADER + row("img", "human-1", True, {AMUSE: "high"}), "expected a finite number"),
        (HEADER + row("img", "human-1", True, {AMUSE: True}), "expected a finite number"),
        (HEADER + row("img", "human-1", True, {AMUSE: float("nan")}), "malformed annotations"),
        (
            HEADER + row("img", "human-1", True, {AMUSE: 8}),
            "line 2, field 'annotations': 1 human "
            "row(s) with ratings outside 0-7, first: Amusement = 8.0",
        ),
        (HEADER + row("img", "Hume Face*", False, {AMUSE: 3.5}), "Hume score 3.5"),
        (
            HEADER + row("img", "human-1", True, {AMUSE: 1, "Other Family|Amusement": 2}),
            "category 'Amusement' given twice",
        ),
        (
            HEADER + row("a", "m", True, {}) + row("b", "m", False, {}),
            "annotator flagged both human and not human",
        ),
    ],
)
def test_bad_files_name_file_line_field_and_problem(tmp_path, text, message):
    path = write(tmp_path, text)
    with pytest.raises(DataError) as err:
        loaders.load_hq(path)
    assert str(path) in str(err.value)
    assert message in str(err.value)


def test_duplicate_pairs_are_averaged_and_unknown_keys_counted_as_the_authors_do(tmp_path):
    """The authors' analysis averages repeated (image, annotator) rows; keys outside the 40
    categories and 4 extra dimensions are ignored. Both are reported, nothing is rejected."""
    text = (
        FIXTURE
        + row("img1.png", "human-1", True, {AMUSE: 3, AROUSAL: 6, "Mood|Joy": 1})
        + row("img2.png", "Empathic Insight Face Large", False, {AMUSE: 0.4})
        + row("img2.png", "human-2", True, {"Amusement": 2, "Extra Dimensions|Mood": 3})
    )
    ratings, extra = loaders.load_hq(write(tmp_path, text))
    assert len(ratings) == 6 and not ratings.duplicated(["image", "annotator"]).any()
    first = ratings.set_index(["image", "annotator"]).loc[("img1.png", "human-1")]
    assert first["Amusement"] == 4.0 and first["line"] == 2 and first["n_missing"] == 38 + 39
    model = ratings.set_index(["image", "annotator"]).loc[
        ("img2.png", "Empathic Insight Face Large")
    ]
    assert model["Amusement"] == 0.0 and model["Anger"] == 3.8  # the missing key counts as 0
    arousal = extra.set_index(["image", "annotator"]).loc[("img1.png", "human-1"), "value"]
    assert arousal == 5.0
    duplicates = ratings.attrs["duplicates"]
    assert duplicates[["image", "annotator", "rows", "lines"]].values.tolist() == [
        ["img1.png", "human-1", 2, "2, 7"],
        ["img2.png", "Empathic Insight Face Large", 2, "6, 8"],
    ]
    assert duplicates["max_difference"].tolist() == [2.0, 7.6]
    unknown = ratings.attrs["unknown_keys"]
    assert unknown.values.tolist() == [
        ["Mood|Joy", 1, 7],
        ["Amusement", 1, 9],
        ["Extra Dimensions|Mood", 1, 9],
    ]
    checks = loaders.hq_checks(ratings).set_index("check")["count"]
    assert checks.tolist() == [2, 4, 3, int(ratings["n_missing"].sum())]
    assert loaders.hq_checks(loaders.load_hq(write(tmp_path, FIXTURE, "clean.csv"))[0])[
        "count"
    ].tolist()[:3] == [0, 0, 0]


def test_literal_eval_never_evaluates_code(tmp_path):
    path = write(tmp_path, HEADER + "img,human-1,True,\"__import__('os').getcwd()\"\n")
    with pytest.raises(DataError, match="malformed annotations"):
        loaders.load_hq(path)


def test_registry_pins_hq_by_git_blob():
    entry = registry.REGISTRY["hq.csv"]
    assert entry.git_blob == "7154035c588f90f50976051e1e3a542275631831"
    assert entry.upstream_path == "data/hq.csv"


# ------------------------------------------------------------------ panel


def test_panel_from_fixture(tmp_path):
    p = panel.read_hq(write(tmp_path, FIXTURE))
    assert p.annotators == ("human-1", "human-2", "Empathic Insight Face Large", "Hume Face*")
    assert p.groups == ("Human Annotators", "Human Annotators", "Our Models", "Proprietary Models")
    assert p.images == ("img1.png", "img2.png")
    assert p.ratings.shape == (4, 2, 40)
    assert np.isnan(p.ratings[1, 1]).all()  # human-2 did not rate img2
    assert p.rated.tolist() == [[True, True], [True, False], [False, True], [True, False]]
    assert len(p.extra) == 2


def test_panel_does_not_depend_on_row_order(tmp_path):
    lines = FIXTURE.splitlines(keepends=True)
    shuffled = lines[:1] + lines[:0:-1]
    a = panel.read_hq(write(tmp_path, FIXTURE, "a.csv"))
    b = panel.read_hq(write(tmp_path, "".join(shuffled), "b.csv"))
    assert a.annotators == b.annotators and a.images == b.images
    np.testing.assert_array_equal(a.ratings, b.ratings)


@pytest.mark.parametrize(
    "name, human, group",
    [
        ("human-3", True, "Human Annotators"),
        ("Empathic Insight Face Small", False, "Our Models"),
        ("Claude 3.7 MS", False, "VLMs Multi-Shot"),
        ("GPT-4o ZS", False, "VLMs Zero-Shot"),
        ("Hume Face*", False, "Proprietary Models"),
        ("Random Baseline", False, "Random Baseline"),
        ("my model", False, panel.OTHER_GROUP),
    ],
)
def test_groups_follow_the_authors_rules(name, human, group):
    assert panel.annotator_group(name, human) == group


def test_writer_round_trips_including_hume_and_extra_dimensions(tmp_path):
    p = panel.read_hq(write(tmp_path, FIXTURE))
    for zeros in ("humans", "all", "none"):
        back = panel.read_hq(panel.write_hq_csv(p, tmp_path / f"out-{zeros}.csv", zeros=zeros))
        assert back.annotators == p.annotators and back.images == p.images
        np.testing.assert_allclose(back.ratings, p.ratings, rtol=1e-12, equal_nan=True)
        pd.testing.assert_frame_equal(back.extra, p.extra)
    text = (tmp_path / "out-none.csv").read_text()
    assert "'Positive High-Energy Emotions|Amusement': 0.5" in text  # Hume back on 0-1


def scores_for(p, images, value=3.0):
    return pd.DataFrame(value, index=pd.Index(images), columns=list(taxonomy.EMOTIONS))


def test_with_annotator_adds_a_model_and_leaves_the_panel_unchanged(tmp_path):
    p = panel.read_hq(write(tmp_path, FIXTURE))
    q = p.with_annotator("EmpathicInsight-Face (ours)", scores_for(p, ["img2.png"]), "Our Models")
    assert p.n_annotators == 4 and q.n_annotators == 5
    assert q.annotators[-1] == "EmpathicInsight-Face (ours)" and not q.human[-1]
    assert np.isnan(q.ratings[-1, 0]).all() and (q.ratings[-1, 1] == 3.0).all()
    table = q.annotator_table().set_index("annotator")
    assert table.loc["EmpathicInsight-Face (ours)", "n_images"] == 1
    assert table.loc["EmpathicInsight-Face (ours)", "share_images"] == 0.5


def test_with_annotator_refuses_bad_scores(tmp_path):
    p = panel.read_hq(write(tmp_path, FIXTURE))
    good = scores_for(p, list(p.images))
    with pytest.raises(ValueError, match="already in the panel"):
        p.with_annotator("human-1", good, "Our Models")
    with pytest.raises(ValueError, match="canonical order"):
        p.with_annotator("m", good[list(reversed(taxonomy.EMOTIONS))], "Our Models")
    with pytest.raises(ValueError, match="not in the panel"):
        p.with_annotator("m", scores_for(p, ["img9.png"]), "Our Models")
    with pytest.raises(ValueError, match="finite"):
        p.with_annotator("m", good.replace(3.0, np.inf), "Our Models")
    with pytest.raises(ValueError, match="duplicate image"):
        p.with_annotator("m", scores_for(p, ["img1.png", "img1.png"]), "Our Models")


def test_panel_checks_its_shape():
    with pytest.raises(ValueError, match="shape"):
        panel.Panel(np.zeros((2, 3, 5)), ("a", "b"), [True, True], ("g", "g"), ("1", "2", "3"))
    with pytest.raises(ValueError, match="at least one human"):
        panel.Panel(np.zeros((1, 1, 40)), ("m",), [False], ("g",), ("1",))
    with pytest.raises(ValueError, match="duplicate annotator"):
        panel.Panel(np.zeros((2, 1, 40)), ("a", "a"), [True, True], ("g", "g"), ("1",))


def test_profile_panel_sources(tmp_path):
    with pytest.raises(FileNotFoundError, match="04_hq_panel"):
        panel.profile_panel("simulated", tmp_path)
    with pytest.raises(ValueError, match="unknown panel source"):
        panel.profile_panel("mock", tmp_path)
    sim = simulation.simulate_panel(
        simulation.synthetic_truth(30, 1), [f"{i:03d}" for i in range(30)], seed=1
    )
    panel.write_hq_csv(sim, tmp_path / panel.SIMULATED_FILE)
    back = panel.profile_panel("simulated", tmp_path)
    np.testing.assert_array_equal(
        np.nan_to_num(back.ratings, nan=-1), np.nan_to_num(sim.ratings, nan=-1)
    )


def test_a_panel_file_by_path_or_by_name_in_the_cache(tmp_path, monkeypatch):
    """panel_source may name an hq.csv-format file (a researcher's own, the rehearsal's replica):
    a path, or a bare name found like the other supplied files (mirror, then cache)."""
    path = write(tmp_path, FIXTURE, "mine.csv")
    assert panel.hq_path(str(path), "unused") == path
    monkeypatch.setenv("EMONET_CACHE_DIR", str(tmp_path))
    assert panel.hq_path("mine.csv", "unused") == path
    assert panel.source_label("mine.csv") == "panel file mine.csv"
    with pytest.raises(FileNotFoundError, match="no such file"):
        panel.hq_path(str(tmp_path / "nowhere" / "x.csv"), "unused")
    with pytest.raises(DataError, match="other.csv is not in the mirror"):
        panel.hq_path("other.csv", "unused")


def test_sources_name_the_panel():
    assert panel.source_label("simulated") == "simulated panel"
    assert panel.source_label("real") == "real HQ ratings"
    with pytest.raises(ValueError, match="unknown panel source"):
        panel.source_label("laion/emonet-face-hq")


def test_annotator_overview_counts_the_keys_the_file_leaves_out(tmp_path):
    ratings, extra = loaders.load_hq(write(tmp_path, FIXTURE))
    p = panel.Panel.from_table(ratings, extra)
    overview = panel.annotator_overview(p, ratings).set_index("annotator")
    pd.testing.assert_frame_equal(
        overview.drop(columns="keys_missing"), p.annotator_table().set_index("annotator")
    )
    # every row lists 1 or 2 of the 40 categories; the rest are missing keys, read as 0
    assert overview["keys_missing"].to_dict() == {
        "human-1": 38 + 39,
        "human-2": 39,
        "Empathic Insight Face Large": 38,
        "Hume Face*": 38,
    }


def test_full_profile_downloads_verifies_and_reads_the_real_schema(monkeypatch, http_folder):
    """The full profile's path (panel_source "real"), offline: a fixture in the real schema served
    locally, pinned by its git blob id like the authors' file, fetched and read into a panel."""
    import hashlib

    content = FIXTURE.encode()
    blob = hashlib.sha1(b"blob %d\0" % len(content) + content).hexdigest()
    monkeypatch.setitem(
        registry.REGISTRY, "hq.csv", registry.RemoteFile("hq.csv", "data/hq.csv", git_blob=blob)
    )
    folder, base = http_folder
    (folder / "data").mkdir()
    (folder / "data" / "hq.csv").write_bytes(content)
    monkeypatch.setattr(registry, "RAW_URL", base + "/{path}")
    monkeypatch.delenv("EMONET_DATA_DIR", raising=False)
    p = panel.profile_panel("real", "unused")
    assert p.annotators[:2] == ("human-1", "human-2") and p.n_images == 2
    assert panel.hq_path("real", "unused") == registry.cache_dir() / "hq.csv"
