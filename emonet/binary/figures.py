"""Figures of chapter 03 (and the alpha forest plot that chapter 04 reuses): agreement splits,
alpha with CIs, annotator panels, the protocol simulation and the family summary.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.ticker import PercentFormatter

from emonet.book.style import FAMILY_COLORS, color_family_labels, family_legend
from emonet.data import taxonomy

#: Colours of the agreement splits (full agreement, 2:1, 1:1) and of the two protocol roles.
SPLIT_COLORS = {"full": "#4c956c", "split_2_1": "#f2a541", "split_1_1": "#c8553d"}


ROLE_COLORS = {"target": "#33658a", "contrast": "#f26419"}


def agreement_splits_bars(splits: pd.DataFrame):
    """The authors' figure: per emotion (rows in table order, overall last), stacked shares of
    full agreement, 2:1 and 1:1 splits among items rated more than once, annotated with n and the
    shares of 2- and 3-rated items."""
    rows = splits.iloc[::-1].reset_index(drop=True)  # first table row on top
    fig, ax = plt.subplots(figsize=(10, 10.5))
    left = np.zeros(len(rows))
    labels = {"full": "full agreement", "split_2_1": "2:1 split", "split_1_1": "1:1 split"}
    for key, color in SPLIT_COLORS.items():
        ax.barh(rows.index, rows[key], left=left, color=color, label=labels[key], height=0.8)
        left += rows[key].to_numpy()
    for y, r in rows.iterrows():
        ax.text(
            1.01,
            y,
            f"n={r['n']:,}  2\u00d7 {r['rated_2']:.0%}  3\u00d7 {r['rated_3']:.0%}",
            va="center",
            fontsize=7,
        )
        if r["full"] >= 0.08:
            ax.text(0.01, y, f"{r['full']:.0%}", va="center", fontsize=7, color="white")
    ax.set_yticks(rows.index, rows["emotion"], fontsize=8)
    color_family_labels(ax)
    ax.axhline(0.5, color="black", lw=0.8)
    ax.set_xlim(0, 1.3)
    ax.set_xticks(np.linspace(0, 1, 6), [f"{t:.0%}" for t in np.linspace(0, 1, 6)])
    ax.set_ylim(-0.6, len(rows) - 0.4)
    ax.set_xlabel("share of items rated more than once")
    ax.legend(loc="upper center", bbox_to_anchor=(0.4, 1.04), ncol=3, frameon=False, fontsize=8)
    sns.despine(ax=ax)
    fig.tight_layout()
    return fig


def alpha_forest(
    alphas: pd.DataFrame,
    xlabel: str = "Krippendorff's alpha (nominal), 95% bootstrap CI over images",
    overall_label: str = "all items",
):
    """Krippendorff's alpha with bootstrap CI per emotion (sorted), coloured by family, with the
    overall value (row of scope "overall") as a dashed line labelled ``overall_label``."""
    emo = alphas[alphas["scope"] == "emotion"].sort_values("alpha").reset_index(drop=True)
    overall = alphas[alphas["scope"] == "overall"].iloc[0]
    fig, ax = plt.subplots(figsize=(9, 9))
    colors = [FAMILY_COLORS[f] for f in emo["family"]]
    ax.hlines(emo.index, emo["ci_low"], emo["ci_high"], colors=colors, lw=2)
    ax.scatter(emo["alpha"], emo.index, c=colors, s=25, zorder=3)
    ax.axvline(0, color="black", lw=0.8)
    ax.axvline(overall["alpha"], color="grey", ls="--", lw=1)
    ax.text(
        overall["alpha"],
        len(emo) - 0.3,
        f" {overall_label}: {overall['alpha']:.3f}",
        fontsize=8,
        color="grey",
    )
    ax.set_yticks(emo.index, emo["name"], fontsize=8)
    color_family_labels(ax)
    ax.set_ylim(-0.7, len(emo) + 0.3)
    ax.set_xlabel(xlabel)
    family_legend(ax)
    sns.despine(ax=ax)
    fig.tight_layout()
    return fig


def annotator_panels(annotators: pd.DataFrame, effects: pd.DataFrame, min_labels: int):
    """Left: labels per annotator by role. Right: share of "yes" per annotator and role, observed
    (dots, only with at least ``min_labels`` labels in that role) and standardised by the logistic
    model (crosses; grey where the annotator has fewer labels in that role: an extrapolation)."""
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 3.8), sharey=True)
    y = np.arange(len(annotators))[::-1]
    start = np.zeros(len(annotators))
    colors = {**ROLE_COLORS, "unassigned": "#bbbbbb"}
    for role, color in colors.items():
        left.barh(y, annotators[f"n_{role}"], left=start, color=color, label=role)
        start += annotators[f"n_{role}"].to_numpy()
    left.set_yticks(y, annotators["annotator"])
    left.set_xlabel("labels")
    left.legend(frameon=False, fontsize=8, loc="lower right")
    eff = effects.set_index("annotator").loc[annotators["annotator"]]
    for offset, role in ((0.15, "target"), (-0.15, "contrast")):
        color = ROLE_COLORS[role]
        enough = annotators[f"n_{role}"].to_numpy() >= min_labels
        right.scatter(
            annotators[f"{role}_rate"][enough],
            (y + offset)[enough],
            color=color,
            s=40,
            label=f"observed, as {role}",
        )
        model = eff[f"p_yes_{role}"].to_numpy()
        right.scatter(
            model[enough],
            (y + offset)[enough],
            marker="x",
            s=40,
            color=color,
            label=f"model, as {role}",
        )
        right.scatter(
            model[~enough],
            (y + offset)[~enough],
            marker="x",
            s=40,
            color="#aaaaaa",
            label=f"model, extrapolated (< {min_labels} labels)" if role == "target" else None,
        )
    right.set_xlim(-0.02, 1.02)
    right.set_xlabel('share of "yes"')
    right.legend(frameon=False, fontsize=7, loc="center left", bbox_to_anchor=(1.0, 0.5))
    for ax in (left, right):
        sns.despine(ax=ax)
    fig.tight_layout()
    return fig


def simulation_lines(study: pd.DataFrame, real: dict):
    """Simulated raters: alpha (left) and raw full-agreement share (right) against rater accuracy
    under the full and the sequential design; ``real`` = {"alpha": .., "full": ..} as lines."""
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.8))
    styles = {
        "full": ("#33658a", "o", "full design (3 raters, both items)"),
        "sequential": ("#c8553d", "s", "sequential protocol"),
    }
    for ax, column, key, label in (
        (axes[0], "alpha", "alpha", "Krippendorff's alpha"),
        (axes[1], "full_share", "full", "full-agreement share"),
    ):
        for design, (color, marker, name) in styles.items():
            sub = study[study["design"] == design]
            ax.plot(sub["accuracy"], sub[column], color=color, marker=marker, label=name)
        ax.axhline(real[key], color="black", ls="--", lw=1, label="real Binary labels")
        ax.set_xlabel("simulated rater accuracy")
        ax.set_ylabel(label)
        sns.despine(ax=ax)
    axes[0].axhline(0, color="grey", lw=0.6)
    axes[0].legend(frameon=False, fontsize=8, loc="upper left")
    fig.tight_layout()
    return fig


def family_summary(splits: pd.DataFrame, alphas: pd.DataFrame, rates: pd.DataFrame):
    """One row per family, three panels: raw full agreement among multi-rated items, alpha with
    95% CI, and the share of "yes" as target vs as contrast (bounds as bars)."""
    families = list(taxonomy.FAMILIES)
    y = np.arange(len(families))[::-1]
    colors = [FAMILY_COLORS[f] for f in families]
    fig, axes = plt.subplots(1, 3, figsize=(12, 3.6), sharey=True)
    full = splits.set_index("family").loc[families, "full"]
    axes[0].barh(y, full, color=colors)
    for yi, value in zip(y, full):
        axes[0].text(value + 0.02, yi, f"{value:.0%}", va="center", fontsize=8)
    axes[0].set_xlim(0, 1)
    axes[0].set_title("raw: full agreement", fontsize=10)
    fam = alphas[alphas["scope"] == "family"].set_index("name").loc[families]
    axes[1].hlines(y, fam["ci_low"], fam["ci_high"], colors=colors, lw=3)
    axes[1].scatter(fam["alpha"], y, c=colors, s=30, zorder=3)
    for yi, value in zip(y, fam["alpha"]):
        axes[1].text(0.05, yi, f"{value:.2f}", va="center", fontsize=8)
    axes[1].axvline(0, color="black", lw=0.8)
    axes[1].set_xlim(min(-0.6, fam["ci_low"].min() - 0.05), 1)
    axes[1].set_title("chance-corrected: alpha", fontsize=10)
    r = rates.set_index("family").loc[families]
    for role, off in (("target", 0.12), ("contrast", -0.12)):
        axes[2].hlines(
            y + off,
            r[f"{role}_low"],
            r[f"{role}_high"],
            color=ROLE_COLORS[role],
            lw=4,
            label=f"as {role}",
        )
    axes[2].set_xlim(0, 1)
    axes[2].set_title('"yes" as first answer', fontsize=10)
    axes[2].legend(frameon=False, fontsize=8, loc="center left", bbox_to_anchor=(0.15, 0.5))
    axes[0].set_yticks(y, families, fontsize=8)
    color_family_labels(axes[0])
    for ax in axes:
        if ax is not axes[1]:
            ax.xaxis.set_major_formatter(PercentFormatter(1.0))
        sns.despine(ax=ax)
    fig.tight_layout()
    return fig
