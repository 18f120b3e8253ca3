"""Time Spearman's rho on bootstrap resamples of the images
(:func:`emonet.stats.inference.resampled_spearman`, which chapters 04 and 06 run for every
annotator, emotion and resample: the rho against the human median, the readout study, the
like-for-like comparison) against the per-unit way it was computed before: for each column and
block of resamples, a running sum of the weights over the units in sorted order gives each
unit's mid-rank, and the cross sum runs over every unit. Ours sums the weights of the tie groups
and of the cells (the distinct pairs of an x and a y tie group) instead: an expert's integer
ratings against the median of the others have a few dozen cells where the loop has hundreds of
units. A third check, scipy's ``spearmanr`` on the expanded data (each image repeated as drawn),
runs on the first ``--scipy-resamples`` resamples.

Both sides get the same columns and resamples; their results must be identical (every weighted
sum is exact: integer weights, ranks in halves), then the ratio is printed. Inputs: the columns
of :func:`emonet.hq.image_bootstrap.resampled_rho` for every annotator of a panel (the HQ-size
simulated panel, or ``--hq PATH``), and as many columns of continuous model scores (no ties)
against the median.

    .venv/bin/python benchmarks/bench_spearman.py [--images 2500] [--n-boot 1000] [--hq PATH]
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
from bench_panel import input_arguments, input_panel
from scipy.stats import spearmanr

from emonet.hq import image_bootstrap
from emonet.hq.paper_statistics import leave_one_out_medians
from emonet.stats import inference


def _group_ranks(
    weights: np.ndarray, order: np.ndarray, starts: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Weights ``(G, B)`` of the tie groups and their mid-ranks, from one running sum over the
    sorted units (``weights``: ``(m, B)``)."""
    running = np.cumsum(weights[order], axis=0)
    upto = running[np.r_[starts[1:], len(order)] - 1]
    below = np.vstack([np.zeros((1, upto.shape[1])), upto[:-1]])
    tied = upto - below
    return tied, below + (tied + 1.0) / 2.0


def per_unit_spearman(x, y, weights, min_n: int = 2, block: int = 128) -> np.ndarray:
    """The per-unit way: a running sum over every unit per column and block of resamples."""
    out = np.full((weights.shape[0], x.shape[1]), np.nan)
    units_first = np.ascontiguousarray(weights.T)
    for k in range(x.shape[1]):
        keep = np.flatnonzero(~(np.isnan(x[:, k]) | np.isnan(y[:, k])))
        if len(keep) < 2:
            continue
        order, starts, x_group = inference._rank_groups(x[keep, k])
        y_order, y_starts, y_group = inference._rank_groups(y[keep, k])
        x_group, y_group = x_group[order], y_group[order]
        for first in range(0, weights.shape[0], block):
            w = units_first[keep, first : first + block]
            wx, rx = _group_ranks(w, order, starts)
            wy, ry = _group_ranks(w, y_order, y_starts)
            sxy = np.einsum("ub,ub,ub->b", w[order], rx[x_group], ry[y_group])
            out[first : first + block, k] = inference.rho_of_rank_sums(
                w.sum(axis=0),
                sxy,
                np.einsum("gb,gb,gb->b", wx, rx, rx),
                np.einsum("gb,gb,gb->b", wy, ry, ry),
                min_n,
            )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    input_arguments(parser)
    parser.add_argument(
        "--scipy-resamples",
        type=int,
        default=3,
        help="resamples checked against scipy on the expanded data",
    )
    args = parser.parse_args()
    panel = input_panel(args)
    units, weights = image_bootstrap.image_resamples(panel, args.n_boot, args.seed)
    medians = leave_one_out_medians(panel)[:, units]
    x, y = (
        np.moveaxis(v, 0, 1).reshape(len(units), -1) for v in (panel.ratings[:, units], medians)
    )
    rng = np.random.default_rng(0)
    scores = np.where(np.isnan(y), np.nan, rng.normal(3.0, 2.0, y.shape))
    for label, (a, b) in {
        "panel's annotators vs the median": (x, y),
        "continuous scores vs the median": (scores, y),
    }.items():
        start = time.perf_counter()
        ours = inference.resampled_spearman(a, b, weights)
        t_ours = time.perf_counter() - start
        start = time.perf_counter()
        theirs = per_unit_spearman(a, b, weights)
        t_theirs = time.perf_counter() - start
        assert np.array_equal(ours, theirs, equal_nan=True), label
        for row in range(min(args.scipy_resamples, len(weights))):
            for k in range(0, a.shape[1], 7):
                known = ~(np.isnan(a[:, k]) | np.isnan(b[:, k]))
                w = weights[row, known].astype(int)
                if w.sum() < 2:
                    continue
                with warnings.catch_warnings():  # a constant resample: NaN on both sides
                    warnings.simplefilter("ignore")
                    ref = spearmanr(np.repeat(a[known, k], w), np.repeat(b[known, k], w)).statistic
                assert np.isnan(ref) and np.isnan(ours[row, k]) or abs(ours[row, k] - ref) < 1e-9
        print(
            f"{label}: {a.shape[1]:,} columns x {len(weights):,} resamples, identical "
            f"results (and scipy's on the expanded data of the first rows, to 1e-9)"
        )
        print(f"  per-unit running sums: {t_theirs:7.2f} s")
        print(f"  tie groups and cells:  {t_ours:7.2f} s  ({t_theirs / t_ours:.1f}x)")


if __name__ == "__main__":
    main()
