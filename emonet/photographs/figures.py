"""Figures of chapter 08: accuracy, confusions and mapping sensitivity on real photographs."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.ticker import PercentFormatter

#: Colours of the two real-photograph rules (authors' any-head rule, strict top-1).
RULE_COLORS = {"authors": "#33658a", "top1": "#f26419"}


RULE_LABELS = {"authors": "authors' rule (any gold head > 1.5/n)", "top1": "strict top-1"}


def photo_accuracy_bars(accuracy: pd.DataFrame, title: str):
    """Per-class accuracy of both rules (bars) with each rule's permutation chance level (black
    ticks); ``accuracy`` from :func:`emonet.photographs.rules.accuracy_table` (class rows +
    overall)."""
    rows = accuracy[accuracy["class"] != "class mean"].reset_index(drop=True)
    fig, ax = plt.subplots(figsize=(10, 4))
    x = np.arange(len(rows))
    width = 0.38
    for k, (rule, color) in enumerate(RULE_COLORS.items()):
        pos = x + (k - 0.5) * width
        ax.bar(pos, rows[f"{rule}_accuracy"], width, color=color, label=RULE_LABELS[rule])
        ax.scatter(
            pos,
            rows[f"{rule}_chance"],
            marker="_",
            s=220,
            color="black",
            zorder=3,
            label="chance (gold labels permuted)" if k == 0 else None,
        )
    ax.set_xticks(x, [f"{c}\n(n={n})" for c, n in zip(rows["class"], rows["n"])], fontsize=8)
    ax.axvline(len(rows) - 1.5, color="grey", lw=0.8)
    ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    ax.set_ylim(0, 1.05)
    ax.set_ylabel("accuracy")
    ax.set_title(title)
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.18), ncol=3, frameon=False, fontsize=8)
    sns.despine(ax=ax)
    fig.tight_layout()
    return fig


def photo_confusion(confusion: pd.DataFrame, acceptance: pd.DataFrame, title: str):
    """Two heat maps over gold classes (rows): strict top-1 predictions (counts) and the share of
    images for which the authors' rule accepts each label."""
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.8))
    sns.heatmap(confusion, annot=True, fmt="d", cmap="Blues", cbar=False, ax=axes[0])
    axes[0].set_title("strict top-1: predicted label (images)")
    sns.heatmap(
        acceptance, annot=True, fmt=".0%", cmap="Oranges", vmin=0, vmax=1, cbar=False, ax=axes[1]
    )
    axes[1].set_title("authors' rule: share of images accepting each label")
    for ax in axes:
        ax.set_ylabel("gold label")
        ax.tick_params(axis="x", rotation=45)
        ax.tick_params(axis="y", rotation=0)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig


def mapping_sensitivity_bars(sensitivity: pd.DataFrame, mappings: tuple[str, ...], title: str):
    """Per-class accuracy of both rules on the same predictions under each mapping; ``sensitivity``
    from :func:`emonet.photographs.rules.mapping_sensitivity` (columns ``<mapping>_<rule>``)."""
    fig, axes = plt.subplots(1, 2, figsize=(12, 3.8), sharey=True)
    x = np.arange(len(sensitivity))
    width = 0.8 / len(mappings)
    palette = sns.color_palette("Set2", len(mappings))
    for ax, rule in zip(axes, RULE_COLORS):
        for k, name in enumerate(mappings):
            ax.bar(
                x + (k - (len(mappings) - 1) / 2) * width,
                sensitivity[f"{name}_{rule}"],
                width,
                color=palette[k],
                label=f"{name} mapping",
            )
        ax.set_xticks(x, sensitivity["class"], rotation=45, fontsize=8)
        ax.axvline(len(sensitivity) - 1.5, color="grey", lw=0.8)
        ax.set_title(RULE_LABELS[rule], fontsize=9)
        ax.yaxis.set_major_formatter(PercentFormatter(1.0))
        sns.despine(ax=ax)
    axes[0].set_ylabel("accuracy")
    axes[1].legend(frameon=False, fontsize=8, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig
