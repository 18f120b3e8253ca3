"""The HQ dataset's rows joined to ``hq.csv``'s images by content.

The Hugging Face HQ dataset does not keep the original file names (the names stored inside its
``Image`` feature are not the ones ``hq.csv`` uses), so its rows cannot be joined to ``hq.csv`` by
name. Both sides carry the experts' ratings, though: a row is matched to the ``hq.csv`` image whose
experts gave exactly the same ratings, the fingerprint ``{rater: 40 ratings}`` (a rater listed
twice for one image averaged on both sides, ratings compared to 1e-6). A third party joined the real
files this way and matched 2,500 of 2,500 rows.

:func:`join_by_ratings` returns the matches and a coverage table; rows that match no image, or
several, are counted there and left out, and when their share exceeds :data:`MAX_UNMATCHED` the
join fails with an example.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from emonet.data import taxonomy
from emonet.data.registry import DataError

#: Largest share of dataset rows that may stay without a unique match before the join fails.
MAX_UNMATCHED = 0.01


def fingerprint(ratings: dict[str, np.ndarray]) -> tuple:
    """A hashable key of ``{rater: (40,) ratings}``: raters sorted, ratings rounded to 1e-6."""
    return tuple(
        sorted(
            (str(rater), tuple(np.round(np.asarray(v, float), 6).tolist()))
            for rater, v in ratings.items()
        )
    )


def _describe(ratings: dict[str, np.ndarray]) -> str:
    """A short description of one image's expert ratings for an error message."""
    if not ratings:
        return "no expert ratings"
    parts = []
    for rater, v in sorted(ratings.items()):
        top = np.argsort(-np.asarray(v), kind="stable")[:3]
        shown = ", ".join(f"{taxonomy.EMOTIONS[k]} {v[k]:g}" for k in top if v[k] > 0)
        parts.append(f"{rater}: {shown or 'all 0'}")
    return "; ".join(parts)


def join_by_ratings(
    rows: dict[str, dict[str, np.ndarray]],
    images: dict[str, dict[str, np.ndarray]],
    source: str,
    max_unmatched: float = MAX_UNMATCHED,
) -> tuple[pd.Series, pd.DataFrame]:
    """Match dataset ``rows`` (row id -> ``{rater: (40,)}``) to ``images`` (``hq.csv`` image ->
    ``{expert: (40,)}``) by their experts' ratings.

    Returns the matches (index: row id, values: image; each image at most once, the first row
    that matches it) and the coverage table (``what, count, share``). Raises :class:`DataError`
    when more than ``max_unmatched`` of the rows stay without a unique match, showing the first
    such row and its ratings.
    """
    by_print: dict[tuple, list[str]] = {}
    for image, ratings in images.items():
        by_print.setdefault(fingerprint(ratings), []).append(image)
    matched, taken, kinds = {}, set(), {"ambiguous": [], "unmatched": [], "repeated": []}
    for row, ratings in rows.items():
        found = by_print.get(fingerprint(ratings), []) if ratings else []
        if len(found) > 1:
            kinds["ambiguous"].append(row)
        elif not found:
            kinds["unmatched"].append(row)
        elif found[0] in taken:
            kinds["repeated"].append(row)
        else:
            matched[row] = found[0]
            taken.add(found[0])
    n = len(rows)
    counts = [
        ("dataset rows", n, n),
        ("matched to one hq.csv image", len(matched), n),
        ("ambiguous: the same expert ratings as several hq.csv images", len(kinds["ambiguous"]), n),
        ("unmatched: no hq.csv image with these expert ratings", len(kinds["unmatched"]), n),
        ("repeated: their hq.csv image was matched by an earlier row", len(kinds["repeated"]), n),
        ("hq.csv images without a dataset row", len(images) - len(taken), len(images)),
    ]
    coverage = pd.DataFrame(
        [(what, count, count / total if total else np.nan) for what, count, total in counts],
        columns=["what", "count", "share"],
    )
    left = n - len(matched)
    if n == 0 or left > max_unmatched * n:
        kind = next((k for k in ("unmatched", "ambiguous", "repeated") if kinds[k]), None)
        example = (
            ""
            if kind is None
            else (f"; e.g. row {kinds[kind][0]} ({kind}): {_describe(rows[kinds[kind][0]])}")
        )
        raise DataError(
            f"{source}: {left} of {n} rows have no unique hq.csv image with the same "
            f"expert ratings (more than the {max_unmatched:.0%} allowed){example}. "
            "Are the dataset and hq.csv from the same release?"
        )
    return pd.Series(matched, name="image", dtype=object).rename_axis("id"), coverage
