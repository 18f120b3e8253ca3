"""Figures of chapter 06: the readout bars, the distributions over emotions, the top-5 overlap
and the fairness effects."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.ticker import PercentFormatter

from emonet.book.style import FAMILY_COLORS, color_family_labels
from emonet.data import taxonomy


def fairness_effects(coefficients: pd.DataFrame, title: str):
    """Forest plot of the fairness regression
    (:func:`emonet.model_vs_experts.fairness.fairness_regression`): each term's estimate with its 95%
    CI, coloured by factor; filled markers survive the Holm correction. With an ``annotator``
    column (one regression per annotator, e.g. the model and the experts) each term gets one
    marker shape per annotator, side by side."""
    table = coefficients if "annotator" in coefficients else coefficients.assign(annotator="")
    who = list(dict.fromkeys(table["annotator"]))
    terms = list(dict.fromkeys(table["term"]))[::-1]
    fig, ax = plt.subplots(figsize=(8, 0.32 * len(terms) * max(1, len(who) * 0.7) + 1.2))
    palette = dict(zip(("ethnicity", "age", "gender"), sns.color_palette("Dark2", 3)))
    markers = "osD^"
    offsets = np.linspace(-0.18, 0.18, len(who)) if len(who) > 1 else [0.0]
    for k, (name, off) in enumerate(zip(who, offsets)):
        rows = table[table["annotator"] == name].set_index("term").reindex(terms)
        for y, (_, r) in enumerate(rows.iterrows()):
            if pd.isna(r["estimate"]):
                continue
            color = palette.get(r["factor"], "black")
            ax.plot([r["ci_low"], r["ci_high"]], [y + off, y + off], color=color, lw=1.5)
            ax.scatter(
                r["estimate"],
                y + off,
                color=color if r["reject"] else "white",
                edgecolors=color,
                s=40,
                zorder=3,
                marker=markers[k % len(markers)],
            )
        if name:
            ax.scatter(
                [],
                [],
                marker=markers[k % len(markers)],
                color="white",
                edgecolors="black",
                label=name,
            )
    ax.axvline(0, color="black", lw=0.8)
    ax.set_yticks(range(len(terms)), terms, fontsize=8)
    ax.set_xlabel("difference in per-image agreement (vs reference group; age per 10 years)")
    if who != [""]:
        ax.legend(frameon=False, fontsize=8, loc="best")
    ax.set_title(title, fontsize=10)
    sns.despine(ax=ax)
    fig.tight_layout()
    return fig


def readout_bars(readout: pd.DataFrame, title: str):
    """Perceivers under several readouts (:func:`emonet.model_vs_experts.readout_study.readout_table`): mean
    Spearman rho against the human median with its CI over image resamples (left) and mean
    weighted kappa with the experts (right), one colour per readout."""
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 0.45 * len(readout) + 1.5))
    y = np.arange(len(readout))[::-1]
    readouts = list(dict.fromkeys(readout["readout"]))
    palette = dict(zip(readouts, sns.color_palette("Blues_r", len(readouts) + 1)))
    colors = [palette[r] for r in readout["readout"]]
    left.barh(
        y,
        readout["mean_rho"],
        color=colors,
        xerr=[readout["mean_rho"] - readout["ci_low"], readout["ci_high"] - readout["mean_rho"]],
        capsize=3,
    )
    right.barh(y, readout["mean_kappa"], color=colors)
    left.set_xlabel("mean Spearman rho vs the human median (95% CI over images)")
    right.set_xlabel("mean weighted kappa with the experts")
    labels = [f"{p}: {r}" for p, r in zip(readout["perceiver"], readout["readout"])]
    for ax in (left, right):
        ax.axvline(0, color="black", lw=0.6)
        ax.set_yticks(y, labels, fontsize=8)
        sns.despine(ax=ax)
    right.set_yticklabels([])
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig


def distribution_panels(
    model_probs: pd.DataFrame,
    human: pd.DataFrame,
    title: str,
    thumbnails: list | None = None,
    human_label: str = "human median (0-7)",
):
    """For each example image (row of the two images x 40 tables): the model's softmax over the
    40 categories next to the human ratings, bars in canonical order coloured by family;
    optional thumbnails (arrays or PIL images) in a first column."""
    n = len(model_probs)
    n_cols = 3 if thumbnails is not None else 2
    ratios = [0.5, 2, 2] if thumbnails is not None else [2, 2]
    fig, axes = plt.subplots(
        n, n_cols, figsize=(12, 1.9 * n + 0.8), squeeze=False, gridspec_kw={"width_ratios": ratios}
    )
    x = np.arange(len(taxonomy.EMOTIONS))
    colors = [FAMILY_COLORS[taxonomy.FAMILY_OF[e]] for e in taxonomy.EMOTIONS]
    for i, image in enumerate(model_probs.index):
        row = axes[i]
        if thumbnails is not None:
            row[0].imshow(np.asarray(thumbnails[i]))
            row[0].set_axis_off()
        ax_model, ax_human = row[-2], row[-1]
        ax_model.bar(x, model_probs.loc[image].to_numpy(), color=colors)
        ax_model.axhline(1 / len(x), color="black", lw=0.6, ls=":")
        ax_human.bar(x, human.loc[image].to_numpy(), color=colors)
        ax_human.set_ylim(0, 7)
        ax_model.set_ylabel(str(image), fontsize=7, rotation=0, ha="right", va="center")
        for ax in (ax_model, ax_human):
            ax.set_xlim(-0.7, len(x) - 0.3)
            ax.set_xticks(
                [] if i < n - 1 else x,
                [] if i < n - 1 else taxonomy.EMOTIONS,
                rotation=90,
                fontsize=5.5,
            )
            sns.despine(ax=ax)
    axes[0][-2].set_title("model: softmax over the 40 (dotted: uniform 1/40)", fontsize=9)
    axes[0][-1].set_title(human_label, fontsize=9)
    if n > 0:
        color_family_labels(axes[-1][-2], axis="x")
        color_family_labels(axes[-1][-1], axis="x")
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig


def overlap_bars(chance: pd.DataFrame, title: str):
    """Observed share of images per top-k overlap next to its chance share (images paired at
    random); ``chance`` from :func:`emonet.model_vs_experts.top_k.overlap_chance`."""
    rows = chance[chance["overlap"] != "mean"]
    fig, ax = plt.subplots(figsize=(6, 3.2))
    x = np.arange(len(rows))
    ax.bar(x - 0.2, rows["observed_share"], 0.4, color="#33658a", label="observed")
    ax.bar(
        x + 0.2,
        rows["chance_share"],
        0.4,
        color="#bbbbbb",
        label="chance (images paired at random)",
    )
    ax.set_xticks(x, rows["overlap"])
    ax.set_xlabel("emotions shared by the two top-k sets")
    ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    ax.set_ylabel("share of images")
    ax.legend(frameon=False, fontsize=8)
    ax.set_title(title, fontsize=10)
    sns.despine(ax=ax)
    fig.tight_layout()
    return fig
