"""The paper's agreement analysis of an HQ panel (:class:`emonet.hq.panel.Panel`): Krippendorff's
alpha with its bootstrap, pairwise quadratic-weighted kappa, agreement by annotator and group,
the "could be an annotator" test and Spearman's rho against the human median, vectorised over
annotator pairs and emotions (:func:`compute` runs them all).

How each piece follows the authors' ``statistics/analysis-hq.ipynb``, the conventions kept and the
deliberate differences: ``docs/hq-statistics.md``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.stats import mannwhitneyu

from emonet.data import taxonomy
from emonet.hq.panel import Panel, group_order
from emonet.stats import agreement as ag
from emonet.stats import seeds

EMOTIONS = list(taxonomy.EMOTIONS)


#: p-value above which an annotator "could be" one of the experts (the authors' rule).
COULD_BE_P = 0.05


#: How the alpha and rho bootstraps draw their resamples. ``"keyed"`` (the default): one set of
#: image resamples for every emotion's alpha, one set of emotion resamples for every annotator's
#: mean rho, so nothing depends on the order of the data or on which annotators are in the
#: panel. ``"authors"``: one generator seeded with ``seed`` consumed as the authors' loops
#: consume it, emotion after emotion (canonical order) for alpha and model after model (sorted
#: names, as their ``groupby``) for rho; the experts' rho intervals, which the authors do not
#: compute, stay keyed, and alpha's mean row averages the 40 endpoints as theirs does.
BOOTSTRAP_ORDERS = ("keyed", "authors")


def _check_order(order: str) -> None:
    if order not in BOOTSTRAP_ORDERS:
        raise ValueError(f"unknown bootstrap order {order!r}; choose one of {BOOTSTRAP_ORDERS}")


def _human_raters(panel: Panel) -> np.ndarray:
    """Indices of the experts with at least 2 rated images (the authors keep only those)."""
    return np.flatnonzero(panel.human & (panel.rated.sum(axis=1) > 1))


def alpha_table(
    panel: Panel,
    n_boot: int = 1000,
    seed: int = 42,
    level: float = 0.95,
    bootstrap_order: str = "keyed",
) -> tuple[pd.DataFrame, np.ndarray]:
    """Interval alpha of the experts per emotion, and their mean and median, with bootstrap CIs
    over images; and the bootstrap alphas behind the CIs, ``(n_boot, 40)`` (NaN: undefined on
    that resample).

    Rows: the 40 emotions in canonical order (``scope`` "emotion"), then their mean and their
    median (``scope`` "overall", ``name`` "Mean of 40" and "Median of 40": the CI is that of the
    mean, or the median, of the 40 alphas on each resample; in the authors' order, where each
    emotion has resamples of its own, the mean (median) of the 40 emotions' CI endpoints).
    Columns: ``scope``, ``name``, ``family``, ``alpha``, ``ci_low``, ``ci_high``, ``n_units``
    (images with 2+ expert ratings), ``n_values`` (their ratings), and for the two summary rows
    ``endpoints_low`` and ``endpoints_high``: the mean (median) of the 40 emotions' CI
    endpoints, which is how the authors' table gives these rows an interval. ImageBootstrap units:
    the images with at least one expert rating (also one by an expert left out for rating a
    single image, as in the authors' pivot table), in the order of their ids (as the authors'
    pivot table has them), so the intervals do not depend on the order of the images in the
    panel; ``bootstrap_order``: see :data:`BOOTSTRAP_ORDERS`.
    """
    _check_order(bootstrap_order)
    units = expert_units(panel)
    moments = ag.interval_moments(panel.ratings[_human_raters(panel)][:, units])  # (U, 40, 4)
    point = ag.alpha_from_moments(moments.sum(axis=0))
    boot = _alpha_resamples(moments, n_boot, seed, bootstrap_order)  # (n_boot, 40)
    lo, hi = ag.percentile_ci(boot, level)
    pairable = moments[..., 0] > 0
    table = pd.DataFrame(
        {
            "scope": "emotion",
            "name": EMOTIONS,
            "family": [taxonomy.FAMILY_OF[e] for e in EMOTIONS],
            "alpha": point,
            "ci_low": lo,
            "ci_high": hi,
            "n_units": pairable.sum(axis=0),
            "n_values": moments[..., 0].sum(axis=0).astype(int),
        }
    )
    summaries = []
    for name, center in (("Mean of 40", ag.nanmean), ("Median of 40", ag.nanmedian)):
        low, high = (
            ag.percentile_ci(center(boot, axis=1), level)
            if bootstrap_order == "keyed"
            else (center(lo), center(hi))
        )
        summaries.append(
            {
                "scope": "overall",
                "name": name,
                "family": "All",
                "alpha": float(center(point)),
                "ci_low": float(low),
                "ci_high": float(high),
                "n_units": int(pairable.any(axis=1).sum()),
                "n_values": int(table["n_values"].sum()),
                "endpoints_low": float(center(lo)),
                "endpoints_high": float(center(hi)),
            }
        )
    return pd.concat([table, pd.DataFrame(summaries)], ignore_index=True), boot


def expert_units(panel: Panel) -> np.ndarray:
    """The units every image bootstrap of the panel resamples: the indices ``(U,)`` of the
    images with at least one expert rating (also an expert's left out of alpha for rating a
    single image), in the order of their ids."""
    order = np.argsort(np.array(panel.images), kind="stable")
    return order[panel.rated[panel.human][:, order].any(axis=0)]


def _alpha_resamples(moments: np.ndarray, n_boot: int, seed: int, order: str) -> np.ndarray:
    """``(n_boot, 40)`` alphas of resampled units from their moments ``(units, 40, 4)``: the same
    resamples for every emotion (keyed), or each emotion's drawn after the previous emotion's
    from one generator (the authors' order)."""
    if order == "keyed":
        return ag.alpha_from_moments(ag.bootstrap_sums(moments, n_boot, seed))
    rng = np.random.default_rng(seed)
    n_units = moments.shape[0]
    return np.stack(
        [
            ag.alpha_from_moments(ag.bootstrap_weights(n_units, n_boot, rng) @ moments[:, e])
            for e in range(moments.shape[1])
        ],
        axis=1,
    )


def alpha_distribution(boot: np.ndarray, alphas: pd.DataFrame) -> pd.DataFrame:
    """The bootstrap distribution of each emotion's alpha in numbers: per emotion (rows as the
    ``scope`` "emotion" rows of ``alphas``), ``alpha`` (the point estimate), the resamples'
    ``boot_mean``, ``boot_sd`` (the bootstrap standard error), quartiles ``q25``, ``q50``,
    ``q75`` and ``n_defined`` (resamples on which alpha is defined). ``boot``: ``(n_boot, 40)``
    as :func:`alpha_table` returns it."""
    emotions = alphas[alphas["scope"] == "emotion"]
    count = (~np.isnan(boot)).sum(axis=0)
    q = np.full((3, boot.shape[1]), np.nan)
    some = count > 0
    q[:, some] = np.nanquantile(boot[:, some], [0.25, 0.5, 0.75], axis=0)
    return pd.DataFrame(
        {
            "name": emotions["name"].to_numpy(),
            "family": emotions["family"].to_numpy(),
            "alpha": emotions["alpha"].to_numpy(),
            "boot_mean": ag.nanmean(boot, axis=0),
            "boot_sd": ag.nanstd(boot, 0),
            "q25": q[0],
            "q50": q[1],
            "q75": q[2],
            "n_defined": count,
        }
    )


#: Decimals kept of every kappa: values equal in exact arithmetic (e.g. 0 for a constant rater)
#: then tie exactly, whatever the order of floating-point operations, which the rank tests need.
KAPPA_DECIMALS = 12


def pairwise_kappa(panel: Panel, method: str = "truncate") -> tuple[np.ndarray, np.ndarray]:
    """``(kappa, n)``, each ``(annotators, annotators, 40)``: quadratic-weighted kappa of every
    pair per emotion over the images both rated (rounded to :data:`KAPPA_DECIMALS`), and how
    many images it rests on."""
    levels = ag.discretize(panel.ratings, method)
    kappa, n = ag.quadratic_kappa(levels, rated=panel.rated)
    return np.round(kappa, KAPPA_DECIMALS), n


def kappa_pairs(panel: Panel, kappa: np.ndarray, n: np.ndarray) -> pd.DataFrame:
    """The pairwise kappas as a long table: one row per unordered pair and emotion with
    ``rater1, rater2, emotion, kappa, n_images`` (panel order; NaN where undefined)."""
    a, b = np.triu_indices(panel.n_annotators, k=1)
    names = np.array(panel.annotators, dtype=object)
    return pd.DataFrame(
        {
            "rater1": np.repeat(names[a], taxonomy.N_EMOTIONS),
            "rater2": np.repeat(names[b], taxonomy.N_EMOTIONS),
            "emotion": np.tile(EMOTIONS, len(a)),
            "kappa": kappa[a, b].ravel(),
            "n_images": n[a, b].ravel().astype(int),
        }
    )


def kappa_matrix(panel: Panel, kappa: np.ndarray) -> pd.DataFrame:
    """Mean kappa over the emotions for every pair (annotators x annotators, 1 on the diagonal,
    as the authors' heat map)."""
    mean = ag.nanmean(kappa, axis=-1)
    np.fill_diagonal(mean, 1.0)
    return pd.DataFrame(
        mean, index=pd.Index(panel.annotators, name="annotator"), columns=list(panel.annotators)
    )


def _partner_means(panel: Panel, kappa: np.ndarray) -> np.ndarray:
    """``(annotators, 40)``: mean kappa with the experts (other experts, for an expert)."""
    humans = panel.human.copy()
    partner = np.broadcast_to(humans, (panel.n_annotators, panel.n_annotators)).copy()
    np.fill_diagonal(partner, False)
    return ag.nanmean(np.where(partner[..., None], kappa, np.nan), axis=1)


def agreement_table(panel: Panel, kappa: np.ndarray) -> pd.DataFrame:
    """The paper's agreement table: per annotator (panel order) its mean kappa with the experts
    per emotion (an expert: with the other experts). Columns ``annotator, group, human,
    average`` (mean over the emotions with a value) and the 40 emotions."""
    per_emotion = _partner_means(panel, kappa)
    table = pd.DataFrame(per_emotion, columns=EMOTIONS)
    table.insert(0, "annotator", panel.annotators)
    table.insert(1, "group", panel.groups)
    table.insert(2, "human", panel.human)
    table.insert(3, "average", ag.nanmean(per_emotion, axis=1))
    return table


def summary_table(agreement: pd.DataFrame) -> pd.DataFrame:
    """Per annotator: ``mean``, ``sd`` (n - 1), ``median`` of its 40 per-emotion values, the
    ``best_emotion`` and its ``best_kappa``; sorted by the mean, best first."""
    values = agreement[EMOTIONS].to_numpy(float)
    known = ~np.isnan(values)
    count = known.sum(axis=1)
    mean = ag.nanmean(values, axis=1)
    sd = ag.nanstd(values, 1)
    sorted_vals = np.sort(np.where(known, values, np.nan), axis=1)
    median = _median_sorted(sorted_vals, count)
    best = np.where(count > 0, np.argmax(np.where(known, values, -np.inf), axis=1), 0)
    out = pd.DataFrame(
        {
            "annotator": agreement["annotator"],
            "group": agreement["group"],
            "mean": mean,
            "sd": sd,
            "median": median,
            "best_emotion": np.where(count > 0, np.array(EMOTIONS, dtype=object)[best], None),
            "best_kappa": np.where(count > 0, values[np.arange(len(values)), best], np.nan),
            "n_emotions": count,
        }
    )
    return out.sort_values("mean", ascending=False, kind="stable").reset_index(drop=True)


def _median_sorted(sorted_values: np.ndarray, count: np.ndarray, axis: int = 1) -> np.ndarray:
    """Median along ``axis`` of values sorted with NaN last, ``count`` known values each."""
    lo = np.expand_dims(np.maximum(count - 1, 0) // 2, axis)
    hi = np.expand_dims(count // 2, axis)
    lo = np.minimum(lo, sorted_values.shape[axis] - 1)
    hi = np.minimum(hi, sorted_values.shape[axis] - 1)
    med = (
        np.take_along_axis(sorted_values, lo, axis) + np.take_along_axis(sorted_values, hi, axis)
    ) / 2
    return np.where(count > 0, np.squeeze(med, axis), np.nan)


def group_values(agreement: pd.DataFrame) -> pd.DataFrame:
    """The values the group comparison pools: one row per annotator and emotion with a value,
    ``annotator, group, emotion, kappa``."""
    long = agreement.melt(
        id_vars=["annotator", "group"], value_vars=EMOTIONS, var_name="emotion", value_name="kappa"
    )
    return long.dropna(subset=["kappa"]).reset_index(drop=True)


def _boot_means(values, n_boot: int, seed: int, key: str):
    """Bootstrap means of ``values`` drawn with the seed of ``key`` (None without resamples or
    with fewer than 2 values)."""
    if n_boot <= 0 or len(values) < 2:
        return None
    return ag.bootstrap_means(values, n_boot, seeds.keyed_seed(seed, key))


def _compare(x, y, boot_x, boot_y, level: float) -> dict:
    """Mean difference of two samples, its bootstrap CI from their bootstrap means ``boot_x``,
    ``boot_y`` (None: no CI) and the two-sided Mann-Whitney U test (when both have 2+ values)."""
    x, y = np.asarray(x, float), np.asarray(y, float)
    out = {
        "n1": len(x),
        "n2": len(y),
        "mean1": x.mean() if len(x) else np.nan,
        "mean2": y.mean() if len(y) else np.nan,
    }
    out["mean_difference"] = out["mean1"] - out["mean2"]
    out.update(ci_low=np.nan, ci_high=np.nan, u=np.nan, p_value=np.nan)
    if len(x) > 1 and len(y) > 1:
        test = mannwhitneyu(x, y, alternative="two-sided")
        out.update(u=float(test.statistic), p_value=float(test.pvalue))
        if boot_x is not None and boot_y is not None:
            lo, hi = ag.percentile_ci(boot_x - boot_y, level)
            out.update(ci_low=float(lo), ci_high=float(hi))
    return out


def group_tests(
    agreement: pd.DataFrame, n_boot: int = 1000, seed: int = 42, level: float = 0.95
) -> pd.DataFrame:
    """Every pair of groups (display order): the two samples are all per-emotion agreement values
    of the groups' annotators. Columns ``group1, group2, n1, n2, mean1, mean2,
    mean_difference`` (1 - 2), ``ci_low, ci_high`` (bootstrap, each group resampled with its own
    seed), ``u, p_value`` (two-sided Mann-Whitney U; NaN when a group has fewer than 2 values)."""
    values = group_values(agreement)
    samples = {
        g: values.loc[values["group"] == g, "kappa"].to_numpy()
        for g in group_order(values["group"])
    }
    names = list(samples)
    boots = {g: _boot_means(samples[g], n_boot, seed, g) for g in names}
    rows = [
        {
            "group1": g1,
            "group2": g2,
            **_compare(samples[g1], samples[g2], boots[g1], boots[g2], level),
        }
        for i, g1 in enumerate(names)
        for g2 in names[i + 1 :]
    ]
    return pd.DataFrame(
        rows,
        columns=[
            "group1",
            "group2",
            "n1",
            "n2",
            "mean1",
            "mean2",
            "mean_difference",
            "ci_low",
            "ci_high",
            "u",
            "p_value",
        ],
    )


def could_be_annotator(
    panel: Panel, kappa: np.ndarray, n_boot: int = 1000, seed: int = 42, level: float = 0.95
) -> pd.DataFrame:
    """The paper's "could be an annotator" test for every annotator.

    A model's sample: its kappas with each expert per emotion; reference: all expert-expert
    kappas. An expert's sample: its kappas with the other experts; reference: the kappas among
    the other experts. Columns ``annotator, group, human, n1, n2, mean1`` (the annotator's mean
    kappa), ``mean2`` (reference mean), ``mean_difference, ci_low, ci_high, u, p_value`` and
    ``could_be`` ("yes" if p > 0.05, else "no"); sorted by the mean difference, highest first.
    """
    humans = np.flatnonzero(panel.human)
    references = {}  # one reference sample (and its resamples) per set of experts
    rows = []
    for a, name in enumerate(panel.annotators):
        others = humans[humans != a]
        sample = kappa[a, others].ravel()
        sample = sample[~np.isnan(sample)]
        key = "expert pairs" + (f" without {name}" if panel.human[a] else "")
        if key not in references:
            pair_a, pair_b = np.triu_indices(len(others), k=1)
            reference = kappa[others[pair_a], others[pair_b]].ravel()
            reference = reference[~np.isnan(reference)]
            references[key] = reference, _boot_means(reference, n_boot, seed, key)
        reference, boot_reference = references[key]
        result = _compare(
            sample, reference, _boot_means(sample, n_boot, seed, name), boot_reference, level
        )
        rows.append(
            {"annotator": name, "group": panel.groups[a], "human": bool(panel.human[a]), **result}
        )
    table = pd.DataFrame(rows)
    table["could_be"] = np.where(table["p_value"] > COULD_BE_P, "yes", "no")
    return table.sort_values("mean_difference", ascending=False, kind="stable").reset_index(
        drop=True
    )


def leave_one_out_medians(panel: Panel) -> np.ndarray:
    """``(annotators, images, 40)``: per image the median of the expert ratings, leaving out the
    annotator itself (for a model: every expert who rated the image). NaN where none is left."""
    humans = np.flatnonzero(panel.human)
    h = len(humans)
    # (h + 1, h, images, 40): row k leaves expert k out, the last row keeps everyone
    keep = ~np.eye(h + 1, h, dtype=bool)
    stack = np.where(keep[:, :, None, None], panel.ratings[humans][None], np.nan)
    count = (~np.isnan(stack)).sum(axis=1)
    med = _median_sorted(np.sort(stack, axis=1), count, axis=1)
    which = np.full(panel.n_annotators, h)
    which[humans] = np.arange(h)
    return med[which]


def expert_median(panel: Panel) -> np.ndarray:
    """``(images, 40)``: per image the median of every expert rating (NaN where none)."""
    experts = panel.ratings[panel.human]
    count = (~np.isnan(experts)).sum(axis=0)
    return _median_sorted(np.sort(experts, axis=0), count, axis=0)


def spearman_table(panel: Panel) -> pd.DataFrame:
    """Spearman's rho of every annotator against the per-image human median (see
    :func:`leave_one_out_medians`) per emotion, over the images where both exist: columns
    ``annotator, group, human`` and the 40 emotions (NaN where an annotator or the median is
    constant over its images)."""
    rho = ag.spearman(panel.ratings, leave_one_out_medians(panel), axis=1)
    table = pd.DataFrame(rho, columns=EMOTIONS)
    table.insert(0, "annotator", panel.annotators)
    table.insert(1, "group", panel.groups)
    table.insert(2, "human", panel.human)
    return table


def rho_summary(
    rho: pd.DataFrame,
    n_boot: int = 1000,
    seed: int = 42,
    level: float = 0.95,
    bootstrap_order: str = "keyed",
) -> pd.DataFrame:
    """Mean rho over the emotions per annotator with a bootstrap CI (emotions resampled, the same
    resamples for every annotator; an emotion without rho is left out of the mean;
    ``bootstrap_order``: see :data:`BOOTSTRAP_ORDERS`). Columns ``annotator, group, human,
    mean_rho, ci_low, ci_high, n_emotions``, best first."""
    _check_order(bootstrap_order)
    values = rho[EMOTIONS].to_numpy(float)
    known = ~np.isnan(values)
    weights = ag.bootstrap_weights(taxonomy.N_EMOTIONS, n_boot, seed).astype(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        boot = (weights @ np.where(known, values, 0.0).T) / (weights @ known.T)
    lo, hi = ag.percentile_ci(boot, level)
    if bootstrap_order == "authors":  # model after model, sorted by name; its known values
        rng = np.random.default_rng(seed)
        for a in sorted(
            np.flatnonzero(~rho["human"].to_numpy(bool)), key=lambda a: rho["annotator"].iloc[a]
        ):
            own = values[a, known[a]]
            lo[a] = hi[a] = np.nan
            if len(own) > 1:
                means = ag.bootstrap_weights(len(own), n_boot, rng) @ own / len(own)
                lo[a], hi[a] = ag.percentile_ci(means, level)
    out = rho[["annotator", "group", "human"]].copy()
    out["mean_rho"] = ag.nanmean(values, axis=1)
    out["ci_low"], out["ci_high"] = lo, hi
    out["n_emotions"] = known.sum(axis=1)
    return out.sort_values("mean_rho", ascending=False, kind="stable").reset_index(drop=True)


@dataclass(frozen=True, eq=False)
class PaperStatistics:
    """Everything the HQ chapter shows, from one panel. ``kappa`` and ``n_shared``:
    ``(annotators, annotators, 40)`` arrays behind the tables (panel order); ``alpha_boot``:
    ``(n_boot, 40)`` bootstrap alphas behind ``alpha``'s intervals."""

    panel: Panel
    method: str
    kappa: np.ndarray
    n_shared: np.ndarray
    alpha: pd.DataFrame
    alpha_boot: np.ndarray
    pairs: pd.DataFrame
    matrix: pd.DataFrame
    agreement: pd.DataFrame
    summary: pd.DataFrame
    groups: pd.DataFrame
    could_be: pd.DataFrame
    rho: pd.DataFrame
    rho_summary: pd.DataFrame


def compute(
    panel: Panel,
    n_boot: int = 1000,
    seed: int = 42,
    method: str = "truncate",
    level: float = 0.95,
    bootstrap_order: str = "keyed",
) -> PaperStatistics:
    """The whole agreement suite on ``panel`` (kappa levels by ``method``: the paper's
    ``"truncate"`` or ``"round"``; ``bootstrap_order``: :data:`BOOTSTRAP_ORDERS`). Same panel
    and seed, same tables; with the keyed order also whatever the order of the annotators or
    images."""
    kappa, n = pairwise_kappa(panel, method)
    agreement = agreement_table(panel, kappa)
    rho = spearman_table(panel)
    alpha, alpha_boot = alpha_table(panel, n_boot, seed, level, bootstrap_order)
    return PaperStatistics(
        panel,
        method,
        kappa,
        n,
        alpha,
        alpha_boot,
        kappa_pairs(panel, kappa, n),
        kappa_matrix(panel, kappa),
        agreement,
        summary_table(agreement),
        group_tests(agreement, n_boot, seed, level),
        could_be_annotator(panel, kappa, n_boot, seed, level),
        rho,
        rho_summary(rho, n_boot, seed, level, bootstrap_order),
    )


def panel_facts(panel: Panel) -> pd.Series:
    """The panel at a glance: images, experts and models, experts per image, images shared by a
    pair of experts and by a model and an expert (means over pairs), categories an expert marks
    per image (rated above 0), the share of expert ratings that are 0, and extra-dimension
    values."""
    rated = panel.rated
    experts = np.flatnonzero(panel.human)
    models = np.flatnonzero(~panel.human)
    shared = rated.astype(int) @ rated.T.astype(int)
    e1, e2 = np.triu_indices(len(experts), k=1)
    values = panel.ratings[experts][rated[experts]]
    return pd.Series(
        {
            "n_images": panel.n_images,
            "n_experts": len(experts),
            "n_models": len(models),
            "n_rows": int(rated.sum()),
            "experts_per_image": float(rated[experts].sum(axis=0).mean()),
            "shared_expert_pair": float(shared[experts[e1], experts[e2]].mean())
            if len(e1)
            else 0.0,
            "shared_model_expert": float(shared[np.ix_(models, experts)].mean())
            if len(models)
            else np.nan,
            "marked_per_image": float((values > 0).sum(axis=-1).mean()),
            "share_zero": float((values == 0).mean()),
            "n_extra_values": len(panel.extra),
        }
    )


def level_shares(panel: Panel) -> pd.DataFrame:
    """Share of the expert ratings at each level 0-7 (non-integer ratings rounded)."""
    values = ag.discretize(panel.ratings[panel.human], "round")
    counts = np.bincount(values[~np.isnan(values)].astype(int), minlength=ag.KAPPA_LEVELS)
    return pd.DataFrame(
        {"level": np.arange(ag.KAPPA_LEVELS), "n": counts, "share": counts / counts.sum()}
    )


def method_comparison(panel: Panel) -> pd.DataFrame:
    """Mean agreement with the experts of every annotator under both kappa levels: columns
    ``annotator, group, human, truncate, round, difference`` (round - truncate) and
    ``share_dropped`` (share of its rated scores that truncation puts outside 0-7, which
    scikit-learn then drops from the pairs)."""
    out = pd.DataFrame({"annotator": panel.annotators, "group": panel.groups, "human": panel.human})
    for method in ag.DISCRETIZE:
        kappa, _ = pairwise_kappa(panel, method)
        out[method] = agreement_table(panel, kappa)["average"].to_numpy()
    out["difference"] = out["round"] - out["truncate"]
    rated = ~np.isnan(panel.ratings)
    dropped = rated & np.isnan(ag.discretize(panel.ratings, "truncate"))
    out["share_dropped"] = dropped.sum(axis=(1, 2)) / np.maximum(rated.sum(axis=(1, 2)), 1)
    return out


def pair_overlap(panel: Panel) -> pd.DataFrame:
    """Images shared by every pair of annotators (annotators x annotators)."""
    rated = panel.rated.astype(int)
    return pd.DataFrame(
        rated @ rated.T,
        index=pd.Index(panel.annotators, name="annotator"),
        columns=list(panel.annotators),
    )


#: How each kappa method turns a rating into a level, as the prose says it.
METHOD_TEXTS = {
    "truncate": "truncated with astype(int) as in the paper",
    "round": "rounded to the nearest level",
}


def expert_pair_kappas(panel: Panel, matrix: pd.DataFrame) -> np.ndarray:
    """The mean kappas of :func:`kappa_matrix` between two different experts (both orders, so
    each pair twice); ``(experts * (experts - 1),)``."""
    experts = [a for a, human in zip(panel.annotators, panel.human) if human]
    block = matrix.loc[experts, experts].to_numpy()
    return block[~np.eye(len(experts), dtype=bool)]


def method_changes(comparison: pd.DataFrame, tol: float = 1e-12) -> pd.Series:
    """Of :func:`method_comparison`: the annotators whose mean kappa differs between truncated and
    rounded levels (by more than ``tol``), with the absolute difference, in panel order."""
    change = comparison.set_index("annotator")["difference"].abs()
    return change[change > tol]
