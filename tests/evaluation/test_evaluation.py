"""Chapter 06 evaluation: the authors' real-photograph rule on hand-made cases (ties, the strict
threshold, one vs several heads per class, unmapped gold labels), its chance levels, the FERD
numbers through the loaders, the AffectNet path on a fixture, and the model-vs-experts helpers."""

import itertools
import json

import matplotlib
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from scipy import stats

from emonet.data import checksums, loaders, registry, taxonomy
from emonet.data.registry import DataError
from emonet.data.taxonomy import BASIC_EMOTIONS
from emonet.evaluation import claims
from emonet.evaluation import experts as evaluation_experts
from emonet.evaluation import figures as evaluation_figures
from emonet.evaluation import photos as evaluation_photos
from emonet.hq import panel, resampled
from emonet.hq import suite as hq_suite
from emonet.model.encoder import UNTRAINED_LABEL
from tests.helpers import affectnet_line

matplotlib.use("Agg")

HEADS = ["h1", "h2", "h3", "h4"]
#: One head for happy, three for sad: cutoff 1.5 / 4 = 0.375 for every image.
MAPPING = pd.Series({"h1": "happy", "h2": "sad", "h3": "sad", "h4": "sad"})


def photos(rows: list[list[float]], gold: list[str | None], heads=HEADS):
    index = pd.Index([f"img{i}" for i in range(len(rows))], name="image")
    return pd.DataFrame(rows, index=index, columns=heads), pd.Series(gold, index=index)


# ------------------------------------------------------------------ the rule, by hand

def test_one_head_vs_several_heads():
    # Softmax of [0, .3, .3, .3]: each sad head ~0.267 < 0.375 although sad holds ~0.80 in total:
    # the authors' rule looks at single heads, so this sad image is wrong; top-1 calls it sad.
    # A single strong sad head (h3) suffices; happy has one head and needs exactly that one.
    scores, gold = photos([[0, .3, .3, .3], [0, 0, 2, 0], [2, 0, 0, 0], [0, 2, 0, 0]],
                          ["sad", "sad", "happy", "happy"])
    table = evaluation_photos.evaluate_photos(scores, gold, MAPPING)
    assert table["authors_correct"].tolist() == [False, True, True, False]
    assert table["top1"].tolist() == ["sad", "sad", "happy", "sad"]
    assert table["top1_correct"].tolist() == [True, True, True, False]
    assert table.loc[0, "gold_max_softmax"] == pytest.approx(np.exp(.3) / (1 + 3 * np.exp(.3)))
    assert table["n_accepted"].tolist() == [0, 1, 1, 1]


def test_threshold_is_strict():
    # Equal scores give softmax exactly 1/4; with factor 1 the cutoff is exactly 1/4 as well.
    scores, gold = photos([[1.0, 1.0, 1.0, 1.0]], ["happy"])
    probs = evaluation_photos.mapped_softmax(scores, MAPPING)
    assert (probs.to_numpy() == 0.25).all()
    at = evaluation_photos.evaluate_photos(scores, gold, MAPPING, factor=1.0)
    assert not at.loc[0, "authors_correct"] and at.loc[0, "n_accepted"] == 0
    below = evaluation_photos.evaluate_photos(scores, gold, MAPPING, factor=0.999)
    assert below.loc[0, "authors_correct"] and below.loc[0, "n_accepted"] == 2
    # The same with 40 heads and the paper's n: uniform 1/40 is not > 1/40.
    forty, gold40 = photos([[0.0] * 40], ["happy"], heads=list(taxonomy.EMOTIONS))
    mapping = pd.Series("happy", index=list(taxonomy.EMOTIONS))
    table = evaluation_photos.evaluate_photos(forty, gold40, mapping, factor=1.0)
    assert not table.loc[0, "authors_correct"]


def test_ties():
    # h1 (happy) ties with h2 (sad) at the top: top-1 is a tie and scored wrong; both labels
    # pass the authors' rule. A tie between two sad heads is a sad prediction.
    scores, gold = photos([[3, 3, 0, 0], [0, 3, 3, 0]], ["happy", "sad"])
    table = evaluation_photos.evaluate_photos(scores, gold, MAPPING)
    assert table["top1"].tolist() == [evaluation_photos.TIE, "sad"]
    assert table["top1_correct"].tolist() == [False, True]
    assert table["authors_correct"].tolist() == [True, True]
    matrix = evaluation_photos.confusion(table)
    assert matrix.loc["happy", evaluation_photos.TIE] == 1 and matrix.loc["sad", "sad"] == 1
    assert matrix.to_numpy().sum() == 2


def test_unmapped_heads_leave_the_softmax_and_n_mapped():
    mapping = MAPPING.copy()
    mapping["h4"] = np.nan  # 3 mapped heads: cutoff 0.5
    scores, gold = photos([[1.0, 1.0, 0.0, 50.0]], ["happy"])
    probs = evaluation_photos.mapped_softmax(scores, mapping)
    assert list(probs.columns) == ["h1", "h2", "h3"]
    assert probs.sum(axis=1).iloc[0] == pytest.approx(1.0)
    table = evaluation_photos.evaluate_photos(scores, gold, mapping)
    # h1 holds e/(2e+1) ~ 0.42: above 1.5/4 but not above 1.5/3
    assert not table.loc[0, "authors_correct"]


def test_gold_without_a_mapped_head():
    scores, gold = photos([[2, 0, 0, 0], [0, 2, 0, 0], [0, 0, 2, 0]], ["happy", "fear", None])
    with pytest.raises(ValueError, match=r"2 image\(s\) have no gold label .*'img1' \(fear\)"):
        evaluation_photos.evaluate_photos(scores, gold, MAPPING)
    wrong = evaluation_photos.evaluate_photos(scores, gold, MAPPING, policy="wrong")
    assert wrong["scorable"].tolist() == [True, False, False]
    assert wrong["authors_correct"].tolist() == [True, False, False]
    acc = evaluation_photos.accuracy_table(wrong, n_perm=99).set_index("class")
    assert acc.loc["overall", "n"] == 3 and acc.loc["overall", "authors_accuracy"] == 1 / 3
    assert acc.loc["class mean", "n"] == 1 and "fear" not in acc.index
    excluded = evaluation_photos.evaluate_photos(scores, gold, MAPPING, policy="exclude")
    assert excluded["image"].tolist() == ["img0"]
    with pytest.raises(ValueError, match="unknown policy"):
        evaluation_photos.evaluate_photos(scores, gold, MAPPING, policy="skip")
    with pytest.raises(ValueError, match=r"gold labels \['joy'\] are not basic emotions"):
        evaluation_photos.evaluate_photos(scores, pd.Series(["joy"] * 3, index=scores.index),
                                          MAPPING)
    with pytest.raises(ValueError, match=r"labels \['joy'\] that are not basic"):
        evaluation_photos.evaluate_photos(scores, gold, MAPPING.replace("sad", "joy"),
                                          policy="wrong")


# ------------------------------------------------------------------ chance levels

@settings(max_examples=40, deadline=None)
@given(st.integers(2, 6).flatmap(lambda n: st.tuples(
    arrays(np.bool_, (n, 8)), st.lists(st.sampled_from(BASIC_EMOTIONS[:3]), min_size=n,
                                       max_size=n))))
def test_chance_is_the_exact_permutation_expectation(case):
    sets, gold = case
    table = pd.DataFrame(sets, columns=[evaluation_photos.ACCEPTS + b for b in BASIC_EMOTIONS])
    table["gold"] = gold
    table["scorable"] = True
    table["authors_correct"] = [sets[i, BASIC_EMOTIONS.index(g)] for i, g in enumerate(gold)]
    table["top1"] = "anger"
    table["top1_correct"] = [g == "anger" for g in gold]
    acc = evaluation_photos.accuracy_table(table, n_perm=20).set_index("class")
    cols = [BASIC_EMOTIONS.index(g) for g in gold]
    brute = np.mean([np.mean([sets[i, c] for i, c in enumerate(perm)])
                     for perm in itertools.permutations(cols)])
    assert acc.loc["overall", "authors_chance"] == pytest.approx(brute)
    # everything predicted "anger": chance is the share of anger images
    assert acc.loc["overall", "top1_chance"] == pytest.approx(np.mean([g == "anger"
                                                                       for g in gold]))


def test_permutation_p():
    gold = pd.Series(list(BASIC_EMOTIONS) * 10)
    perfect = pd.DataFrame({b: gold == b for b in BASIC_EMOTIONS})
    assert evaluation_photos.permutation_p(perfect, gold, 999, seed=1) == pytest.approx(1 / 1000)
    everything = pd.DataFrame(True, index=gold.index, columns=list(BASIC_EMOTIONS))
    assert evaluation_photos.permutation_p(everything, gold, 999, seed=1) == 1.0
    assert evaluation_photos.permutation_p(perfect, gold, 99, seed=3) == \
        evaluation_photos.permutation_p(perfect, gold, 99, 3)


# ------------------------------------------------------------------ the real FERD file

@pytest.fixture(scope="module")
def ferd(mirror):
    """The mirrored files, read by path (module scope: before the per-test data environment)."""
    outputs = loaders.load_model_outputs(mirror / "ferd.jsonl")
    return (outputs, *evaluation_photos.photo_scores(outputs),
            loaders.load_basic_mappings(mirror / "basic_emotion_mappings.json"))


def test_ferd_numbers_through_the_loaders(mirror, ferd):
    outputs, scores, gold, mappings = ferd
    assert scores.shape == (152, 40) and list(scores.columns) == list(taxonomy.EMOTIONS)
    assert gold.value_counts().eq(19).all()
    table = evaluation_photos.evaluate_photos(scores, gold, mappings["ferd"])
    acc = evaluation_photos.accuracy_table(table, n_perm=199).set_index("class")
    assert len(table) == evaluation_photos.AUTHORS_N["ferd"]
    for label, value in evaluation_photos.AUTHORS_RESULTS["ferd"].items():
        assert round(acc.loc[label, "authors_accuracy"], 4) == value, label
    repro = evaluation_photos.reproduction(acc.reset_index(),
                                           evaluation_photos.AUTHORS_RESULTS["ferd"])
    assert (repro["difference"] == 0).all() and len(repro) == 9
    assert table["top1_correct"].sum() == 46
    # balanced classes: strict top-1 chance is exactly 1/8
    assert acc.loc["overall", "top1_chance"] == pytest.approx(1 / 8)
    assert acc.loc["overall", "authors_chance"] == pytest.approx(
        np.mean([table[evaluation_photos.ACCEPTS + g].mean() for g in BASIC_EMOTIONS]))
    assert acc.loc["overall", "authors_p"] == pytest.approx(1 / 200)


def test_ferd_stored_scores_follow_from_raw(mirror, ferd):
    check = evaluation_photos.stored_score_check(ferd[0]).set_index("check")
    assert check.loc["offset", "max_abs_deviation"] < 1e-12
    assert check.loc["softmax", "max_abs_deviation"] < 1e-6


def test_ferd_mapping_sensitivity(mirror, ferd):
    outputs, scores, gold, mappings = ferd
    sens = evaluation_photos.mapping_sensitivity(scores, gold, {"ferd": mappings["ferd"],
                                                                "affectnet": mappings["affectnet"]})
    sens = sens.set_index("class")
    assert sens.loc["overall", "ferd_authors"] == pytest.approx(119 / 152)
    flips = evaluation_photos.verdict_flips(scores, gold, mappings["ferd"], mappings["affectnet"])
    a = evaluation_photos.evaluate_photos(scores, gold, mappings["ferd"])["authors_correct"]
    b = evaluation_photos.evaluate_photos(scores, gold, mappings["affectnet"])["authors_correct"]
    assert len(flips) == int((a != b).sum()) > 0
    assert (flips["first_correct"] != flips["second_correct"]).all()
    assert (flips["changed_gold_heads"] != "").all()
    n_first = flips["first_correct"].sum()
    assert sens.loc["overall", "ferd_authors"] - sens.loc["overall", "affectnet_authors"] == \
        pytest.approx((2 * n_first - len(flips)) / 152)


def test_namesake_heads(mirror, ferd):
    mappings = ferd[3]
    table = evaluation_photos.namesake_heads({"ferd": mappings["ferd"],
                                              "affectnet": mappings["affectnet"]})
    assert dict(zip(table["emotion"], table["namesake"])) == {
        "Astonishment/Surprise": "surprise", "Fear": "fear", "Sadness": "sad",
        "Contempt": "contempt", "Disgust": "disgust", "Anger": "anger"}
    # the FERD mapping swaps the Fear and Astonishment/Surprise heads; AffectNet's does not
    off = table.loc[~table["ferd_agrees"], ["emotion", "ferd"]].values.tolist()
    assert off == [["Astonishment/Surprise", "fear"], ["Fear", "surprise"]]
    assert table["affectnet_agrees"].all()


def test_acceptance_matrix_diagonal_is_accuracy(mirror, ferd):
    outputs, scores, gold, mappings = ferd
    table = evaluation_photos.evaluate_photos(scores, gold, mappings["ferd"])
    matrix = evaluation_photos.acceptance_matrix(table)
    per_class = table.groupby("gold")["authors_correct"].mean()
    assert np.allclose(np.diag(matrix.loc[per_class.index, per_class.index]), per_class)
    assert matrix.sum(axis=1).mul(19).round(6).tolist() == \
        table.groupby("gold")["n_accepted"].sum().astype(float).tolist()



def test_top_confusion_is_the_largest_off_diagonal_cell():
    matrix = pd.DataFrame([[9, 3, 1], [3, 8, 0], [2, 0, 7]], index=["anger", "fear", "sad"],
                          columns=["anger", "fear", "sad"])
    assert evaluation_photos.top_confusion(matrix) == ("anger", "fear", 3)  # first of the tie
    matrix.loc["sad", "anger"] = 5
    assert evaluation_photos.top_confusion(matrix) == ("sad", "anger", 5)

# ------------------------------------------------------------------ AffectNet (offline fixture)

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
    scores, gold = evaluation_photos.photo_scores(out)
    assert gold.tolist()[:2] == ["anger", "happy"] and pd.isna(gold.iloc[2])
    mapping = loaders.load_basic_mappings()["affectnet"]
    with pytest.raises(ValueError, match=r"1 image\(s\) have no gold label"):
        evaluation_photos.evaluate_photos(scores, gold, mapping)
    table = evaluation_photos.evaluate_photos(scores, gold, mapping, policy="wrong")
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
    accuracy = pd.DataFrame({"class": ["anger", "overall"], "authors_accuracy": [0.9, 0.75721],
                             "authors_chance": [0.5, 0.4321], "top1_accuracy": [0.5, 0.30149],
                             "top1_chance": [0.2, 0.125]})
    repro = pd.DataFrame({"class": ["anger", "overall"], "difference": [-0.00021, 0.0001]})
    text = evaluation_photos.affectnet_summary(table, accuracy, repro, {})
    assert text == (
        "In this run: 1,235 AffectNet images (2 with a class outside the 8, counted wrong); the "
        "authors' rule gives 75.7% (published 75.7%; largest per-class difference 0.0002) against "
        "a chance level of 43.2%; strict top-1 gives 30.1% (chance 12.5%). Record fields the "
        "loader ignored: none.")
    ignored = evaluation_photos.affectnet_summary(table, accuracy, repro, {"source": 5})
    assert ignored.endswith("Record fields the loader ignored: {'source': 5}.")

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


# ------------------------------------------------------------------ model vs experts

def wide(values, index=None):
    return pd.DataFrame(values, columns=list(taxonomy.EMOTIONS), index=index)


def _reference_lists(values, k, seed):
    """The compare view's lists by a direct loop: per image, categories sorted by value (high
    first) then by the same uniform keys :func:`top_k_sets` draws; the first k non-zero."""
    keys = np.random.default_rng(seed).random(values.shape)
    return [set(j for j in sorted(range(40), key=lambda j: (-row[j], key[j]))[:k] if row[j] != 0)
            for row, key in zip(values, keys)]


@settings(max_examples=60, deadline=None)
@given(arrays(np.float64, (4, 40), elements=st.sampled_from([0.0, 0.0, 1.0, 2.5, 7.0])),
       st.integers(1, 8), st.integers(0, 1000))
def test_top_k_sets_list_the_k_highest_non_zero_with_seeded_random_ties(values, k, seed):
    sets, tie = evaluation_experts.top_k_sets(values, k, np.random.default_rng(seed))
    for row, got, ref, flagged in zip(values, sets, _reference_lists(values, k, seed), tie):
        assert set(np.flatnonzero(got)) == ref
        ranked = np.sort(row)[::-1]
        assert flagged == (ranked[k - 1] == ranked[k] != 0)


def test_top_k_ties_are_broken_at_random_not_in_canonical_order():
    values = np.zeros((400, 40))
    values[:, [3, 10, 20, 30, 35, 38]] = [6, 6, 6, 6, 6, 6]  # six tied, five listed
    sets, tie = evaluation_experts.top_k_sets(values, 5, np.random.default_rng(0))
    assert tie.all() and (sets.sum(axis=1) == 5).all()
    left_out = (~sets[:, [3, 10, 20, 30, 35, 38]]).mean(axis=0)
    assert (left_out > 0.1).all()  # each tied category is left out about a sixth of the time
    few = np.zeros((1, 40))
    few[0, [1, 2]] = [3.0, 1.0]
    short, _ = evaluation_experts.top_k_sets(few, 5, np.random.default_rng(0))
    assert np.flatnonzero(short[0]).tolist() == [1, 2]  # fewer than 5 non-zero: fewer listed


@settings(max_examples=30, deadline=None)
@given(arrays(np.float64, (6, 40), elements=st.sampled_from([0.0, 1.0, 2.5, 7.0])),
       arrays(np.float64, (6, 40), elements=st.floats(0, 7)), st.integers(1, 6),
       st.integers(0, 100))
def test_overlap_and_its_permutation_null_equal_direct_loops(a, b, k, seed):
    table, first, second = evaluation_experts.top_k_overlap(wide(a), wide(b), k=k, seed=seed)
    assert (table["overlap"] == (first & second).sum(axis=1)).all()
    assert (table["n_model"] <= k).all() and (table["n_human"] <= k).all()
    test = evaluation_experts.overlap_null(first, second, n_perm=50, seed=seed)
    lists = [set(np.flatnonzero(x)) for x in first], [set(np.flatnonzero(x)) for x in second]
    pairs = [len(x & y) for x in lists[0] for y in lists[1]]
    assert test["mean"] == pytest.approx(table["overlap"].mean())
    assert test["chance_mean"] == pytest.approx(np.mean(pairs))
    np.testing.assert_allclose(test["chance_shares"][:max(pairs) + 1],
                               np.bincount(pairs) / len(pairs))
    perms = np.random.default_rng(seed).permuted(np.tile(np.arange(6), (50, 1)), axis=1)
    null = [np.mean([len(lists[0][i] & lists[1][j]) for i, j in enumerate(perm)])
            for perm in perms]
    assert test["p"] == pytest.approx((1 + sum(n >= test["mean"] - 1e-12 for n in null)) / 51)


def test_overlap_chance_tables_the_permutation_null():
    overlap = pd.Series([5, 0, 1, 1])
    table = evaluation_experts.overlap_chance(overlap, np.array([0.5, 0.3, 0.2]), 0.7)
    table = table.set_index("overlap")
    assert table.index.tolist() == ["0", "1", "2", "3", "4", "5", "mean"]
    assert table.loc[["0", "1", "2", "3"], "chance_share"].tolist() == [0.5, 0.3, 0.2, 0.0]
    assert table.loc["mean", "chance_share"] == 0.7
    assert table.loc["mean", "observed_share"] == pytest.approx(7 / 4)


def small_panel(n_images=12, seed=0, experts=4, per_image=3, noise=None):
    """A hand-sized panel: ``experts`` raters, ``per_image`` per image, integer 0-7 ratings:
    uniform at random, or (``noise`` given) one shared truth plus rating noise of that SD."""
    rng = np.random.default_rng(seed)
    truth = rng.uniform(0, 7, (n_images, 40))
    ratings = np.full((experts, n_images, 40), np.nan)
    for i in range(n_images):
        who = rng.choice(experts, per_image, replace=False)
        ratings[who, i] = rng.integers(0, 8, (per_image, 40)) if noise is None else \
            np.clip(np.rint(truth[i] + rng.normal(0, noise, (per_image, 40))), 0, 7)
    return panel.Panel(ratings, [f"human-{k + 1}" for k in range(experts)], [True] * experts,
                       ["Human Annotators"] * experts, [f"img{i:02d}" for i in range(n_images)])


@settings(max_examples=20, deadline=None)
@given(st.integers(0, 10_000))
def test_per_image_agreement_matches_scipy(seed):
    p = small_panel(seed=seed)
    model = wide(np.random.default_rng(seed).normal(size=(12, 40)), index=list(p.images))
    joined = p.with_annotator("Empathic Insight m", model, "Our Models")
    table = evaluation_experts.per_image_agreement(joined)
    assert table.shape == (12, 5) and list(table.columns) == list(joined.annotators)
    for a, name in enumerate(joined.annotators):
        for i, image in enumerate(joined.images):
            others = [k for k in range(4) if k != a and joined.rated[k, i]]
            if not joined.rated[a, i] or not others:
                assert np.isnan(table.loc[image, name])
                continue
            median = np.median(joined.ratings[others, i], axis=0)
            own = joined.ratings[a, i]
            if np.ptp(own) == 0 or np.ptp(median) == 0:
                assert np.isnan(table.loc[image, name])
            else:
                assert table.loc[image, name] == pytest.approx(
                    stats.spearmanr(own, median).statistic, abs=1e-9)


def test_readout_table_changes_only_the_readout(mirror):
    p = small_panel(n_images=30, seed=2, experts=4, per_image=4, noise=1.0)
    median = wide(np.nan_to_num(hq_suite.expert_median(p)), index=list(p.images))
    noise = median.sample(frac=1, random_state=0).set_axis(median.index)
    table = evaluation_experts.readout_table(p, {"median": median, "noise": noise}, n_boot=100,
                                             seed=0)
    assert table[["perceiver", "readout"]].values.tolist() == [
        [who, r] for who in ("median", "noise") for r in evaluation_experts.READOUTS]
    assert (table["ci_low"] <= table["ci_high"]).all()  # percentile intervals over images
    full = table["readout"] == "all 40 scores"
    assert (table.loc[full, ["difference", "diff_low", "diff_high"]] == 0).all().all()
    assert (table["diff_low"] <= table["diff_high"]).all()
    # the full readout of the median is exactly what the suite gives for that annotator alone
    alone = hq_suite.run_suite(p.with_annotator("m", median, "Readouts"), n_boot=100, seed=0)
    row = alone.rho_summary.set_index("annotator").loc["m"]
    assert table.loc[0, "mean_rho"] == pytest.approx(row["mean_rho"])
    median_rows = table[table["perceiver"] == "median"].set_index("readout")["mean_rho"]
    noise_rows = table[table["perceiver"] == "noise"].set_index("readout")["mean_rho"]
    assert (median_rows > noise_rows).all()
    zero_shot = evaluation_experts.read_out(median, "zero-shot")
    assert ((zero_shot > 0).sum(axis=1) == 25).all()  # the protocol's 25 categories, rated 1-7
    assert table.set_index(["perceiver", "readout"]).loc[("median", "zero-shot protocol"),
                                                         "n_emotions"] <= 25


def test_readout_summary_gives_each_protocols_paired_move():
    rows = [("model", "all 40 scores", 0.20, 40, 0.0, 0.0, 0.0),
            ("model", "zero-shot protocol", 0.21, 25, 0.01, -0.02, 0.04),
            ("model", "multi-shot protocol", 0.18, 40, -0.02, -0.03, -0.01)]
    readout = pd.DataFrame(rows, columns=["perceiver", "readout", "mean_rho", "n_emotions",
                                          "difference", "diff_low", "diff_high"])
    assert evaluation_experts.readout_summary(readout) == (
        "For model, mean rho is 0.200 with all 40 scores; the zero-shot readout moves it by "
        "+0.010 (95% CI over images -0.020 to +0.040; mean over 25 emotions) and the multi-shot "
        "readout moves it by -0.020 (95% CI over images -0.030 to -0.010; mean over 40 "
        "emotions).")
    readout.loc[1, ["n_emotions", "difference", "diff_low", "diff_high"]] = [0, np.nan, np.nan,
                                                                             np.nan]
    text = evaluation_experts.readout_summary(readout)
    assert "nan" not in text and ("the zero-shot readout leaves no emotion with a defined rho on "
                                  "these images, so its effect cannot be measured here") in text


def test_outside_scale_counts_the_scores_off_0_to_7():
    assert evaluation_experts.outside_scale(wide(np.array([[-1.0, 8.0, 7.0, 0.0] + [3.0] * 36]))) \
        == 2


def test_match_images_exact_then_by_stem_and_counts():
    mapping, counts = evaluation_experts.match_images(["a", "hq/00002.png", "zz", "00003.jpg"],
                                                      ["a", "00002.png", "00003", "00004"])
    assert mapping.to_dict() == {"a": "a", "hq/00002.png": "00002.png", "00003.jpg": "00003"}
    assert counts == {"matched": 3, "unmatched_ids": 1, "panel_without_scores": 1, "by_stem": 2}
    with pytest.raises(ValueError, match="different image sets"):
        evaluation_experts.match_images(["x", "y"], ["a", "b"])
    with pytest.raises(ValueError, match="duplicate image ids"):
        evaluation_experts.match_images(["a", "a"], ["a"])


def test_expert_top_k_overlap_by_hand():
    p = small_panel(n_images=6, seed=4, experts=3, per_image=3)
    ratings = p.ratings + np.random.default_rng(0).uniform(0.01, 0.2, p.ratings.shape)
    p = panel.Panel(ratings, p.annotators, p.human, p.groups, p.images)  # no ties anywhere
    overlap, chance = evaluation_experts.expert_top_k_overlap(p, k=5)
    assert len(overlap) == 18

    def best(v):
        return set(sorted(range(40), key=lambda j: -v[j])[:5])
    a, i = 1, 2
    others = np.median(p.ratings[[0, 2], i], axis=0)
    assert overlap.loc[("human-2", "img02")] == len(best(p.ratings[a, i]) & best(others))
    direct = []
    for a in range(3):
        own = [best(p.ratings[a, i]) for i in range(6)]
        med = [best(np.median(np.delete(p.ratings[:, i], a, axis=0), axis=0)) for i in range(6)]
        direct += [np.mean([len(x & y) for x in own for y in med])] * 6
    assert chance == pytest.approx(np.mean(direct))


def test_effective_categories():
    values = np.zeros((3, 40))
    values[0, 4] = 3.0
    values[1] = 1.0
    out = evaluation_experts.effective_categories(wide(values))
    assert out.iloc[0] == pytest.approx(1) and out.iloc[1] == pytest.approx(40)
    assert np.isnan(out.iloc[2])
    with pytest.raises(ValueError, match="non-negative"):
        evaluation_experts.effective_categories(wide(-values - 1))


def test_image_demographics_follow_the_panel_order():
    meta = pd.DataFrame({"id": ["img01", "img00", "other"], "ethnicity_group": ["Black", "White",
                                                                               "White"],
                         "age": [30, 40, 50], "gender": ["man", "woman", "man"],
                         "emotion": ["Fear", "Anger", "Pain"]})
    demo, counts = evaluation_experts.image_demographics(meta, "id", ["img00", "img01", "img02"])
    assert list(demo.index) == ["img00", "img01"] and demo["ethnicity"].tolist() == ["White",
                                                                                    "Black"]
    assert counts["panel_without_scores"] == 1 and counts["unmatched_ids"] == 1
    with pytest.raises(ValueError, match="lack column"):
        evaluation_experts.image_demographics(meta.drop(columns="age"), "id", ["img00"])



def test_example_images_one_per_prompted_emotion_else_the_clearest():
    prompted = pd.Series(["Anger", "Fear", "Anger", "Pain"], index=["a", "b", "c", "d"])
    median = wide(np.zeros((4, 40)), index=list(prompted.index))
    median.iloc[:, 0] = [1, 6, 3, 7]
    assert evaluation_experts.example_images(prompted, ["Pain", "Awe", "Anger"], median) == \
        ["d", "a"]  # in the order asked; no image was prompted for Awe
    nothing = pd.Series(dtype=str)
    assert evaluation_experts.example_images(nothing, ["Pain", "Awe", "Anger"], median) == \
        ["d", "b", "c"]  # as many as asked, the highest median peaks first

def claims_for(model_scores, groups=(), stand_in=None):
    p = small_panel(n_images=40, seed=1, experts=4, per_image=4, noise=1.0)
    model = "Empathic Insight m"
    joined = p.with_annotator(model, model_scores(p), "Our Models")
    for name, group in groups:
        joined = joined.with_annotator(name, model_scores(p) / 2, group)
    suite = hq_suite.run_suite(joined, n_boot=200, seed=0)
    res = resampled.resample(joined, n_boot=100, seed=0)
    rho = suite.rho_summary.set_index("annotator")
    could = suite.could_be.set_index("annotator").loc[model]
    authors = {"mean_rho": rho.loc[model, "mean_rho"], "experts_min": 0.1, "experts_max": 0.5,
               "could_be": could["could_be"], "p_value": could["p_value"]}
    vlms = pd.DataFrame([{"vlm": name, **resampled.paired_difference(res, model, name)}
                         for name, group in groups if group.startswith("VLMs")],
                        columns=["vlm", "difference", "ci_low", "ci_high", "p_value"])
    overlap = {"mean": 1.0, "chance_mean": 0.625, "p": 0.01, "expert_mean": 2.0,
               "expert_chance": 0.9}
    ferd = {"accuracy": 0.7829, "published": 0.7829, "max_difference": 0.0, "chance": 0.6,
            "top1": 0.5}
    factors = pd.DataFrame({"factor": ["ethnicity", "age", "gender"], "reject": [False, True,
                                                                                 False]})
    return claims.claims(model, resampled.annotator_intervals(res),
                         resampled.like_for_like_table(res, [model]), authors, vlms, overlap,
                         ferd, None, factors, stand_in)


def test_claims_follow_the_numbers_and_name_their_evidence():
    def median_copy(p):  # the experts' median: agrees as well as an expert does
        return wide(np.nan_to_num(hq_suite.expert_median(p)), index=list(p.images))
    table = claims_for(median_copy).set_index("claim")
    assert list(table.columns) == ["paper", "this_build", "evidence", "verdict", "why"]
    assert set(table["verdict"]) <= set(claims.VERDICTS)
    assert table.loc["Real photographs (FERD)", "verdict"] == "reproduced on real data"
    assert table.loc["Human-expert level on HQ", "verdict"] == "reproduced on real data"
    assert table.loc["Beats the VLMs", "verdict"] == "not testable here"
    assert table.loc["Demographic balance", "verdict"] == "not reproduced"
    assert "age" in table.loc["Demographic balance", "this_build"]
    assert table.loc["Blind study", "verdict"] == "not testable here"
    assert "related check" in table.loc["Blind study", "this_build"]
    assert table.loc["Real photographs (AffectNet)", "verdict"] == "not testable here"
    assert table.loc["Real photographs (AffectNet)", "this_build"].startswith("not read")
    assert table.loc["Real photographs (AffectNet)", "paper"] == "75.7% with the authors' rule"

    def noise(p):
        return wide(np.random.default_rng(9).uniform(0, 7, (p.n_images, 40)),
                    index=list(p.images))
    table = claims_for(noise, groups=[("vlm ZS", "VLMs Zero-Shot")]).set_index("claim")
    assert table.loc["Human-expert level on HQ", "verdict"] == "not reproduced"
    assert "vlm ZS" in table.loc["Beats the VLMs", "this_build"]
    assert table.loc["Beats the VLMs", "verdict"] == "not reproduced"  # noise vs noise / 2


def test_stand_in_rows_are_never_counted_as_reproduced():
    def median_copy(p):
        return wide(np.nan_to_num(hq_suite.expert_median(p)), index=list(p.images))
    table = claims_for(median_copy, stand_in="simulated panel")
    by = table.set_index("claim")
    assert by.loc["Human-expert level on HQ", "verdict"] == "consistent on stand-ins"
    assert by.loc["Human-expert level on HQ", "evidence"] == "stand-ins"
    assert by.loc["Real photographs (FERD)", "verdict"] == "reproduced on real data"
    assert claims.verdict_counts(table) == (
        "Of the 6 checks, 1 reproduced on real data, 1 consistent on stand-ins (evidence about "
        "the pipeline and the statistics, not about the paper's model), 1 not reproduced and 3 "
        "not testable here.")


def test_stand_ins_and_their_note():
    assert claims.stand_ins(UNTRAINED_LABEL, "simulated") == ["untrained encoder",
                                                              "simulated panel"]
    assert claims.stand_ins("google/siglip2-so400m-patch16-384", "simulated") == \
        ["simulated panel"]
    assert claims.stand_ins("google/siglip2-so400m-patch16-384", "real") == []
    assert claims.stand_in_note([]) == \
        "This build uses the real HQ ratings and the SigLIP2 encoder."
    assert claims.stand_in_note(["untrained encoder", "simulated panel"]).startswith(
        "In this build the HQ rows rest on stand-ins (untrained encoder, simulated panel): ")

def test_wide_inputs_are_checked():
    good = wide(np.zeros((2, 40)))
    with pytest.raises(ValueError, match=r"missing \['Amusement'\]"):
        evaluation_experts.outside_scale(good.drop(columns="Amusement"))
    with pytest.raises(ValueError, match="same images"):
        evaluation_experts.top_k_overlap(good, good.set_axis(["a", "b"]))
    nan = good.copy()
    nan.iloc[1, 3] = np.nan
    with pytest.raises(ValueError, match=r"non-finite values in 1 image"):
        evaluation_experts.outside_scale(nan)


def synthetic_fairness(n=600, seed=0):
    rng = np.random.default_rng(seed)
    demo = pd.DataFrame({"ethnicity": rng.choice(["A", "B", "C"], n, p=[0.5, 0.25, 0.25]),
                         "age": rng.choice([20, 40, 60, 80], n),
                         "gender": rng.choice(["man", "woman"], n)})
    agreement = 0.6 - 0.2 * (demo["ethnicity"] == "B") - 0.05 * (demo["age"] - 20) / 10 \
        + rng.normal(0, 0.1, n)
    return pd.Series(agreement.to_numpy(), index=demo.index), demo


def test_fairness_regression_recovers_planted_effects():
    agreement, demo = synthetic_fairness()
    agreement.iloc[:3] = np.nan
    coefs, factors, info = evaluation_experts.fairness_regression(agreement, demo)
    assert info["n_excluded"] == 3 and info["n_used"] == 597
    assert info["references"] == {"ethnicity": "A", "gender": _majority(demo["gender"])}
    c = coefs.set_index("term")
    assert c.loc["ethnicity: B", "estimate"] == pytest.approx(-0.2, abs=0.04)
    assert c.loc["age (per 10 years)", "estimate"] == pytest.approx(-0.05, abs=0.01)
    assert c.loc["ethnicity: B", "reject"] and c.loc["age (per 10 years)", "reject"]
    assert c.loc["ethnicity: C", "estimate"] == pytest.approx(0, abs=0.04)
    assert (coefs["p_holm"] >= coefs["p"] - 1e-15).all()
    f = factors.set_index("factor")
    assert f.loc["ethnicity", "df"] == 2 and f.loc["ethnicity", "reject"]
    assert not f.loc["gender", "reject"]
    with pytest.raises(ValueError, match=r"lack column\(s\) \['gender'\]"):
        evaluation_experts.fairness_regression(agreement, demo.drop(columns="gender"))


def test_fairness_regression_is_calibrated_under_the_null():
    # pure-noise agreement: with Holm over the factors, a false rejection in at most a few seeds
    rejections = 0
    for seed in range(20):
        agreement, demo = synthetic_fairness(300, seed)
        noise = np.random.default_rng(100 + seed).normal(0, 0.1, len(agreement))
        _, factors, _ = evaluation_experts.fairness_regression(
            pd.Series(noise, index=demo.index), demo)
        rejections += bool(factors["reject"].any())
    assert rejections <= 3



def test_fairness_result_names_the_factors_that_survive():
    def factors(*reject):
        return pd.DataFrame({"factor": list(evaluation_experts.FAIRNESS_FACTORS),
                             "reject": list(reject)})
    assert evaluation_experts.fairness_result(factors(False, False, False)) == \
        "No factor survives the Holm correction"
    assert evaluation_experts.fairness_result(factors(False, True, False)) == \
        "After the Holm correction, age has an effect"
    assert evaluation_experts.fairness_result(factors(True, False, True)) == \
        "After the Holm correction, ethnicity, gender have an effect"

def _majority(values):
    counts = values.value_counts()
    return sorted(counts.index[counts == counts.max()])[0]


# ------------------------------------------------------------------ figures

def test_figures_draw_the_inputs(mirror, ferd):
    outputs, scores, gold, mappings = ferd
    table = evaluation_photos.evaluate_photos(scores, gold, mappings["ferd"])
    acc = evaluation_photos.accuracy_table(table, n_perm=99)
    fig = evaluation_figures.photo_accuracy_bars(acc, "t")
    heights = [p.get_height() for p in fig.axes[0].patches]
    assert heights[:9] == pytest.approx(acc["authors_accuracy"].iloc[:9].tolist())
    assert len(evaluation_figures.photo_confusion(
        evaluation_photos.confusion(table), evaluation_photos.acceptance_matrix(table), "t"
    ).axes) == 2
    sens = evaluation_photos.mapping_sensitivity(scores, gold, {"ferd": mappings["ferd"],
                                                                "affectnet": mappings["affectnet"]})
    fig = evaluation_figures.mapping_sensitivity_bars(sens, ("ferd", "affectnet"), "t")
    assert len(fig.axes) == 2
    agreement, demo = synthetic_fairness(200)
    coefs, _, _ = evaluation_experts.fairness_regression(agreement, demo)
    fig = evaluation_figures.fairness_effects(coefs, "t")
    assert [t.get_text() for t in fig.axes[0].get_yticklabels()] == coefs["term"][::-1].tolist()
    probs = evaluation_photos.mapped_softmax(scores.iloc[:3],
                                             pd.Series("happy", index=scores.columns))
    human = wide(np.arange(120).reshape(3, 40) % 8, index=probs.index)
    fig = evaluation_figures.distribution_panels(probs, human, "t",
                                                 thumbnails=[np.zeros((4, 4))] * 3)
    assert len(fig.axes) == 9
    assert [p.get_height() for p in fig.axes[2].patches] == human.iloc[0].tolist()
    chance = evaluation_experts.overlap_chance(pd.Series([0, 1, 2]),
                                               np.array([0.5, 0.3, 0.1, 0.05, 0.05, 0.0]), 0.8)
    assert len(evaluation_figures.overlap_bars(chance, "t").axes[0].patches) == 12
