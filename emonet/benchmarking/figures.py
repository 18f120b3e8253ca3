"""Figures of chapter 07: a model's agreement per emotion (``emonet evaluate``'s report), the
categories a reply rates above 0 and the VLM protocols' readouts."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns

from emonet.book.style import color_family_labels, group_shades
from emonet.data import taxonomy


def emotion_profile(agreement: pd.DataFrame, models: list[str], title: str):
    """Per emotion (canonical order), the agreement with the experts (mean kappa) of each model
    in ``models`` against the experts' own (each expert with the others: range as a band, mean
    as a line). ``agreement``: :func:`emonet.hq.paper_statistics.agreement_table`."""
    emotions = list(taxonomy.EMOTIONS)
    x = np.arange(len(emotions))
    experts = agreement[agreement["human"]][emotions].to_numpy(float)
    fig, ax = plt.subplots(figsize=(12, 4.2))
    ax.fill_between(
        x,
        np.nanmin(experts, axis=0),
        np.nanmax(experts, axis=0),
        color="0.85",
        label="experts (range)",
    )
    ax.plot(x, np.nanmean(experts, axis=0), color="0.4", lw=1, label="experts (mean)")
    rows = agreement.set_index("annotator")
    groups = rows.loc[list(models), "group"]
    shades = {g: iter(group_shades(g, int((groups == g).sum()))) for g in groups.unique()}
    for k, model in enumerate(models):
        ax.plot(
            x,
            rows.loc[model, emotions].to_numpy(float),
            marker="osD^v<>ph*x"[k % 11],
            ms=3.5,
            lw=1,
            color=next(shades[groups[model]]),
            label=model,
        )
    ax.axhline(0, color="black", lw=0.6)
    ax.set_xticks(x, emotions, rotation=90, fontsize=7)
    color_family_labels(ax, axis="x")
    ax.set_ylabel("mean weighted kappa with the experts")
    ax.legend(frameon=False, fontsize=8, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    ax.set_title(title, fontsize=10)
    sns.despine(ax=ax)
    fig.tight_layout()
    return fig


def nonzero_distribution(
    counts: pd.DataFrame, order: list[str], rules: dict[str, float], title: str
):
    """Categories rated above 0 per rated image, one box per ``who`` of ``counts`` (columns
    ``who, nonzero``; in ``order``), with the protocols' limits (``rules``: label -> count) as
    vertical lines."""
    fig, ax = plt.subplots(figsize=(9, 0.5 * len(order) + 1.4))
    y = np.arange(len(order))[::-1]  # the first on top, as a list reads
    ax.boxplot(
        [counts.loc[counts["who"] == w, "nonzero"].to_numpy() for w in order],
        positions=y,
        orientation="horizontal",
        patch_artist=True,
        widths=0.6,
        boxprops={"facecolor": "0.8", "edgecolor": "0.25"},
        flierprops={"markersize": 2},
        medianprops={"color": "black"},
    )
    ax.set_yticks(y, order)
    for k, (label, value) in enumerate(rules.items()):
        ax.axvline(value, color=sns.color_palette("Set1")[k], lw=1, ls="--", label=label)
    ax.set_xlim(-0.5, taxonomy.N_EMOTIONS + 0.5)
    ax.set_xlabel("categories rated above 0 per image (of 40)")
    ax.set_ylabel("")
    ax.legend(frameon=False, fontsize=8, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    ax.set_title(title, fontsize=10)
    sns.despine(ax=ax)
    fig.tight_layout()
    return fig


def protocol_readouts(readouts: pd.DataFrame, experts: pd.DataFrame, title: str):
    """Mean kappa with the experts (left) and mean rho against their median (right, 95% CI) of
    each simulated VLM (``perceiver``) under each ``readout``, with the experts' own range as a
    band (``experts``: rows of the evaluation summary with ``mean_kappa, mean_rho``)."""
    perceivers = list(dict.fromkeys(readouts["perceiver"]))
    names = list(dict.fromkeys(readouts["readout"]))
    palette = dict(zip(names, sns.color_palette("Set2", len(names))))
    fig, axes = plt.subplots(1, 2, figsize=(11, 3.6), sharey=True)
    y = np.arange(len(perceivers))
    height = 0.8 / len(names)
    for ax, metric in zip(axes, ("mean_kappa", "mean_rho")):
        ax.axvspan(
            experts[metric].min(), experts[metric].max(), color="0.9", label="experts (range)"
        )
        for k, readout in enumerate(names):
            rows = readouts[readouts["readout"] == readout].set_index("perceiver").loc[perceivers]
            pos = y + (k - (len(names) - 1) / 2) * height
            err = None
            if metric == "mean_rho":
                err = [rows[metric] - rows["rho_ci_low"], rows["rho_ci_high"] - rows[metric]]
            ax.barh(
                pos,
                rows[metric],
                height,
                xerr=err,
                color=palette[readout],
                label=readout,
                capsize=2,
            )
        ax.axvline(0, color="black", lw=0.6)
        ax.set_xlabel(
            "mean weighted kappa with the experts"
            if metric == "mean_kappa"
            else "mean Spearman rho vs the experts' median (95% CI)"
        )
        sns.despine(ax=ax)
    axes[0].set_yticks(y, perceivers, fontsize=8)
    axes[1].legend(frameon=False, fontsize=8, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig
