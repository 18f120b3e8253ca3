"""Time the vectorised real-photograph rule (emonet.photographs.rules.evaluate_photos) against the
straightforward per-record loop (one softmax per image over dicts of head outputs, as in the
authors' evaluation notebook) on an AffectNet-sized synthetic input; check both give the same
verdicts and print the ratio.

    .venv/bin/python benchmarks/bench_photo_rule.py [n_images]
"""

from __future__ import annotations

import sys
import time

import numpy as np
import pandas as pd

from emonet.data import loaders, taxonomy
from emonet.photographs import rules as photos


def per_record(records: list[dict], gold: list[str], mapping: dict[str, str]) -> list[bool]:
    """The straightforward rule: for each record, softmax over the mapped heads, then check the
    gold heads against 1.5 / n_mapped."""
    cutoff = photos.AUTHORS_FACTOR / len(mapping)
    verdicts = []
    for results, label in zip(records, gold):
        pairs = [(mapping[h], v["mean_subtracted"]) for h, v in results.items() if h in mapping]
        labels, values = zip(*pairs)
        probs = np.exp(values) / np.exp(values).sum()
        verdicts.append(any(b == label and p > cutoff for b, p in zip(labels, probs)))
    return verdicts


def main(n_images: int = 31002, seed: int = 0) -> None:
    rng = np.random.default_rng(seed)
    mapping = loaders.load_basic_mappings()["affectnet"]
    heads = [taxonomy.head_name(e) for e in taxonomy.EMOTIONS]
    values = rng.normal(0, 1.5, (n_images, len(heads)))
    gold = rng.choice(taxonomy.BASIC_EMOTIONS, n_images).tolist()
    records = [{h: {"mean_subtracted": float(v)} for h, v in zip(heads, row)} for row in values]
    head_mapping = {taxonomy.head_name(e): b for e, b in mapping.items()}

    start = time.perf_counter()
    loop = per_record(records, gold, head_mapping)
    t_loop = time.perf_counter() - start

    start = time.perf_counter()
    scores = pd.DataFrame(values, columns=list(taxonomy.EMOTIONS))
    table = photos.evaluate_photos(scores, pd.Series(gold, index=scores.index), mapping)
    t_vec = time.perf_counter() - start

    assert table["authors_correct"].tolist() == loop, "verdicts differ"
    print(
        f"{n_images:,} images x {len(heads)} heads; identical verdicts "
        f"(accuracy {np.mean(loop):.4f})"
    )
    print(f"per-record loop:  {t_loop:8.3f} s")
    print(f"vectorised:       {t_vec:8.3f} s  (also computes top-1, accepted labels, gold max)")
    print(f"speed-up:         {t_loop / t_vec:8.1f}x")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 31002)
