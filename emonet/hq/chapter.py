"""Chapter 04, *Expert panel (HQ)*: everything the page shows, from the panel ``panel_source``
names (the authors' ``hq.csv``, or the simulated panel of chapter 02's HQ-role faces that this
chapter writes first), and from simulated panels with a known truth.

:func:`run` fills a :class:`emonet.book.page.Page` with the chapter's tables (``hq_*.csv``),
figures and the numbers its prose quotes.
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
from emonet.hq import figures, panel, resampled, simulation, study
from emonet.hq import suite as hq_suite
from emonet.hq.panel import Panel


@dataclass(frozen=True)
class PanelParams(Params):
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
            n_raters=self.panel_raters, per_image=self.panel_per_image, marked=self.panel_marked,
            noise_sd=self.panel_noise_sd, leniency_sd=self.panel_leniency_sd,
            shared_sd=self.panel_shared_sd)

    @property
    def sweeps(self) -> dict[str, list[float]]:
        """The simulation study's sweeps: ``{name: levels}`` (see
        :func:`emonet.hq.study.simulation_study`)."""
        return {"noise_sd": self.sim_noise, "per_image": self.sim_per_image,
                "marked": self.sim_marked, "offset": self.sim_offsets}


def run(params: PanelParams, page: Page) -> Page:
    """The panel (written first when ``panel_source`` is "simulated"), the paper's agreement
    suite on it, and the simulation study."""
    if params.panel_source == "simulated":
        _write_simulated_panel(params, page.root)
    ratings, extra = loaders.load_hq(panel.hq_path(params.panel_source, page.root))
    hq = Panel.from_table(ratings, extra)
    label = panel.source_label(params.panel_source)
    page.text(hq_label=label, hq_source_text=panel.source_text(params.panel_source))
    page.table(pd.DataFrame({"panel": [label], "real": [params.panel_source == "real"]}),
               "hq_source")
    _panel(page, hq, ratings, label)
    suite = hq_suite.run_suite(hq, params.n_bootstrap, params.seed, params.kappa_method,
                               bootstrap_order=params.bootstrap_order)
    _alpha(page, suite, params, label)
    _kappa(page, suite, label)
    _methods(page, hq, label)
    _groups(page, suite, label)
    _could_be(page, suite, label)
    _rho(page, suite, label)
    _design(page, suite, params, label)
    result, summary = _simulation_study(page, params)
    _offset(page, summary)
    _ranking(page, result, summary, params)
    return page


def _write_simulated_panel(params: PanelParams, root: Path) -> None:
    """The simulated panel of chapter 02's HQ-role faces, in the ``hq.csv`` format."""
    manifest = images.read_manifest(images.manifest_path(root))
    truth, ids = simulation.hq_role_truth(manifest, params.seed)
    simulated = simulation.simulate_panel(truth, ids, params.raters, params.seed,
                                          models=simulation.simulated_vlms(
                                              params.panel_vlm_noise_sd))
    panel.write_hq_csv(simulated, root / panel.SIMULATED_FILE)


def _panel(page: Page, hq: Panel, ratings: pd.DataFrame, label: str) -> None:
    facts = hq_suite.panel_facts(hq)
    page.table(facts.rename_axis("fact").reset_index(name="value"), "hq_facts")
    page.table(loaders.hq_checks(ratings), "hq_file_checks")
    page.text(hq_n_duplicate_pairs=f"{len(ratings.attrs['duplicates']):,}",
              hq_n_unknown_keys=f"{len(ratings.attrs['unknown_keys']):,}")
    annotators = page.table(panel.annotator_overview(hq, ratings), "hq_annotators")
    levels = page.table(hq_suite.level_shares(hq), "hq_levels")
    expert_marked = annotators.loc[annotators["human"], "marked"]
    page.text(**{f"hq_{key}": f"{int(facts[key]):,}"
                 for key in ("n_images", "n_experts", "n_rows", "n_extra_values")})
    page.text(hq_models_text=hq_suite.models_text(int(facts["n_models"])),
              hq_experts_per_image=f"{facts['experts_per_image']:.1f}",
              hq_shared_pair=f"{facts['shared_expert_pair']:.0f}",
              hq_shared_model=f"{facts['shared_model_expert']:.0f}",
              hq_marked=f"{facts['marked_per_image']:.1f}",
              hq_share_zero=f"{facts['share_zero']:.0%}",
              hq_keys_missing=f"{int(annotators['keys_missing'].sum()):,}",
              hq_marked_min=f"{expert_marked.min():.1f}",
              hq_marked_max=f"{expert_marked.max():.1f}")
    page.figure(figures.panel_overview(annotators, levels, f"The HQ panel ({label})"),
                "hq_panel", "fig_hq_panel")


def _alpha(page: Page, suite: hq_suite.Suite, params: PanelParams, label: str) -> None:
    """Alpha per emotion with its mean and median row, and the bootstrap distributions."""
    alphas = page.table(suite.alpha, "hq_alpha")
    per_emotion = alphas[alphas["scope"] == "emotion"]
    overall = alphas[alphas["scope"] == "overall"].set_index("name")
    best = per_emotion.loc[per_emotion["alpha"].idxmax()]
    worst = per_emotion.loc[per_emotion["alpha"].idxmin()]
    page.text(hq_n_boot=f"{params.n_bootstrap:,}", hq_seed=f"{params.seed}",
              hq_alpha_best=best["name"], hq_alpha_best_value=f"{best['alpha']:.3f}",
              hq_alpha_worst=worst["name"], hq_alpha_worst_value=f"{worst['alpha']:.3f}")
    for key, name in (("mean", "Mean of 40"), ("median", "Median of 40")):
        row = overall.loc[name]
        page.text(**{f"hq_alpha_{key}": f"{row['alpha']:.3f}",
                     f"hq_alpha_{key}_low": f"{row['ci_low']:.3f}",
                     f"hq_alpha_{key}_high": f"{row['ci_high']:.3f}",
                     f"hq_alpha_{key}_ends_low": f"{row['endpoints_low']:.3f}",
                     f"hq_alpha_{key}_ends_high": f"{row['endpoints_high']:.3f}"})
    page.view(alphas[alphas["scope"] == "overall"].drop(columns=["scope", "family"]),
              "hq_alpha_summary")
    page.figure(binary_figures.alpha_forest(
        alphas, xlabel="Krippendorff's alpha (interval), experts only, 95% bootstrap CI over "
        "images", overall_label="mean of 40"), "hq_alpha", "fig_hq_alpha")
    spread = page.table(hq_suite.alpha_distribution(suite.alpha_boot, alphas),
                        "hq_alpha_bootstrap")
    widest = spread.loc[spread["boot_sd"].idxmax()]
    page.text(hq_alpha_se_min=f"{spread['boot_sd'].min():.3f}",
              hq_alpha_se_max=f"{spread['boot_sd'].max():.3f}",
              hq_alpha_se_widest=widest["name"])
    page.figure(figures.alpha_boxes(suite.alpha_boot, alphas,
                                    f"Bootstrap distributions of alpha ({label})"),
                "hq_alpha_bootstrap", "fig_hq_alpha_boxes")


def _kappa(page: Page, suite: hq_suite.Suite, label: str) -> None:
    """Pairwise kappas: overlaps, the pairs, their heat map, agreement per emotion, summary."""
    page.table(hq_suite.pair_overlap(suite.panel), "hq_pair_overlap", index=True)
    pairs = page.table(suite.pairs, "hq_kappa_pairs")
    matrix = page.table(suite.matrix, "hq_kappa_matrix", index=True)
    between_experts = hq_suite.expert_pair_kappas(suite.panel, matrix)
    page.text(hq_kappa_expert_min=f"{np.nanmin(between_experts):.2f}",
              hq_kappa_expert_max=f"{np.nanmax(between_experts):.2f}",
              hq_kappa_expert_mean=f"{np.nanmean(between_experts):.3f}",
              hq_n_pairs=f"{len(pairs):,}", hq_n_undefined=f"{int(pairs['kappa'].isna().sum()):,}",
              hq_kappa_method=hq_suite.METHOD_TEXTS[suite.method])
    heatmap = figures.kappa_heatmap(
        matrix, f"Mean pairwise weighted kappa over the 40 emotions ({label})")
    page.figure(heatmap, "hq_kappa_matrix", "fig_hq_kappa")
    agreement = page.table(suite.agreement, "hq_agreement")
    summary = page.table(suite.summary, "hq_agreement_summary")
    page.figure(figures.agreement_lines(agreement, f"Agreement per emotion ({label})"),
                "hq_agreement_lines", "fig_hq_lines")
    top = summary.iloc[0]
    page.text(hq_top_annotator=top["annotator"], hq_top_mean=f"{top['mean']:.3f}",
              hq_top_emotion=top["best_emotion"])


def _methods(page: Page, hq: Panel, label: str) -> None:
    """Truncated against rounded levels."""
    methods = page.table(hq_suite.method_comparison(hq), "hq_kappa_methods")
    changes = hq_suite.method_changes(methods)
    page.text(hq_n_method_changed=f"{len(changes)}",
              hq_method_max_change=f"{changes.max():.3f}" if len(changes) else "0",
              hq_method_text=hq_suite.method_change_text(changes))
    page.figure(figures.method_scatter(methods, f"Truncated vs rounded levels ({label})"),
                "hq_kappa_methods", "fig_hq_methods")


def _groups(page: Page, suite: hq_suite.Suite, label: str) -> None:
    page.table(suite.groups, "hq_group_tests")
    values = page.table(hq_suite.group_values(suite.agreement), "hq_group_values")
    order = panel.group_order(values["group"])
    page.text(hq_groups=", ".join(order))
    page.figure(figures.group_boxplot(values, order, f"Agreement by annotator group ({label})"),
                "hq_groups", "fig_hq_groups")


def _could_be(page: Page, suite: hq_suite.Suite, label: str) -> None:
    could_be = page.table(suite.could_be, "hq_could_be")
    passes = could_be["could_be"] == "yes"
    page.text(hq_n_could_be=f"{int(passes.sum())}",
              hq_n_could_be_experts=f"{int((passes & could_be['human']).sum())}",
              hq_n_above=f"{int((~passes & (could_be['mean_difference'] > 0)).sum())}")
    page.figure(figures.difference_forest(could_be, f"Could it be an annotator? ({label})"),
                "hq_could_be", "fig_hq_could_be")


def _rho(page: Page, suite: hq_suite.Suite, label: str) -> None:
    page.table(suite.rho, "hq_rho")
    rho = page.table(suite.rho_summary, "hq_rho_summary")
    experts = rho[rho["human"]]
    page.text(hq_rho_expert_min=f"{experts['mean_rho'].min():.3f}",
              hq_rho_expert_max=f"{experts['mean_rho'].max():.3f}",
              hq_rho_models_text=hq_suite.rho_models_text(rho))
    bars = figures.rho_bars(
        rho, f"Mean Spearman rho against the human median over the 40 emotions ({label})")
    page.figure(bars, "hq_rho", "fig_hq_rho")


def _design(page: Page, suite: hq_suite.Suite, params: PanelParams, label: str) -> None:
    """Beside the authors' tests, inference that resamples the images: group differences with
    Holm's adjustment, the matched could-be comparison, and image intervals of kappa and rho."""
    res = resampled.resample(suite.panel, params.n_bootstrap, params.seed, params.kappa_method)
    groups = page.table(resampled.group_intervals(res), "hq_group_inference")
    people = page.table(resampled.annotator_intervals(res), "hq_inference")
    passes = people["could_be"] == "yes"
    authors = suite.could_be.set_index("annotator").loc[people["annotator"], "could_be"]
    rho = suite.rho_summary.set_index("annotator").loc[people["annotator"]]
    page.text(hq_rho_width_emotions=f"{(rho['ci_high'] - rho['ci_low']).mean():.3f}",
              hq_rho_width_images=f"{(people['rho_high'] - people['rho_low']).mean():.3f}",
              hq_n_group_pairs=f"{len(groups)}",
              hq_n_groups_mwu=f"{int((suite.groups['p_value'] <= hq_suite.COULD_BE_P).sum())}",
              hq_n_groups_holm=f"{int(groups['reject'].sum())}",
              hq_n_matched=f"{int(passes.sum())} of {len(people)}",
              hq_n_matched_experts=f"{int((passes & people['human']).sum())}",
              hq_n_matched_changed=f"{int((authors.to_numpy() != people['could_be']).sum())}")
    forest = people.rename(columns={"matched_difference": "mean_difference",
                                    "matched_low": "ci_low", "matched_high": "ci_high"})
    page.figure(figures.difference_forest(
        forest.sort_values("mean_difference", ascending=False),
        f"Could it be an annotator? Matched images, image resamples ({label})",
        xlabel="mean over expert pairs of (kappa with either expert - the pair's kappa), on the "
        "images all three rated (95% CI over image resamples)"), "hq_matched", "fig_hq_matched")


#: Results of the rater sweeps the prose quotes at the sweep's lowest and highest level:
#: ``(name, sweep, annotator, metric)``, quoted as ``hq_sim_<name>_<end>`` with the ends of
#: :data:`_SWEEP_ENDS`.
_SWEEP_QUOTES = (
    ("alpha", "noise_sd", study.EXPERTS, "alpha"),
    ("ref_kappa", "noise_sd", study.REFERENCE, "kappa (truncate)"),
    ("alpha", "per_image", study.EXPERTS, "alpha"),
    ("kappa", "per_image", study.EXPERTS, "kappa"),
    ("median", "per_image", study.MEDIAN, "rho vs truth"),
    ("ref_rho", "per_image", study.REFERENCE, "rho"),
    ("alpha", "marked", study.EXPERTS, "alpha"),
    ("ref_kappa", "marked", study.REFERENCE, "kappa (truncate)"))

#: How the prose names the lowest and the highest level of each rater sweep.
_SWEEP_ENDS = {"noise_sd": ("lo", "hi"), "per_image": ("few", "many"),
               "marked": ("fewest", "most")}


def _simulation_study(page: Page, params: PanelParams) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Run the study; its design and what the rater sweeps show. Returns the study's tidy table
    and its summary over the replicates."""
    truth = simulation.synthetic_truth(params.sim_images, params.seed)
    result = page.table(study.simulation_study(
        truth, params.raters, params.sweeps, params.sim_model_noise, params.sim_reference_noise,
        params.sim_replications, params.seed), "hq_simulation")
    summary = page.table(study.study_summary(result), "hq_simulation_summary")
    page.text(hq_sim_images=f"{params.sim_images:,}", hq_sim_shared=f"{params.panel_shared_sd:g}",
              hq_sim_noise=f"{params.panel_noise_sd:g}", hq_sim_marked=f"{params.panel_marked:g}",
              hq_sim_reps=f"{params.sim_replications}",
              hq_sim_ref_noise=f"{params.sim_reference_noise:g}")
    ends = {sweep: (min(levels), max(levels)) for sweep, levels in params.sweeps.items()}
    for name, sweep, annotator, metric in _SWEEP_QUOTES:
        for end, level in zip(_SWEEP_ENDS[sweep], ends[sweep]):
            value = study.sweep_value(summary, sweep, level, annotator, metric)
            page.text(**{f"hq_sim_{name}_{end}": f"{value:.2f}"})
    (lo_noise, hi_noise), (few, many), (fewest, most) = (
        ends["noise_sd"], ends["per_image"], ends["marked"])
    pool = study.rater_pool(params.panel_raters, few)
    shared = simulation.expected_shared_images(params.sim_images, pool, few)
    page.text(hq_sim_noise_lo=f"{lo_noise:g}", hq_sim_noise_hi=f"{hi_noise:g}",
              hq_sim_few=f"{few}", hq_sim_many=f"{many}", hq_sim_pool=f"{pool}",
              hq_sim_shared_few=f"{shared:.0f}", hq_sim_fewest=f"{fewest:g}",
              hq_sim_most=study.marked_text(most))
    sweeps = figures.study_sweeps(
        summary, ["noise_sd", "per_image", "marked"],
        "Simulated panels: what the statistics respond to (mean and SD over replicates)")
    page.figure(sweeps, "hq_simulation_sweeps", "fig_hq_sim_sweeps")
    return result, summary


def _offset(page: Page, summary: pd.DataFrame) -> None:
    """Truncated or rounded levels of a model whose scores shift."""
    unshifted = {method: study.sweep_value(summary, "offset", 0, study.REFERENCE,
                                           f"kappa ({method})") for method in ("truncate", "round")}
    page.text(hq_sim_peak_truncate=study.shift_text(study.offset_peak(summary, "truncate")),
              hq_sim_peak_round=study.shift_text(study.offset_peak(summary, "round")),
              hq_sim_zero_truncate=f"{unshifted['truncate']:.3f}",
              hq_sim_zero_round=f"{unshifted['round']:.3f}")
    curves = figures.study_offset(summary,
                                  "Simulated panels: one model's kappa as its scores shift")
    page.figure(curves, "hq_simulation_offset", "fig_hq_sim_offset")


def _ranking(page: Page, result: pd.DataFrame, summary: pd.DataFrame,
             params: PanelParams) -> None:
    """Synthetic models of known quality: which statistics recover their ranking."""
    per_rep = page.table(study.ranking_recovery(result, params.sim_model_noise),
                         "hq_simulation_ranking")
    recovery = study.recovery_summary(per_rep)
    page.tables["hq_simulation_recovery"] = recovery  # shown, not written: means of the table above
    shares = study.could_be_shares(summary, params.sim_model_noise)
    page.text(hq_sim_n_models=f"{len(params.sim_model_noise)}",
              hq_sim_model_noise=", ".join(f"{s:g}" for s in params.sim_model_noise),
              hq_sim_tau_rho=f"{recovery.loc['rho', 'tau']:.2f}",
              hq_sim_tau_kappa=f"{recovery.loc['kappa (truncate)', 'tau']:.2f}",
              hq_sim_best_rho=f"{recovery.loc['rho', 'best_found']:.0%}",
              hq_sim_yes_better=study.less_noisy_pass_text(shares, params.panel_noise_sd),
              hq_sim_yes_max_text=study.most_passing_text(shares, params.panel_noise_sd))
    ranking = figures.study_ranking(summary, params.sim_model_noise, params.panel_noise_sd,
                                    "Simulated panels: synthetic models of known quality")
    page.figure(ranking, "hq_simulation_ranking", "fig_hq_sim_ranking")
