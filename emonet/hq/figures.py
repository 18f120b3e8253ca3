"""Figures of chapter 04 (several reused by chapter 06): the panel overview, the bootstrap
distributions of alpha, the kappa heat map,
per-emotion agreement, group box plots, the could-be forest, the rho bars, the truncate/round
scatter and the simulation study's panels.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.ticker import PercentFormatter

from emonet.book.style import (
    FAMILY_COLORS,
    color_family_labels,
    family_legend,
    group_color,
    group_shades,
)
from emonet.data import taxonomy
from emonet.hq.study import ranking_model


def panel_overview(annotators: pd.DataFrame, levels: pd.DataFrame, title: str):
    """Left: how the experts use the levels 1-7 when they mark a category (the share of 0s in
    the label). Right: categories marked (rated above 0) per rated image, per annotator,
    coloured by group. ``annotators``: :meth:`emonet.hq.panel.Panel.annotator_table`;
    ``levels``: ``level, n`` (:func:`emonet.hq.paper_statistics.level_shares`)."""
    fig, (left, right) = plt.subplots(
        1, 2, figsize=(11, 3.6), gridspec_kw={"width_ratios": [1, 1.6]}
    )
    marked = levels[levels["level"] > 0]
    left.bar(
        marked["level"], marked["n"] / marked["n"].sum(), color=group_color("Human Annotators")
    )
    left.set_xticks(marked["level"])
    zeros = levels.loc[levels["level"] == 0, "n"].sum() / levels["n"].sum()
    left.set_xlabel(f"level of a marked category (experts; {zeros:.0%} of ratings are 0)")
    left.yaxis.set_major_formatter(PercentFormatter(1.0))
    left.set_ylabel("share of marked ratings")
    y = np.arange(len(annotators))[::-1]
    right.barh(y, annotators["marked"], color=[group_color(g) for g in annotators["group"]])
    right.set_yticks(y, annotators["annotator"], fontsize=8)
    right.set_xlabel("categories rated above 0 per image (of 40)")
    for ax in (left, right):
        sns.despine(ax=ax)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig


def alpha_boxes(boot: np.ndarray, alphas: pd.DataFrame, title: str):
    """The authors' box plot of alpha: per emotion (rows sorted by alpha, highest on top) the
    bootstrap alphas as a box (quartiles, whiskers at 1.5 IQR, outliers as dots), coloured by
    family, with the point estimate as a black tick and the mean and median of the 40 as
    vertical lines. ``boot``: ``(n_boot, 40)`` in canonical order; ``alphas``:
    :func:`emonet.hq.paper_statistics.alpha_table`."""
    emotions = alphas[alphas["scope"] == "emotion"].reset_index(drop=True)
    order = emotions["alpha"].fillna(-np.inf).to_numpy().argsort(kind="stable")  # lowest first
    rows = emotions.iloc[order].reset_index(drop=True)
    data = [boot[:, i][~np.isnan(boot[:, i])] for i in order]
    fig, ax = plt.subplots(figsize=(9, 10))
    parts = ax.boxplot(
        data,
        positions=np.arange(len(rows)),
        orientation="horizontal",
        widths=0.6,
        patch_artist=True,
        medianprops={"color": "white", "lw": 1.2},
        flierprops={"marker": "o", "ms": 2, "alpha": 0.3, "mec": "none", "mfc": "grey"},
    )
    for box, family in zip(parts["boxes"], rows["family"]):
        box.set(facecolor=FAMILY_COLORS[family], edgecolor=FAMILY_COLORS[family])
    ax.scatter(
        rows["alpha"],
        np.arange(len(rows)),
        marker="|",
        color="black",
        s=60,
        zorder=3,
        label="point estimate",
    )
    overall = alphas[alphas["scope"] == "overall"].set_index("name")["alpha"]
    for (name, value), style in zip(overall.items(), ("--", ":")):
        ax.axvline(value, color="grey", ls=style, lw=1, label=f"{name.lower()}: {value:.3f}")
    ax.axvline(0, color="black", lw=0.8)
    ax.set_yticks(np.arange(len(rows)), rows["name"], fontsize=8)
    color_family_labels(ax)
    ax.set_ylim(-0.7, len(rows) - 0.3)
    ax.set_xlabel(
        f"Krippendorff's alpha (interval), experts only: {boot.shape[0]:,} bootstrap "
        "resamples of the images"
    )
    ax.add_artist(ax.legend(loc="upper left", fontsize=8, frameon=False))  # inside: clipped
    family_legend(ax)  # beside: any alpha range
    ax.set_title(title, fontsize=10)
    sns.despine(ax=ax)
    fig.tight_layout()
    return fig


def kappa_heatmap(matrix: pd.DataFrame, title: str):
    """The authors' heat map: mean quadratic-weighted kappa over the 40 emotions for every pair
    of annotators (experts first), 1 on the diagonal."""
    n = len(matrix)
    fig, ax = plt.subplots(figsize=(max(6, 0.55 * n + 2), max(5, 0.45 * n + 1.5)))
    sns.heatmap(
        matrix,
        annot=n <= 24,
        fmt=".2f",
        cmap="viridis",
        vmin=min(0.0, np.nanmin(matrix.to_numpy())),
        vmax=1,
        linewidths=0.5,
        linecolor="lightgray",
        ax=ax,
        annot_kws={"fontsize": 7},
        cbar_kws={"label": "mean weighted kappa (quadratic)"},
    )
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
    parts = (
        (axes[0], agreement[agreement["human"]], "expert vs the other experts"),
        (axes[1], agreement[~agreement["human"]], "model vs the experts"),
    )
    markers = "osD^v<>ph*x"
    for ax, rows, label in parts:
        shades = {
            g: iter(group_shades(g, int((rows["group"] == g).sum())))
            for g in rows["group"].unique()
        }
        for k, (_, row) in enumerate(rows.iterrows()):
            ax.plot(
                x,
                row[emotions].to_numpy(float),
                marker=markers[k % len(markers)],
                ms=3.5,
                lw=1,
                color=next(shades[row["group"]]),
                label=row["annotator"],
            )
        ax.axhline(0, color="black", lw=0.6)
        ax.set_ylabel("mean weighted kappa")
        ax.set_title(label, fontsize=9)
        if len(rows):
            ax.legend(frameon=False, fontsize=7, loc="upper left", bbox_to_anchor=(1.0, 1.0))
        sns.despine(ax=ax)
    axes[1].set_xticks(x, emotions, rotation=90, fontsize=7)
    color_family_labels(axes[1], axis="x")
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig


def group_boxplot(values: pd.DataFrame, order: list[str], title: str):
    """The authors' box plot: per-emotion agreement values (kappa) by annotator group."""
    fig, ax = plt.subplots(figsize=(9, 0.55 * len(order) + 1.4))
    y = np.arange(len(order))[::-1]  # the first group on top, as a list reads
    boxes = ax.boxplot(
        [values.loc[values["group"] == g, "kappa"].to_numpy() for g in order],
        positions=y,
        orientation="horizontal",
        patch_artist=True,
        widths=0.6,
        flierprops={"markersize": 2},
        medianprops={"color": "black"},
    )
    for box, group in zip(boxes["boxes"], order):
        box.set(facecolor=group_color(group), edgecolor="0.25")
    ax.set_yticks(y, order)
    ax.axvline(0, color="black", lw=0.6)
    ax.set_xlabel("agreement with the experts (mean weighted kappa per emotion)")
    ax.set_ylabel("")
    ax.set_title(title, fontsize=10)
    sns.despine(ax=ax)
    fig.tight_layout()
    return fig


def difference_forest(
    could_be: pd.DataFrame,
    title: str,
    xlabel: str = "mean kappa with the experts minus the experts' mean kappa "
    "among themselves (95% CI)",
):
    """The "could be an annotator" test as a forest plot: each annotator's ``mean_difference``
    with its CI (``ci_low``, ``ci_high``), in table order; filled where ``could_be`` is "yes"."""
    rows = could_be.iloc[::-1].reset_index(drop=True)
    fig, ax = plt.subplots(figsize=(8, 0.32 * len(rows) + 1.3))
    for y, r in rows.iterrows():
        color = group_color(r["group"])
        ax.plot([r["ci_low"], r["ci_high"]], [y, y], color=color, lw=2)
        ax.scatter(
            r["mean_difference"],
            y,
            s=40,
            zorder=3,
            edgecolors=color,
            color=color if r["could_be"] == "yes" else "white",
        )
    ax.axvline(0, color="black", lw=0.8)
    ax.set_yticks(rows.index, rows["annotator"], fontsize=8)
    ax.set_xlabel(xlabel, fontsize=9)
    ax.set_title(title, fontsize=10)
    sns.despine(ax=ax)
    fig.tight_layout()
    return fig


def rho_bars(summary: pd.DataFrame, title: str):
    """The paper's headline chart: mean Spearman rho over the 40 emotions against the human
    median per annotator (best first) with 95% bootstrap CIs, coloured by group."""
    fig, ax = plt.subplots(figsize=(max(7, 0.5 * len(summary) + 2), 4.6))
    x = np.arange(len(summary))
    ax.bar(
        x,
        summary["mean_rho"],
        color=[group_color(g) for g in summary["group"]],
        yerr=[summary["mean_rho"] - summary["ci_low"], summary["ci_high"] - summary["mean_rho"]],
        capsize=4,
    )
    ax.set_xticks(x, summary["annotator"], rotation=45, ha="right", fontsize=8)
    ax.axhline(0, color="black", lw=0.6)
    ax.set_ylabel("mean Spearman rho vs the human median")
    groups = list(dict.fromkeys(summary["group"]))
    ax.legend(
        [plt.Rectangle((0, 0), 1, 1, color=group_color(g)) for g in groups],
        groups,
        frameon=False,
        fontsize=8,
        loc="upper right",
    )
    ax.set_title(title, fontsize=10)
    sns.despine(ax=ax)
    fig.tight_layout()
    return fig


def method_scatter(comparison: pd.DataFrame, title: str):
    """Mean kappa with the experts per annotator with truncated (x) and rounded (y) levels."""
    fig, ax = plt.subplots(figsize=(5.2, 4.6))
    ax.scatter(
        comparison["truncate"],
        comparison["round"],
        s=35,
        c=[group_color(g) for g in comparison["group"]],
    )
    for _, r in comparison.iterrows():
        if abs(r["difference"]) > 1e-12:
            ax.annotate(
                r["annotator"],
                (r["truncate"], r["round"]),
                fontsize=6.5,
                xytext=(3, 3),
                textcoords="offset points",
            )
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
    ax.errorbar(
        frame["level"].astype(float),
        frame["mean"],
        yerr=frame["sd"],
        color=color,
        marker=marker,
        ms=4,
        lw=1.3,
        capsize=2,
        label=label,
    )


SWEEP_LABELS = {
    "noise_sd": "expert noise SD",
    "per_image": "experts per image",
    "marked": "categories marked per image (40: no threshold)",
    "offset": "model offset (levels)",
}


def study_sweeps(summary: pd.DataFrame, sweeps: list[str], title: str):
    """Simulation study, one column per sweep: agreement among the experts (alpha, kappa; top)
    and what a fixed synthetic model scores against them, next to how well the expert median
    tracks the truth (bottom). Points: mean over replicates, bars: SD."""
    fig, axes = plt.subplots(
        2, len(sweeps), figsize=(4.2 * len(sweeps), 7), sharey="row", squeeze=False
    )
    palette = sns.color_palette("Dark2", 5)
    top = (
        ("experts", "alpha", "experts: alpha (interval)"),
        ("experts", "kappa", "experts: kappa with each other"),
    )
    bottom = (
        ("reference model", "kappa (truncate)", "model: kappa with the experts"),
        ("reference model", "rho", "model: rho vs the expert median"),
        ("expert median", "rho vs truth", "expert median: rho vs the truth"),
    )
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
    for metric, color, label in (
        ("kappa (truncate)", "#33658a", "truncated levels (paper)"),
        ("kappa (round)", "#f26419", "rounded levels"),
    ):
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

    sub = summary[summary["sweep"] == "ranking"]
    names = [ranking_model(s) for s in noise]

    def series(metric, who=None):
        rows = sub[sub["metric"] == metric].set_index("annotator")
        return rows.reindex(who or names)

    fig, axes = plt.subplots(1, 3, figsize=(13, 3.8))
    for metric, color, label in (
        ("rho", "#33658a", "rho vs the expert median"),
        ("rho vs truth", "#4c956c", "rho vs the truth"),
    ):
        s = series(metric)
        axes[0].errorbar(
            noise, s["mean"], yerr=s["sd"], marker="o", color=color, label=label, capsize=2
        )
    axes[0].set_ylabel("mean Spearman rho")
    s = series("kappa (truncate)")
    axes[1].errorbar(
        noise,
        s["mean"],
        yerr=s["sd"],
        marker="o",
        color="#33658a",
        label="model vs the experts",
        capsize=2,
    )
    experts = sub[(sub["annotator"] == "experts") & (sub["metric"] == "kappa")]["mean"]
    axes[1].axhline(
        float(experts.mean()), color="black", ls="--", lw=1, label="experts among themselves"
    )
    axes[1].set_ylabel("mean weighted kappa")
    s = series("could be")
    axes[2].bar(noise, s["mean"], width=0.15 * (max(noise) - min(noise) + 1) / 2, color="#4c956c")
    axes[2].set_ylim(0, 1.05)
    axes[2].yaxis.set_major_formatter(PercentFormatter(1.0))
    axes[2].set_ylabel('share of replicates: "could be an annotator"')
    for ax in axes:
        ax.axvline(expert_noise, color="grey", ls=":", lw=1)
        ax.set_xlabel("model noise SD (dotted: the experts' noise SD)")
        sns.despine(ax=ax)
    for ax in axes[:2]:  # above the axes: inside, every corner crosses a curve or the dotted line
        ax.legend(frameon=False, fontsize=8, loc="lower left", bbox_to_anchor=(0.0, 1.0), ncol=2)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig
