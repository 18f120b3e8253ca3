"""Simulation study of the HQ agreement statistics, with a known ground truth.

Simulated panels (:func:`emonet.hq.simulation.simulate_panel`) are drawn from the offline faces'
expression model, so the truth behind every rating is known. Each condition changes one thing
about the panel and measures what the paper's statistics make of it:

* ``noise_sd`` (rater noise), ``per_image`` (experts per image, from a pool of 8) and ``marked``
  (categories an expert marks per image; 40 = no threshold): alpha and kappa among the experts,
  how well the expert median tracks the truth, and what a fixed synthetic model scores against
  the experts;
* ``offset``: the same model with its scores shifted, kappa with truncated vs rounded levels;
* ``ranking``: synthetic models of known quality (noise SD), ranked by mean rho against the
  expert median and by kappa, and judged by the "could be an annotator" test.

Replicate ``k`` of every condition uses the same seed (common random numbers: the same faces,
raters and noise draws), so the differences between conditions come from the swept setting, not
from the draw, and no result depends on which conditions run or in which order.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
from scipy.stats import kendalltau
from tqdm import tqdm

from emonet.hq import paper_statistics
from emonet.hq.simulation import RaterModel, SyntheticModel, simulate_panel
from emonet.stats import agreement as ag
from emonet.stats.seeds import keyed_seed

#: Sweeps over a field of :class:`emonet.hq.simulation.RaterModel` (``marked`` 40 = no threshold).
RATER_SWEEPS = ("noise_sd", "per_image", "marked")


EXPERTS = "experts"


MEDIAN = "expert median"


REFERENCE = "reference model"


def ranking_model(noise_sd: float) -> str:
    """Name of the ranking condition's synthetic model of noise SD ``noise_sd``."""
    return f"model (noise {noise_sd:g})"


def rater_pool(n_raters: int, per_image: int) -> int:
    """Raters in the pool of the ``per_image`` condition: the base panel's ``n_raters``, or more
    when every image asks for more."""
    return max(n_raters, int(per_image))


def replicate_seed(seed: int, rep: int) -> int:
    """The seed of replicate ``rep``, shared by every condition."""
    return int(np.random.SeedSequence(keyed_seed(seed, rep, "replicate")).generate_state(1)[0])


def evaluate(panel, truth) -> list[tuple[str, str, float]]:
    """``(annotator, metric, value)`` of one simulated panel with known ``truth`` (images, 40):
    among the experts ``alpha`` (mean over emotions) and ``kappa`` (mean agreement of an expert
    with the others); the expert median's ``rho vs truth``; per synthetic model ``kappa
    (truncate)``, ``kappa (round)``, ``rho`` (vs the expert median), ``rho vs truth``, ``p`` and
    ``could be`` (1/0)."""
    experts = np.flatnonzero(panel.human)
    models = [a for a in range(panel.n_annotators) if not panel.human[a]]
    rows = [(EXPERTS, "alpha", float(ag.nanmean(ag.interval_alpha(panel.ratings[experts]))))]
    agreement = {}
    for method in ag.DISCRETIZE:
        kappa, _ = paper_statistics.pairwise_kappa(panel, method)
        agreement[method] = paper_statistics.agreement_table(panel, kappa)["average"].to_numpy()
        if method == "truncate":
            could_be = paper_statistics.could_be_annotator(panel, kappa, n_boot=0).set_index(
                "annotator"
            )
    rows.append((EXPERTS, "kappa", float(agreement["truncate"][experts].mean())))
    rows.append(
        (
            MEDIAN,
            "rho vs truth",
            float(ag.nanmean(ag.spearman(paper_statistics.expert_median(panel), truth))),
        )
    )
    rho = ag.spearman(panel.ratings, paper_statistics.leave_one_out_medians(panel), axis=1)
    rho_truth = ag.spearman(panel.ratings, truth[None], axis=1)
    for a in models:
        name = panel.annotators[a]
        rows += [
            (name, "kappa (truncate)", agreement["truncate"][a]),
            (name, "kappa (round)", agreement["round"][a]),
            (name, "rho", float(ag.nanmean(rho[a]))),
            (name, "rho vs truth", float(ag.nanmean(rho_truth[a]))),
            (name, "p", could_be.loc[name, "p_value"]),
            (name, "could be", float(could_be.loc[name, "could_be"] == "yes")),
        ]
    return rows


def _conditions(base: RaterModel, sweeps: dict, model_noise, reference_noise: float):
    """``(sweep, level, rater-model changes, synthetic models)`` of every condition."""
    reference = SyntheticModel(REFERENCE, reference_noise)
    for sweep, levels in sweeps.items():
        for level in levels:
            if sweep in RATER_SWEEPS:
                value = None if sweep == "marked" and level >= 40 else level
                change = {sweep: value}
                if sweep == "per_image":
                    change["n_raters"] = rater_pool(base.n_raters, level)
                yield sweep, level, change, (reference,)
            elif sweep == "offset":
                yield sweep, level, {}, (replace(reference, offset=float(level)),)
            else:
                raise ValueError(
                    f"unknown sweep {sweep!r}; choose from {(*RATER_SWEEPS, 'offset')}"
                )
    yield "ranking", 0, {}, tuple(SyntheticModel(ranking_model(s), float(s)) for s in model_noise)


def simulation_study(
    truth,
    base: RaterModel,
    sweeps: dict,
    model_noise,
    reference_noise: float,
    n_rep: int,
    seed: int = 42,
    progress: bool = False,
) -> pd.DataFrame:
    """Run every condition ``n_rep`` times on ``truth`` (images, 40).

    ``sweeps``: ``{name: levels}`` with names from :data:`RATER_SWEEPS` or ``offset``; a
    ``ranking`` condition with one synthetic model per value of ``model_noise`` always runs.
    The other conditions carry one synthetic model of noise SD ``reference_noise``. Returns a
    tidy table ``sweep, level, rep, annotator, metric, value``.
    """
    truth = np.asarray(truth, dtype=float)
    images = [f"sim{i:05d}" for i in range(len(truth))]
    conditions = list(_conditions(base, sweeps, model_noise, reference_noise))
    rows = []
    for sweep, level, change, models in tqdm(
        conditions, desc="simulation study", disable=not progress, leave=False
    ):
        model = replace(base, **change)
        for rep in range(n_rep):
            panel = simulate_panel(
                truth, images, model, replicate_seed(seed, rep), baseline=False, models=models
            )
            rows += [(sweep, level, rep, *row) for row in evaluate(panel, truth)]
    return pd.DataFrame(rows, columns=["sweep", "level", "rep", "annotator", "metric", "value"])


def study_summary(study: pd.DataFrame) -> pd.DataFrame:
    """Mean and SD over the replicates: ``sweep, level, annotator, metric, mean, sd, n``."""
    return (
        study.groupby(["sweep", "level", "annotator", "metric"], sort=False)["value"]
        .agg(mean="mean", sd="std", n="count")
        .reset_index()
    )


def ranking_recovery(study: pd.DataFrame, model_noise) -> pd.DataFrame:
    """How well each statistic recovers the known ranking of the synthetic models (less noise
    is better), per replicate: Kendall's tau between the true order and the order by mean
    ``rho``, ``rho vs truth`` and ``kappa (truncate)``; and whether the best model by that
    statistic is the truly best. Columns ``rep, statistic, tau, best_found``."""
    ranking = study[study["sweep"] == "ranking"]
    names = [ranking_model(s) for s in model_noise]
    quality = -np.asarray(model_noise, dtype=float)
    rows = []
    for rep, frame in ranking.groupby("rep"):
        for statistic in ("rho", "rho vs truth", "kappa (truncate)"):
            values = frame[frame["metric"] == statistic].set_index("annotator")["value"]
            got = values.reindex(names).to_numpy(float)
            rows.append(
                (
                    rep,
                    statistic,
                    kendalltau(quality, got).statistic,
                    bool(np.argmax(got) == np.argmax(quality)),
                )
            )
    return pd.DataFrame(rows, columns=["rep", "statistic", "tau", "best_found"])


def sweep_value(
    summary: pd.DataFrame, sweep: str, level: float, annotator: str, metric: str
) -> float:
    """Mean over the replicates (:func:`study_summary`) of ``metric`` for ``annotator`` at
    ``level`` of ``sweep``."""
    row = summary[
        (summary["sweep"] == sweep)
        & (summary["level"] == level)
        & (summary["annotator"] == annotator)
        & (summary["metric"] == metric)
    ]
    if row.empty:
        raise KeyError(f"the study has no {metric!r} of {annotator!r} at {sweep}={level}")
    return float(row["mean"].iloc[0])


def offset_peak(summary: pd.DataFrame, method: str) -> float:
    """The shift of the ``offset`` sweep at which the reference model's mean kappa with levels
    by ``method`` (``"truncate"`` or ``"round"``) is highest (the first, on a tie)."""
    rows = summary[
        (summary["sweep"] == "offset")
        & (summary["annotator"] == REFERENCE)
        & (summary["metric"] == f"kappa ({method})")
    ]
    return float(rows.set_index("level")["mean"].idxmax())


def recovery_summary(recovery: pd.DataFrame) -> pd.DataFrame:
    """Of :func:`ranking_recovery`, per statistic: mean Kendall's ``tau`` and the share of
    replicates in which it finds the best model (``best_found``)."""
    return recovery.groupby("statistic")[["tau", "best_found"]].mean()


def could_be_shares(summary: pd.DataFrame, model_noise) -> pd.Series:
    """Share of replicates in which each synthetic model of the ``ranking`` condition "could be
    an annotator", indexed by its noise SD (in the order of ``model_noise``)."""
    rows = summary[(summary["sweep"] == "ranking") & (summary["metric"] == "could be")]
    shares = rows.set_index("annotator")["mean"].reindex([ranking_model(s) for s in model_noise])
    return pd.Series(
        shares.to_numpy(), index=pd.Index(model_noise, name="noise_sd"), name="could_be"
    )
