"""The figure of the results page: where each check lands among the verdicts."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.lines import Line2D

from emonet.glance import claims

#: One colour per verdict, in the order of :data:`emonet.glance.claims.VERDICTS`: green for
#: reproduced, a paler green for consistent on stand-ins, red for not reproduced, grey otherwise.
VERDICT_COLORS = dict(zip(claims.VERDICTS, ("#1a9850", "#a6d96a", "#d73027", "#9e9e9e")))


def verdict_map(table: pd.DataFrame, title: str):
    """Each check of ``table`` (columns ``check, evidence, verdict``; top to bottom in its order)
    as a dot in the column of its verdict, filled when it rests on real data and hollow when it
    rests on a stand-in."""
    n = len(table)
    fig, ax = plt.subplots(figsize=(7.5, 0.38 * n + 1.6))
    y = np.arange(n)[::-1]
    x = table["verdict"].map({v: k for k, v in enumerate(claims.VERDICTS)}).to_numpy()
    real = (table["evidence"] == claims.REAL).to_numpy()
    colors = table["verdict"].map(VERDICT_COLORS).tolist()
    ax.scatter(
        x[real], y[real], s=130, c=[colors[i] for i in np.flatnonzero(real)], edgecolors="0.2"
    )
    ax.scatter(
        x[~real],
        y[~real],
        s=130,
        facecolors="white",
        linewidths=2.2,
        edgecolors=[colors[i] for i in np.flatnonzero(~real)],
    )
    ax.set_xticks(
        range(len(claims.VERDICTS)),
        [v.replace(" ", "\n", 1) for v in claims.VERDICTS],
        fontsize=8.5,
    )
    ax.set_yticks(y, table["check"], fontsize=9)
    ax.tick_params(axis="y", length=0)
    ax.set_xlim(-0.5, len(claims.VERDICTS) - 0.5)
    ax.set_ylim(-0.7, n - 0.3)
    ax.grid(axis="y", color="0.92")
    ax.set_axisbelow(True)
    shapes = [
        Line2D([], [], ls="", marker="o", ms=10, mfc=fill, mec="0.2", mew=1.5)
        for fill in ("0.45", "white")
    ]
    ax.legend(
        shapes,
        ["real data", "stand-in"],
        frameon=False,
        fontsize=8,
        loc="upper left",
        bbox_to_anchor=(1.0, 1.0),
        title="rests on",
        title_fontsize=8,
    )
    ax.set_title(title, fontsize=10)
    sns.despine(ax=ax, left=True)
    fig.tight_layout()
    return fig
