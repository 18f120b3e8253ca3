"""Figures of chapter 06: accuracy, confusion and mapping sensitivity on real photographs,
the fairness effects, the readout bars, the distributions over emotions and the top-5 overlap;
a model's agreement per emotion (``emonet evaluate``'s report) and the VLM protocols' readouts.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.ticker import PercentFormatter

from emonet.book.style import FAMILY_COLORS, color_family_labels, group_shades
from emonet.data import taxonomy

#: Colours of the two real-photograph rules (authors' any-head rule, strict top-1).
RULE_COLORS = {"authors": "#33658a", "top1": "#f26419"}


RULE_LABELS = {"authors": "authors' rule (any gold head > 1.5/n)", "top1": "strict top-1"}


def photo_accuracy_bars(accuracy: pd.DataFrame, title: str):
    """Per-class accuracy of both rules (bars) with each rule's permutation chance level (black
    ticks); ``accuracy`` from :func:`emonet.evaluation.photos.accuracy_table` (class rows +
    overall)."""
    rows = accuracy[accuracy["class"] != "class mean"].reset_index(drop=True)
    fig, ax = plt.subplots(figsize=(10, 4))
    x = np.arange(len(rows))
    width = 0.38
    for k, (rule, color) in enumerate(RULE_COLORS.items()):
        pos = x + (k - 0.5) * width
        ax.bar(pos, rows[f"{rule}_accuracy"], width, color=color, label=RULE_LABELS[rule])
        ax.scatter(pos, rows[f"{rule}_chance"], marker="_", s=220, color="black", zorder=3,
                   label="chance (gold labels permuted)" if k == 0 else None)
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
    sns.heatmap(acceptance, annot=True, fmt=".0%", cmap="Oranges", vmin=0, vmax=1, cbar=False,
                ax=axes[1])
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
    from :func:`emonet.evaluation.photos.mapping_sensitivity` (columns ``<mapping>_<rule>``)."""
    fig, axes = plt.subplots(1, 2, figsize=(12, 3.8), sharey=True)
    x = np.arange(len(sensitivity))
    width = 0.8 / len(mappings)
    palette = sns.color_palette("Set2", len(mappings))
    for ax, rule in zip(axes, RULE_COLORS):
        for k, name in enumerate(mappings):
            ax.bar(x + (k - (len(mappings) - 1) / 2) * width, sensitivity[f"{name}_{rule}"],
                   width, color=palette[k], label=f"{name} mapping")
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


def emotion_profile(agreement: pd.DataFrame, models: list[str], title: str):
    """Per emotion (canonical order), the agreement with the experts (mean kappa) of each model
    in ``models`` against the experts' own (each expert with the others: range as a band, mean
    as a line). ``agreement``: :func:`emonet.hq.suite.agreement_table`."""
    emotions = list(taxonomy.EMOTIONS)
    x = np.arange(len(emotions))
    experts = agreement[agreement["human"]][emotions].to_numpy(float)
    fig, ax = plt.subplots(figsize=(12, 4.2))
    ax.fill_between(x, np.nanmin(experts, axis=0), np.nanmax(experts, axis=0), color="0.85",
                    label="experts (range)")
    ax.plot(x, np.nanmean(experts, axis=0), color="0.4", lw=1, label="experts (mean)")
    rows = agreement.set_index("annotator")
    groups = rows.loc[list(models), "group"]
    shades = {g: iter(group_shades(g, int((groups == g).sum()))) for g in groups.unique()}
    for k, model in enumerate(models):
        ax.plot(x, rows.loc[model, emotions].to_numpy(float), marker="osD^v<>ph*x"[k % 11],
                ms=3.5, lw=1, color=next(shades[groups[model]]), label=model)
    ax.axhline(0, color="black", lw=0.6)
    ax.set_xticks(x, emotions, rotation=90, fontsize=7)
    color_family_labels(ax, axis="x")
    ax.set_ylabel("mean weighted kappa with the experts")
    ax.legend(frameon=False, fontsize=8, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    ax.set_title(title, fontsize=10)
    sns.despine(ax=ax)
    fig.tight_layout()
    return fig

def nonzero_distribution(counts: pd.DataFrame, order: list[str], rules: dict[str, float],
                         title: str):
    """Categories rated above 0 per rated image, one box per ``who`` of ``counts`` (columns
    ``who, nonzero``; in ``order``), with the protocols' limits (``rules``: label -> count) as
    vertical lines."""
    fig, ax = plt.subplots(figsize=(9, 0.5 * len(order) + 1.4))
    y = np.arange(len(order))[::-1]  # the first on top, as a list reads
    ax.boxplot([counts.loc[counts["who"] == w, "nonzero"].to_numpy() for w in order], positions=y,
               orientation="horizontal", patch_artist=True, widths=0.6,
               boxprops={"facecolor": "0.8", "edgecolor": "0.25"},
               flierprops={"markersize": 2}, medianprops={"color": "black"})
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
        ax.axvspan(experts[metric].min(), experts[metric].max(), color="0.9",
                   label="experts (range)")
        for k, readout in enumerate(names):
            rows = readouts[readouts["readout"] == readout].set_index("perceiver").loc[perceivers]
            pos = y + (k - (len(names) - 1) / 2) * height
            err = None
            if metric == "mean_rho":
                err = [rows[metric] - rows["rho_ci_low"], rows["rho_ci_high"] - rows[metric]]
            ax.barh(pos, rows[metric], height, xerr=err, color=palette[readout], label=readout,
                    capsize=2)
        ax.axvline(0, color="black", lw=0.6)
        ax.set_xlabel("mean weighted kappa with the experts" if metric == "mean_kappa" else
                      "mean Spearman rho vs the experts' median (95% CI)")
        sns.despine(ax=ax)
    axes[0].set_yticks(y, perceivers, fontsize=8)
    axes[1].legend(frameon=False, fontsize=8, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig

def fairness_effects(coefficients: pd.DataFrame, title: str):
    """Forest plot of the fairness regression
    (:func:`emonet.evaluation.experts.fairness_regression`): each term's estimate with its 95%
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
        for y, (term, r) in enumerate(rows.iterrows()):
            if pd.isna(r["estimate"]):
                continue
            color = palette.get(r["factor"], "black")
            ax.plot([r["ci_low"], r["ci_high"]], [y + off, y + off], color=color, lw=1.5)
            ax.scatter(r["estimate"], y + off, color=color if r["reject"] else "white",
                       edgecolors=color, s=40, zorder=3, marker=markers[k % len(markers)])
        if name:
            ax.scatter([], [], marker=markers[k % len(markers)], color="white",
                       edgecolors="black", label=name)
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
    """Perceivers under several readouts (:func:`emonet.evaluation.experts.readout_table`): mean
    Spearman rho against the human median with its CI over image resamples (left) and mean
    weighted kappa with the experts (right), one colour per readout."""
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 0.45 * len(readout) + 1.5))
    y = np.arange(len(readout))[::-1]
    readouts = list(dict.fromkeys(readout["readout"]))
    palette = dict(zip(readouts, sns.color_palette("Blues_r", len(readouts) + 1)))
    colors = [palette[r] for r in readout["readout"]]
    left.barh(y, readout["mean_rho"], color=colors,
              xerr=[readout["mean_rho"] - readout["ci_low"],
                    readout["ci_high"] - readout["mean_rho"]], capsize=3)
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


def distribution_panels(model_probs: pd.DataFrame, human: pd.DataFrame, title: str,
                        thumbnails: list | None = None, human_label: str = "human median (0-7)"):
    """For each example image (row of the two images x 40 tables): the model's softmax over the
    40 categories next to the human ratings, bars in canonical order coloured by family;
    optional thumbnails (arrays or PIL images) in a first column."""
    n = len(model_probs)
    n_cols = 3 if thumbnails is not None else 2
    ratios = [0.5, 2, 2] if thumbnails is not None else [2, 2]
    fig, axes = plt.subplots(n, n_cols, figsize=(12, 1.9 * n + 0.8), squeeze=False,
                             gridspec_kw={"width_ratios": ratios})
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
            ax.set_xticks([] if i < n - 1 else x, [] if i < n - 1 else taxonomy.EMOTIONS,
                          rotation=90, fontsize=5.5)
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
    random); ``chance`` from :func:`emonet.evaluation.experts.overlap_chance`."""
    rows = chance[chance["overlap"] != "mean"]
    fig, ax = plt.subplots(figsize=(6, 3.2))
    x = np.arange(len(rows))
    ax.bar(x - 0.2, rows["observed_share"], 0.4, color="#33658a", label="observed")
    ax.bar(x + 0.2, rows["chance_share"], 0.4, color="#bbbbbb",
           label="chance (images paired at random)")
    ax.set_xticks(x, rows["overlap"])
    ax.set_xlabel("emotions shared by the two top-k sets")
    ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    ax.set_ylabel("share of images")
    ax.legend(frameon=False, fontsize=8)
    ax.set_title(title, fontsize=10)
    sns.despine(ax=ax)
    fig.tight_layout()
    return fig
