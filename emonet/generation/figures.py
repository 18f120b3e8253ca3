"""Figures of chapter 02: balance heat maps of the prompt design, image grids, the mean
ground truth by prompted emotion, and who is represented (FairFace groups).
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns

from emonet.book.style import FAMILY_COLORS, family_legend
from emonet.data import taxonomy


def balance_heatmaps(panels: dict[str, pd.DataFrame], title: str):
    """One annotated heat map of image counts per panel (``{title: crosstab}``), side by side;
    panel widths follow their number of columns."""
    widths = [max(len(t.columns), 3) for t in panels.values()]
    height = max(3.0, 0.2 * max(len(t) for t in panels.values()))
    fig, axes = plt.subplots(
        1,
        len(panels),
        figsize=(min(14, 1.3 * sum(widths) + 3), height),
        gridspec_kw={"width_ratios": widths},
    )
    for ax, (name, table) in zip(np.atleast_1d(axes), panels.items()):
        sns.heatmap(
            table,
            annot=True,
            fmt="d",
            cmap="Blues",
            cbar=False,
            ax=ax,
            annot_kws={"fontsize": 6.5},
            vmin=0,
            linewidths=0.3,
            linecolor="white",
        )
        ax.set_title(name, fontsize=9)
        ax.tick_params(labelsize=7)
        ax.set_xlabel(table.columns.name or "")
        ax.set_ylabel(table.index.name or "")
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig


def image_grid(images: list[list], row_labels: list[str], tile_labels: list[list[str]], title: str):
    """Rows of images (arrays or PIL images) with a label per row and a caption per tile."""
    n_rows, n_cols = len(images), max(len(r) for r in images)
    fig, axes = plt.subplots(
        n_rows, n_cols, figsize=(max(1.35 * n_cols + 1.6, 4.0), 1.5 * n_rows), squeeze=False
    )
    for i, row in enumerate(images):
        for j, ax in enumerate(axes[i]):
            ax.set_xticks([])
            ax.set_yticks([])
            for spine in ax.spines.values():
                spine.set_visible(False)
            if j < len(row):
                ax.imshow(np.asarray(row[j]))
                ax.set_xlabel(tile_labels[i][j], fontsize=5.5, labelpad=1)
        axes[i][0].set_ylabel(
            row_labels[i],
            fontsize=7,
            rotation=0,
            ha="right",
            va="center",
            color=FAMILY_COLORS.get(taxonomy.FAMILY_OF.get(row_labels[i]), "black"),
        )
    fig.suptitle(title, fontsize=10)
    fig.tight_layout(h_pad=0.3, w_pad=0.2)
    return fig


def truth_heatmap(mean_truth: pd.DataFrame):
    """Mean ground-truth intensity (0-7) of each category (columns) over the images prompted for
    each category (rows), 40 x 40 in canonical order; labels coloured by family."""
    fig, ax = plt.subplots(figsize=(9, 8))
    sns.heatmap(
        mean_truth,
        cmap="mako_r",
        vmin=0,
        vmax=7,
        square=True,
        ax=ax,
        cbar_kws={"label": "mean ground-truth intensity (0-7)"},
    )
    ax.set_xticks(
        np.arange(len(mean_truth.columns)) + 0.5, mean_truth.columns, rotation=90, fontsize=6.5
    )
    ax.set_yticks(np.arange(len(mean_truth)) + 0.5, mean_truth.index, rotation=0, fontsize=6.5)
    for label in (*ax.get_xticklabels(), *ax.get_yticklabels()):
        label.set_color(FAMILY_COLORS[taxonomy.FAMILY_OF[label.get_text()]])
    ax.set_xlabel("category scored")
    ax.set_ylabel("category prompted")
    fig.tight_layout()
    return fig


def represented(groups: pd.DataFrame, families: pd.DataFrame, title: str):
    """Per source (one row of panels each; :func:`emonet.generation.representation.represented`'s
    tables): left, each FairFace group's share of the images, dotted at an equal share of the
    groups; right, how each group's images spread over the 7 families (stacked), above the
    spread of a design even over the 40 emotions."""
    sources = list(dict.fromkeys(groups["source"]))
    fig, axes = plt.subplots(
        len(sources),
        2,
        figsize=(12, 0.45 * len(groups) + 1.6),
        squeeze=False,
        gridspec_kw={"width_ratios": [1, 1.5]},
    )
    for (left, right), source in zip(axes, sources):
        rows = groups[groups["source"] == source].reset_index(drop=True)
        y = np.arange(len(rows))[::-1]
        left.barh(y, rows["share"], color="#4c72b0")
        for yy, (share, n) in zip(y, rows[["share", "images"]].itertuples(index=False)):
            left.text(share, yy, f" {share:.1%} ({n:,})", va="center", fontsize=7)
        left.axvline(1 / len(rows), color="grey", ls=":", lw=1)
        left.set_yticks(y, rows["group"], fontsize=8)
        left.set_xlim(0, max(rows["share"].max() * 1.35, 1.5 / len(rows)))
        left.xaxis.set_major_formatter(plt.FuncFormatter(lambda v, _: f"{v:.0%}"))
        left.set_xlabel(f"share of the images (dotted: 1/{len(rows)})", fontsize=8)
        left.set_title(source, fontsize=9, loc="left")
        spread = families[families["source"] == source]
        shares = spread.pivot(index="group", columns="family", values="share").reindex(
            index=list(rows["group"]), columns=list(FAMILY_COLORS)
        )
        even = (
            spread.drop_duplicates("family")
            .set_index("family")["even_share"]
            .reindex(list(FAMILY_COLORS))
        )
        table = pd.concat([shares, even.rename("even over the 40").to_frame().T])
        ys = np.arange(len(table))[::-1]
        start = np.zeros(len(table))
        for family, color in FAMILY_COLORS.items():
            values = table[family].fillna(0).to_numpy()
            right.barh(ys, values, left=start, color=color, height=0.75)
            start += values
        right.set_yticks(ys, list(table.index), fontsize=8)
        right.set_xlim(0, 1)
        right.xaxis.set_major_formatter(plt.FuncFormatter(lambda v, _: f"{v:.0%}"))
        right.set_xlabel("share of the group's images by family", fontsize=8)
        for ax in (left, right):
            sns.despine(ax=ax)
    family_legend(axes[-1][1], loc="upper center", bbox_to_anchor=(0.5, -0.25), ncol=3)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig
