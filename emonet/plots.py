"""Figures shared by the chapters. Each function takes tidy tables and returns a matplotlib
Figure; saving is the caller's job (:meth:`emonet.artifacts.Artifacts.figure`)."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.ticker import PercentFormatter

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


#: Colours of the agreement splits (full agreement, 2:1, 1:1) and of the two protocol roles.
SPLIT_COLORS = {"full": "#4c956c", "split_2_1": "#f2a541", "split_1_1": "#c8553d"}
ROLE_COLORS = {"target": "#33658a", "contrast": "#f26419"}


def _color_family_labels(ax, axis="y") -> None:
    labels = ax.get_yticklabels() if axis == "y" else ax.get_xticklabels()
    for label in labels:
        name = label.get_text()
        family = taxonomy.FAMILY_OF.get(name, name)
        label.set_color(FAMILY_COLORS.get(family, "black"))


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
        ax.text(1.01, y, f"n={r['n']:,}  2\u00d7 {r['rated_2']:.0%}  3\u00d7 {r['rated_3']:.0%}",
                va="center", fontsize=7)
        if r["full"] >= 0.08:
            ax.text(0.01, y, f"{r['full']:.0%}", va="center", fontsize=7, color="white")
    ax.set_yticks(rows.index, rows["emotion"], fontsize=8)
    _color_family_labels(ax)
    ax.axhline(0.5, color="black", lw=0.8)
    ax.set_xlim(0, 1.3)
    ax.set_xticks(np.linspace(0, 1, 6), [f"{t:.0%}" for t in np.linspace(0, 1, 6)])
    ax.set_ylim(-0.6, len(rows) - 0.4)
    ax.set_xlabel("share of items rated more than once")
    ax.legend(loc="upper center", bbox_to_anchor=(0.4, 1.04), ncol=3, frameon=False, fontsize=8)
    sns.despine(ax=ax)
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


def alpha_forest(alphas: pd.DataFrame,
                 xlabel: str = "Krippendorff's alpha (nominal), 95% bootstrap CI over images",
                 overall_label: str = "all items"):
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
    ax.text(overall["alpha"], len(emo) - 0.3, f" {overall_label}: {overall['alpha']:.3f}",
            fontsize=8, color="grey")
    ax.set_yticks(emo.index, emo["name"], fontsize=8)
    _color_family_labels(ax)
    ax.set_ylim(-0.7, len(emo) + 0.3)
    ax.set_xlabel(xlabel)
    family_legend(ax, loc="lower right")
    sns.despine(ax=ax)
    fig.tight_layout()
    return fig


def annotator_panels(annotators: pd.DataFrame, effects: pd.DataFrame, min_labels: int = 50):
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
        right.scatter(annotators[f"{role}_rate"][enough], (y + offset)[enough], color=color,
                      s=40, label=f"observed, as {role}")
        model = eff[f"p_yes_{role}"].to_numpy()
        right.scatter(model[enough], (y + offset)[enough], marker="x", s=40, color=color,
                      label=f"model, as {role}")
        right.scatter(model[~enough], (y + offset)[~enough], marker="x", s=40, color="#aaaaaa",
                      label=f"model, extrapolated (< {min_labels} labels)" if role == "target"
                      else None)
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
    styles = {"full": ("#33658a", "o", "full design (3 raters, both items)"),
              "sequential": ("#c8553d", "s", "sequential protocol")}
    for ax, column, key, label in ((axes[0], "alpha", "alpha", "Krippendorff's alpha"),
                                   (axes[1], "full_share", "full", "full-agreement share")):
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
        axes[2].hlines(y + off, r[f"{role}_low"], r[f"{role}_high"], color=ROLE_COLORS[role],
                       lw=4, label=f"as {role}")
    axes[2].set_xlim(0, 1)
    axes[2].set_title('"yes" as first answer', fontsize=10)
    axes[2].legend(frameon=False, fontsize=8, loc="center left", bbox_to_anchor=(0.15, 0.5))
    axes[0].set_yticks(y, families, fontsize=8)
    _color_family_labels(axes[0])
    for ax in axes:
        if ax is not axes[1]:
            ax.xaxis.set_major_formatter(PercentFormatter(1.0))
        sns.despine(ax=ax)
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


#: Colours of the two real-photograph rules (authors' any-head rule, strict top-1).
RULE_COLORS = {"authors": "#33658a", "top1": "#f26419"}
RULE_LABELS = {"authors": "authors' rule (any gold head > 1.5/n)", "top1": "strict top-1"}


def photo_accuracy_bars(accuracy: pd.DataFrame, title: str):
    """Per-class accuracy of both rules (bars) with each rule's permutation chance level (black
    ticks); ``accuracy`` from :func:`emonet.evaluation.accuracy_table` (class rows + overall)."""
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
    from :func:`emonet.evaluation.mapping_sensitivity` (columns ``<mapping>_<rule>``)."""
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


def fairness_effects(coefficients: pd.DataFrame, title: str):
    """Forest plot of the fairness regression (:func:`emonet.evaluation.fairness_regression`):
    each term's estimate with its 95% CI, coloured by factor; filled markers survive the Holm
    correction. With an ``annotator`` column (one regression per annotator, e.g. the model and
    the experts) each term gets one marker shape per annotator, side by side."""
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


def message_figure(text: str):
    """A small figure that only states ``text`` (a chapter's figure slot when its data are absent
    in this build)."""
    fig = plt.figure(figsize=(5, 1))
    fig.text(0.5, 0.5, text, ha="center", va="center")
    return fig


def readout_bars(readout: pd.DataFrame, title: str):
    """Perceivers under several readouts (:func:`emonet.evaluation.readout_table`): mean Spearman
    rho against the human median with its CI (left) and mean weighted kappa with the experts
    (right), one colour per readout."""
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 0.45 * len(readout) + 1.5))
    y = np.arange(len(readout))[::-1]
    readouts = list(dict.fromkeys(readout["readout"]))
    palette = dict(zip(readouts, sns.color_palette("Blues_r", len(readouts) + 1)))
    colors = [palette[r] for r in readout["readout"]]
    left.barh(y, readout["mean_rho"], color=colors,
              xerr=[readout["mean_rho"] - readout["ci_low"],
                    readout["ci_high"] - readout["mean_rho"]], capsize=3)
    right.barh(y, readout["mean_kappa"], color=colors)
    left.set_xlabel("mean Spearman rho vs the human median (95% CI)")
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
        _color_family_labels(axes[-1][-2], axis="x")
        _color_family_labels(axes[-1][-1], axis="x")
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig


def overlap_bars(chance: pd.DataFrame, title: str):
    """Observed share of images per top-k overlap next to the hypergeometric chance share;
    ``chance`` from :func:`emonet.evaluation.overlap_chance`."""
    rows = chance[chance["overlap"] != "mean"]
    fig, ax = plt.subplots(figsize=(6, 3.2))
    x = np.arange(len(rows))
    ax.bar(x - 0.2, rows["observed_share"], 0.4, color="#33658a", label="observed")
    ax.bar(x + 0.2, rows["chance_share"], 0.4, color="#bbbbbb", label="chance (hypergeometric)")
    ax.set_xticks(x, rows["overlap"])
    ax.set_xlabel("emotions shared by the two top-k sets")
    ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    ax.set_ylabel("share of images")
    ax.legend(frameon=False, fontsize=8)
    ax.set_title(title, fontsize=10)
    sns.despine(ax=ax)
    fig.tight_layout()
    return fig


# --------------------------------------------------------------------------- HQ panel

#: One colour per annotator group (the paper's six, then the simulation's and unknown ones).
GROUP_COLORS: dict[str, tuple] = dict(zip(
    ("Human Annotators", "Our Models", "Proprietary Models", "VLMs Multi-Shot", "VLMs Zero-Shot",
     "Random Baseline", "Synthetic Models", "Other Models"), sns.color_palette("Set2", 8)))


def _group_color(group: str):
    return GROUP_COLORS.get(group, (0.5, 0.5, 0.5))


def panel_overview(annotators: pd.DataFrame, levels: pd.DataFrame, title: str):
    """Left: how the experts use the levels 1-7 when they mark a category (the share of 0s in
    the label). Right: categories marked (rated above 0) per rated image, per annotator,
    coloured by group. ``annotators``: :meth:`emonet.panel.Panel.annotator_table`;
    ``levels``: ``level, n`` (:func:`emonet.hq.level_shares`)."""
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 3.6),
                                      gridspec_kw={"width_ratios": [1, 1.6]})
    marked = levels[levels["level"] > 0]
    left.bar(marked["level"], marked["n"] / marked["n"].sum(),
             color=_group_color("Human Annotators"))
    left.set_xticks(marked["level"])
    zeros = levels.loc[levels["level"] == 0, "n"].sum() / levels["n"].sum()
    left.set_xlabel(f"level of a marked category (experts; {zeros:.0%} of ratings are 0)")
    left.yaxis.set_major_formatter(PercentFormatter(1.0))
    left.set_ylabel("share of marked ratings")
    y = np.arange(len(annotators))[::-1]
    right.barh(y, annotators["marked"], color=[_group_color(g) for g in annotators["group"]])
    right.set_yticks(y, annotators["annotator"], fontsize=8)
    right.set_xlabel("categories rated above 0 per image (of 40)")
    for ax in (left, right):
        sns.despine(ax=ax)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig


def kappa_heatmap(matrix: pd.DataFrame, title: str):
    """The authors' heat map: mean quadratic-weighted kappa over the 40 emotions for every pair
    of annotators (experts first), 1 on the diagonal."""
    n = len(matrix)
    fig, ax = plt.subplots(figsize=(max(6, 0.55 * n + 2), max(5, 0.45 * n + 1.5)))
    sns.heatmap(matrix, annot=n <= 24, fmt=".2f", cmap="viridis", vmin=min(0.0, np.nanmin(
        matrix.to_numpy())), vmax=1, linewidths=0.5, linecolor="lightgray", ax=ax,
        annot_kws={"fontsize": 7}, cbar_kws={"label": "mean weighted kappa (quadratic)"})
    ax.set_xlabel("")
    ax.set_ylabel("")
    ax.tick_params(labelsize=8)
    plt.setp(ax.get_xticklabels(), rotation=45, ha="right")
    ax.set_title(title, fontsize=10)
    fig.tight_layout()
    return fig


def agreement_lines(agreement: pd.DataFrame, title: str):
    """The authors' two line graphs in one figure: per emotion (canonical order) the mean kappa of
    each expert with the other experts (top) and of each model with the experts (bottom)."""
    emotions = list(taxonomy.EMOTIONS)
    x = np.arange(len(emotions))
    fig, axes = plt.subplots(2, 1, figsize=(12, 7.5), sharex=True, sharey=True)
    parts = ((axes[0], agreement[agreement["human"]], "expert vs the other experts"),
             (axes[1], agreement[~agreement["human"]], "model vs the experts"))
    markers = "osD^v<>ph*x"
    for ax, rows, label in parts:
        for k, (_, row) in enumerate(rows.iterrows()):
            ax.plot(x, row[emotions].to_numpy(float), marker=markers[k % len(markers)], ms=3.5,
                    lw=1, label=row["annotator"])
        ax.axhline(0, color="black", lw=0.6)
        ax.set_ylabel("mean weighted kappa")
        ax.set_title(label, fontsize=9)
        if len(rows):
            ax.legend(frameon=False, fontsize=7, loc="upper left", bbox_to_anchor=(1.0, 1.0))
        sns.despine(ax=ax)
    axes[1].set_xticks(x, emotions, rotation=90, fontsize=7)
    _color_family_labels(axes[1], axis="x")
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig


def group_boxplot(values: pd.DataFrame, order: list[str], title: str):
    """The authors' box plot: per-emotion agreement values (kappa) by annotator group."""
    fig, ax = plt.subplots(figsize=(9, 0.55 * len(order) + 1.4))
    sns.boxplot(data=values, y="group", x="kappa", order=order, hue="group", hue_order=order,
                palette=[_group_color(g) for g in order], legend=False, ax=ax, fliersize=2)
    ax.axvline(0, color="black", lw=0.6)
    ax.set_xlabel("agreement with the experts (mean weighted kappa per emotion)")
    ax.set_ylabel("")
    ax.set_title(title, fontsize=10)
    sns.despine(ax=ax)
    fig.tight_layout()
    return fig


def difference_forest(could_be: pd.DataFrame, title: str):
    """The "could be an annotator" test as a forest plot: each annotator's mean kappa minus the
    experts' reference mean with its bootstrap CI; filled where p > 0.05 ("could be")."""
    rows = could_be.iloc[::-1].reset_index(drop=True)
    fig, ax = plt.subplots(figsize=(8, 0.32 * len(rows) + 1.3))
    for y, r in rows.iterrows():
        color = _group_color(r["group"])
        ax.plot([r["ci_low"], r["ci_high"]], [y, y], color=color, lw=2)
        ax.scatter(r["mean_difference"], y, s=40, zorder=3, edgecolors=color,
                   color=color if r["could_be"] == "yes" else "white")
    ax.axvline(0, color="black", lw=0.8)
    ax.set_yticks(rows.index, rows["annotator"], fontsize=8)
    ax.set_xlabel("mean kappa with the experts minus the experts' mean kappa among themselves "
                  "(95% CI)")
    ax.set_title(title, fontsize=10)
    sns.despine(ax=ax)
    fig.tight_layout()
    return fig


def rho_bars(summary: pd.DataFrame, title: str):
    """The paper's headline chart: mean Spearman rho over the 40 emotions against the human
    median per annotator (best first) with 95% bootstrap CIs, coloured by group."""
    fig, ax = plt.subplots(figsize=(max(7, 0.5 * len(summary) + 2), 4.6))
    x = np.arange(len(summary))
    ax.bar(x, summary["mean_rho"], color=[_group_color(g) for g in summary["group"]],
           yerr=[summary["mean_rho"] - summary["ci_low"], summary["ci_high"] - summary["mean_rho"]],
           capsize=4)
    ax.set_xticks(x, summary["annotator"], rotation=45, ha="right", fontsize=8)
    ax.axhline(0, color="black", lw=0.6)
    ax.set_ylabel("mean Spearman rho vs the human median")
    groups = list(dict.fromkeys(summary["group"]))
    ax.legend([plt.Rectangle((0, 0), 1, 1, color=_group_color(g)) for g in groups], groups,
              frameon=False, fontsize=8, loc="upper right")
    ax.set_title(title, fontsize=10)
    sns.despine(ax=ax)
    fig.tight_layout()
    return fig


def method_scatter(comparison: pd.DataFrame, title: str):
    """Mean kappa with the experts per annotator with truncated (x) and rounded (y) levels."""
    fig, ax = plt.subplots(figsize=(5.2, 4.6))
    ax.scatter(comparison["truncate"], comparison["round"], s=35,
               c=[_group_color(g) for g in comparison["group"]])
    for _, r in comparison.iterrows():
        if abs(r["difference"]) > 1e-12:
            ax.annotate(r["annotator"], (r["truncate"], r["round"]), fontsize=6.5,
                        xytext=(3, 3), textcoords="offset points")
    lo = np.nanmin(comparison[["truncate", "round"]].to_numpy()) - 0.03
    hi = np.nanmax(comparison[["truncate", "round"]].to_numpy()) + 0.03
    ax.plot([lo, hi], [lo, hi], color="grey", lw=0.8, ls="--")
    ax.set_xlabel("levels by truncation (the paper's astype(int))")
    ax.set_ylabel("levels by rounding")
    ax.set_title(title, fontsize=10)
    sns.despine(ax=ax)
    fig.tight_layout()
    return fig


def _band(ax, frame, label, color, marker="o"):
    """Mean over replicates against the sweep level, SD as error bars."""
    frame = frame.sort_values("level")
    ax.errorbar(frame["level"].astype(float), frame["mean"], yerr=frame["sd"], color=color,
                marker=marker, ms=4, lw=1.3, capsize=2, label=label)


SWEEP_LABELS = {"noise_sd": "expert noise SD", "per_image": "experts per image",
                "marked": "categories marked per image (40: no threshold)",
                "offset": "model offset (levels)"}


def study_sweeps(summary: pd.DataFrame, sweeps: list[str], title: str):
    """Simulation study, one column per sweep: agreement among the experts (alpha, kappa; top)
    and what a fixed synthetic model scores against them, next to how well the expert median
    tracks the truth (bottom). Points: mean over replicates, bars: SD."""
    fig, axes = plt.subplots(2, len(sweeps), figsize=(4.2 * len(sweeps), 7), sharey="row",
                             squeeze=False)
    palette = sns.color_palette("Dark2", 5)
    top = (("experts", "alpha", "experts: alpha (interval)"),
           ("experts", "kappa", "experts: kappa with each other"))
    bottom = (("reference model", "kappa (truncate)", "model: kappa with the experts"),
              ("reference model", "rho", "model: rho vs the expert median"),
              ("expert median", "rho vs truth", "expert median: rho vs the truth"))
    for col, sweep in enumerate(sweeps):
        sub = summary[summary["sweep"] == sweep]
        for row, specs in enumerate((top, bottom)):
            ax = axes[row, col]
            for k, (who, metric, label) in enumerate(specs):
                frame = sub[(sub["annotator"] == who) & (sub["metric"] == metric)]
                _band(ax, frame, label, palette[k + 2 * row], "os^"[k])
            ax.set_xlabel(SWEEP_LABELS.get(sweep, sweep))
            sns.despine(ax=ax)
    axes[0, 0].set_ylabel("agreement among the experts")
    axes[1, 0].set_ylabel("against the experts / the truth")
    axes[0, -1].legend(frameon=False, fontsize=8, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    axes[1, -1].legend(frameon=False, fontsize=8, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig


def study_offset(summary: pd.DataFrame, title: str):
    """Kappa of one synthetic model with the experts as its scores are shifted, with truncated
    and with rounded levels (mean over replicates, SD bars)."""
    sub = summary[(summary["sweep"] == "offset") & (summary["annotator"] == "reference model")]
    fig, ax = plt.subplots(figsize=(6, 4))
    for metric, color, label in (("kappa (truncate)", "#33658a", "truncated levels (paper)"),
                                 ("kappa (round)", "#f26419", "rounded levels")):
        _band(ax, sub[sub["metric"] == metric], label, color)
    ax.axvline(0, color="grey", lw=0.6)
    ax.set_xlabel("offset added to the model's scores (rating levels)")
    ax.set_ylabel("mean kappa with the experts")
    ax.legend(frameon=False, fontsize=8)
    ax.set_title(title, fontsize=10)
    sns.despine(ax=ax)
    fig.tight_layout()
    return fig


def study_ranking(summary: pd.DataFrame, noise: list[float], expert_noise: float, title: str):
    """Synthetic models of known quality (noise SD, x): mean rho against the expert median and
    against the truth, mean kappa with the experts next to the experts' own kappa, and the share
    of replicates in which the "could be an annotator" test says yes."""
    from emonet.hq_study import ranking_model

    sub = summary[summary["sweep"] == "ranking"]
    names = [ranking_model(s) for s in noise]

    def series(metric, who=None):
        rows = sub[sub["metric"] == metric].set_index("annotator")
        return rows.reindex(who or names)

    fig, axes = plt.subplots(1, 3, figsize=(13, 3.8))
    for metric, color, label in (("rho", "#33658a", "rho vs the expert median"),
                                 ("rho vs truth", "#4c956c", "rho vs the truth")):
        s = series(metric)
        axes[0].errorbar(noise, s["mean"], yerr=s["sd"], marker="o", color=color, label=label,
                         capsize=2)
    axes[0].set_ylabel("mean Spearman rho")
    s = series("kappa (truncate)")
    axes[1].errorbar(noise, s["mean"], yerr=s["sd"], marker="o", color="#33658a",
                     label="model vs the experts", capsize=2)
    experts = sub[(sub["annotator"] == "experts") & (sub["metric"] == "kappa")]["mean"]
    axes[1].axhline(float(experts.mean()), color="black", ls="--", lw=1,
                    label="experts among themselves")
    axes[1].set_ylabel("mean weighted kappa")
    s = series("could be")
    axes[2].bar(noise, s["mean"], width=0.15 * (max(noise) - min(noise) + 1) / 2,
                color="#4c956c")
    axes[2].set_ylim(0, 1.05)
    axes[2].yaxis.set_major_formatter(PercentFormatter(1.0))
    axes[2].set_ylabel('share of replicates: "could be an annotator"')
    for ax in axes:
        ax.axvline(expert_noise, color="grey", ls=":", lw=1)
        ax.set_xlabel("model noise SD (dotted: the experts' noise SD)")
        sns.despine(ax=ax)
    axes[0].legend(frameon=False, fontsize=8)
    axes[1].legend(frameon=False, fontsize=8)
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
