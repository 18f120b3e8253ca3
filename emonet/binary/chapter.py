"""Chapter 03, *Binary labels*: everything the page shows, computed from the authors'
``binary.csv`` (real labels) and, in the simulation section, from simulated raters.

:func:`run` fills a :class:`emonet.book.page.Page` with the chapter's tables (``binary_*.csv``),
figures and the numbers its prose quotes.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from emonet.binary import figures, protocol
from emonet.book.page import Page, Params
from emonet.data import loaders

#: Counts of :func:`protocol.facts` the prose quotes, each as text ``bin_<name>``.
QUOTED_FACTS = ("n_labels", "n_images", "n_annotators", "n_items", "n_items_1", "n_items_2",
                "n_items_3", "n_items_multi", "labels_per_annotator_min",
                "labels_per_annotator_max")

#: Rules of :data:`protocol.RULES` the prose quotes: rule -> text key ``bin_rule_<key>``.
QUOTED_RULES = {"re-asked": "reasked", "single no": "single_no", "both no": "both_no",
                "both yes": "both_yes", "both re-asked": "both_reasked",
                "single-rating phase": "single_phase"}


@dataclass(frozen=True)
class BinaryParams(Params):
    """``n_bootstrap``: resamples of images behind alpha's CIs. ``sim_*``: the protocol
    simulation (simulated images per accuracy; rater accuracies in [0, 1]; leniency spread on the
    log-odds scale; probabilities that the target and the contrast are truly present)."""

    seed: int
    n_bootstrap: int
    sim_images: int
    sim_accuracies: list[float]
    sim_leniency_spread: float
    sim_p_target: float
    sim_p_contrast: float


def run(params: BinaryParams, page: Page) -> Page:
    """The label file, the protocol reconstructed from it, the authors' agreement splits, the
    raters, alpha and why the protocol makes it negative, the simulation, the role rates and the
    families."""
    labels = loaders.load_binary()
    roles = protocol.assign_roles(protocol.items(labels))
    _file(page, labels, roles)
    _protocol(page, roles)
    splits = _agreement_splits(page, roles)
    _raters(page, labels, roles)
    alphas = _alpha(page, roles, params)
    real = {"alpha": _overall(alphas)["alpha"], "full": splits.iloc[-1]["full"]}
    _simulation(page, params, labels, real)
    by_family = _role_rates(page, roles)
    _families(page, roles, alphas, by_family)
    return page


def _overall(alphas: pd.DataFrame) -> pd.Series:
    return alphas[alphas["scope"] == "overall"].iloc[0]


def _file(page: Page, labels: pd.DataFrame, roles: pd.DataFrame) -> None:
    facts = protocol.facts(labels, roles)
    page.table(facts.rename_axis("fact").reset_index(name="value"), "binary_facts")
    page.text(**{f"bin_{name}": f"{int(facts[name]):,}" for name in QUOTED_FACTS},
              bin_positive_rate=f"{facts['positive_rate']:.1%}",
              bin_items_per_image=f"{facts['n_items'] / facts['n_images']:.0f}")


def _protocol(page: Page, roles: pd.DataFrame) -> None:
    rules = page.table(protocol.rule_counts(roles), "binary_role_rules").set_index("rule")
    page.text(**{f"bin_rule_{key}": f"{int(rules.loc[rule, 'n_images']):,}"
                 for rule, key in QUOTED_RULES.items()},
              bin_rule_reasked_share=f"{rules.loc['re-asked', 'share']:.1%}",
              bin_first_reasked=roles.loc[roles["rule"] == "re-asked", "image"].min())
    patterns = page.table(protocol.vote_patterns(roles), "binary_vote_patterns")
    per_pattern = patterns.set_index("pattern")["total"]
    page.text(bin_n_off_protocol=f"{int(patterns.loc[~patterns['protocol'], 'total'].sum()):,}",
              bin_n_yy=f"{int(per_pattern.get('YY', 0)):,}")


def _agreement_splits(page: Page, roles: pd.DataFrame) -> pd.DataFrame:
    splits = page.table(protocol.agreement_splits(roles), "binary_agreement_splits")
    overall, per_emotion = splits.iloc[-1], splits.iloc[:-1]
    best, worst = per_emotion.iloc[0], per_emotion.iloc[-1]
    page.text(bin_full_share=f"{overall['full']:.1%}",
              bin_split21_share=f"{overall['split_2_1']:.1%}",
              bin_split11_share=f"{overall['split_1_1']:.1%}",
              bin_full_best=best["emotion"], bin_full_best_share=f"{best['full']:.1%}",
              bin_full_worst=worst["emotion"], bin_full_worst_share=f"{worst['full']:.1%}")
    page.figure(figures.agreement_splits_bars(splits), "binary_agreement_splits", "fig_bin_splits")
    return splits


def _raters(page: Page, labels: pd.DataFrame, roles: pd.DataFrame) -> None:
    annotators = page.table(protocol.annotators(labels, roles), "binary_annotators")
    model, modelled = protocol.fit_rater_model(labels, roles)
    effects = page.table(protocol.rater_effects(model, modelled), "binary_rater_model")
    page.table(model.summary2().tables[1].rename_axis("term").reset_index(),
               "binary_rater_model_coefficients")
    rate = annotators.set_index("annotator")["positive_rate"]
    both_roles = protocol.annotators_in_both_roles(annotators)
    target_low, target_high = protocol.target_yes_range(effects)
    page.text(bin_ann_hi=rate.idxmax(), bin_ann_hi_rate=f"{rate.max():.1%}",
              bin_ann_lo=rate.idxmin(), bin_ann_lo_rate=f"{rate.min():.1%}",
              bin_n_ann_both_roles=f"{len(both_roles)}", bin_ann_both_roles=", ".join(both_roles),
              bin_model_n=f"{len(modelled):,}",
              bin_model_excluded=f"{len(labels) - len(modelled):,}",
              bin_model_role_or=f"{protocol.role_odds_ratio(model):.0f}",
              bin_model_target_p_min=f"{target_low:.0%}",
              bin_model_target_p_max=f"{target_high:.0%}",
              bin_model_pseudo_r2=f"{model.prsquared:.2f}")
    page.figure(figures.annotator_panels(annotators, effects, protocol.MIN_ROLE_LABELS),
                "binary_annotators", "fig_bin_annotators")


def _alpha(page: Page, roles: pd.DataFrame, params: BinaryParams) -> pd.DataFrame:
    """Alpha per emotion, family and overall, and the closed form that explains its sign."""
    alphas = page.table(protocol.alpha_table(roles, n_boot=params.n_bootstrap, seed=params.seed),
                        "binary_alpha")
    page.view(alphas[alphas["scope"] != "emotion"], "binary_alpha_groups")
    overall = _overall(alphas)
    per_emotion = alphas[alphas["scope"] == "emotion"].set_index("name")["alpha"]
    page.text(bin_alpha=f"{overall['alpha']:.3f}", bin_alpha_low=f"{overall['ci_low']:.3f}",
              bin_alpha_high=f"{overall['ci_high']:.3f}", bin_n_boot=f"{params.n_bootstrap:,}",
              bin_alpha_max=f"{per_emotion.max():.3f}", bin_alpha_max_emotion=per_emotion.idxmax(),
              bin_alpha_min=f"{per_emotion.min():.3f}", bin_alpha_min_emotion=per_emotion.idxmin(),
              bin_n_alpha_negative=f"{(per_emotion < 0).sum()}")
    page.figure(figures.alpha_forest(alphas), "binary_alpha", "fig_bin_alpha")
    multi = roles[roles["n_ratings"] > 1]
    closed = protocol.alpha_if_no_ends_chain(overall["n_yes"], overall["n_no"])
    page.text(bin_n_two_no=f"{(multi['n_no'] > 1).sum()}", bin_alpha_closed=f"{closed:.3f}",
              bin_pairable_yes=f"{int(overall['n_yes']):,}",
              bin_pairable_no=f"{int(overall['n_no']):,}")
    return alphas


def _simulation(page: Page, params: BinaryParams, labels: pd.DataFrame, real: dict) -> None:
    """Simulated raters under the full and the sequential design; ``real``: the real labels'
    overall ``alpha`` and ``full`` agreement share, drawn as reference lines."""
    leniency, workload = protocol.simulated_raters(labels, params.sim_leniency_spread)
    study = page.table(protocol.simulation_study(
        params.sim_accuracies, params.sim_images, leniency, workload, params.sim_p_target,
        params.sim_p_contrast, params.seed), "binary_simulation")
    alpha = study.pivot(index="accuracy", columns="design", values="alpha")
    best = max(a for a in params.sim_accuracies if a < 1)  # perfect raters leave alpha undefined
    page.text(bin_sim_images=f"{params.sim_images:,}",
              bin_sim_p_target=f"{params.sim_p_target:.0%}",
              bin_sim_p_contrast=f"{params.sim_p_contrast:.0%}",
              bin_sim_spread=f"{params.sim_leniency_spread:g}", bin_sim_best_acc=f"{best:.0%}",
              bin_sim_best_full=f"{alpha.loc[best, 'full']:.2f}",
              bin_sim_best_seq=f"{alpha.loc[best, 'sequential']:.2f}",
              bin_sim_max_seq=f"{alpha['sequential'].max():.2f}")
    page.figure(figures.simulation_lines(study, real), "binary_simulation", "fig_bin_simulation")


def _role_rates(page: Page, roles: pd.DataFrame) -> pd.DataFrame:
    rates = page.table(protocol.role_rates(roles), "binary_role_rates").set_index("role")
    by_emotion = page.table(protocol.role_rates_by(roles, "emotion"), "binary_roles_by_emotion")
    by_family = page.table(protocol.role_rates_by(roles, "family"), "binary_roles_by_family")
    page.text(bin_role_images=f"{int(rates.loc['target', 'n_images']):,}",
              bin_target_rate=f"{rates.loc['target', 'rate']:.1%}",
              bin_contrast_rate=f"{rates.loc['contrast', 'rate']:.1%}",
              bin_n_separated=f"{protocol.n_separated(by_emotion)}")
    return by_family


def _families(page: Page, roles: pd.DataFrame, alphas: pd.DataFrame,
              by_family: pd.DataFrame) -> None:
    splits = page.table(protocol.agreement_splits(roles, by="family"),
                        "binary_agreement_splits_by_family")
    alpha = alphas[alphas["scope"] == "family"].set_index("name")["alpha"]
    page.text(bin_fam_alpha_best=alpha.idxmax(), bin_fam_alpha_worst=alpha.idxmin(),
              bin_fam_alpha_worst_value=f"{alpha.min():.3f}")
    page.figure(figures.family_summary(splits, alphas, by_family), "binary_families",
                "fig_bin_families")
