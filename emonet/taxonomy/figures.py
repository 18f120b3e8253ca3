"""Figures of chapter 01: family sizes, descriptor counts, the word-sharing heat map and the
basic-emotion mapping grid.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns

from emonet.book.style import FAMILY_COLORS, family_legend
from emonet.data import taxonomy


def families_overview(families: pd.DataFrame):
    """Horizontal bars: the 7 families with their member counts, members written in the bar."""
    sizes = (
        families.groupby("family", sort=False)["emotion"].agg(list).reindex(list(taxonomy.FAMILIES))
    )
    fig, ax = plt.subplots(figsize=(10, 3.6))
    y = np.arange(len(sizes))[::-1]
    for yi, (family, members) in zip(y, sizes.items()):
        ax.barh(yi, len(members), color=FAMILY_COLORS[family], alpha=0.85)
        ax.text(0.15, yi, ", ".join(members), va="center", fontsize=7.5, wrap=True)
    ax.set_yticks(y, [f"{f} ({len(m)})" for f, m in sizes.items()])
    ax.set_xlabel("number of categories")
    ax.set_title("The 40 EmoNet-Face categories in 7 families")
    sns.despine(ax=ax)
    fig.tight_layout()
    return fig


def descriptor_bars(counts: pd.DataFrame):
    """Bars of distinct descriptor words per category (canonical order), coloured by family;
    the darker part counts words shared with another category."""
    fig, ax = plt.subplots(figsize=(10, 7.5))
    y = np.arange(len(counts))[::-1]
    colors = [FAMILY_COLORS[f] for f in counts["family"]]
    ax.barh(y, counts["n_distinct"], color=colors, alpha=0.45)
    ax.barh(y, counts["n_shared"], color=colors, alpha=1.0)
    ax.set_yticks(y, counts["emotion"], fontsize=8)
    ax.set_xlabel("distinct descriptor words (dark: also used by another category)")
    ax.set_ylim(-0.7, len(counts) - 0.3)
    family_legend(ax)
    sns.despine(ax=ax)
    fig.tight_layout()
    return fig


def sharing_heatmap(matrix: pd.DataFrame):
    """Heat map of descriptor words shared between pairs of categories (40x40)."""
    fig, ax = plt.subplots(figsize=(9, 8))
    mask = matrix.to_numpy() == 0
    sns.heatmap(
        matrix,
        mask=mask,
        cmap="rocket_r",
        cbar_kws={"label": "shared words"},
        linewidths=0.3,
        linecolor="#eeeeee",
        square=True,
        ax=ax,
        vmin=0,
    )
    ax.set_xticks(np.arange(len(matrix)) + 0.5, matrix.columns, rotation=90, fontsize=6.5)
    ax.set_yticks(np.arange(len(matrix)) + 0.5, matrix.index, rotation=0, fontsize=6.5)
    for label in (*ax.get_xticklabels(), *ax.get_yticklabels()):
        label.set_color(FAMILY_COLORS[taxonomy.FAMILY_OF[label.get_text()]])
    ax.set_title("Descriptor words shared by two categories (labels coloured by family)")
    fig.tight_layout()
    return fig


def mapping_grid(table: pd.DataFrame, basic: tuple[str, ...]):
    """Two panels (FERD, AffectNet): which basic emotion each of the 40 categories maps to;
    rows where the two mappings disagree are marked."""
    fig, axes = plt.subplots(1, 2, figsize=(10, 9), sharey=True)
    rows = np.arange(len(table))
    for ax, dataset in zip(axes, ("ferd", "affectnet")):
        cols = table[dataset].map({b: i for i, b in enumerate(basic)}).to_numpy()
        colors = [FAMILY_COLORS[f] for f in table["family"]]
        ax.scatter(cols, rows, c=colors, s=60, zorder=3)
        off = ~table["agree"].to_numpy()
        ax.scatter(
            cols[off],
            rows[off],
            facecolors="none",
            edgecolors="black",
            s=160,
            linewidths=1.2,
            zorder=4,
        )
        ax.set_xticks(range(len(basic)), basic, rotation=45)
        ax.set_xlim(-0.5, len(basic) - 0.5)
        ax.grid(True, alpha=0.3)
        ax.set_title(f"{dataset.upper() if dataset == 'ferd' else 'AffectNet'} mapping")
    axes[0].set_yticks(rows, table["emotion"], fontsize=8)
    axes[0].set_ylim(len(table) - 0.5, -0.5)
    axes[1].text(
        0.98,
        0.01,
        "ringed: the two mappings disagree",
        transform=axes[1].transAxes,
        ha="right",
        va="bottom",
        fontsize=8,
    )
    family_legend(axes[1], loc="upper left", bbox_to_anchor=(1.02, 1.0))
    fig.tight_layout()
    return fig
