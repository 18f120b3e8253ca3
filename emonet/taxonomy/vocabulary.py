"""Tables about the taxonomy's descriptor words and its basic-emotion mappings (chapter 01).

Inputs are the tidy tables of :func:`emonet.data.loaders.load_guide` (``emotion, family, position,
word``) and the Series of :func:`emonet.data.loaders.load_basic_mappings`. Words are compared after
case-folding and stripping, so ``Weariness`` and ``weariness`` are the same word.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from emonet.data import taxonomy
from emonet.data.taxonomy import BASIC_EMOTIONS


def _folded(guide: pd.DataFrame) -> pd.DataFrame:
    return guide.assign(key=guide["word"].str.strip().str.casefold())


def descriptor_counts(guide: pd.DataFrame) -> pd.DataFrame:
    """Per category (canonical order): ``n_listed`` words as written, ``n_distinct`` after
    case-folding, ``n_repeated`` listed twice in the same category, ``n_shared`` also used by
    another category."""
    g = _folded(guide)
    shared_keys = set(shared_words(guide)["word"])
    out = g.groupby("emotion", sort=False).agg(
        family=("family", "first"),
        n_listed=("word", "size"),
        n_distinct=("key", "nunique"),
        n_shared=("key", lambda k: len(set(k) & shared_keys)),
    )
    out["n_repeated"] = out["n_listed"] - out["n_distinct"]
    out = out.reindex(taxonomy.EMOTIONS)
    out.index.name = "emotion"
    return out.reset_index()[
        ["emotion", "family", "n_listed", "n_distinct", "n_repeated", "n_shared"]
    ]


def repeated_within(guide: pd.DataFrame) -> pd.DataFrame:
    """Words listed more than once inside one category: ``emotion, word, spellings, count``."""
    g = _folded(guide)
    groups = g.groupby(["emotion", "key"], sort=False)["word"]
    out = groups.agg(spellings=lambda w: " / ".join(dict.fromkeys(w)), count="size").reset_index()
    out = out[out["count"] > 1].rename(columns={"key": "word"})
    return out.reset_index(drop=True)


def shared_words(guide: pd.DataFrame) -> pd.DataFrame:
    """Words that describe more than one category: ``word, n_categories, categories,
    families, cross_family`` (True when the categories lie in different families)."""
    g = _folded(guide).drop_duplicates(["emotion", "key"])
    rows = []
    for key, part in g.groupby("key", sort=True):
        if len(part) > 1:
            rows.append(
                (
                    key,
                    len(part),
                    "; ".join(part["emotion"]),
                    "; ".join(dict.fromkeys(part["family"])),
                    part["family"].nunique() > 1,
                )
            )
    cols = ["word", "n_categories", "categories", "families", "cross_family"]
    out = pd.DataFrame(rows, columns=cols)
    return out.sort_values(["n_categories", "word"], ascending=[False, True], ignore_index=True)


def sharing_matrix(guide: pd.DataFrame) -> pd.DataFrame:
    """Symmetric 40x40 count of descriptor words two categories share (diagonal 0)."""
    g = _folded(guide).drop_duplicates(["emotion", "key"])
    incidence = pd.crosstab(g["emotion"], g["key"]).reindex(taxonomy.EMOTIONS).to_numpy()
    shared = incidence @ incidence.T
    np.fill_diagonal(shared, 0)
    return pd.DataFrame(shared, index=taxonomy.EMOTIONS, columns=taxonomy.EMOTIONS)


def mapping_table(mappings: dict) -> pd.DataFrame:
    """One row per category: ``emotion, family, ferd, affectnet, agree``."""
    ferd, affectnet = mappings["ferd"], mappings["affectnet"]
    return pd.DataFrame(
        {
            "emotion": taxonomy.EMOTIONS,
            "family": [taxonomy.FAMILY_OF[e] for e in taxonomy.EMOTIONS],
            "ferd": ferd.reindex(taxonomy.EMOTIONS).to_numpy(),
            "affectnet": affectnet.reindex(taxonomy.EMOTIONS).to_numpy(),
        }
    ).assign(agree=lambda t: t["ferd"] == t["affectnet"])


def mapping_sizes(mappings: dict) -> pd.DataFrame:
    """How many of the 40 categories each basic emotion receives, per dataset mapping."""
    table = mapping_table(mappings)
    counts = {
        d: table[d].value_counts().reindex(BASIC_EMOTIONS, fill_value=0)
        for d in ("ferd", "affectnet")
    }
    out = pd.DataFrame(counts)
    out.index.name = "basic_emotion"
    return out.reset_index()
