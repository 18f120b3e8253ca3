"""Chapter 03, *Binary labels*: everything the page shows, computed from the authors'
``binary.csv`` (real labels) and, in the simulation section, from simulated raters.

:func:`run` fills the page (tables ``binary_*.csv``, figures, the numbers the prose quotes) and
returns a :class:`BinaryResult`.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from emonet.binary import figures, protocol
from emonet.book.page import Page, Params
from emonet.data import loaders

#: Counts of :func:`protocol.facts` the prose quotes, each as text under its own name.
QUOTED_FACTS = (
    "n_labels",
    "n_images",
    "n_annotators",
    "n_items",
    "n_items_1",
    "n_items_2",
    "n_items_3",
    "n_items_multi",
)

#: Rules of :data:`protocol.RULES` the prose quotes: rule -> text key.
QUOTED_RULES = {
    "single no": "single_no",
    "both no": "both_no",
    "both yes": "both_yes",
    "both re-asked": "both_reasked",
    "single-rating phase": "single_phase",
}


@dataclass(frozen=True)
class BinaryParams(Params):
    """The parameters cell (``notebooks/params/<profile>.yaml``, ``common`` and
    ``03_binary_labels``)."""

    seed: int
    n_bootstrap: int  # resamples of images behind alpha's CIs
    sim_images: int  # simulated images per rater accuracy
    sim_accuracies: list[float]  # rater accuracies in [0, 1]
    sim_leniency_spread: float  # raters' leniency from -spread to +spread on the log-odds scale
    sim_p_target: float  # probability that the prompted (target) category is truly present
    sim_p_contrast: float  # probability that the contrast category is truly present


@dataclass(frozen=True)
class BinaryResult:
    """What chapter 03 found; every table is also a CSV under ``tables/``."""

    labels: pd.DataFrame  # binary.csv, one row per answer: image, annotator, value, emotion, line
    items: pd.DataFrame  # one row per (image, emotion): votes, pattern, role and the rule behind it
    facts: pd.Series  # the file's counts (answers, images, experts, items by ratings, ...)
    splits: pd.DataFrame  # the authors' full / 2:1 / 1:1 shares per emotion, overall last
    annotators: pd.DataFrame  # per expert: answers by role and share of "yes"
    rater_model: object  # statsmodels logistic fit of a "yes" on expert, emotion and role
    alphas: pd.DataFrame  # nominal alpha per emotion, family and overall, with bootstrap CIs
    simulation: pd.DataFrame  # simulated raters: alpha and agreement by accuracy and design
    role_rates: pd.DataFrame  # first-answer "yes" rate of targets and contrasts
    roles_by_family: pd.DataFrame  # the same per family, with bounds from both-no images


def run(params: BinaryParams, page: Page) -> BinaryResult:
    """The label file, the protocol reconstructed from it, the authors' agreement splits, the
    raters, alpha and why the protocol makes it negative, the simulation, the role rates and the
    families."""
    labels = loaders.load_binary()
    roles = protocol.assign_roles(protocol.items(labels))
    facts = _file(page, labels, roles)
    _protocol(page, roles)
    splits = _agreement_splits(page, roles)
    annotators, model = _raters(page, labels, roles)
    alphas = _alpha(page, roles, params)
    real = {"alpha": _overall(alphas)["alpha"], "full": splits.iloc[-1]["full"]}
    study = _simulation(page, params, labels, real)
    rates, by_family = _role_rates(page, roles)
    _families(page, roles, alphas, by_family)
    return BinaryResult(
        labels, roles, facts, splits, annotators, model, alphas, study, rates, by_family
    )


def _overall(alphas: pd.DataFrame) -> pd.Series:
    return alphas[alphas["scope"] == "overall"].iloc[0]


def _named(name: str, value: str) -> str:
    """A value with what it belongs to: "0.412 (Anger)"."""
    return f"{value} ({name})"


def _file(page: Page, labels: pd.DataFrame, roles: pd.DataFrame) -> pd.Series:
    """The file's counts."""
    facts = protocol.facts(labels, roles)
    page.table(facts.rename_axis("fact").reset_index(name="value"), "binary_facts")
    page.text(
        **{name: f"{int(facts[name]):,}" for name in QUOTED_FACTS},
        positive_rate=f"{facts['positive_rate']:.1%}",
        items_per_image=f"{facts['n_items'] / facts['n_images']:.0f}",
    )
    return facts


def _protocol(page: Page, roles: pd.DataFrame) -> None:
    """How many images each rule of the reconstruction covers, and the vote patterns."""
    rules = page.table(protocol.rule_counts(roles), "binary_role_rules").set_index("rule")
    reasked = rules.loc["re-asked"]
    page.text(
        **{key: f"{int(rules.loc[rule, 'n_images']):,}" for rule, key in QUOTED_RULES.items()},
        reasked=f"{reasked['share']:.1%} ({int(reasked['n_images']):,})",
        first_reasked=roles.loc[roles["rule"] == "re-asked", "image"].min(),
    )
    patterns = page.table(protocol.vote_patterns(roles), "binary_vote_patterns")
    per_pattern = patterns.set_index("pattern")["total"]
    page.text(
        n_off_protocol=f"{int(patterns.loc[~patterns['protocol'], 'total'].sum()):,}",
        n_yy=f"{int(per_pattern.get('YY', 0)):,}",
    )


def _agreement_splits(page: Page, roles: pd.DataFrame) -> pd.DataFrame:
    """The authors' agreement figure: full, 2:1 and 1:1 shares per emotion, overall last."""
    splits = page.table(protocol.agreement_splits(roles), "binary_agreement_splits")
    overall, per_emotion = splits.iloc[-1], splits.iloc[:-1]
    best, worst = per_emotion.iloc[0], per_emotion.iloc[-1]
    page.text(
        full_share=f"{overall['full']:.1%}",
        split21_share=f"{overall['split_2_1']:.1%}",
        split11_share=f"{overall['split_1_1']:.1%}",
        full_best=_named(best["emotion"], f"{best['full']:.1%}"),
        full_worst=_named(worst["emotion"], f"{worst['full']:.1%}"),
    )
    page.figure(figures.agreement_splits_bars(splits), "binary_agreement_splits", "fig_splits")
    return splits


def _raters(page: Page, labels: pd.DataFrame, roles: pd.DataFrame) -> tuple[pd.DataFrame, object]:
    """The experts, and the logistic model of a "yes" that separates expert from role; returns
    the experts' table and the fitted model."""
    annotators = page.table(protocol.annotators(labels, roles), "binary_annotators")
    model, modelled = protocol.fit_rater_model(labels, roles)
    effects = page.table(protocol.rater_effects(model, modelled), "binary_rater_model")
    page.table(
        model.summary2().tables[1].rename_axis("term").reset_index(),
        "binary_rater_model_coefficients",
    )
    rate = annotators.set_index("annotator")["positive_rate"]
    both_roles = protocol.annotators_in_both_roles(annotators)
    target_low, target_high = protocol.target_yes_range(effects)
    page.text(
        yes_rate_highest=_named(rate.idxmax(), f"{rate.max():.1%}"),
        yes_rate_lowest=_named(rate.idxmin(), f"{rate.min():.1%}"),
        both_roles=f"{len(both_roles)} ({', '.join(both_roles) or 'none'})",
        model_n=f"{len(modelled):,}",
        model_excluded=f"{len(labels) - len(modelled):,}",
        role_odds_ratio=f"{protocol.role_odds_ratio(model):.0f}",
        target_yes_range=f"{target_low:.0%} to {target_high:.0%}",
        pseudo_r2=f"{model.prsquared:.2f}",
    )
    page.figure(
        figures.annotator_panels(annotators, effects, protocol.MIN_ROLE_LABELS),
        "binary_annotators",
        "fig_annotators",
    )
    return annotators, model


def _alpha(page: Page, roles: pd.DataFrame, params: BinaryParams) -> pd.DataFrame:
    """Alpha per emotion, family and overall, and the closed form that explains its sign."""
    alphas = page.table(
        protocol.alpha_table(roles, n_boot=params.n_bootstrap, seed=params.seed), "binary_alpha"
    )
    page.view(alphas[alphas["scope"] != "emotion"], "binary_alpha_groups")
    overall = _overall(alphas)
    per_emotion = alphas[alphas["scope"] == "emotion"].set_index("name")["alpha"]
    page.text(
        alpha=f"{overall['alpha']:.3f} (95% CI {overall['ci_low']:.3f} to "
        f"{overall['ci_high']:.3f})",
        n_bootstrap=f"{params.n_bootstrap:,}",
        alpha_highest=_named(per_emotion.idxmax(), f"{per_emotion.max():.3f}"),
        alpha_lowest=_named(per_emotion.idxmin(), f"{per_emotion.min():.3f}"),
        n_alpha_negative=f"{(per_emotion < 0).sum()}",
    )
    page.figure(figures.alpha_forest(alphas), "binary_alpha", "fig_alpha")
    multi = roles[roles["n_ratings"] > 1]
    closed = protocol.alpha_if_no_ends_chain(overall["n_yes"], overall["n_no"])
    page.text(
        n_two_no=f"{(multi['n_no'] > 1).sum()}",
        alpha_closed=f"{closed:.3f}",
        pairable_yes=f"{int(overall['n_yes']):,}",
        pairable_no=f"{int(overall['n_no']):,}",
    )
    return alphas


def _simulation(page: Page, params: BinaryParams, labels: pd.DataFrame, real: dict) -> pd.DataFrame:
    """Simulated raters under the full and the sequential design; ``real``: the real labels'
    overall ``alpha`` and ``full`` agreement share, drawn as reference lines. Returns the
    study's table."""
    leniency, workload = protocol.simulated_raters(labels, params.sim_leniency_spread)
    study = page.table(
        protocol.simulation_study(
            params.sim_accuracies,
            params.sim_images,
            leniency,
            workload,
            params.sim_p_target,
            params.sim_p_contrast,
            params.seed,
        ),
        "binary_simulation",
    )
    alpha = study.pivot(index="accuracy", columns="design", values="alpha")
    best = max(a for a in params.sim_accuracies if a < 1)  # perfect raters leave alpha undefined
    page.text(
        sim_images=f"{params.sim_images:,}",
        sim_p_target=f"{params.sim_p_target:.0%}",
        sim_p_contrast=f"{params.sim_p_contrast:.0%}",
        sim_spread=f"{params.sim_leniency_spread:g}",
        sim_best_accuracy=f"{best:.0%}",
        sim_best_full=f"{alpha.loc[best, 'full']:.2f}",
        sim_best_sequential=f"{alpha.loc[best, 'sequential']:.2f}",
        sim_max_sequential=f"{alpha['sequential'].max():.2f}",
    )
    page.figure(figures.simulation_lines(study, real), "binary_simulation", "fig_simulation")
    return study


def _role_rates(page: Page, roles: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """First-answer "yes" rates of targets and contrasts, overall, per emotion and per family;
    returns the overall and the per-family table."""
    rates = page.table(protocol.role_rates(roles), "binary_role_rates")
    by_emotion = page.table(protocol.role_rates_by(roles, "emotion"), "binary_roles_by_emotion")
    by_family = page.table(protocol.role_rates_by(roles, "family"), "binary_roles_by_family")
    by_role = rates.set_index("role")
    page.text(
        role_images=f"{int(by_role.loc['target', 'n_images']):,}",
        target_rate=f"{by_role.loc['target', 'rate']:.1%}",
        contrast_rate=f"{by_role.loc['contrast', 'rate']:.1%}",
        n_separated=f"{protocol.n_separated(by_emotion)}",
    )
    return rates, by_family


def _families(
    page: Page, roles: pd.DataFrame, alphas: pd.DataFrame, by_family: pd.DataFrame
) -> None:
    """Agreement, alpha and the role rates per family."""
    splits = page.table(
        protocol.agreement_splits(roles, by="family"), "binary_agreement_splits_by_family"
    )
    alpha = alphas[alphas["scope"] == "family"].set_index("name")["alpha"]
    page.text(
        family_alpha_best=alpha.idxmax(), family_alpha_worst=f"{alpha.idxmin()} ({alpha.min():.3f})"
    )
    page.figure(
        figures.family_summary(splits, alphas, by_family), "binary_families", "fig_families"
    )
