"""Figures shared by the chapters. Each function takes tidy tables and returns a matplotlib
Figure; saving is the caller's job (:meth:`emonet.artifacts.Artifacts.figure`)."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns

from emonet import taxonomy

#: One colour per family, used by every figure that colours by family.
FAMILY_COLORS: dict[str, tuple] = dict(zip(taxonomy.FAMILIES, sns.color_palette("tab10", 7)))


def family_legend(ax, loc="lower right", **kw) -> None:
    """Add a legend of the 7 family colours to ``ax``."""
    handles = [plt.Rectangle((0, 0), 1, 1, color=c) for c in FAMILY_COLORS.values()]
    ax.legend(handles, list(FAMILY_COLORS), loc=loc, fontsize=8, frameon=False, **kw)


def families_overview(families: pd.DataFrame):
    """Horizontal bars: the 7 families with their member counts, members written in the bar."""
    sizes = families.groupby("family", sort=False)["emotion"].agg(list).reindex(
        list(taxonomy.FAMILIES))
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
    sns.heatmap(matrix, mask=mask, cmap="rocket_r", cbar_kws={"label": "shared words"},
                linewidths=0.3, linecolor="#eeeeee", square=True, ax=ax, vmin=0)
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
        ax.scatter(cols[off], rows[off], facecolors="none", edgecolors="black", s=160,
                   linewidths=1.2, zorder=4)
        ax.set_xticks(range(len(basic)), basic, rotation=45)
        ax.set_xlim(-0.5, len(basic) - 0.5)
        ax.grid(True, alpha=0.3)
        ax.set_title(f"{dataset.upper() if dataset == 'ferd' else 'AffectNet'} mapping")
    axes[0].set_yticks(rows, table["emotion"], fontsize=8)
    axes[0].set_ylim(len(table) - 0.5, -0.5)
    axes[1].text(0.98, 0.01, "ringed: the two mappings disagree", transform=axes[1].transAxes,
                 ha="right", va="bottom", fontsize=8)
    family_legend(axes[1], loc="upper left", bbox_to_anchor=(1.02, 1.0))
    fig.tight_layout()
    return fig


def balance_heatmaps(panels: dict[str, pd.DataFrame], title: str):
    """One annotated heat map of image counts per panel (``{title: crosstab}``), side by side;
    panel widths follow their number of columns."""
    widths = [max(len(t.columns), 3) for t in panels.values()]
    height = max(3.0, 0.2 * max(len(t) for t in panels.values()))
    fig, axes = plt.subplots(1, len(panels), figsize=(min(14, 1.3 * sum(widths) + 3), height),
                             gridspec_kw={"width_ratios": widths})
    for ax, (name, table) in zip(np.atleast_1d(axes), panels.items()):
        sns.heatmap(table, annot=True, fmt="d", cmap="Blues", cbar=False, ax=ax,
                    annot_kws={"fontsize": 6.5}, vmin=0, linewidths=0.3, linecolor="white")
        ax.set_title(name, fontsize=9)
        ax.tick_params(labelsize=7)
        ax.set_xlabel(table.columns.name or "")
        ax.set_ylabel(table.index.name or "")
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig


def image_grid(images: list[list], row_labels: list[str], tile_labels: list[list[str]],
               title: str):
    """Rows of images (arrays or PIL images) with a label per row and a caption per tile."""
    n_rows, n_cols = len(images), max(len(r) for r in images)
    fig, axes = plt.subplots(n_rows, n_cols, figsize=(1.35 * n_cols + 1.2, 1.5 * n_rows),
                             squeeze=False)
    for i, row in enumerate(images):
        for j, ax in enumerate(axes[i]):
            ax.set_xticks([])
            ax.set_yticks([])
            for spine in ax.spines.values():
                spine.set_visible(False)
            if j < len(row):
                ax.imshow(np.asarray(row[j]))
                ax.set_xlabel(tile_labels[i][j], fontsize=5.5, labelpad=1)
        axes[i][0].set_ylabel(row_labels[i], fontsize=7, rotation=0, ha="right", va="center",
                              color=FAMILY_COLORS.get(taxonomy.FAMILY_OF.get(row_labels[i]),
                                                      "black"))
    fig.suptitle(title, fontsize=10)
    fig.tight_layout(h_pad=0.3, w_pad=0.2)
    return fig


def truth_heatmap(mean_truth: pd.DataFrame):
    """Mean ground-truth intensity (0-7) of each category (columns) over the images prompted for
    each category (rows), 40 x 40 in canonical order; labels coloured by family."""
    fig, ax = plt.subplots(figsize=(9, 8))
    sns.heatmap(mean_truth, cmap="mako_r", vmin=0, vmax=7, square=True, ax=ax,
                cbar_kws={"label": "mean ground-truth intensity (0-7)"})
    ax.set_xticks(np.arange(len(mean_truth.columns)) + 0.5, mean_truth.columns, rotation=90,
                  fontsize=6.5)
    ax.set_yticks(np.arange(len(mean_truth)) + 0.5, mean_truth.index, rotation=0, fontsize=6.5)
    for label in (*ax.get_xticklabels(), *ax.get_yticklabels()):
        label.set_color(FAMILY_COLORS[taxonomy.FAMILY_OF[label.get_text()]])
    ax.set_xlabel("category scored")
    ax.set_ylabel("category prompted")
    fig.tight_layout()
    return fig
