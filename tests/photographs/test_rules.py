"""The authors' real-photograph rule on hand-made cases (ties, the strict threshold, one vs several
heads per class, unmapped gold labels), its chance levels, the FERD numbers through the loaders
and the AffectNet path on a fixture."""

import itertools
import json

import matplotlib
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from emonet.data import checksums, loaders, registry, taxonomy
from emonet.data.registry import DataError
from emonet.data.taxonomy import BASIC_EMOTIONS
from emonet.photographs import rules
from tests.helpers import affectnet_line

matplotlib.use("Agg")


HEADS = ["h1", "h2", "h3", "h4"]


#: One head for happy, three for sad: cutoff 1.5 / 4 = 0.375 for every image.
MAPPING = pd.Series({"h1": "happy", "h2": "sad", "h3": "sad", "h4": "sad"})


def photos(rows: list[list[float]], gold: list[str | None], heads=HEADS):
    index = pd.Index([f"img{i}" for i in range(len(rows))], name="image")
    return pd.DataFrame(rows, index=index, columns=heads), pd.Series(gold, index=index)


def test_one_head_vs_several_heads():
    # Softmax of [0, .3, .3, .3]: each sad head ~0.267 < 0.375 although sad holds ~0.80 in total:
    # the authors' rule looks at single heads, so this sad image is wrong; top-1 calls it sad.
    # A single strong sad head (h3) suffices; happy has one head and needs exactly that one.
    scores, gold = photos(
        [[0, 0.3, 0.3, 0.3], [0, 0, 2, 0], [2, 0, 0, 0], [0, 2, 0, 0]],
        ["sad", "sad", "happy", "happy"],
    )
    table = rules.evaluate_photos(scores, gold, MAPPING)
    assert table["authors_correct"].tolist() == [False, True, True, False]
    assert table["top1"].tolist() == ["sad", "sad", "happy", "sad"]
    assert table["top1_correct"].tolist() == [True, True, True, False]
    assert table.loc[0, "gold_max_softmax"] == pytest.approx(np.exp(0.3) / (1 + 3 * np.exp(0.3)))
    assert table["n_accepted"].tolist() == [0, 1, 1, 1]


def test_threshold_is_strict():
    # Equal scores give softmax exactly 1/4; with factor 1 the cutoff is exactly 1/4 as well.
    scores, gold = photos([[1.0, 1.0, 1.0, 1.0]], ["happy"])
    probs = rules.mapped_softmax(scores, MAPPING)
    assert (probs.to_numpy() == 0.25).all()
    at = rules.evaluate_photos(scores, gold, MAPPING, factor=1.0)
    assert not at.loc[0, "authors_correct"] and at.loc[0, "n_accepted"] == 0
    below = rules.evaluate_photos(scores, gold, MAPPING, factor=0.999)
    assert below.loc[0, "authors_correct"] and below.loc[0, "n_accepted"] == 2
    # The same with 40 heads and the paper's n: uniform 1/40 is not > 1/40.
    forty, gold40 = photos([[0.0] * 40], ["happy"], heads=list(taxonomy.EMOTIONS))
    mapping = pd.Series("happy", index=list(taxonomy.EMOTIONS))
    table = rules.evaluate_photos(forty, gold40, mapping, factor=1.0)
    assert not table.loc[0, "authors_correct"]


def test_ties():
    # h1 (happy) ties with h2 (sad) at the top: top-1 is a tie and scored wrong; both labels
    # pass the authors' rule. A tie between two sad heads is a sad prediction.
    scores, gold = photos([[3, 3, 0, 0], [0, 3, 3, 0]], ["happy", "sad"])
    table = rules.evaluate_photos(scores, gold, MAPPING)
    assert table["top1"].tolist() == [rules.TIE, "sad"]
    assert table["top1_correct"].tolist() == [False, True]
    assert table["authors_correct"].tolist() == [True, True]
    matrix = rules.confusion(table)
    assert matrix.loc["happy", rules.TIE] == 1 and matrix.loc["sad", "sad"] == 1
    assert matrix.to_numpy().sum() == 2


def test_unmapped_heads_leave_the_softmax_and_n_mapped():
    mapping = MAPPING.copy()
    mapping["h4"] = np.nan  # 3 mapped heads: cutoff 0.5
    scores, gold = photos([[1.0, 1.0, 0.0, 50.0]], ["happy"])
    probs = rules.mapped_softmax(scores, mapping)
    assert list(probs.columns) == ["h1", "h2", "h3"]
    assert probs.sum(axis=1).iloc[0] == pytest.approx(1.0)
    table = rules.evaluate_photos(scores, gold, mapping)
    # h1 holds e/(2e+1) ~ 0.42: above 1.5/4 but not above 1.5/3
    assert not table.loc[0, "authors_correct"]


def test_gold_without_a_mapped_head():
    scores, gold = photos([[2, 0, 0, 0], [0, 2, 0, 0], [0, 0, 2, 0]], ["happy", "fear", None])
    with pytest.raises(ValueError, match=r"2 image\(s\) have no gold label .*'img1' \(fear\)"):
        rules.evaluate_photos(scores, gold, MAPPING)
    wrong = rules.evaluate_photos(scores, gold, MAPPING, policy="wrong")
    assert wrong["scorable"].tolist() == [True, False, False]
    assert wrong["authors_correct"].tolist() == [True, False, False]
    acc = rules.accuracy_table(wrong, n_perm=99).set_index("class")
    assert acc.loc["overall", "n"] == 3 and acc.loc["overall", "authors_accuracy"] == 1 / 3
    assert acc.loc["class mean", "n"] == 1 and "fear" not in acc.index
    excluded = rules.evaluate_photos(scores, gold, MAPPING, policy="exclude")
    assert excluded["image"].tolist() == ["img0"]
    with pytest.raises(ValueError, match="unknown policy"):
        rules.evaluate_photos(scores, gold, MAPPING, policy="skip")
    with pytest.raises(ValueError, match=r"gold labels \['joy'\] are not basic emotions"):
        rules.evaluate_photos(scores, pd.Series(["joy"] * 3, index=scores.index), MAPPING)
    with pytest.raises(ValueError, match=r"labels \['joy'\] that are not basic"):
        rules.evaluate_photos(scores, gold, MAPPING.replace("sad", "joy"), policy="wrong")


@settings(max_examples=40, deadline=None)
@given(
    st.integers(2, 6).flatmap(
        lambda n: st.tuples(
            arrays(np.bool_, (n, 8)),
            st.lists(st.sampled_from(BASIC_EMOTIONS[:3]), min_size=n, max_size=n),
        )
    )
)
def test_chance_is_the_exact_permutation_expectation(case):
    sets, gold = case
    table = pd.DataFrame(sets, columns=[rules.ACCEPTS + b for b in BASIC_EMOTIONS])
    table["gold"] = gold
    table["scorable"] = True
    table["authors_correct"] = [sets[i, BASIC_EMOTIONS.index(g)] for i, g in enumerate(gold)]
    table["top1"] = "anger"
    table["top1_correct"] = [g == "anger" for g in gold]
    acc = rules.accuracy_table(table, n_perm=20).set_index("class")
    cols = [BASIC_EMOTIONS.index(g) for g in gold]
    brute = np.mean(
        [np.mean([sets[i, c] for i, c in enumerate(perm)]) for perm in itertools.permutations(cols)]
    )
    assert acc.loc["overall", "authors_chance"] == pytest.approx(brute)
    # everything predicted "anger": chance is the share of anger images
    assert acc.loc["overall", "top1_chance"] == pytest.approx(np.mean([g == "anger" for g in gold]))


def test_permutation_p():
    gold = pd.Series(list(BASIC_EMOTIONS) * 10)
    perfect = pd.DataFrame({b: gold == b for b in BASIC_EMOTIONS})
    assert rules.permutation_p(perfect, gold, 999, seed=1) == pytest.approx(1 / 1000)
    everything = pd.DataFrame(True, index=gold.index, columns=list(BASIC_EMOTIONS))
    assert rules.permutation_p(everything, gold, 999, seed=1) == 1.0
    assert rules.permutation_p(perfect, gold, 99, seed=3) == rules.permutation_p(
        perfect, gold, 99, 3
    )


@pytest.fixture(scope="module")
def ferd(mirror):
    """The mirrored files, read by path (module scope: before the per-test data environment)."""
    outputs = loaders.load_model_outputs(mirror / "ferd.jsonl")
    return (
        outputs,
        *rules.photo_scores(outputs),
        loaders.load_basic_mappings(mirror / "basic_emotion_mappings.json"),
    )


def test_ferd_numbers_through_the_loaders(mirror, ferd):
    outputs, scores, gold, mappings = ferd
    assert scores.shape == (152, 40) and list(scores.columns) == list(taxonomy.EMOTIONS)
    assert gold.value_counts().eq(19).all()
    table = rules.evaluate_photos(scores, gold, mappings["ferd"])
    acc = rules.accuracy_table(table, n_perm=199).set_index("class")
    assert len(table) == rules.AUTHORS_N["ferd"]
    for label, value in rules.AUTHORS_RESULTS["ferd"].items():
        assert round(acc.loc[label, "authors_accuracy"], 4) == value, label
    repro = rules.reproduction(acc.reset_index(), rules.AUTHORS_RESULTS["ferd"])
    assert (repro["difference"] == 0).all() and len(repro) == 9
    assert table["top1_correct"].sum() == 46
    # balanced classes: strict top-1 chance is exactly 1/8
    assert acc.loc["overall", "top1_chance"] == pytest.approx(1 / 8)
    assert acc.loc["overall", "authors_chance"] == pytest.approx(
        np.mean([table[rules.ACCEPTS + g].mean() for g in BASIC_EMOTIONS])
    )
    assert acc.loc["overall", "authors_p"] == pytest.approx(1 / 200)


def test_ferd_stored_scores_follow_from_raw(mirror, ferd):
    check = rules.stored_score_check(ferd[0]).set_index("check")
    assert check.loc["offset", "max_abs_deviation"] < 1e-12
    assert check.loc["softmax", "max_abs_deviation"] < 1e-6


def test_ferd_mapping_sensitivity(mirror, ferd):
    outputs, scores, gold, mappings = ferd
    sens = rules.mapping_sensitivity(
        scores, gold, {"ferd": mappings["ferd"], "affectnet": mappings["affectnet"]}
    )
    sens = sens.set_index("class")
    assert sens.loc["overall", "ferd_authors"] == pytest.approx(119 / 152)
    flips = rules.verdict_flips(scores, gold, mappings["ferd"], mappings["affectnet"])
    a = rules.evaluate_photos(scores, gold, mappings["ferd"])["authors_correct"]
    b = rules.evaluate_photos(scores, gold, mappings["affectnet"])["authors_correct"]
    assert len(flips) == int((a != b).sum()) > 0
    assert (flips["first_correct"] != flips["second_correct"]).all()
    assert (flips["changed_gold_heads"] != "").all()
    n_first = flips["first_correct"].sum()
    assert sens.loc["overall", "ferd_authors"] - sens.loc[
        "overall", "affectnet_authors"
    ] == pytest.approx((2 * n_first - len(flips)) / 152)


def test_namesake_heads(mirror, ferd):
    mappings = ferd[3]
    table = rules.namesake_heads({"ferd": mappings["ferd"], "affectnet": mappings["affectnet"]})
    assert dict(zip(table["emotion"], table["namesake"])) == {
        "Astonishment/Surprise": "surprise",
        "Fear": "fear",
        "Sadness": "sad",
        "Contempt": "contempt",
        "Disgust": "disgust",
        "Anger": "anger",
    }
    # the FERD mapping swaps the Fear and Astonishment/Surprise heads; AffectNet's does not
    off = table.loc[~table["ferd_agrees"], ["emotion", "ferd"]].values.tolist()
    assert off == [["Astonishment/Surprise", "fear"], ["Fear", "surprise"]]
    assert table["affectnet_agrees"].all()


def test_acceptance_matrix_diagonal_is_accuracy(mirror, ferd):
    outputs, scores, gold, mappings = ferd
    table = rules.evaluate_photos(scores, gold, mappings["ferd"])
    matrix = rules.acceptance_matrix(table)
    per_class = table.groupby("gold")["authors_correct"].mean()
    assert np.allclose(np.diag(matrix.loc[per_class.index, per_class.index]), per_class)
    assert (
        matrix.sum(axis=1).mul(19).round(6).tolist()
        == table.groupby("gold")["n_accepted"].sum().astype(float).tolist()
    )


def test_top_confusion_is_the_largest_off_diagonal_cell():
    matrix = pd.DataFrame(
        [[9, 3, 1], [3, 8, 0], [2, 0, 7]],
        index=["anger", "fear", "sad"],
        columns=["anger", "fear", "sad"],
    )
    assert rules.top_confusion(matrix) == ("anger", "fear", 3)  # first of the tie
    matrix.loc["sad", "anger"] = 5
    assert rules.top_confusion(matrix) == ("sad", "anger", 5)


@pytest.fixture
def affectnet_parts(tmp_path):
    paths = []
    for k, labels in enumerate(([0, 4, 9], [7, "3"]), start=1):
        path = tmp_path / f"affectnet{k}.jsonl"
        path.write_text("".join(affectnet_line(lab, source="x") + "\n" for lab in labels))
        paths.append(path)
    return paths


def test_affectnet_loader_and_rule_on_fixture(affectnet_parts, mirror):
    out = loaders.load_affectnet_outputs(affectnet_parts, expected_records=5)
    assert out["image"].nunique() == 5 and len(out) == 5 * 44
    assert out.attrs["ignored_fields"] == {"source": 5}
    assert out.groupby("image", sort=False)["label"].first().tolist() == [0, 4, 9, 7, 3]
    scores, gold = rules.photo_scores(out)
    assert gold.tolist()[:2] == ["anger", "happy"] and pd.isna(gold.iloc[2])
    mapping = loaders.load_basic_mappings()["affectnet"]
    with pytest.raises(ValueError, match=r"1 image\(s\) have no gold label"):
        rules.evaluate_photos(scores, gold, mapping)
    table = rules.evaluate_photos(scores, gold, mapping, policy="wrong")
    assert table["scorable"].sum() == 4 and not table.loc[2, "authors_correct"]
    # scores rise along the canonical order: the last head (Jealousy & Envy) wins top-1
    assert set(table["top1"]) == {mapping["Jealousy & Envy"]}


def test_affectnet_loader_errors(affectnet_parts, tmp_path, mirror):
    with pytest.raises(DataError, match=r"5 records, expected 31002"):
        loaders.load_affectnet_outputs(affectnet_parts)
    bad = tmp_path / "bad.jsonl"
    bad.write_text(affectnet_line("happy") + "\n")
    with pytest.raises(DataError, match=r"bad.jsonl: line 1, field 'label': expected an integer"):
        loaders.load_affectnet_outputs([bad], expected_records=None)
    bad.write_text(json.dumps({"results": {}}) + "\n")
    with pytest.raises(DataError, match=r"line 1: missing key\(s\) \['label'\]"):
        loaders.load_affectnet_outputs([bad], expected_records=None)
    twice = tmp_path / "twice.jsonl"
    twice.write_text(affectnet_line(1, image="a.jpg") + "\n")
    with pytest.raises(DataError, match=r"duplicate image 'a.jpg' \(first in twice.jsonl line 1"):
        loaders.load_affectnet_outputs([twice, twice], expected_records=None)


def test_affectnet_summary_reads_the_numbers():
    table = pd.DataFrame({"scorable": [True] * 1233 + [False] * 2})
    accuracy = pd.DataFrame(
        {
            "class": ["anger", "overall"],
            "authors_accuracy": [0.9, 0.75721],
            "authors_chance": [0.5, 0.4321],
            "top1_accuracy": [0.5, 0.30149],
            "top1_chance": [0.2, 0.125],
        }
    )
    repro = pd.DataFrame({"class": ["anger", "overall"], "difference": [-0.00021, 0.0001]})
    summary = rules.affectnet_summary(table, accuracy, repro, {}).set_index("what")["value"]
    assert summary.to_dict() == {
        "images": "1,235",
        "with a class outside the 8 (counted wrong)": "2",
        "authors' rule": "75.7%",
        "published": "75.7%",
        "largest per-class difference": "0.0002",
        "chance of the authors' rule": "43.2%",
        "strict top-1": "30.1%",
        "chance of strict top-1": "12.5%",
        "record fields the loader ignored": "none",
    }
    ignored = rules.affectnet_summary(table, accuracy, repro, {"source": 5_000})
    assert ignored["value"].iloc[-1] == "source (5,000)"


def test_affectnet_files_are_user_supplied(tmp_path, monkeypatch, affectnet_parts):
    empty = tmp_path / "empty"
    empty.mkdir()
    monkeypatch.setenv("EMONET_DATA_DIR", str(empty))
    with pytest.raises(DataError, match=r"no pinned checksum .*eval/results/affectnet1.jsonl"):
        loaders.load_affectnet_outputs(label_index={0: "anger"})
    monkeypatch.setenv("EMONET_DATA_DIR", str(tmp_path))
    path = registry.locate_supplied(affectnet_parts[0].name)
    assert path == affectnet_parts[0]
    record = checksums.file_record(path)
    assert record["bytes"] == path.stat().st_size
    assert record["git_blob"] == checksums.git_blob_id(path)
