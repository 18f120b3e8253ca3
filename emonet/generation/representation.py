"""Who is represented: the prompt ethnicities mapped to the authors' FairFace groups
(:data:`emonet.data.demographics.FAIRFACE_GROUPS`), each group's share of the images and how its
images spread over the 7 emotion families.

The authors drew this as two world maps (``statistics/worldmap.ipynb``): the left one colours
countries by a hard-coded score (White 1, every other group 0), the right one by the variance of
a group's 7 family shares, min-max scaled to 0-1. Here both are computed from the data, and the
family spread gets a second measure, its distance from an even spread over the 40 emotions:

* :func:`group_shares`: per group, its prompt strings, images and share of the images;
* :func:`family_shares`: per group and family, the share of the group's images;
* :func:`family_spread`: per group, the authors' variance of the 7 shares (pandas' ``var``,
  ddof 1) and the total variation distance ``0.5 * sum |share - even|`` from the shares of a
  design even over the 40 emotions (a family's even share is its number of emotions / 40);
* :func:`strings_by_emotion`: whether the prompt strings of a group of several strings are
  spread over the emotions, or each emotion's images carry one string (then a FairFace group
  made of some of the strings inherits an uneven spread of emotions).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from emonet.data import taxonomy
from emonet.data.demographics import (
    ETHNICITY_GROUPS,
    FAIRFACE_GROUPS,
    FAIRFACE_OF,
    GROUP_OF,
)
from emonet.data.registry import DataError

GROUPS = list(FAIRFACE_GROUPS)
FAMILIES = list(taxonomy.FAMILIES)

#: A family's share of the images when every one of the 40 emotions has as many.
EVEN_FAMILY_SHARES = pd.Series(
    [
        sum(taxonomy.FAMILY_OF[e] == f for e in taxonomy.EMOTIONS) / taxonomy.N_EMOTIONS
        for f in FAMILIES
    ],
    index=FAMILIES,
)


def fairface_groups(frame: pd.DataFrame, source: str) -> pd.DataFrame:
    """``frame``'s images (``ethnicity``, ``emotion`` columns; one row per image) with their
    FairFace ``group`` and emotion ``family``. A string or an emotion outside the 14 and the 40
    raises :class:`DataError` naming ``source``, the first row and the count."""
    missing = [c for c in ("ethnicity", "emotion") if c not in frame]
    if missing:
        raise DataError(f"{source}: no column(s) {missing}")
    group = frame["ethnicity"].map(FAIRFACE_OF)
    family = frame["emotion"].map(taxonomy.FAMILY_OF)
    for name, values in (("ethnicity", group), ("emotion", family)):
        bad = values.isna().to_numpy()
        if bad.any():
            row = int(np.flatnonzero(bad)[0])
            raise DataError(
                f"{source} row {row}: {name} {frame[name].iloc[row]!r} is not one of "
                f"the prompt's ({int(bad.sum())} such rows)"
            )
    return pd.DataFrame(
        {"group": pd.Categorical(group, GROUPS), "family": pd.Categorical(family, FAMILIES)}
    )


def group_shares(frame: pd.DataFrame, source: str) -> pd.DataFrame:
    """One row per FairFace group (all 8, in :data:`GROUPS` order): ``source``, ``group``, its
    prompt ``strings`` (joined with "; "), ``images`` and ``share`` of the images (0-1)."""
    counts = fairface_groups(frame, source)["group"].value_counts().reindex(GROUPS)
    return pd.DataFrame(
        {
            "source": source,
            "group": GROUPS,
            "strings": ["; ".join(FAIRFACE_GROUPS[g]) for g in GROUPS],
            "images": counts.to_numpy(),
            "share": (counts / counts.sum()).to_numpy(),
        }
    )


def family_shares(frame: pd.DataFrame, source: str) -> pd.DataFrame:
    """Long table, one row per FairFace group and family (8 x 7): ``source``, ``group``,
    ``family``, ``images``, ``share`` of the group's images (NaN for a group without images) and
    ``even_share`` (:data:`EVEN_FAMILY_SHARES`)."""
    labels = fairface_groups(frame, source)
    counts = pd.crosstab(labels["group"], labels["family"], dropna=False).reindex(
        index=GROUPS, columns=FAMILIES, fill_value=0
    )
    totals = counts.sum(axis=1).to_numpy(float)[:, None]
    shares = np.divide(
        counts.to_numpy(float), totals, out=np.full(counts.shape, np.nan), where=totals > 0
    )
    return pd.DataFrame(
        {
            "source": source,
            "group": np.repeat(GROUPS, len(FAMILIES)),
            "family": np.tile(FAMILIES, len(GROUPS)),
            "images": counts.to_numpy().ravel(),
            "share": shares.ravel(),
            "even_share": np.tile(EVEN_FAMILY_SHARES.to_numpy(), len(GROUPS)),
        }
    )


def family_spread(families: pd.DataFrame) -> pd.DataFrame:
    """Per source and group of :func:`family_shares` (its rows in its order): ``source``,
    ``group``, ``authors_variance`` (the variance of the 7 shares, ddof 1, as the authors' right
    map) and ``tv_from_even`` (0: spread as a design even over the 40 emotions; 1: all in
    families the even design leaves empty). NaN for a group without images."""
    values = families["share"].to_numpy(float).reshape(-1, len(FAMILIES))
    out = families[["source", "group"]].iloc[:: len(FAMILIES)].reset_index(drop=True)
    out["authors_variance"] = values.var(axis=1, ddof=1)
    out["tv_from_even"] = 0.5 * np.abs(values - EVEN_FAMILY_SHARES.to_numpy()).sum(axis=1)
    return out


def represented(sources: dict[str, pd.DataFrame]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """For every ``{label: images}`` source: the group table (:func:`group_shares` joined with
    :func:`family_spread`) and the family table (:func:`family_shares`), stacked."""
    groups = pd.concat(
        [group_shares(frame, label) for label, frame in sources.items()], ignore_index=True
    )
    families = pd.concat(
        [family_shares(frame, label) for label, frame in sources.items()], ignore_index=True
    )
    return groups.merge(family_spread(families), on=["source", "group"], how="left"), families


def strings_by_emotion(frame: pd.DataFrame) -> pd.DataFrame:
    """Per group of :data:`emonet.data.demographics.ETHNICITY_GROUPS` with several strings:
    ``group``, ``strings`` (how many), ``emotions`` (with 2+ of the group's images) and
    ``single_string`` (of those, the emotions whose images in the group all carry one string)."""
    rows = []
    for group, members in ETHNICITY_GROUPS.items():
        if len(members) < 2:
            continue
        inside = frame[frame["ethnicity"].map(GROUP_OF) == group]
        per_emotion = inside.groupby("emotion", observed=True)["ethnicity"].agg(["size", "nunique"])
        several = per_emotion[per_emotion["size"] > 1]
        rows.append(
            {
                "group": group,
                "strings": len(members),
                "emotions": len(several),
                "single_string": int((several["nunique"] == 1).sum()),
            }
        )
    return pd.DataFrame(rows, columns=["group", "strings", "emotions", "single_string"])


def extreme_groups(groups: pd.DataFrame, which: str) -> tuple[list[str], float]:
    """The ``which`` ("largest" or "smallest") group(s) of one source's :func:`group_shares` rows
    by their share of the images, every tied one in row order, and that share."""
    value = groups["share"].max() if which == "largest" else groups["share"].min()
    return list(groups.loc[groups["share"] == value, "group"]), float(value)


def single_string_groups(table: pd.DataFrame) -> list[str]:
    """Of :func:`strings_by_emotion`'s ``table``: the groups of several strings in which each
    emotion's images (of those with 2+ images in the group) all carry one string; a FairFace
    group made of one of those strings holds only some of the emotions."""
    tied = table[(table["emotions"] > 0) & (table["single_string"] == table["emotions"])]
    return list(tied["group"])
