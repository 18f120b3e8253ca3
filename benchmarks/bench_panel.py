"""Time the vectorised HQ agreement suite (:func:`emonet.hq.paper_statistics.compute`) against the
straightforward loop: per emotion, per pair of annotators, per bootstrap resample, with the
reference functions (``krippendorff.alpha``, scikit-learn's ``cohen_kappa_score``, scipy's
``spearmanr`` and ``mannwhitneyu``), written the way the authors' ``analysis-hq.ipynb`` is.
Both sides get the same panel and the same bootstrap draws; every table is compared (to 1e-9)
before the ratio is printed.

The default input has the HQ set's size: 2,500 images, 8 experts with 4 per image, 14 models
(a simulated panel; see ``hq_size_panel``). ``--hq PATH`` runs on any file in the ``hq.csv``
format instead, e.g. the simulated panel the book writes to
``artifacts/local/panel/hq_simulated.csv`` or the authors' ``hq.csv``.

    .venv/bin/python benchmarks/bench_panel.py [--images 2500] [--n-boot 1000] [--hq PATH]
                                               [--method truncate|round]
"""

from __future__ import annotations

import argparse
import time
import warnings
from itertools import combinations

import krippendorff
import numpy as np
import pandas as pd
from scipy.stats import mannwhitneyu, spearmanr
from sklearn.metrics import cohen_kappa_score
from tqdm import tqdm

from emonet.data import taxonomy
from emonet.hq import panel as hq_panel
from emonet.hq import paper_statistics, simulation
from emonet.stats import agreement, seeds

EMOTIONS = list(taxonomy.EMOTIONS)
LEVELS = list(range(agreement.KAPPA_LEVELS))

#: The 13 model annotators of the HQ-size input besides the Random Baseline, after the paper's
#: baselines: continuous regression heads, and prompted VLMs read out by the multi-shot (at most
#: 5 non-zero) or the zero-shot protocol (the 25 fixed categories rated 1-7).
MODELS = (
    simulation.SyntheticModel("Empathic Insight Face Large", 1.0, group="Our Models"),
    simulation.SyntheticModel("Empathic Insight Face Small", 1.2, group="Our Models"),
    simulation.SyntheticModel("Hume Face*", 1.5, group="Proprietary Models"),
    *(
        simulation.SyntheticModel(
            f"VLM {k} MS", 1.0 + 0.3 * k, group="VLMs Multi-Shot", readout="multi-shot"
        )
        for k in range(1, 6)
    ),
    *(
        simulation.SyntheticModel(
            f"VLM {k} ZS", 1.0 + 0.3 * k, group="VLMs Zero-Shot", readout="zero-shot"
        )
        for k in range(1, 6)
    ),
)


def hq_size_panel(n_images: int = 2500, seed: int = 0) -> hq_panel.Panel:
    """A simulated panel of the HQ set's shape: 8 experts (4 per image), the 13 models of
    :data:`MODELS` and a Random Baseline; every third model misses 1% of the images."""
    truth = simulation.synthetic_truth(n_images, seed)
    full = simulation.simulate_panel(
        truth,
        [f"{i:05d}" for i in range(n_images)],
        simulation.RaterModel(noise_sd=1.5),
        seed,
        models=MODELS,
    )
    ratings = full.ratings.copy()
    rng = np.random.default_rng(seed)
    for k in range(len(MODELS)):
        if k % 3 == 2:
            ratings[-len(MODELS) + k, rng.random(n_images) < 0.01] = np.nan
    return hq_panel.Panel(ratings, full.annotators, full.human, full.groups, full.images)


# --------------------------------------------------------------------------- the loop


def _picks(n: int, n_boot: int, seed) -> np.ndarray:
    """The resamples behind :func:`emonet.stats.agreement.bootstrap_weights`, as index lists."""
    return np.random.default_rng(seed).integers(0, n, size=(n_boot, n))


def _emotion_frames(panel: hq_panel.Panel) -> dict[str, pd.DataFrame]:
    """images x annotators per emotion, the authors' ``df_pivot.loc[emotion]`` (sorted ids)."""
    return {
        e: pd.DataFrame(
            panel.ratings[:, :, j].T, index=list(panel.images), columns=list(panel.annotators)
        ).sort_index()
        for j, e in enumerate(EMOTIONS)
    }


def _levels(values: pd.Series, method: str) -> np.ndarray:
    if method == "truncate":
        return values.astype(int).to_numpy()
    return np.clip(np.floor(values.to_numpy() + 0.5), 0, 7).astype(int)


def _ci(samples, level=0.95):
    samples = np.asarray(samples, float)
    samples = samples[~np.isnan(samples)]
    if not len(samples):
        return np.nan, np.nan
    tail = 100 * (1 - level) / 2
    return tuple(np.percentile(samples, [tail, 100 - tail]))


def loop_alpha(panel, frames, n_boot, seed) -> pd.DataFrame:
    humans = [a for a, h in zip(panel.annotators, panel.human) if h]
    units = frames[EMOTIONS[0]][humans].notna().any(axis=1).to_numpy()
    picks = _picks(int(units.sum()), n_boot, seed)
    rows, boots = [], []
    for e in EMOTIONS:
        data = frames[e].loc[units, humans].T.to_numpy()
        data = np.array([r for r in data if np.count_nonzero(~np.isnan(r)) > 1])
        alpha, boot = _kripp(data), np.array([_kripp(data[:, idx]) for idx in picks])
        boots.append(boot)
        rows.append((e, alpha, *_ci(boot)))
    table = pd.DataFrame(rows, columns=["name", "alpha", "ci_low", "ci_high"])
    summaries = []
    for name, center in (("Mean of 40", np.nanmean), ("Median of 40", np.nanmedian)):
        per_resample = [center(b) if not np.isnan(b).all() else np.nan for b in np.array(boots).T]
        summaries.append(
            (
                name,
                center(table["alpha"]),
                *_ci(per_resample),
                center(table["ci_low"]),
                center(table["ci_high"]),
            )
        )
    return pd.concat(
        [
            table,
            pd.DataFrame(summaries, columns=[*table.columns, "endpoints_low", "endpoints_high"]),
        ],
        ignore_index=True,
    )


def _kripp(data) -> float:
    try:
        with np.errstate(invalid="ignore", divide="ignore"):  # undefined: NaN, as the suite
            return krippendorff.alpha(reliability_data=data, level_of_measurement="interval")
    except ValueError:  # one value in the domain: undefined
        return np.nan


def loop_kappa(panel, frames, method) -> dict:
    """``{(rater1, rater2, emotion): kappa}`` for every pair sharing at least 2 images, rounded
    as the suite rounds (so that values equal in exact arithmetic tie in the rank tests)."""
    out = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for e in EMOTIONS:
            for r1, r2 in combinations(panel.annotators, 2):
                pair = frames[e][[r1, r2]].dropna()
                if len(pair) < 2:
                    continue
                try:
                    k = cohen_kappa_score(
                        _levels(pair[r1], method),
                        _levels(pair[r2], method),
                        weights="quadratic",
                        labels=LEVELS,
                    )
                except ValueError:
                    k = np.nan
                out[(r1, r2, e)] = out[(r2, r1, e)] = round(k, paper_statistics.KAPPA_DECIMALS)
    return out


def loop_agreement(panel, kappas) -> pd.DataFrame:
    humans = [a for a, h in zip(panel.annotators, panel.human) if h]
    rows = []
    for a in panel.annotators:
        row = {}
        for e in EMOTIONS:
            ks = [kappas[(a, h, e)] for h in humans if h != a and (a, h, e) in kappas]
            row[e] = np.nanmean(ks) if ks and not np.isnan(ks).all() else np.nan
        rows.append(row)
    table = pd.DataFrame(rows)
    table.insert(0, "annotator", panel.annotators)
    table.insert(1, "average", table[EMOTIONS].mean(axis=1))
    return table


def loop_summary(agreement_table) -> pd.DataFrame:
    rows = []
    for _, row in agreement_table.iterrows():
        values = {e: row[e] for e in EMOTIONS if pd.notnull(row[e])}
        if not values:
            rows.append(
                {
                    "annotator": row["annotator"],
                    "mean": np.nan,
                    "sd": np.nan,
                    "median": np.nan,
                    "best_kappa": np.nan,
                    "values": values,
                }
            )
            continue
        v = list(values.values())
        rows.append(
            {
                "annotator": row["annotator"],
                "mean": np.mean(v),
                "sd": np.std(v, ddof=1) if len(v) > 1 else np.nan,
                "median": np.median(v),
                "best_kappa": max(v),
                "values": values,
            }
        )
    return pd.DataFrame(rows)


def _compare(x, y, n_boot, seed_x, seed_y):
    x, y = np.sort(np.asarray(x, float)), np.sort(np.asarray(y, float))
    if len(x) < 2 or len(y) < 2:  # no test and no interval
        return (x.mean() - y.mean() if len(x) and len(y) else np.nan, np.nan, np.nan, np.nan)
    px, py = _picks(len(x), n_boot, seed_x), _picks(len(y), n_boot, seed_y)
    diffs = [x[px[b]].mean() - y[py[b]].mean() for b in range(n_boot)]
    p = mannwhitneyu(x, y, alternative="two-sided").pvalue
    return (x.mean() - y.mean(), *_ci(diffs), p)


def loop_groups(panel, agreement_table, n_boot, seed) -> pd.DataFrame:
    group_of = dict(zip(panel.annotators, panel.groups))
    values = {}
    for _, row in agreement_table.iterrows():
        for e in EMOTIONS:
            if pd.notnull(row[e]):
                values.setdefault(group_of[row["annotator"]], []).append(row[e])
    order = hq_panel.group_order(values)
    rows = [
        (
            g1,
            g2,
            *_compare(
                values[g1],
                values[g2],
                n_boot,
                seeds.keyed_seed(seed, g1),
                seeds.keyed_seed(seed, g2),
            ),
        )
        for i, g1 in enumerate(order)
        for g2 in order[i + 1 :]
        if len(values[g1]) > 1 and len(values[g2]) > 1
    ]
    return pd.DataFrame(
        rows, columns=["group1", "group2", "mean_difference", "ci_low", "ci_high", "p_value"]
    )


def loop_could_be(panel, kappas, n_boot, seed) -> pd.DataFrame:
    humans = [a for a, h in zip(panel.annotators, panel.human) if h]

    def known(values):
        return [v for v in values if not np.isnan(v)]

    rows = []
    for a, is_human in zip(panel.annotators, panel.human):
        others = [h for h in humans if h != a]
        sample = known(kappas[(a, h, e)] for h in others for e in EMOTIONS if (a, h, e) in kappas)
        reference = known(
            kappas[(h1, h2, e)]
            for h1, h2 in combinations(others, 2)
            for e in EMOTIONS
            if (h1, h2, e) in kappas
        )
        key = "expert pairs" + (f" without {a}" if is_human else "")
        diff, lo, hi, p = _compare(
            sample, reference, n_boot, seeds.keyed_seed(seed, a), seeds.keyed_seed(seed, key)
        )
        rows.append((a, diff, lo, hi, p, "yes" if p > paper_statistics.COULD_BE_P else "no"))
    return pd.DataFrame(
        rows, columns=["annotator", "mean_difference", "ci_low", "ci_high", "p_value", "could_be"]
    )


def loop_rho(panel, frames, n_boot, seed) -> tuple[pd.DataFrame, pd.DataFrame]:
    humans = [a for a, h in zip(panel.annotators, panel.human) if h]
    rho = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for a in panel.annotators:
            for e in EMOTIONS:
                median = frames[e][[h for h in humans if h != a]].median(axis=1)
                ratings = frames[e][a]
                valid = ratings.dropna().index.intersection(median.dropna().index)
                rho[(a, e)] = (
                    spearmanr(ratings[valid], median[valid]).statistic
                    if len(valid) >= 2
                    else np.nan
                )
    table = pd.DataFrame(
        [[rho[(a, e)] for e in EMOTIONS] for a in panel.annotators], columns=EMOTIONS
    )
    table.insert(0, "annotator", panel.annotators)
    picks = _picks(len(EMOTIONS), n_boot, seed)
    rows = []
    for a in panel.annotators:
        values = np.array([rho[(a, e)] for e in EMOTIONS])
        boots = [
            np.nanmean(values[idx]) if (~np.isnan(values[idx])).any() else np.nan for idx in picks
        ]
        rows.append((a, np.nanmean(values) if (~np.isnan(values)).any() else np.nan, *_ci(boots)))
    return table, pd.DataFrame(rows, columns=["annotator", "mean_rho", "ci_low", "ci_high"])


def loop_statistics(
    panel: hq_panel.Panel,
    n_boot: int = 1000,
    seed: int = 42,
    method: str = "truncate",
    progress: bool = False,
) -> dict[str, pd.DataFrame]:
    """Every table of the suite, the straightforward way (per emotion, pair and resample)."""
    bar = tqdm(total=7, desc="reference loop", unit="step", disable=not progress, leave=False)

    def step(name, value):
        bar.set_postfix_str(name)
        bar.update()
        return value

    frames = _emotion_frames(panel)
    out = {"alpha": step("alpha", loop_alpha(panel, frames, n_boot, seed))}
    out["kappas"] = kappas = step("kappa", loop_kappa(panel, frames, method))
    out["agreement"] = step("agreement", loop_agreement(panel, kappas))
    out["summary"] = step("summary", loop_summary(out["agreement"]))
    out["groups"] = step("groups", loop_groups(panel, out["agreement"], n_boot, seed))
    out["could_be"] = step("could be", loop_could_be(panel, kappas, n_boot, seed))
    out["rho"], out["rho_summary"] = step("rho", loop_rho(panel, frames, n_boot, seed))
    bar.close()
    return out


# --------------------------------------------------------------------------- comparison


def _same(ours: pd.DataFrame, ref: pd.DataFrame, key: str, columns, what: str, tol: float):
    ours, ref = ours.set_index(key), ref.set_index(key)
    assert sorted(ours.index) == sorted(ref.index), f"{what}: different rows"
    for col in columns:
        a, b = ours.loc[ref.index, col].to_numpy(), ref[col].to_numpy()
        if a.dtype == object or b.dtype == object:
            assert list(a) == list(b), f"{what}.{col} differs"
        else:
            np.testing.assert_allclose(
                a.astype(float),
                b.astype(float),
                rtol=0,
                atol=tol,
                equal_nan=True,
                err_msg=f"{what}.{col}",
            )


def assert_same(
    statistics: paper_statistics.PaperStatistics, loop: dict, tol: float = 1e-9
) -> None:
    """Raise unless the vectorised suite and the loop agree on every table (to ``tol``)."""
    p = statistics.panel
    a, b = np.triu_indices(p.n_annotators, k=1)
    for i, j in zip(a, b):
        for k, e in enumerate(EMOTIONS):
            ref = loop["kappas"].get((p.annotators[i], p.annotators[j], e), np.nan)
            got = statistics.kappa[i, j, k]
            assert (np.isnan(ref) and np.isnan(got)) or abs(ref - got) <= tol, (
                f"kappa {p.annotators[i]} / {p.annotators[j]} / {e}: {got} vs {ref}"
            )
    _same(
        statistics.alpha,
        loop["alpha"],
        "name",
        ["alpha", "ci_low", "ci_high", "endpoints_low", "endpoints_high"],
        "alpha",
        tol,
    )
    _same(
        statistics.agreement,
        loop["agreement"],
        "annotator",
        ["average", *EMOTIONS],
        "agreement",
        tol,
    )
    _same(
        statistics.summary,
        loop["summary"],
        "annotator",
        ["mean", "sd", "median", "best_kappa"],
        "summary",
        tol,
    )
    for _, row in loop["summary"].iterrows():  # ties between emotions: any best one will do
        best = statistics.summary.set_index("annotator").loc[row["annotator"], "best_emotion"]
        assert (pd.isna(best) and not row["values"]) or abs(
            row["values"][best] - row["best_kappa"]
        ) <= tol, f"best emotion of {row['annotator']}"
    groups = statistics.groups.dropna(subset=["p_value"]).assign(
        pair=lambda t: t["group1"] + " / " + t["group2"]
    )
    _same(
        groups,
        loop["groups"].assign(pair=lambda t: t["group1"] + " / " + t["group2"]),
        "pair",
        ["mean_difference", "ci_low", "ci_high", "p_value"],
        "groups",
        tol,
    )
    _same(
        statistics.could_be,
        loop["could_be"],
        "annotator",
        ["mean_difference", "ci_low", "ci_high", "p_value", "could_be"],
        "could_be",
        tol,
    )
    _same(statistics.rho, loop["rho"], "annotator", EMOTIONS, "rho", tol)
    _same(
        statistics.rho_summary,
        loop["rho_summary"],
        "annotator",
        ["mean_rho", "ci_low", "ci_high"],
        "rho_summary",
        tol,
    )


def input_arguments(parser: argparse.ArgumentParser) -> None:
    """The options that choose a panel benchmark's input and its resamples."""
    parser.add_argument("--images", type=int, default=2500, help="images of the simulated input")
    parser.add_argument("--n-boot", type=int, default=1000, help="bootstrap resamples")
    parser.add_argument("--seed", type=int, default=42, help="bootstrap seed")
    parser.add_argument("--method", choices=agreement.DISCRETIZE, default="truncate")
    parser.add_argument("--hq", help="an hq.csv-format file to run on instead")


def input_panel(args: argparse.Namespace) -> hq_panel.Panel:
    """The panel :func:`input_arguments` chose (``--hq`` or a simulated one), described in one
    printed line."""
    panel = hq_panel.read_hq(args.hq) if args.hq else hq_size_panel(args.images)
    humans = int(panel.human.sum())
    print(
        f"input: {panel.n_images:,} images, {humans} experts "
        f"({panel.rated[panel.human].sum(axis=0).mean():.1f} per image), "
        f"{panel.n_annotators - humans} model annotator(s); {args.n_boot:,} resamples, kappa "
        f"levels by {args.method}"
    )
    return panel


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    input_arguments(parser)
    args = parser.parse_args()
    panel = input_panel(args)
    paper_statistics.compute(
        hq_size_panel(100), 10
    )  # start BLAS threads, warm caches: outside the timings

    start = time.perf_counter()
    statistics = paper_statistics.compute(panel, args.n_boot, args.seed, args.method)
    t_vec = time.perf_counter() - start

    start = time.perf_counter()
    loop = loop_statistics(panel, args.n_boot, args.seed, args.method, progress=True)
    t_loop = time.perf_counter() - start

    assert_same(statistics, loop)
    print(
        "identical results (every table to 1e-9): alpha with CIs, "
        f"{len(statistics.pairs):,} pairwise kappas, agreement and summary tables, "
        f"{len(statistics.groups)} group comparisons, {len(statistics.could_be)} could-be tests, "
        "rho with CIs"
    )
    print(f"per-pair loop:  {t_loop:9.2f} s")
    print(f"vectorised:     {t_vec:9.2f} s")
    print(f"speed-up:       {t_loop / t_vec:9.1f}x")


if __name__ == "__main__":
    main()
