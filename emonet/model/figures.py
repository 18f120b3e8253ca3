"""Figures of chapter 05: the images' pairwise similarity, learning curves, the ablation bars,
per-emotion metrics and the top emotions of scored images (also used by ``emonet predict``).
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns

from emonet.book.style import FAMILY_COLORS, family_legend
from emonet.data import taxonomy


def diversity(groups: pd.DataFrame, cell: pd.DataFrame, title: str, cell_title: str):
    """Left: mean pairwise cosine similarity within each group (dots, one column per grouping of
    :func:`emonet.model.diversity.group_similarity`'s ``groups``; bars: ± 1 SD over the
    group's pairs), the mean over all pairs of images as a line and its SD as a band. Right:
    ``cell``, mean similarity between and within the ethnicity strings of one (age, gender,
    emotion) cell (:func:`emonet.model.diversity.cross_similarity`), titled ``cell_title``."""
    fig, (left, right) = plt.subplots(
        1, 2, figsize=(13, 5.2), gridspec_kw={"width_ratios": [1.25, 1]}
    )
    everything = groups[groups["grouping"] == "all"].iloc[0]
    left.axhspan(
        everything["mean"] - everything["sd"],
        everything["mean"] + everything["sd"],
        color="grey",
        alpha=0.15,
        lw=0,
    )
    left.axhline(everything["mean"], color="grey", lw=1, label="all pairs of images (± 1 SD)")
    names = [g for g in dict.fromkeys(groups["grouping"]) if g != "all"]
    rng = np.random.default_rng(0)  # horizontal jitter only, for legibility
    for k, name in enumerate(names):
        rows = groups[groups["grouping"] == name]
        x = k + rng.uniform(-0.25, 0.25, len(rows))
        left.errorbar(
            x,
            rows["mean"],
            yerr=rows["sd"],
            fmt="o",
            ms=3.5,
            lw=0.6,
            alpha=0.7,
            color=sns.color_palette("tab10")[k % 10],
        )
        if name == "family":
            for xx, (group, mean) in zip(x, rows[["group", "mean"]].itertuples(index=False)):
                left.plot(xx, mean, "o", ms=5, color=FAMILY_COLORS.get(group, "black"))
    left.set_xticks(
        range(len(names)),
        [f"{n}\n({(groups['grouping'] == n).sum()} groups)" for n in names],
        fontsize=8,
    )
    left.set_ylabel("cosine similarity of image pairs within a group")
    left.legend(loc="upper center", bbox_to_anchor=(0.5, -0.15), fontsize=8, frameon=False)
    sns.despine(ax=left)
    known = cell.to_numpy(float)[np.isfinite(cell.to_numpy(float))]
    low, high = (known.min(), known.max()) if known.size else (0.0, 1.0)  # all NaN: any range
    sns.heatmap(
        cell,
        annot=len(cell) <= 14,
        fmt=".2f",
        cmap="viridis",
        square=True,
        ax=right,
        vmin=low,
        vmax=high,
        annot_kws={"fontsize": 7},
        cbar_kws={"label": "mean cosine similarity"},
        linewidths=0.5,
        linecolor="white",
    )
    right.set_title(cell_title, fontsize=9)
    right.set_xlabel("")
    right.set_ylabel("")
    right.tick_params(labelsize=7)
    plt.setp(right.get_xticklabels(), rotation=45, ha="right")
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig


def learning_curves(history: pd.DataFrame, title: str):
    """Training and validation loss per epoch (weighted MSE), one panel per recipe; the stages
    of a recipe follow each other on the x axis, the kept (best) epoch of each is marked."""
    recipes = list(dict.fromkeys(history["recipe"]))
    fig, axes = plt.subplots(1, len(recipes), figsize=(3.6 * len(recipes), 3.2), squeeze=False)
    colors = {"pretrain": "#33658a", "finetune": "#f26419"}
    for ax, recipe in zip(axes[0], recipes):
        rows = history[history["recipe"] == recipe]
        offset = 0
        for stage, part in rows.groupby("stage", sort=False):
            x = part["epoch"].to_numpy() + offset
            ax.plot(
                x,
                part["train_loss"],
                color=colors.get(stage),
                alpha=0.5,
                ls="--",
                label=f"{stage} train",
            )
            ax.plot(x, part["val_loss"], color=colors.get(stage), label=f"{stage} validation")
            best = part["best"].to_numpy()
            ax.scatter(
                x[best], part["val_loss"].to_numpy()[best], color=colors.get(stage), zorder=3, s=25
            )
            offset = x.max()
        ax.set_title(recipe, fontsize=10)
        ax.set_xlabel("epoch")
        ax.set_yscale("log")
        sns.despine(ax=ax)
    axes[0][0].set_ylabel("weighted MSE")
    axes[0][-1].legend(frameon=False, fontsize=7)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig


def ablation_bars(ablation: pd.DataFrame, metrics: list[tuple[str, str]], title: str):
    """One panel per ``(column, label)`` of ``metrics``: a bar per recipe."""
    fig, axes = plt.subplots(1, len(metrics), figsize=(3.2 * len(metrics), 2.9), squeeze=False)
    palette = dict(zip(ablation["recipe"], sns.color_palette("Set2", len(ablation))))
    for ax, (column, label) in zip(axes[0], metrics):
        ax.bar(ablation["recipe"], ablation[column], color=[palette[r] for r in ablation["recipe"]])
        ax.axhline(0, color="black", lw=0.6)
        ax.set_title(label, fontsize=9)
        ax.tick_params(axis="x", labelsize=8)
        sns.despine(ax=ax)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig


def per_emotion_metric(metrics: pd.DataFrame, column: str, label: str, title: str):
    """Horizontal bars of one per-emotion metric (canonical order), coloured by family."""
    fig, ax = plt.subplots(figsize=(7, 8))
    y = np.arange(len(metrics))[::-1]
    ax.barh(y, metrics[column], color=[FAMILY_COLORS[f] for f in metrics["family"]])
    ax.axvline(0, color="black", lw=0.6)
    ax.set_yticks(y, metrics["emotion"], fontsize=7.5)
    ax.set_ylim(-0.7, len(metrics) - 0.3)
    ax.set_xlabel(label)
    ax.set_title(title, fontsize=10)
    family_legend(ax)
    sns.despine(ax=ax)
    fig.tight_layout()
    return fig


def top_emotion_bars(scores: pd.DataFrame, k: int, title: str, xlabel: str = "softmax"):
    """One panel per image (row of ``scores``, images x 40): its ``k`` highest emotions."""
    n = len(scores)
    cols = min(n, 3)
    rows = int(np.ceil(n / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(4.2 * cols, 0.35 * k * rows + 1.2), squeeze=False)
    for ax, (name, row) in zip(axes.ravel(), scores.iterrows()):
        top = row.sort_values(ascending=False, kind="stable").iloc[:k][::-1]
        ax.barh(
            np.arange(len(top)),
            top.to_numpy(),
            color=[FAMILY_COLORS[taxonomy.FAMILY_OF[e]] for e in top.index],
        )
        ax.set_yticks(np.arange(len(top)), top.index, fontsize=8)
        ax.set_title(str(name)[-40:], fontsize=8)
        ax.set_xlabel(xlabel, fontsize=8)
        sns.despine(ax=ax)
    for ax in axes.ravel()[n:]:
        ax.axis("off")
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig
