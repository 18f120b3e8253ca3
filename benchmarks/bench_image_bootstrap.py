"""Time the image bootstrap of the HQ suite (:func:`emonet.hq.image_bootstrap.resample`: every kappa
and rho of every resample as weighted sums) against the straightforward loop: for each resample,
build the resampled panel (each image repeated as often as it was drawn) and rerun the suite's
own statistics on it (:func:`emonet.hq.paper_statistics.pairwise_kappa`, ``agreement_table``,
``spearman_table``, and the matched comparison's three kappas per annotator and pair of experts
with :func:`emonet.stats.agreement.quadratic_kappa`).

Both sides get the same panel and the same resamples. The loop is slow, so it runs on the first
``--loop-resamples`` resamples only (the data itself and the first resamples); those are compared
with the vectorised results (to 1e-9) and the ratio is taken per resample.

    .venv/bin/python benchmarks/bench_image_bootstrap.py [--images 2500] [--n-boot 1000]
                                                   [--loop-resamples 5] [--hq PATH]
"""

from __future__ import annotations

import argparse
import time
from itertools import combinations

import numpy as np
from bench_panel import hq_size_panel, input_arguments, input_panel

from emonet.data import taxonomy
from emonet.hq import image_bootstrap, paper_statistics
from emonet.hq import panel as hq_panel
from emonet.stats import agreement

EMOTIONS = list(taxonomy.EMOTIONS)


def expanded(panel: hq_panel.Panel, units: np.ndarray, weights: np.ndarray) -> hq_panel.Panel:
    """The panel of one resample: image ``units[u]`` repeated ``weights[u]`` times."""
    idx = np.repeat(units, weights.astype(int))
    return hq_panel.Panel(
        panel.ratings[:, idx],
        panel.annotators,
        panel.human,
        panel.groups,
        [f"{panel.images[i]}#{k}" for k, i in enumerate(idx)],
    )


def loop_matched(panel: hq_panel.Panel, method: str) -> np.ndarray:
    """The matched could-be difference per annotator, one triple of raters at a time."""
    levels = agreement.discretize(panel.ratings, method)
    experts = np.flatnonzero(panel.human)
    out = np.full(panel.n_annotators, np.nan)
    for a in range(panel.n_annotators):
        terms = []
        for e, f in combinations([x for x in experts if x != a], 2):
            images = panel.rated[a] & panel.rated[e] & panel.rated[f]
            kappa, _ = agreement.quadratic_kappa(
                levels[[a, e, f]][:, images], rated=panel.rated[[a, e, f]][:, images]
            )
            ours = agreement.nanmean(kappa[0, 1:], axis=0)
            terms.append(ours - kappa[1, 2])
        terms = np.concatenate(terms) if terms else np.array([])
        if (~np.isnan(terms)).any():
            out[a] = np.nanmean(terms)
    return out


def loop_resample(
    panel: hq_panel.Panel, units: np.ndarray, weights: np.ndarray, method: str
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Agreement, rho and the matched difference of one resample, by rerunning the suite."""
    q = expanded(panel, units, weights)
    kappa, _ = paper_statistics.pairwise_kappa(q, method)
    agreement_table = paper_statistics.agreement_table(q, kappa)[EMOTIONS].to_numpy(float)
    rho = paper_statistics.spearman_table(q)[EMOTIONS].to_numpy(float)
    return agreement_table, rho, loop_matched(q, method)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    input_arguments(parser)
    parser.add_argument(
        "--loop-resamples",
        type=int,
        default=5,
        help="rows the loop computes (the data, then the first resamples)",
    )
    args = parser.parse_args()
    panel = input_panel(args)
    image_bootstrap.resample(hq_size_panel(100), 5)  # start BLAS threads: outside the timings

    start = time.perf_counter()
    res = image_bootstrap.resample(panel, args.n_boot, args.seed, args.method)
    t_vec = time.perf_counter() - start

    rows = min(args.loop_resamples, len(res.weights))
    start = time.perf_counter()
    for row in range(rows):
        agree, rho, matched = loop_resample(panel, res.units, res.weights[row], args.method)
        for name, ours, ref in (
            ("agreement", res.agreement[row], agree),
            ("rho", res.rho[row], rho),
            ("matched", res.matched[row], matched),
        ):
            np.testing.assert_allclose(
                ours, ref, rtol=0, atol=1e-9, equal_nan=True, err_msg=f"row {row}: {name}"
            )
    t_loop = time.perf_counter() - start

    per_vec, per_loop = t_vec / len(res.weights), t_loop / rows
    print(
        f"identical results (to 1e-9) on the {rows} rows the loop computed: agreement and rho "
        f"per annotator and emotion, the matched could-be difference per annotator"
    )
    print(f"loop:        {per_loop:9.3f} s per resample ({t_loop:.1f} s for {rows})")
    print(f"vectorised:  {per_vec:9.3f} s per resample ({t_vec:.1f} s for {len(res.weights):,})")
    print(
        f"speed-up:    {per_loop / per_vec:9.1f}x per resample; the loop would take about "
        f"{per_loop * len(res.weights) / 60:.0f} min for all {len(res.weights):,}"
    )


if __name__ == "__main__":
    main()
