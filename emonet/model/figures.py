"""Figures of chapter 05: learning curves, the ablation bars, per-emotion metrics and the top
emotions of scored images (also used by ``emonet predict``).
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns

from emonet.book.style import FAMILY_COLORS, family_legend
from emonet.data import taxonomy


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
            ax.plot(x, part["train_loss"], color=colors.get(stage), alpha=0.5, ls="--",
                    label=f"{stage} train")
            ax.plot(x, part["val_loss"], color=colors.get(stage), label=f"{stage} validation")
            best = part["best"].to_numpy()
            ax.scatter(x[best], part["val_loss"].to_numpy()[best], color=colors.get(stage),
                       zorder=3, s=25)
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
        ax.bar(ablation["recipe"], ablation[column],
               color=[palette[r] for r in ablation["recipe"]])
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
    family_legend(ax, loc="lower right")
    sns.despine(ax=ax)
    fig.tight_layout()
    return fig


def top_emotion_bars(scores: pd.DataFrame, k: int, title: str, xlabel: str = "softmax"):
    """One panel per image (row of ``scores``, images x 40): its ``k`` highest emotions."""
    n = len(scores)
    cols = min(n, 3)
    rows = int(np.ceil(n / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(4.2 * cols, 0.35 * k * rows + 1.2),
                             squeeze=False)
    for ax, (name, row) in zip(axes.ravel(), scores.iterrows()):
        top = row.sort_values(ascending=False, kind="stable").iloc[:k][::-1]
        ax.barh(np.arange(len(top)), top.to_numpy(),
                color=[FAMILY_COLORS[taxonomy.FAMILY_OF[e]] for e in top.index])
        ax.set_yticks(np.arange(len(top)), top.index, fontsize=8)
        ax.set_title(str(name)[-40:], fontsize=8)
        ax.set_xlabel(xlabel, fontsize=8)
        sns.despine(ax=ax)
    for ax in axes.ravel()[n:]:
        ax.axis("off")
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig
