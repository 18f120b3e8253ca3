"""``emonet evaluate``'s logic: the summary against the definitions of the issue computed the
slow way (scikit-learn, scipy), score tables on 0-1 and 0-7, hq.csv-format scores, every bad
input as one clear error, counted unknown ids, and a report that is self-contained and the same
for the same seed."""

import ast
import re
import warnings

import matplotlib
import numpy as np
import pandas as pd
import pytest
from scipy import stats
from sklearn.metrics import cohen_kappa_score

from emonet.benchmarking import evaluate
from emonet.benchmarking.evaluate import ScoresError
from emonet.data import taxonomy
from emonet.hq import panel, simulation

matplotlib.use("Agg")

EMOTIONS = list(taxonomy.EMOTIONS)


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    """A simulated panel of 4 experts (2 per image) on 30 images as hq.csv, and a model's
    scores (truth plus noise, continuous, on 0-7) as a score table."""
    root = tmp_path_factory.mktemp("bench")
    rng = np.random.default_rng(5)
    truth = simulation.synthetic_truth(30, seed=5)
    ids = [f"img{k:03d}" for k in range(30)]
    experts = simulation.simulate_panel(
        truth, ids, simulation.RaterModel(n_raters=4, per_image=2), seed=5
    )
    hq = panel.write_hq_csv(experts, root / "hq.csv")
    scores = pd.DataFrame(np.clip(truth + rng.normal(0, 1.5, truth.shape), 0, 7), columns=EMOTIONS)
    scores.insert(0, "image", [f"{i}.png" for i in ids])  # matched by stem
    scores.to_csv(root / "scores.csv", index=False)
    return root, hq, scores


def reference(hq, scores: pd.DataFrame) -> tuple[float, float]:
    """The issue's mean_kappa and mean_rho of a model, with loops and the reference packages."""
    long = pd.read_csv(hq)
    humans = long[long["human"]]
    model = scores.set_index(scores["image"].str.replace(".png", ""))[EMOTIONS]
    ratings = {}
    for row in humans.itertuples():
        values = ast.literal_eval(row.annotations)
        ratings[(row.annotator, row.image)] = {
            e: values.get(taxonomy.family_key(e), 0) for e in EMOTIONS
        }
    experts = sorted(humans["annotator"].unique())
    kappas, rhos = [], []
    for e in EMOTIONS:
        per_expert = []
        for expert in experts:
            shared = [img for (a, img) in ratings if a == expert and img in model.index]
            if len(shared) < 2:
                continue
            x = model.loc[shared, e].to_numpy().astype(int)
            y = np.array([ratings[(expert, img)][e] for img in shared]).astype(int)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                k = cohen_kappa_score(x, y, weights="quadratic", labels=range(8))
            if np.isfinite(k):
                per_expert.append(k)
        kappas.append(np.mean(per_expert) if per_expert else np.nan)
        median = pd.Series(
            {
                img: np.median([ratings[(a, img)][e] for a in experts if (a, img) in ratings])
                for img in model.index
            }
        )
        rho = stats.spearmanr(model[e], median.loc[model.index]).statistic
        rhos.append(rho)
    return float(np.nanmean(kappas)), float(np.nanmean(rhos))


def test_summary_follows_the_definitions(setup, tmp_path):
    root, hq, scores = setup
    result = evaluate.evaluate(root / "scores.csv", tmp_path, hq, name="Mine", n_boot=50)
    row = result.summary.set_index("annotator").loc["Mine"]
    kappa, rho = reference(hq, scores)
    assert row["mean_kappa"] == pytest.approx(kappa, abs=1e-9)
    assert row["mean_rho"] == pytest.approx(rho, abs=1e-9)
    assert row["group"] == "Other Models" and row["added"] and row["n_images"] == 30
    assert row["could_be"] == (row["could_be_p"] > 0.05)
    summary = pd.read_csv(tmp_path / "summary.csv")
    assert list(summary.columns[:8]) == [
        "annotator",
        "group",
        "human",
        "added",
        "n_images",
        "mean_kappa",
        "mean_rho",
        "rho_ci_low",
    ]
    assert summary["human"].sum() == 4 and "Random Baseline" in set(summary["annotator"])
    for name in ("kappa_by_emotion", "rho_by_emotion", "could_be", "group_tests", "coverage"):
        assert (tmp_path / f"{name}.csv").exists()
    assert result.coverage.iloc[0][["matched", "matched_by_stem", "unknown_ids"]].tolist() == [
        30,
        30,
        0,
    ]


def test_scores_on_0_1_are_multiplied_by_7(setup, tmp_path):
    root, hq, scores = setup
    scaled = scores.copy()
    scaled[EMOTIONS] = scaled[EMOTIONS] / 7
    scaled.to_csv(tmp_path / "scaled.csv", index=False)
    a = evaluate.evaluate(root / "scores.csv", tmp_path / "a", hq, n_boot=10).summary
    b = evaluate.evaluate(
        tmp_path / "scaled.csv", tmp_path / "b", hq, scale="0-1", n_boot=10
    ).summary
    mine = a["annotator"] == evaluate.DEFAULT_NAME
    assert np.allclose(a.loc[mine, "mean_rho"], b.loc[mine, "mean_rho"])
    assert np.allclose(a.loc[mine, "mean_kappa"], b.loc[mine, "mean_kappa"], atol=0.02)


def test_an_hq_csv_file_is_accepted_as_scores(setup, tmp_path):
    root, hq, scores = setup
    rows = []
    for k, (_, row) in enumerate(scores.iterrows()):
        values = {taxonomy.family_key(e): int(row[e]) for e in EMOTIONS if int(row[e])}
        rows.append((row["image"][:-4], "VLM ZS", False, repr(values)))
        if k % 2:
            rows.append((row["image"][:-4], "VLM MS", False, repr(values)))
    pd.DataFrame(rows, columns=["image", "annotator", "human", "annotations"]).to_csv(
        tmp_path / "vlm.csv", index=False
    )
    summary = evaluate.evaluate(
        tmp_path / "vlm.csv", tmp_path / "out", hq, n_boot=10
    ).summary.set_index("annotator")
    assert summary.loc["VLM ZS", "group"] == "VLMs Zero-Shot" and summary.loc["VLM ZS", "added"]
    assert summary.loc["VLM MS", ["group", "n_images"]].tolist() == ["VLMs Multi-Shot", 15]
    with pytest.raises(ScoresError, match="--name renames one model; the file holds 2"):
        evaluate.evaluate(tmp_path / "vlm.csv", tmp_path / "out", hq, name="X", n_boot=10)


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda f: f.drop(columns="image"), r"line 1: no column 'image'"),
        (
            lambda f: f.rename(columns={"Awe": "awe"}),
            r"line 1: unknown column\(s\) 'awe' \(did you mean 'Awe'\?\); missing category "
            r"column\(s\) \['Awe'\]",
        ),
        (lambda f: f.drop(columns="Pride"), r"missing category column\(s\) \['Pride'\]"),
        (
            lambda f: f.assign(Pride=f["Pride"].where(f.index != 3, "high")),
            r"empty or non-numeric value in 1 cell\(s\): line 5 column 'Pride' \('high'\)",
        ),
        (
            lambda f: f.assign(Pride=f["Pride"].where(f.index != 3, "")),
            r"line 5 column 'Pride' \(''\)",
        ),
        (
            lambda f: f.assign(Awe=f["Awe"].where(f.index > 1, 7.5)),
            r"value outside the 0-7 scale \(use --scale 0-1 for scores on 0-1, --keep-outside-scale "
            r"for scores as stored\) in 2 cell\(s\): "
            r"line 2 column 'Awe' \('7.5'\), line 3",
        ),
        (
            lambda f: f.assign(image=f["image"].where(f.index != 4, f["image"][2])),
            r"image 'img002.png' has 2 rows \(lines 4, 6\)",
        ),
        (
            lambda f: f.assign(image=f["image"].where(f.index > 2, "other.png")),
            r"image 'other.png' has 3 rows",
        ),
        (
            lambda f: f.assign(image=[f"x{k}" if k < 3 else i for k, i in enumerate(f["image"])]),
            r"3 of 30 image ids of 'My model' \(10%\) are not images of the panel \(at most 5% may "
            r"be\), e\.g\. \['x0', 'x1', 'x2'\]",
        ),
    ],
)
def test_a_bad_score_table_is_one_clear_error(setup, tmp_path, change, message):
    root, hq, scores = setup
    change(scores.astype(object).copy()).to_csv(tmp_path / "bad.csv", index=False)
    with pytest.raises(ScoresError, match=message) as err:
        evaluate.evaluate(tmp_path / "bad.csv", tmp_path / "out", hq, n_boot=10)
    assert str(err.value).startswith(str(tmp_path / "bad.csv")) and "\n" not in str(err.value)


def test_other_bad_input_is_one_clear_error(setup, tmp_path):
    root, hq, scores = setup
    with pytest.raises(ScoresError, match="already in the panel"):
        evaluate.evaluate(root / "scores.csv", tmp_path, hq, name="human-1", n_boot=10)
    with pytest.raises(ScoresError, match="expert rows"):
        evaluate.evaluate(hq, tmp_path, hq, n_boot=10)
    with pytest.raises(ScoresError, match="--scale applies to a score table"):
        evaluate.evaluate(hq, tmp_path, hq, scale="0-1", n_boot=10)
    with pytest.raises(ScoresError, match="no such file"):
        evaluate.evaluate(tmp_path / "none.csv", tmp_path, hq, n_boot=10)
    (tmp_path / "empty.csv").write_text("")
    with pytest.raises(ScoresError, match="not a readable CSV"):
        evaluate.evaluate(tmp_path / "empty.csv", tmp_path, hq, n_boot=10)


def test_unknown_ids_below_the_threshold_are_left_out_and_counted(setup, tmp_path):
    root, hq, scores = setup
    extra = pd.concat([scores, scores.iloc[:1].assign(image="stranger.png")])
    extra.to_csv(tmp_path / "extra.csv", index=False)
    result = evaluate.evaluate(tmp_path / "extra.csv", tmp_path / "out", hq, n_boot=10)
    assert result.coverage.iloc[0][
        ["rows", "matched", "unknown_ids", "unknown_examples"]
    ].tolist() == [31, 30, 1, "stranger.png"]
    assert "stranger.png" in result.report.read_text()


def test_the_report_is_self_contained_and_reproducible(setup, tmp_path):
    root, hq, scores = setup
    first = evaluate.evaluate(root / "scores.csv", tmp_path / "a", hq, n_boot=100)
    second = evaluate.evaluate(root / "scores.csv", tmp_path / "b", hq, n_boot=100)
    for name in ("summary.csv", "could_be.csv", "report.html"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
    page = first.report.read_text()
    assert page.count('src="data:image/png;base64,') == 4
    assert not re.search(r"(src|href)=\"(?!data:)", page)
    assert second.summary.equals(first.summary)


def test_scores_outside_the_scale_can_be_kept_as_stored(setup, tmp_path):
    """A regression's slightly negative outputs: kept as stored and counted with keep_outside."""
    root, hq, scores = setup
    frame = scores.copy()
    frame.loc[0, "Awe"] = -0.25
    frame.to_csv(tmp_path / "scores.csv", index=False)
    result = evaluate.evaluate(
        tmp_path / "scores.csv", tmp_path / "out", hq, n_boot=20, keep_outside=True
    )
    assert result.coverage["outside_scale"].tolist() == [1]
