"""Chapter 04, *Expert panel (HQ)*: everything the page shows, from the panel ``panel_source``
names (the authors' ``hq.csv``, or the simulated panel of chapter 02's HQ-role faces that this
chapter writes first), and from simulated panels with a known truth.

:func:`run` fills the page (tables ``hq_*.csv``, figures, the numbers the prose quotes) and
returns a :class:`PanelResult`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from emonet.binary import figures as binary_figures
from emonet.book.page import Page, Params
from emonet.data import loaders
from emonet.generation import images
from emonet.hq import figures, image_bootstrap, panel, paper_statistics, simulation, study
from emonet.hq.panel import Panel


@dataclass(frozen=True)
class PanelParams(Params):
    """The parameters cell (``notebooks/params/<profile>.yaml``, ``common`` and
    ``04_hq_panel``)."""

    seed: int
    panel_source: str  # "simulated" (written here) or "real" (the authors' hq.csv)
    n_bootstrap: int
    bootstrap_order: str  # "keyed" (order-free) or "authors" (their generator's order)
    kappa_method: str  # "truncate" (the paper's astype(int)) or "round"
    panel_raters: int
    panel_per_image: int
    panel_marked: float  # categories an expert marks per image, on average
    panel_noise_sd: float
    panel_leniency_sd: float
    panel_shared_sd: float
    panel_vlm_noise_sd: float  # the simulated VLMs' perception noise
    sim_images: int
    sim_replications: int
    sim_noise: list[float]
    sim_per_image: list[int]
    sim_marked: list[float]  # 40 = no marking threshold
    sim_offsets: list[float]
    sim_model_noise: list[float]
    sim_reference_noise: float

    @property
    def raters(self) -> simulation.RaterModel:
        """The simulated experts: the local panel's, and the simulation study's base."""
        return simulation.RaterModel(
            n_raters=self.panel_raters,
            per_image=self.panel_per_image,
            marked=self.panel_marked,
            noise_sd=self.panel_noise_sd,
            leniency_sd=self.panel_leniency_sd,
            shared_sd=self.panel_shared_sd,
        )

    @property
    def sweeps(self) -> dict[str, list[float]]:
        """The simulation study's sweeps: ``{name: levels}`` (see
        :func:`emonet.hq.study.simulation_study`)."""
        return {
            "noise_sd": self.sim_noise,
            "per_image": self.sim_per_image,
            "marked": self.sim_marked,
            "offset": self.sim_offsets,
        }


@dataclass(frozen=True)
class PanelResult:
    """What chapter 04 found; every table is also a CSV under ``tables/`` (the sweep ends and
    the settings are views of them)."""

    panel: Panel  # ratings (annotators x images x 40, NaN: not rated), names, groups, image ids
    annotators: pd.DataFrame  # per annotator: group, images rated, categories marked, keys missing
    statistics: (
        paper_statistics.PaperStatistics
    )  # the paper's statistics: alpha, pairwise kappa, groups, could-be, rho
    bootstrap: image_bootstrap.ImageBootstrap  # the same statistics on image resamples of ``panel``
    group_inference: pd.DataFrame  # group differences with intervals over images, Holm-adjusted
    inference: pd.DataFrame  # per annotator: kappa, rho and the matched could-be, over images
    simulation: pd.DataFrame  # the simulation study: condition, replicate, annotator, metric
    simulation_summary: pd.DataFrame  # its mean and SD over the replicates
    sweep_ends: pd.DataFrame  # what the rater sweeps give at their lowest and highest level
    recovery: pd.DataFrame  # per statistic: mean Kendall's tau and share finding the best model


def run(params: PanelParams, page: Page) -> PanelResult:
    """The panel (written first when ``panel_source`` is "simulated"), the paper's agreement
    suite on it, inference over images, and the simulation study."""
    if params.panel_source == "simulated":
        _write_simulated_panel(params, page.root)
    path = panel.hq_path(params.panel_source, page.root)
    ratings, extra = loaders.load_hq(path)
    hq = Panel.from_table(ratings, extra)
    label = panel.source_label(params.panel_source)
    page.text(label=label, panel_file=path.name)
    page.table(
        pd.DataFrame({"panel": [label], "real": [params.panel_source == "real"]}), "hq_source"
    )
    annotators = _panel(page, hq, ratings, label)
    statistics = paper_statistics.compute(
        hq,
        params.n_bootstrap,
        params.seed,
        params.kappa_method,
        bootstrap_order=params.bootstrap_order,
    )
    _alpha(page, statistics, params, label)
    _kappa(page, statistics, label)
    _methods(page, hq, label)
    _groups(page, statistics, label)
    _could_be(page, statistics, label)
    _rho(page, statistics, label)
    res, groups, people = _design(page, statistics, params, label)
    result, summary, ends = _simulation_study(page, params)
    _offset(page, summary)
    recovery = _ranking(page, result, summary, params)
    return PanelResult(
        hq, annotators, statistics, res, groups, people, result, summary, ends, recovery
    )


def _write_simulated_panel(params: PanelParams, root: Path) -> None:
    """The simulated panel of chapter 02's HQ-role faces, in the ``hq.csv`` format."""
    manifest = images.read_manifest(images.manifest_path(root))
    truth, ids = simulation.hq_role_truth(manifest, params.seed)
    simulated = simulation.simulate_panel(
        truth,
        ids,
        params.raters,
        params.seed,
        models=simulation.simulated_vlms(params.panel_vlm_noise_sd),
    )
    panel.write_hq_csv(simulated, root / panel.SIMULATED_FILE)


def _panel(page: Page, hq: Panel, ratings: pd.DataFrame, label: str) -> pd.DataFrame:
    """What the loader checked, the annotators and the panel's design; returns the annotators'
    table."""
    facts = paper_statistics.panel_facts(hq)
    page.table(facts.rename_axis("fact").reset_index(name="value"), "hq_facts")
    page.table(loaders.hq_checks(ratings), "hq_file_checks")
    annotators = page.table(panel.annotator_overview(hq, ratings), "hq_annotators")
    levels = page.table(paper_statistics.level_shares(hq), "hq_levels")
    expert_marked = annotators.loc[annotators["human"], "marked"]
    page.text(
        **{key: f"{int(facts[key]):,}" for key in ("n_images", "n_experts", "n_models")},
        experts_per_image=f"{facts['experts_per_image']:.1f}",
        marked=f"{facts['marked_per_image']:.1f} (from {expert_marked.min():.1f} to "
        f"{expert_marked.max():.1f} between experts)",
        share_zero=f"{facts['share_zero']:.0%}",
        shared_pair=f"{facts['shared_expert_pair']:.0f}",
        shared_model=f"{facts['shared_model_expert']:.0f}",
    )
    page.figure(
        figures.panel_overview(annotators, levels, f"The HQ panel ({label})"),
        "hq_panel",
        "fig_panel",
    )
    return annotators


def _interval(row: pd.Series) -> str:
    """An estimate with its 95% interval: "0.301 (95% CI 0.290 to 0.312)"."""
    return f"{row['alpha']:.3f} (95% CI {row['ci_low']:.3f} to {row['ci_high']:.3f})"


def _alpha(
    page: Page, statistics: paper_statistics.PaperStatistics, params: PanelParams, label: str
) -> None:
    """Alpha per emotion with its mean and median row, and the bootstrap distributions."""
    alphas = page.table(statistics.alpha, "hq_alpha")
    per_emotion = alphas[alphas["scope"] == "emotion"]
    overall = alphas[alphas["scope"] == "overall"].set_index("name")
    best = per_emotion.loc[per_emotion["alpha"].idxmax()]
    worst = per_emotion.loc[per_emotion["alpha"].idxmin()]
    page.text(
        n_bootstrap=f"{params.n_bootstrap:,}",
        alpha_best=f"{best['alpha']:.3f} ({best['name']})",
        alpha_worst=f"{worst['alpha']:.3f} ({worst['name']})",
        alpha_mean=_interval(overall.loc["Mean of 40"]),
        alpha_median=_interval(overall.loc["Median of 40"]),
    )
    page.view(
        alphas[alphas["scope"] == "overall"].drop(columns=["scope", "family"]), "hq_alpha_summary"
    )
    page.figure(
        binary_figures.alpha_forest(
            alphas,
            xlabel="Krippendorff's alpha (interval), experts only, 95% bootstrap CI over images",
            overall_label="mean of 40",
        ),
        "hq_alpha",
        "fig_alpha",
    )
    spread = page.table(
        paper_statistics.alpha_distribution(statistics.alpha_boot, alphas), "hq_alpha_bootstrap"
    )
    page.text(
        alpha_se_range=f"{spread['boot_sd'].min():.3f} to {spread['boot_sd'].max():.3f}",
        alpha_se_widest=spread.loc[spread["boot_sd"].idxmax(), "name"],
    )
    page.figure(
        figures.alpha_boxes(
            statistics.alpha_boot, alphas, f"Bootstrap distributions of alpha ({label})"
        ),
        "hq_alpha_bootstrap",
        "fig_alpha_boxes",
    )


def _kappa(page: Page, statistics: paper_statistics.PaperStatistics, label: str) -> None:
    """Pairwise kappas: overlaps, the pairs, their heat map, agreement per emotion, summary."""
    page.table(paper_statistics.pair_overlap(statistics.panel), "hq_pair_overlap", index=True)
    pairs = page.table(statistics.pairs, "hq_kappa_pairs")
    matrix = page.table(statistics.matrix, "hq_kappa_matrix", index=True)
    between_experts = paper_statistics.expert_pair_kappas(statistics.panel, matrix)
    page.text(
        expert_kappa=f"{np.nanmean(between_experts):.3f} (pairs from "
        f"{np.nanmin(between_experts):.2f} to {np.nanmax(between_experts):.2f})",
        undefined_kappas=f"{int(pairs['kappa'].isna().sum()):,} of {len(pairs):,}",
        kappa_method=paper_statistics.METHOD_TEXTS[statistics.method],
    )
    heatmap = figures.kappa_heatmap(
        matrix, f"Mean pairwise weighted kappa over the 40 emotions ({label})"
    )
    page.figure(heatmap, "hq_kappa_matrix", "fig_kappa")
    agreement = page.table(statistics.agreement, "hq_agreement")
    summary = page.table(statistics.summary, "hq_agreement_summary")
    page.figure(
        figures.agreement_lines(agreement, f"Agreement per emotion ({label})"),
        "hq_agreement_lines",
        "fig_lines",
    )
    top = summary.iloc[0]
    page.text(top_annotator=f"{top['annotator']} ({top['mean']:.3f})")


def _methods(page: Page, hq: Panel, label: str) -> None:
    """Truncated against rounded levels."""
    methods = page.table(paper_statistics.method_comparison(hq), "hq_kappa_methods")
    page.text(n_method_changed=f"{len(paper_statistics.method_changes(methods))}")
    page.figure(
        figures.method_scatter(methods, f"Truncated vs rounded levels ({label})"),
        "hq_kappa_methods",
        "fig_methods",
    )


def _groups(page: Page, statistics: paper_statistics.PaperStatistics, label: str) -> None:
    """The paper's comparison of annotator groups."""
    page.table(statistics.groups, "hq_group_tests")
    values = page.table(paper_statistics.group_values(statistics.agreement), "hq_group_values")
    order = panel.group_order(values["group"])
    page.figure(
        figures.group_boxplot(values, order, f"Agreement by annotator group ({label})"),
        "hq_groups",
        "fig_groups",
    )


def _could_be(page: Page, statistics: paper_statistics.PaperStatistics, label: str) -> None:
    """The paper's "could be an annotator" test."""
    could_be = page.table(statistics.could_be, "hq_could_be")
    passes = could_be["could_be"] == "yes"
    page.text(
        n_could_be=f"{int(passes.sum())} of {len(could_be)}",
        n_could_be_experts=f"{int((passes & could_be['human']).sum())}",
        n_above=f"{int((~passes & (could_be['mean_difference'] > 0)).sum())}",
    )
    page.figure(
        figures.difference_forest(could_be, f"Could it be an annotator? ({label})"),
        "hq_could_be",
        "fig_could_be",
    )


def _rho(page: Page, statistics: paper_statistics.PaperStatistics, label: str) -> None:
    """Mean Spearman rho against the human median, best first: the experts' range, the best
    model other than the Random Baseline, and the Random Baseline."""
    page.table(statistics.rho, "hq_rho")
    rho = page.table(statistics.rho_summary, "hq_rho_summary")
    page.text(**rho_values(rho))
    bars = figures.rho_bars(
        rho, f"Mean Spearman rho against the human median over the 40 emotions ({label})"
    )
    page.figure(bars, "hq_rho", "fig_rho")


def rho_values(summary: pd.DataFrame) -> dict[str, str]:
    """What the prose quotes of :func:`emonet.hq.paper_statistics.rho_summary` (best first): the experts'
    range (``expert_rho_range``), the best model other than the Random Baseline with its mean rho
    (``best_model``) and the Random Baseline's (``baseline_rho``), or what stands in for them."""
    experts = summary[summary["human"]]["mean_rho"]
    models = summary[~summary["human"]]
    others = models[models["group"] != panel.RANDOM_BASELINE]
    baseline = models[models["group"] == panel.RANDOM_BASELINE]
    return {
        "expert_rho_range": f"{experts.min():.3f} to {experts.max():.3f}",
        "best_model": f"{others.iloc[0]['annotator']} ({others.iloc[0]['mean_rho']:.3f})"
        if len(others)
        else "none in this panel",
        "baseline_rho": f"{baseline.iloc[0]['mean_rho']:.3f}"
        if len(baseline)
        else "n/a (no Random Baseline in this panel)",
    }


def _design(
    page: Page, statistics: paper_statistics.PaperStatistics, params: PanelParams, label: str
) -> tuple[image_bootstrap.ImageBootstrap, pd.DataFrame, pd.DataFrame]:
    """Beside the authors' tests, inference that resamples the images: group differences with
    Holm's adjustment, the matched could-be comparison, and image intervals of kappa and rho.
    Returns the resamples, the group and the per-annotator table."""
    res = image_bootstrap.resample(
        statistics.panel, params.n_bootstrap, params.seed, params.kappa_method
    )
    groups = page.table(image_bootstrap.group_intervals(res), "hq_group_inference")
    people = page.table(image_bootstrap.annotator_intervals(res), "hq_inference")
    passes = people["could_be"] == "yes"
    authors = statistics.could_be.set_index("annotator").loc[people["annotator"], "could_be"]
    rho = statistics.rho_summary.set_index("annotator").loc[people["annotator"]]
    mwu = int((statistics.groups["p_value"] <= paper_statistics.COULD_BE_P).sum())
    page.text(
        rho_width_emotions=f"{(rho['ci_high'] - rho['ci_low']).mean():.3f}",
        rho_width_images=f"{(people['rho_high'] - people['rho_low']).mean():.3f}",
        groups_mwu=f"{mwu} of {len(groups)}",
        groups_holm=f"{int(groups['reject'].sum())}",
        n_matched=f"{int(passes.sum())} of {len(people)}",
        n_matched_experts=f"{int((passes & people['human']).sum())}",
        n_matched_changed=f"{int((authors.to_numpy() != people['could_be']).sum())}",
    )
    forest = people.rename(
        columns={
            "matched_difference": "mean_difference",
            "matched_low": "ci_low",
            "matched_high": "ci_high",
        }
    )
    page.figure(
        figures.difference_forest(
            forest.sort_values("mean_difference", ascending=False),
            f"Could it be an annotator? Matched images, image resamples ({label})",
            xlabel="mean over expert pairs of (kappa with either expert - the pair's kappa), on the "
            "images all three rated (95% CI over image resamples)",
        ),
        "hq_matched",
        "fig_matched",
    )
    return res, groups, people


#: What the prose reads off the rater sweeps at their lowest and highest level:
#: ``(sweep, annotator, metric)``, the rows of the view ``hq_simulation_ends``.
SWEEP_ENDS = (
    ("noise_sd", study.EXPERTS, "alpha"),
    ("noise_sd", study.REFERENCE, "kappa (truncate)"),
    ("per_image", study.EXPERTS, "alpha"),
    ("per_image", study.EXPERTS, "kappa"),
    ("per_image", study.MEDIAN, "rho vs truth"),
    ("per_image", study.REFERENCE, "rho"),
    ("marked", study.EXPERTS, "alpha"),
    ("marked", study.REFERENCE, "kappa (truncate)"),
)


def sweep_ends(summary: pd.DataFrame, sweeps: dict[str, list[float]]) -> pd.DataFrame:
    """Of the study's summary (:func:`emonet.hq.study.study_summary`): each of
    :data:`SWEEP_ENDS` at its sweep's lowest and highest level, one row each (``sweep,
    annotator, metric, lowest, at_lowest, highest, at_highest``; means over the replicates)."""
    rows = []
    for sweep, annotator, metric in SWEEP_ENDS:
        low, high = min(sweeps[sweep]), max(sweeps[sweep])
        rows.append(
            {
                "sweep": sweep,
                "annotator": annotator,
                "metric": metric,
                "lowest": low,
                "at_lowest": study.sweep_value(summary, sweep, low, annotator, metric),
                "highest": high,
                "at_highest": study.sweep_value(summary, sweep, high, annotator, metric),
            }
        )
    return pd.DataFrame(rows)


def _simulation_study(
    page: Page, params: PanelParams
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Run the study; its settings and what the rater sweeps show. Returns the study's tidy
    table, its summary over the replicates and the sweeps' ends."""
    truth = simulation.synthetic_truth(params.sim_images, params.seed)
    result = page.table(
        study.simulation_study(
            truth,
            params.raters,
            params.sweeps,
            params.sim_model_noise,
            params.sim_reference_noise,
            params.sim_replications,
            params.seed,
        ),
        "hq_simulation",
    )
    summary = page.table(study.study_summary(result), "hq_simulation_summary")
    page.view(
        pd.DataFrame(
            {
                "setting": [
                    "images",
                    "replicates of each condition",
                    "experts in the pool",
                    "experts per image",
                    "categories an expert marks per image",
                    "experts' noise SD (typical; varies by expert)",
                    "experts' leniency SD",
                    "shared deviation from the truth, SD (ambiguity)",
                    "the reference model's noise SD",
                    "the ranked models' noise SDs",
                ],
                "value": [
                    f"{params.sim_images:,}",
                    f"{params.sim_replications}",
                    f"{params.panel_raters}",
                    f"{params.panel_per_image}",
                    f"{params.panel_marked:g}",
                    f"{params.panel_noise_sd:g}",
                    f"{params.panel_leniency_sd:g}",
                    f"{params.panel_shared_sd:g}",
                    f"{params.sim_reference_noise:g}",
                    ", ".join(f"{s:g}" for s in params.sim_model_noise),
                ],
            }
        ),
        "hq_simulation_settings",
    )
    ends = page.view(sweep_ends(summary, params.sweeps), "hq_simulation_ends")
    few = min(params.sim_per_image)
    pool = study.rater_pool(params.panel_raters, few)
    shared = simulation.expected_shared_images(params.sim_images, pool, few)
    page.text(
        sim_images=f"{params.sim_images:,}",
        sim_few=f"{few} of {pool}",
        sim_shared_few=f"{shared:.0f}",
    )
    sweeps = figures.study_sweeps(
        summary,
        ["noise_sd", "per_image", "marked"],
        "Simulated panels: what the statistics respond to (mean and SD over replicates)",
    )
    page.figure(sweeps, "hq_simulation_sweeps", "fig_sim_sweeps")
    return result, summary, ends


def _shift(shift: float) -> str:
    """A score shift as the prose writes it: signed ("+0.5", "-1"), but "0"."""
    return f"{shift:+g}" if shift else "0"


def _offset(page: Page, summary: pd.DataFrame) -> None:
    """Truncated or rounded levels of a model whose scores shift."""
    unshifted = {
        method: study.sweep_value(summary, "offset", 0, study.REFERENCE, f"kappa ({method})")
        for method in ("truncate", "round")
    }
    page.text(
        peak_truncate=_shift(study.offset_peak(summary, "truncate")),
        peak_round=_shift(study.offset_peak(summary, "round")),
        unshifted_truncate=f"{unshifted['truncate']:.3f}",
        unshifted_round=f"{unshifted['round']:.3f}",
    )
    curves = figures.study_offset(
        summary, "Simulated panels: one model's kappa as its scores shift"
    )
    page.figure(curves, "hq_simulation_offset", "fig_sim_offset")


def _ranking(
    page: Page, result: pd.DataFrame, summary: pd.DataFrame, params: PanelParams
) -> pd.DataFrame:
    """Synthetic models of known quality: which statistics recover their ranking, and which
    models the could-be test lets pass; returns the recovery per statistic."""
    per_rep = page.table(
        study.ranking_recovery(result, params.sim_model_noise), "hq_simulation_ranking"
    )
    recovery = page.view(study.recovery_summary(per_rep), "hq_simulation_recovery")
    shares = study.could_be_shares(summary, params.sim_model_noise)
    page.text(
        tau_rho=f"{recovery.loc['rho', 'tau']:.2f}",
        best_found_rho=f"{recovery.loc['rho', 'best_found']:.0%}",
        **could_be_values(shares, params.panel_noise_sd),
    )
    ranking = figures.study_ranking(
        summary,
        params.sim_model_noise,
        params.panel_noise_sd,
        "Simulated panels: synthetic models of known quality",
    )
    page.figure(ranking, "hq_simulation_ranking", "fig_sim_ranking")
    return recovery


def could_be_values(shares: pd.Series, expert_noise: float) -> dict[str, str]:
    """What the prose quotes of the synthetic models' could-be shares
    (:func:`emonet.hq.study.could_be_shares`, indexed by noise SD): how often the models less
    noisy than the experts pass (``less_noisy_pass``; "n/a" without such models), the model that
    passes most often with its share (``most_passing``) and the model whose noise is closest to
    the experts' (``closest_model``)."""
    noise = shares.index.to_numpy(float)
    less_noisy = shares[noise < expert_noise]
    most = int(np.nanargmax(shares.to_numpy(float)))
    closest = int(np.abs(noise - expert_noise).argmin())
    return {
        "less_noisy_pass": f"{less_noisy.mean():.0%}" if len(less_noisy) else "n/a",
        "most_passing": f"{study.ranking_model(noise[most])} ({shares.iloc[most]:.0%})",
        "closest_model": study.ranking_model(noise[closest]),
    }
