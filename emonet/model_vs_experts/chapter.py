"""Chapter 06, *Model vs experts*: chapter 05's model (and, when the profile names them, the
authors' released heads rescored on the HQ images) joins chapter 04's panel as an annotator; the
paper's statistics, the same judged like for like, the readout study, the distributions over the
40 emotions, the blind study's top-5 lists and the fairness regression follow.

:func:`run` fills the page (tables ``expert_*.csv``, figures, the numbers the prose quotes) and
returns a :class:`ModelVsExpertsResult`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from emonet.book import style
from emonet.book.page import Page, Params
from emonet.data import join, loaders, protocols, snapshots
from emonet.generation import images
from emonet.hq import figures as hq_figures
from emonet.hq import image_bootstrap, panel, paper_statistics
from emonet.model_vs_experts import (
    distributions,
    fairness,
    figures,
    joined,
    readout_study,
    top_k,
)


@dataclass(frozen=True)
class ModelVsExpertsParams(Params):
    """The parameters cell (``notebooks/params/<profile>.yaml``, ``common`` and
    ``06_model_vs_experts``)."""

    profile: str
    seed: int
    panel_source: str  # "simulated" (chapter 04's stand-in) or "real" (the authors' hq.csv)
    model_name: str
    n_bootstrap: int
    bootstrap_order: str  # "keyed" (order-free) or "authors" (their generator's order)
    kappa_method: str  # "truncate" (the paper's astype(int)) or "round"
    released_heads: str | None  # hub id or folder of the released heads; None: not scored
    hq_images: str | None  # HQ dataset (hub id or parquet): released heads, demographics
    example_emotions: list[str]
    top_k_shown: int
    n_permutations: int

    def __post_init__(self):
        if self.released_heads and not self.hq_images:
            raise ValueError(
                f"released_heads={self.released_heads!r} needs hq_images: the "
                "released heads are scored on the HQ images"
            )


@dataclass(frozen=True)
class ModelVsExpertsResult:
    """What chapter 06 found; every table is also a CSV under ``tables/``."""

    on_panel: joined.ModelOnPanel  # the experts and the model's scores on the same images
    panel: panel.Panel  # the experts plus the model(s), group "Our Models"
    models: list[str]  # the models of this build in ``panel`` (ours, the released heads)
    statistics: (
        paper_statistics.PaperStatistics
    )  # the paper's statistics for every annotator of ``panel``
    bootstrap: image_bootstrap.ImageBootstrap  # the same statistics on image resamples of ``panel``
    like_for_like: pd.DataFrame  # each model against each expert on that expert's reference
    versus_vlms: pd.DataFrame  # the model's mean rho minus each VLM's, paired over images
    readouts: pd.DataFrame  # each perceiver's scores read out three ways
    top_k: dict  # the blind study's lists: observed and chance overlap, p, the experts' own
    fairness: pd.DataFrame | None  # factor tests of the model's per-image agreement


def run(params: ModelVsExpertsParams, page: Page) -> ModelVsExpertsResult:
    """The model on the panel, the paper's statistics, the readout study, the distributions, the
    top-5 lists and the fairness regression."""
    on_panel = joined.model_on_panel(page.root, params.panel_source, params.hq_images)
    models = _panel_and_models(params, page, on_panel)
    experts_and_models = on_panel.experts
    for name, scores in models.items():
        experts_and_models = experts_and_models.with_annotator(name, scores, "Our Models")
    stats = paper_statistics.compute(
        experts_and_models,
        params.n_bootstrap,
        params.seed,
        params.kappa_method,
        bootstrap_order=params.bootstrap_order,
    )
    res = image_bootstrap.resample(
        experts_and_models, params.n_bootstrap, params.seed, params.kappa_method
    )
    like = _headline(params, page, on_panel, stats, res, list(models))
    vlms = _versus_vlms(params, page, experts_and_models, res)
    _agreement(params, page, on_panel, stats, res)
    readouts = _readouts(params, page, on_panel)
    demographics, matched = joined.demographics(on_panel)
    _distributions(params, page, on_panel, demographics)
    overlap = _top_k_overlap(params, page, on_panel)
    factors = _fairness(params, page, on_panel, experts_and_models, demographics, matched)
    return ModelVsExpertsResult(
        on_panel,
        experts_and_models,
        list(models),
        stats,
        res,
        like,
        vlms,
        readouts,
        overlap,
        factors,
    )


def _panel_and_models(
    params: ModelVsExpertsParams, page: Page, on_panel: joined.ModelOnPanel
) -> dict[str, pd.DataFrame]:
    """How the scores found their panel images, what was read from the hub, and the models that
    join the panel: ours and, when the profile names them, the released heads."""
    models = {params.model_name: on_panel.scores}
    read = []
    if params.released_heads:
        placed, files, read = joined.released_models(
            params.released_heads, on_panel, loaders.load_model_outputs(), page.root / "embeddings"
        )
        page.table(files, "expert_released_head_files")
        models[joined.RELEASED_MODEL] = placed
    page.table(on_panel.coverage, "expert_model_coverage")
    page.table(snapshots.sources_table(on_panel.sources + read), "expert_hub_sources")
    page.table(pd.DataFrame({"stand_in": on_panel.stand_ins}, dtype=str), "expert_stand_ins")
    experts = on_panel.experts
    others = [a for a, human in zip(experts.annotators, experts.human) if not human]
    page.text(
        label=on_panel.label,
        model=params.model_name,
        encoder=on_panel.encoder,
        panel=(
            "the authors' hq.csv"
            if params.panel_source == "real"
            else panel.source_label(params.panel_source)
        ),
        n_experts=f"{int(experts.human.sum())}",
        n_panel_models=f"{len(others)}",
        panel_models=", ".join(others) or "none",
        released=(
            "are scored here as well and join as a second model"
            if params.released_heads
            else "are not scored in this build (the full profile scores them)"
        ),
        join_by=(
            "through the HQ dataset, whose rows keep no file names, joined to the "
            f"panel by the experts' ratings ({snapshots.short(on_panel.dataset.source)})"
            if on_panel.dataset is not None
            else "by image id"
        ),
        join_max_unmatched=f"{join.MAX_UNMATCHED:.0%}",
        n_outside=f"{joined.outside_scale(on_panel.scores):,}",
        n_scores=f"{on_panel.scores.size:,}",
    )
    return models


def _headline(
    params: ModelVsExpertsParams,
    page: Page,
    on_panel: joined.ModelOnPanel,
    stats: paper_statistics.PaperStatistics,
    res: image_bootstrap.ImageBootstrap,
    models: list[str],
) -> pd.DataFrame:
    """Mean Spearman rho against the human median per annotator, and the same like for like:
    each expert's reference, the model and the expert on it; returns the like-for-like table."""
    rho = page.table(stats.rho_summary, "expert_rho_summary")
    page.table(stats.rho, "expert_rho")
    ours = rho.set_index("annotator").loc[params.model_name]
    experts_rho = rho[rho["human"]]["mean_rho"]
    page.text(
        n_bootstrap=f"{params.n_bootstrap:,}",
        seed=f"{params.seed}",
        model_rho=f"{ours['mean_rho']:.3f} (95% CI {ours['ci_low']:.3f} to {ours['ci_high']:.3f})",
        experts_rho=f"{experts_rho.min():.3f} to {experts_rho.max():.3f}",
        model_rank=f"{int((rho['mean_rho'] > ours['mean_rho']).sum()) + 1} of {len(rho)}",
        model_position="within the experts' range"
        if ours["mean_rho"] >= experts_rho.min()
        else f"below every expert (the lowest expert is {experts_rho.min():.3f})",
    )
    page.figure(
        hq_figures.rho_bars(
            rho,
            f"Mean Spearman rho against the human median over the 40 emotions ({on_panel.label})",
        ),
        "expert_rho",
        "fig_rho",
    )
    like = page.table(image_bootstrap.like_for_like_table(res, models), "expert_like_for_like")
    mean, per_expert, reached = image_bootstrap.like_for_like_of(like, params.model_name)
    page.text(
        like_model_rho=f"{mean['model_rho']:.3f}",
        like_experts_rho=f"{mean['expert_rho']:.3f}",
        like_difference=f"{mean['difference']:+.3f} (95% CI {mean['ci_low']:+.3f} to "
        f"{mean['ci_high']:+.3f})",
        like_experts_reached=f"{reached} of {len(per_expert)}",
    )
    return like


def _versus_vlms(
    params: ModelVsExpertsParams,
    page: Page,
    experts_and_models: panel.Panel,
    res: image_bootstrap.ImageBootstrap,
) -> pd.DataFrame:
    """Our model's mean rho minus each VLM's, paired over the same image resamples (empty
    without VLMs in the panel)."""
    vlms = [
        a
        for a, g in zip(experts_and_models.annotators, experts_and_models.groups)
        if g.startswith("VLMs")
    ]
    table = page.table(
        pd.DataFrame(
            [
                {"vlm": v, **image_bootstrap.paired_difference(res, params.model_name, v)}
                for v in vlms
            ],
            columns=["vlm", "difference", "ci_low", "ci_high", "p_value"],
        ),
        "expert_vs_vlms",
    )
    strongest = table.loc[table["difference"].idxmin()] if len(table) else None
    page.text(
        vlm_strongest=strongest["vlm"] if strongest is not None else "none",
        vlm_difference="n/a (no VLM in this panel)"
        if strongest is None
        else f"{strongest['difference']:+.3f} (95% CI {strongest['ci_low']:+.3f} to "
        f"{strongest['ci_high']:+.3f})",
        vlms_beaten=f"{int((table['ci_low'] > 0).sum())} of {len(table)}",
    )
    return table


def _agreement(
    params: ModelVsExpertsParams,
    page: Page,
    on_panel: joined.ModelOnPanel,
    stats: paper_statistics.PaperStatistics,
    res: image_bootstrap.ImageBootstrap,
) -> None:
    """Pairwise kappa, agreement by annotator group, the "could be an annotator" test, and the
    same questions on image resamples."""
    label = on_panel.label
    matrix = page.table(stats.matrix, "expert_kappa_matrix", index=True)
    page.table(stats.agreement, "expert_agreement")
    page.figure(
        hq_figures.kappa_heatmap(
            matrix, f"Mean pairwise weighted kappa over the 40 emotions ({label})"
        ),
        "expert_kappa_matrix",
        "fig_kappa",
    )
    values = page.table(paper_statistics.group_values(stats.agreement), "expert_group_values")
    page.table(stats.groups, "expert_group_tests")
    page.figure(
        hq_figures.group_boxplot(
            values,
            panel.group_order(values["group"]),
            f"Agreement with the experts by annotator group ({label})",
        ),
        "expert_groups",
        "fig_groups",
    )
    could_be = page.table(stats.could_be, "expert_could_be")
    verdict = could_be.set_index("annotator").loc[params.model_name]
    page.text(
        kappa_method=paper_statistics.METHOD_TEXTS[params.kappa_method],
        could_be="could" if verdict["could_be"] == "yes" else "could not",
        could_be_p=f"{verdict['p_value']:.3g}",
        could_be_difference=f"{verdict['mean_difference']:+.3f} (95% CI "
        f"{verdict['ci_low']:+.3f} to {verdict['ci_high']:+.3f})",
    )
    page.figure(
        hq_figures.difference_forest(could_be, f"Could it be an annotator? ({label})"),
        "expert_could_be",
        "fig_could_be",
    )
    groups = page.table(image_bootstrap.group_intervals(res), "expert_group_inference")
    people = page.table(image_bootstrap.annotator_intervals(res), "expert_inference")
    ours = people.set_index("annotator").loc[params.model_name]
    page.text(
        matched_could_be="could" if ours["could_be"] == "yes" else "could not",
        matched_difference=f"{ours['matched_difference']:+.3f} (95% CI "
        f"{ours['matched_low']:+.3f} to {ours['matched_high']:+.3f})",
        matched_p=f"{ours['p_value']:.3g}",
        kappa_over_images=f"{ours['mean_kappa']:.3f} ({ours['kappa_low']:.3f} to "
        f"{ours['kappa_high']:.3f})",
        groups_after_holm=f"{int(groups['reject'].sum())} of {len(groups)}",
    )


def _readouts(
    params: ModelVsExpertsParams, page: Page, on_panel: joined.ModelOnPanel
) -> pd.DataFrame:
    """Our model's scores (and, with chapter 02's manifest, the offline faces' ground truth as an
    oracle perceiver) read out as the VLMs were asked to answer."""
    perceivers = {"our model": on_panel.scores}
    if on_panel.truth is not None:
        perceivers["ground truth (oracle)"] = on_panel.truth
    readout = page.table(
        readout_study.readout_table(
            on_panel.experts, perceivers, params.n_bootstrap, params.seed, params.kappa_method
        ),
        "expert_readouts",
    )
    ours = readout[readout["perceiver"] == "our model"].set_index("readout")
    page.text(
        zero_shot_categories=", ".join(protocols.zero_shot().categories),
        readout_perceivers=", ".join(perceivers),
        readout_all_scores=f"{ours.loc['all 40 scores', 'mean_rho']:.3f}",
        readout_zero_shot=_readout_move(ours.loc["zero-shot protocol"]),
        readout_multi_shot=_readout_move(ours.loc["multi-shot protocol"]),
    )
    page.figure(
        figures.readout_bars(readout, f"Same perception, different readouts ({on_panel.label})"),
        "expert_readouts",
        "fig_readouts",
    )
    return readout


def _readout_move(row: pd.Series) -> str:
    """How far one readout moves the perceiver's mean rho, with its paired interval and the
    emotions its mean covers; a readout that leaves no emotion with a rho cannot be measured."""
    if not row["n_emotions"] or not np.isfinite(row["difference"]):
        return "an amount that cannot be measured here (no emotion keeps a defined rho)"
    return (
        f"{row['difference']:+.3f} (95% CI over images {row['diff_low']:+.3f} to "
        f"{row['diff_high']:+.3f}; mean over {row['n_emotions']} emotions)"
    )


def _distributions(
    params: ModelVsExpertsParams,
    page: Page,
    on_panel: joined.ModelOnPanel,
    demographics: pd.DataFrame | None,
) -> None:
    """The model's softmax next to the experts' median for example images, and how widely each
    spreads over the 40 emotions."""
    probs, median, manifest = on_panel.probs, on_panel.median, on_panel.manifest
    prompted = demographics["emotion"] if demographics is not None else pd.Series(dtype=str)
    examples = distributions.example_images(prompted, params.example_emotions, median)
    thumbnails = (
        None
        if manifest is None
        else images.open_images(page.root, manifest.set_index("id").loc[examples, "path"])
    )
    spread = pd.DataFrame(
        {
            "model softmax": distributions.effective_categories(probs),
            "expert median": distributions.effective_categories(median.loc[probs.index]),
        }
    )
    page.table(
        spread.describe()
        .loc[["count", "mean", "50%"]]
        .rename(index={"50%": "median"})
        .rename_axis("statistic")
        .reset_index(),
        "expert_spread",
    )
    page.text(
        n_examples=f"{len(examples)}",
        spread_model=f"{spread['model softmax'].median():.1f}",
        spread_experts=f"{spread['expert median'].median():.1f}",
        spread_all_zero=f"{int(spread['expert median'].isna().sum())}",
    )
    page.figure(
        figures.distribution_panels(
            probs.loc[examples],
            median.loc[examples],
            f"Model softmax vs the experts' median ({on_panel.label})",
            thumbnails=thumbnails,
            human_label="expert median (0-7)",
        ),
        "expert_distributions",
        "fig_distributions",
    )
    page.table(
        pd.concat(
            {"model_softmax": probs.loc[examples], "expert_median": median.loc[examples]}
        ).rename_axis(["source", "image"]),
        "expert_distribution_examples",
        index=True,
    )


def _top_k_overlap(params: ModelVsExpertsParams, page: Page, on_panel: joined.ModelOnPanel) -> dict:
    """How much the model's and the experts' median's top-k lists share (each side's top k
    non-zero categories, ties broken at random), against images paired at random and against
    each expert's own list; returns the test (:func:`~emonet.model_vs_experts.top_k.overlap_null`
    plus ``expert_mean`` and ``expert_chance``)."""
    k = params.top_k_shown
    overlap, first, second = top_k.top_k_overlap(
        on_panel.probs, on_panel.median.loc[on_panel.probs.index], k, params.seed
    )
    page.table(overlap.reset_index(), "expert_top5_overlap")
    test = top_k.overlap_null(first, second, params.n_permutations, params.seed)
    chance = page.table(
        top_k.overlap_chance(overlap["overlap"], test.pop("chance_shares"), test["chance_mean"]),
        "expert_top5_chance",
    )
    expert, test["expert_chance"] = top_k.expert_top_k_overlap(on_panel.experts, k, params.seed)
    test["expert_mean"] = float(expert.mean())
    page.table(pd.DataFrame([test]), "expert_top5_test")
    page.text(
        k=f"{k}",
        n_permutations=f"{params.n_permutations:,}",
        overlap_mean=f"{test['mean']:.2f}",
        overlap_chance=f"{test['chance_mean']:.2f}",
        overlap_p=f"{test['p']:.2g}",
        overlap_experts=f"{test['expert_mean']:.2f}",
        overlap_experts_chance=f"{test['expert_chance']:.2f}",
        overlap_short=f"{(overlap['n_human'] < k).mean():.0%}",
        overlap_ties=f"{overlap['human_tie_at_cut'].mean():.0%}",
    )
    page.figure(
        figures.overlap_bars(
            chance, f"Top-{k} overlap, model vs the experts' median ({on_panel.label})"
        ),
        "expert_top5_overlap",
        "fig_overlap",
    )
    return test


def _fairness(
    params: ModelVsExpertsParams,
    page: Page,
    on_panel: joined.ModelOnPanel,
    experts_and_models: panel.Panel,
    demographics: pd.DataFrame | None,
    matched: int | None,
) -> pd.DataFrame | None:
    """Per-image agreement of the model and of the experts regressed on the demographics; returns
    the model's factor tests (None without demographics)."""
    if demographics is None:
        message = "no image demographics in this build"
        page.table(
            pd.DataFrame(
                columns=["annotator", "factor", "df", "wald_chi2", "p", "p_holm", "reject"]
            ),
            "expert_fairness_factors",
        )
        page.text(
            fair_n="n/a",
            fair_excluded="n/a",
            fair_references="n/a",
            fair_flagged="none (this build has no image demographics; set hq_images)",
            fair_demographics="no demographics",
        )
        page.figure(style.message_figure(message), "expert_fairness", "fig_fairness")
        return None
    by_image = fairness.per_image_agreement(experts_and_models)
    experts = on_panel.experts
    expert_names = [a for a, human in zip(experts.annotators, experts.human) if human]
    per_image = pd.DataFrame(
        {"model": by_image[params.model_name], "experts": by_image[expert_names].mean(axis=1)}
    ).loc[demographics.index]
    fits = {who: fairness.fairness_regression(per_image[who], demographics) for who in per_image}
    coefficients = page.table(
        pd.concat({who: fit[0] for who, fit in fits.items()}, names=["annotator"]).reset_index(
            level=0
        ),
        "expert_fairness_coefficients",
    )
    page.table(
        pd.concat({who: fit[1] for who, fit in fits.items()}, names=["annotator"]).reset_index(
            level=0
        ),
        "expert_fairness_factors",
    )
    factors, info = fits["model"][1], fits["model"][2]
    page.text(
        fair_n=f"{info['n_used']:,}",
        fair_excluded=f"{info['n_excluded']:,}",
        fair_references=", ".join(f"{k}: {v}" for k, v in info["references"].items()),
        fair_flagged=", ".join(factors.loc[factors["reject"], "factor"]) or "none",
        fair_demographics=f"{matched:,} of {experts.n_images:,} panel images have demographics",
    )
    page.figure(
        figures.fairness_effects(
            coefficients, f"Per-image agreement by demographic group ({on_panel.label})"
        ),
        "expert_fairness",
        "fig_fairness",
    )
    return factors
