"""Time the pairwise-similarity statistics of chapter 05's diversity section
(:func:`emonet.model.diversity.group_similarity`: sums over the embeddings, no pair formed)
against the straightforward loop over every pair of images in every group, and against the
authors' way (scikit-learn's similarity matrix per group, its upper triangle), on the same
synthetic embeddings with balanced prompt slots; check all three agree and print the ratios.

    .venv/bin/python benchmarks/bench_diversity.py [--images 2000] [--dim 1152]
    .venv/bin/python benchmarks/bench_diversity.py --images 20000 --ours-only  # Binary size
"""

from __future__ import annotations

import argparse
import itertools
import statistics
import time

import numpy as np
import pandas as pd
from sklearn.metrics.pairwise import cosine_similarity

from emonet.data import demographics, taxonomy
from emonet.model import diversity


def synthetic(n: int, d: int, seed: int = 0) -> tuple[np.ndarray, pd.DataFrame]:
    """``n`` float32 embeddings of ``d`` dimensions (a shared direction, a direction per emotion
    and per age, and noise, so similarities spread as a real encoder's do) and prompt slots
    cycling through the levels."""
    rng = np.random.default_rng(seed)
    k = np.arange(n)
    labels = pd.DataFrame(
        {
            "emotion": np.array(taxonomy.EMOTIONS)[k % 40],
            "ethnicity": np.array(demographics.ETHNICITIES)[rng.permutation(n) % 14],
            "age": np.array(demographics.AGES)[rng.permutation(n) % 7],
            "gender": np.array(demographics.GENDERS)[rng.permutation(n) % 3],
        }
    )
    emotion = rng.normal(size=(40, d))[k % 40]
    age = rng.normal(size=(7, d))[labels["age"].map(demographics.AGES.index)]
    x = 2.0 * rng.normal(size=d) + 0.7 * emotion + 0.5 * age + rng.normal(size=(n, d))
    return x.astype(np.float32), diversity.labels_table(labels)


def _groups(labels: pd.DataFrame):
    """``(grouping, group, indices)`` in the order of ``group_similarity``'s rows."""
    yield "all", "all images", np.arange(len(labels))
    for name, columns in diversity.GROUPINGS.items():
        for key, index in labels.groupby(list(columns), sort=True).indices.items():
            key = key if isinstance(key, tuple) else (key,)
            yield name, " / ".join(map(str, key)), index


def _row(name, group, index, sims) -> dict:
    return {
        "grouping": name,
        "group": group,
        "images": len(index),
        "pairs": len(sims),
        "mean": statistics.fmean(sims) if sims else np.nan,
        "sd": statistics.stdev(sims) if len(sims) > 1 else np.nan,
    }


def loop_similarity(x: np.ndarray, labels: pd.DataFrame) -> pd.DataFrame:
    """The straightforward way: every pair of every group, one cosine at a time."""
    rows = []
    for name, group, index in _groups(labels):
        sims = []
        for i, j in itertools.combinations(index, 2):
            a, b = x[i].astype(np.float64), x[j].astype(np.float64)
            sims.append(float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b))))
        rows.append(_row(name, group, index, sims))
    return pd.DataFrame(rows)


def authors_similarity(x: np.ndarray, labels: pd.DataFrame) -> pd.DataFrame:
    """The authors' way (``upper_tri_sims``): the similarity matrix of each group, its upper
    triangle."""
    rows = []
    for name, group, index in _groups(labels):
        sims = cosine_similarity(x[index].astype(np.float64))
        rows.append(_row(name, group, index, sims[np.triu_indices_from(sims, k=1)].tolist()))
    return pd.DataFrame(rows)


def _same(ours: pd.DataFrame, ref: pd.DataFrame, what: str, tol: float = 1e-9) -> None:
    assert ours[["grouping", "group", "images", "pairs"]].equals(
        ref[["grouping", "group", "images", "pairs"]]
    ), f"{what}: different groups"
    for column in ("mean", "sd"):
        np.testing.assert_allclose(
            ours[column], ref[column], rtol=0, atol=tol, equal_nan=True, err_msg=f"{what}.{column}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--images", type=int, default=2000)
    parser.add_argument("--dim", type=int, default=1152, help="1152: SigLIP2 so400m")
    parser.add_argument(
        "--ours-only",
        action="store_true",
        help="time group_similarity alone (sizes where the others take hours)",
    )
    args = parser.parse_args()
    x, labels = synthetic(args.images, args.dim)
    diversity.group_similarity(diversity.unit_rows(x[:50], range(50)), labels[:50])  # warm up

    start = time.perf_counter()
    ours = diversity.group_similarity(diversity.unit_rows(x, labels.index), labels)
    t_ours = time.perf_counter() - start
    if args.ours_only:
        print(
            f"{args.images:,} images x {args.dim} dimensions, {len(ours)} groups, "
            f"{int(ours['pairs'].sum()):,} pairs: group_similarity {t_ours:.2f} s"
        )
        return
    start = time.perf_counter()
    authors = authors_similarity(x, labels)
    t_authors = time.perf_counter() - start
    start = time.perf_counter()
    loop = loop_similarity(x, labels)
    t_loop = time.perf_counter() - start

    _same(ours, loop, "loop")
    _same(ours, authors, "authors")
    print(
        f"{args.images:,} images x {args.dim} dimensions, {len(ours)} groups in "
        f"{len(diversity.GROUPINGS) + 1} groupings, {int(ours['pairs'].sum()):,} pairs; "
        "mean and SD of every group equal to 1e-9 in all three"
    )
    print(f"loop over pairs:           {t_loop:9.2f} s")
    print(f"authors' matrix per group: {t_authors:9.2f} s")
    print(f"sums (group_similarity):   {t_ours:9.2f} s")
    print(f"speed-up over the loop:    {t_loop / t_ours:9.1f}x")
    print(f"speed-up over the matrix:  {t_authors / t_ours:9.1f}x")


if __name__ == "__main__":
    main()
