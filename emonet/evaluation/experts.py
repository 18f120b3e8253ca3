"""The model against the experts on the HQ panel.

Scores are images x 40 DataFrames in :data:`emonet.data.taxonomy.EMOTIONS` order. A model's
scores put on the panel's scale (:func:`on_panel_scale`, :func:`match_images`) join the experts
and :func:`emonet.hq.suite.run_suite` does the rest. Beside that: the VLM readout protocols applied
to one perceiver (:func:`keep_top_k`, :data:`READOUTS`), per-image agreement with the human median
(:func:`per_image_agreement`), the blind study's top-5 overlap (:func:`top_k_overlap`,
:func:`expert_top_k_overlap`), how widely a distribution spreads (:func:`effective_categories`)
and the fairness regression of per-image agreement on demographics (:func:`fairness_regression`).
The authors' released heads are scored by :func:`released_scores` (full profile); the HQ
dataset's rows find their panel images by the experts' ratings
(:func:`emonet.data.join.join_by_ratings` on :func:`expert_ratings`), chapter 02's images by name
(:func:`match_images`).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from emonet.data import taxonomy
from emonet.hq import suite as hq_suite
from emonet.model import released
from emonet.stats import agreement


def _check_wide(frame: pd.DataFrame, name: str) -> pd.DataFrame:
    """An images x 40 frame in canonical column order with finite values, or a ValueError."""
    if list(frame.columns) != list(taxonomy.EMOTIONS):
        missing = [e for e in taxonomy.EMOTIONS if e not in frame.columns]
        extra = [c for c in frame.columns if c not in taxonomy.INDEX]
        raise ValueError(f"{name}: expected the 40 categories as columns in canonical order; "
                         f"missing {missing}, unknown {extra}")
    values = frame.to_numpy(dtype=float)
    if not np.isfinite(values).all():
        rows = frame.index[~np.isfinite(values).all(axis=1)]
        raise ValueError(f"{name}: non-finite values in {len(rows)} image(s), e.g. "
                         f"{list(rows[:5])}")
    return frame


def _aligned(model: pd.DataFrame, human: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    _check_wide(model, "model")
    _check_wide(human, "human")
    if not model.index.equals(human.index):
        raise ValueError("model and human tables must have the same images in the same order")
    return model.to_numpy(dtype=float), human.to_numpy(dtype=float)


def top_k(frame: pd.DataFrame, k: int = 5) -> pd.DataFrame:
    """The ``k`` highest-scoring emotions per image, best first.

    Ties are broken by canonical emotion order (a stable sort), so the result is deterministic;
    ``tie_at_cut`` flags images where the k-th and (k+1)-th scores are equal (the set shown
    depends on that tie-break). Columns ``top_1 … top_k, tie_at_cut``; index as ``frame``.
    """
    _check_wide(frame, "scores")
    values = frame.to_numpy(dtype=float)
    order = np.argsort(-values, axis=1, kind="stable")
    names = np.asarray(taxonomy.EMOTIONS)[order[:, :k]]
    out = pd.DataFrame(names, index=frame.index, columns=[f"top_{i + 1}" for i in range(k)])
    sorted_values = np.take_along_axis(values, order, axis=1)
    out["tie_at_cut"] = sorted_values[:, k - 1] == sorted_values[:, k]
    return out


def top_k_overlap(model: pd.DataFrame, human: pd.DataFrame, k: int = 5) -> pd.DataFrame:
    """Per image: size of the overlap of the model's and the human median's top-k sets.

    Inputs: images x 40 (same index). Columns ``overlap`` (0..k), ``model_tie_at_cut``,
    ``human_tie_at_cut`` (see :func:`top_k`).
    """
    _aligned(model, human)
    a, b = top_k(model, k), top_k(human, k)
    names = [f"top_{i + 1}" for i in range(k)]
    overlap = [len(set(x) & set(y)) for x, y in zip(a[names].to_numpy(), b[names].to_numpy())]
    return pd.DataFrame({"overlap": overlap, "model_tie_at_cut": a["tie_at_cut"],
                         "human_tie_at_cut": b["tie_at_cut"]}, index=model.index)


def overlap_chance(overlap: pd.Series, k: int = 5,
                   n_categories: int = taxonomy.N_EMOTIONS) -> pd.DataFrame:
    """Observed distribution of top-k overlaps next to chance (two independent random k-sets of
    ``n_categories``: hypergeometric). Columns ``overlap, observed, observed_share,
    chance_share``; a last row ``mean`` holds the mean overlap and its chance value ``k²/n``."""
    dist = stats.hypergeom(n_categories, k, k)
    levels = np.arange(k + 1)
    counts = overlap.value_counts().reindex(levels, fill_value=0)
    table = pd.DataFrame({"overlap": levels.astype(str), "observed": counts.to_numpy(),
                          "observed_share": counts.to_numpy() / len(overlap),
                          "chance_share": dist.pmf(levels)})
    mean = {"overlap": "mean", "observed": np.nan, "observed_share": overlap.mean(),
            "chance_share": dist.mean()}
    return pd.concat([table, pd.DataFrame([mean])], ignore_index=True)


def overlap_test(overlap: pd.Series, k: int = 5, n_categories: int = taxonomy.N_EMOTIONS) -> dict:
    """Is the mean overlap above chance? One-sample z test of the mean overlap against the
    hypergeometric mean with its known variance (images independent). Returns
    ``mean, chance_mean, z, p`` (one-sided)."""
    dist = stats.hypergeom(n_categories, k, k)
    n = len(overlap)
    z = (overlap.mean() - dist.mean()) / np.sqrt(dist.var() / n)
    return {"mean": float(overlap.mean()), "chance_mean": float(dist.mean()), "z": float(z),
            "p": float(stats.norm.sf(z))}


def keep_top_k(frame: pd.DataFrame, k: int) -> pd.DataFrame:
    """Per image, the ``k`` highest scores kept and the other categories set to 0 (ties broken by
    canonical order, as :func:`top_k`): the shape of a VLM answer that names ``k`` categories."""
    _check_wide(frame, "scores")
    if not 1 <= k <= taxonomy.N_EMOTIONS:
        raise ValueError(f"k must lie in 1..{taxonomy.N_EMOTIONS}, got {k}")
    values = frame.to_numpy(dtype=float)
    order = np.argsort(-values, axis=1, kind="stable")[:, :k]
    kept = np.zeros_like(values)
    rows = np.arange(len(values))[:, None]
    kept[rows, order] = values[rows, order]
    return pd.DataFrame(kept, index=frame.index, columns=frame.columns)


#: Readouts of one model's 40 scores that mimic the paper's VLM prompting protocols (name -> the
#: number of categories kept, None = all): the zero-shot prompt demanded exactly 25 non-zero
#: categories, the multi-shot prompt at most 5.
READOUTS: dict[str, int | None] = {"all 40 scores": None, "top 25 (zero-shot protocol)": 25,
                                   "top 5 (multi-shot protocol)": 5}


def readout_table(experts, perceivers: dict[str, pd.DataFrame], n_boot: int = 1000,
                  seed: int = 42, method: str = "truncate") -> pd.DataFrame:
    """Each perceiver's scores (images x 40 on 0-7, panel image ids) read out the ways of
    :data:`READOUTS`, every variant added to ``experts`` as an annotator, one suite run.

    Columns ``perceiver, readout, mean_rho, ci_low, ci_high`` (Spearman against the human
    median), ``mean_kappa`` (with the experts), ``could_be``, ``p_value``; a perceiver's rows
    differ only in the readout.
    """
    joined, rows = experts, []
    for perceiver, scores in perceivers.items():
        for readout, k in READOUTS.items():
            name = f"{perceiver} [{readout}]"
            joined = joined.with_annotator(
                name, scores if k is None else keep_top_k(scores, k), "Readouts")
            rows.append((perceiver, readout, name))
    suite = hq_suite.run_suite(joined, n_boot, seed, method)
    rho = suite.rho_summary.set_index("annotator")
    could = suite.could_be.set_index("annotator")
    names = [r[2] for r in rows]
    table = pd.DataFrame(rows, columns=["perceiver", "readout", "annotator"])
    table["mean_rho"] = rho.loc[names, "mean_rho"].to_numpy()
    table["ci_low"] = rho.loc[names, "ci_low"].to_numpy()
    table["ci_high"] = rho.loc[names, "ci_high"].to_numpy()
    table["mean_kappa"] = could.loc[names, "mean1"].to_numpy()
    table["could_be"] = could.loc[names, "could_be"].to_numpy()
    table["p_value"] = could.loc[names, "p_value"].to_numpy()
    return table.drop(columns="annotator")


def readout_summary(readout: pd.DataFrame) -> str:
    """One sentence per perceiver of a :func:`readout_table`: its mean rho under each readout of
    :data:`READOUTS`, and whether the readout moves it by more or less than the width of the 95%
    CI of its all-scores readout."""
    full, top25, top5 = READOUTS
    sentences = []
    for perceiver, rows in readout.groupby("perceiver", sort=False):
        rho = rows.set_index("readout")
        swing = rho["mean_rho"].max() - rho["mean_rho"].min()
        width = rho.loc[full, "ci_high"] - rho.loc[full, "ci_low"]
        sentences.append(
            f"For {perceiver}, mean rho is {rho.loc[full, 'mean_rho']:.3f} with all 40 scores, "
            f"{rho.loc[top25, 'mean_rho']:.3f} with the top 25 and "
            f"{rho.loc[top5, 'mean_rho']:.3f} with the top 5: the readout moves it by "
            f"{swing:.3f}, {'more' if swing > width else 'less'} than the width of its 95% CI "
            f"({width:.3f}).")
    return " ".join(sentences)


def on_panel_scale(scores: pd.DataFrame, low: float = 0.0, high: float = 7.0
                   ) -> tuple[pd.DataFrame, int]:
    """A model's raw scores clipped to the panel's 0-7 scale, and how many values were clipped
    (the paper's kappa truncates to integer levels and drops levels outside 0-7; clipping first
    keeps every score in the comparison, and the count is reported)."""
    _check_wide(scores, "scores")
    values = scores.to_numpy(dtype=float)
    clipped = int(((values < low) | (values > high)).sum())
    return scores.clip(low, high), clipped


#: Annotator name of the authors' released heads, rescored on the HQ images by this build.
RELEASED_MODEL = "Empathic Insight Face (released, rescored here)"


def released_scores(folder, hq, embedder, neutral: pd.Series) -> pd.DataFrame:
    """Raw scores (images x 40, index: the dataset's row ids) of the authors' released heads
    (``folder`` of their 40 ``.pth`` files) on the HQ dataset ``hq``
    (:class:`emonet.data.hub.HubSet`); ``embedder``: the encoder the heads take (``embed(images)
    -> (n, D)``); ``neutral``: the released neutral means (40,
    :func:`emonet.model.released.neutral_means`)."""
    return released.score_embeddings(released.load_released(folder), embedder.embed(hq.images),
                                     neutral, hq.ids)["raw"]


def expert_ratings(panel) -> dict[str, dict[str, np.ndarray]]:
    """The experts' ratings of each panel image, ``{image: {expert: (40,)}}`` (the fingerprints
    :func:`emonet.data.join.join_by_ratings` matches the HQ dataset's rows by)."""
    out = {}
    for i, image in enumerate(panel.images):
        out[image] = {panel.annotators[a]: panel.ratings[a, i]
                      for a in np.flatnonzero(panel.human) if panel.rated[a, i]}
    return out


def coverage_by_name(counts: dict) -> pd.DataFrame:
    """:func:`match_images`'s counts as a coverage table (``what, count, share``)."""
    scored = counts["matched"] + counts["unmatched_ids"]
    panel_images = counts["matched"] + counts["panel_without_scores"]
    rows = [("scored images", scored, scored),
            ("matched to a panel image by name", counts["matched"], scored),
            ("of those, by file stem", counts["by_stem"], scored),
            ("scored images not in the panel", counts["unmatched_ids"], scored),
            ("panel images without scores", counts["panel_without_scores"], panel_images)]
    return pd.DataFrame([(w, c, c / t if t else np.nan) for w, c, t in rows],
                        columns=["what", "count", "share"])


def match_images(ids, panel_images) -> tuple[pd.Series, dict]:
    """Map image ids of a model's predictions onto the panel's image ids.

    Exact matches first; ids that match nothing exactly are matched by file stem (``a/b/00042.png``
    and ``00042.jpg`` both give ``00042``) when the stem names exactly one panel image. Returns the
    mapping (index: the given ids that matched, values: panel ids) and the counts ``matched,
    unmatched_ids, panel_without_scores, by_stem``; raises when nothing matches (wrong source).
    """
    ids = pd.Index([str(i) for i in ids])
    panel = pd.Index([str(i) for i in panel_images])
    if ids.has_duplicates:
        raise ValueError(f"duplicate image ids among the scores, e.g. "
                         f"{ids[ids.duplicated()][0]!r}")
    exact = ids.isin(panel)
    stem = pd.Series([Path(i).stem for i in panel], index=panel)
    unique_stems = stem[~stem.duplicated(keep=False)]
    by_stem = pd.Series(unique_stems.index, index=unique_stems.to_numpy())
    mapping = pd.Series(ids[exact], index=ids[exact])
    rest = ids[~exact]
    via_stem = pd.Series([Path(i).stem for i in rest], index=rest).map(by_stem).dropna()
    via_stem = via_stem[~via_stem.isin(mapping.to_numpy())]
    mapping = pd.concat([mapping, via_stem])
    if mapping.empty:
        raise ValueError(f"none of the {len(ids)} scored images is a panel image (e.g. "
                         f"{list(ids[:2])} vs {list(panel[:2])}): scores and panel come from "
                         "different image sets")
    counts = {"matched": len(mapping), "unmatched_ids": len(ids) - len(mapping),
              "panel_without_scores": len(panel) - mapping.nunique(), "by_stem": len(via_stem)}
    return mapping, counts


def per_image_agreement(panel) -> pd.DataFrame:
    """Spearman rho over the 40 categories of every annotator against the per-image human median
    (:func:`emonet.hq.suite.human_medians`: an expert's own rating left out), per image.

    Returns images x annotators (NaN where the annotator did not rate the image or either side is
    constant over the 40 categories).
    """
    rho = agreement.spearman(panel.ratings, hq_suite.human_medians(panel), axis=2)
    return pd.DataFrame(rho.T, index=pd.Index(panel.images, name="image"),
                        columns=pd.Index(panel.annotators, name="annotator"))


def expert_top_k_overlap(panel, k: int = 5) -> pd.Series:
    """For reference to the model's :func:`top_k_overlap`: per expert and rated image, the overlap
    of the expert's top-k with the top-k of the other experts' median. Returns the overlaps of all
    (expert, image) pairs, indexed by ``(annotator, image)``."""
    medians = hq_suite.human_medians(panel)
    parts = []
    for a in np.flatnonzero(panel.human):
        rows = panel.rated[a] & ~np.isnan(medians[a]).any(axis=1)
        images = pd.Index(np.asarray(panel.images)[rows], name="image")
        own = pd.DataFrame(panel.ratings[a, rows], index=images, columns=list(taxonomy.EMOTIONS))
        others = pd.DataFrame(medians[a, rows], index=images, columns=list(taxonomy.EMOTIONS))
        overlap = top_k_overlap(own, others, k)["overlap"]
        parts.append(pd.concat({panel.annotators[a]: overlap}, names=["annotator"]))
    return pd.concat(parts).rename("overlap")


def effective_categories(weights: pd.DataFrame) -> pd.Series:
    """Perplexity ``exp(entropy)`` of each image's distribution over the 40 categories: how many
    categories the distribution spreads over (1: one category, 40: uniform). Rows are normalised
    to sum 1 first (ratings work as well as probabilities); all-zero rows give NaN."""
    values = _check_wide(weights, "weights").to_numpy(dtype=float)
    if (values < 0).any():
        raise ValueError("weights must be non-negative")
    total = values.sum(axis=1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        p = values / total
        entropy = -np.where(p > 0, p * np.log(p), 0.0).sum(axis=1)
    return pd.Series(np.where(total[:, 0] > 0, np.exp(entropy), np.nan), index=weights.index,
                     name="effective_categories")


def example_images(prompted: pd.Series, emotions: list[str], median: pd.DataFrame) -> list[str]:
    """Panel images to show as examples: for each of ``emotions`` the first image prompted for it
    (``prompted``: emotion per image, panel order; emotions no image was prompted for are
    skipped); when none was (no prompts known), the ``len(emotions)`` images whose expert median
    (images x 40) peaks highest."""
    examples = [prompted.index[prompted == e][0] for e in emotions if (prompted == e).any()]
    if examples:
        return examples
    return list(median.max(axis=1).sort_values(ascending=False).index[:len(emotions)])


FAIRNESS_FACTORS = ("ethnicity", "age", "gender")


def fairness_regression(agreement: pd.Series, demographics: pd.DataFrame,
                        alpha: float = 0.05) -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    """OLS of per-image agreement on ethnicity (categorical), age (per 10 years) and gender.

    ``agreement``: per image (e.g. :func:`rowwise_spearman`); NaN rows are excluded and counted.
    ``demographics``: same index, columns ``ethnicity, age, gender``. Reference levels: the most
    frequent group (ties: alphabetical). Standard errors HC3 (heteroscedasticity-robust).

    Returns ``coefficients`` (term, factor, estimate, ci_low, ci_high, p, p_holm, reject: every
    non-intercept term, Holm-corrected together), ``factors`` (one joint Wald test per factor,
    Holm-corrected over the three) and ``info`` (n_used, n_excluded, references, r2).
    """
    import statsmodels.formula.api as smf
    from statsmodels.stats.multitest import multipletests

    missing = [c for c in FAIRNESS_FACTORS if c not in demographics.columns]
    if missing:
        raise ValueError(f"demographics lack column(s) {missing}")
    if not agreement.index.equals(demographics.index):
        raise ValueError("agreement and demographics must have the same images in the same order")
    frame = demographics[list(FAIRNESS_FACTORS)].copy()
    frame["agreement"] = agreement.to_numpy(dtype=float)
    frame["age10"] = frame["age"].astype(float) / 10
    keep = frame["agreement"].notna() & frame["age10"].notna()
    excluded = int((~keep).sum())
    frame = frame[keep]
    refs = {f: _reference(frame[f]) for f in ("ethnicity", "gender")}
    terms = {f: f"C({f}, Treatment(reference={refs[f]!r}))" for f in refs}
    formula = f"agreement ~ {terms['ethnicity']} + age10 + {terms['gender']}"
    fit = smf.ols(formula, data=frame).fit(cov_type="HC3")
    ci = fit.conf_int()
    names = [t for t in fit.params.index if t != "Intercept"]
    coefs = pd.DataFrame({
        "term": [_pretty_term(t) for t in names],
        "factor": [_factor_of(t) for t in names],
        "estimate": fit.params[names].to_numpy(),
        "ci_low": ci.loc[names, 0].to_numpy(), "ci_high": ci.loc[names, 1].to_numpy(),
        "p": fit.pvalues[names].to_numpy(),
    })
    reject, p_holm, _, _ = multipletests(coefs["p"], alpha=alpha, method="holm")
    coefs["p_holm"], coefs["reject"] = p_holm, reject
    rows = []
    for factor in FAIRNESS_FACTORS:
        idx = [i for i, t in enumerate(fit.params.index) if _factor_of(t) == factor]
        matrix = np.zeros((len(idx), len(fit.params)))
        matrix[np.arange(len(idx)), idx] = 1
        test = fit.wald_test(matrix, scalar=True)
        rows.append((factor, len(idx), float(test.statistic), float(test.pvalue)))
    factors = pd.DataFrame(rows, columns=["factor", "df", "wald_chi2", "p"])
    reject, p_holm, _, _ = multipletests(factors["p"], alpha=alpha, method="holm")
    factors["p_holm"], factors["reject"] = p_holm, reject
    info = {"n_used": int(keep.sum()), "n_excluded": excluded, "references": refs,
            "r2": float(fit.rsquared)}
    return coefs, factors, info


def fairness_result(factors: pd.DataFrame) -> str:
    """What a :func:`fairness_regression` factor table says, as the start of a sentence: which
    factors (if any) have an effect after the Holm correction."""
    flagged = factors.loc[factors["reject"], "factor"].tolist()
    if not flagged:
        return "No factor survives the Holm correction"
    verb = "has" if len(flagged) == 1 else "have"
    return f"After the Holm correction, {', '.join(flagged)} {verb} an effect"


def _reference(values: pd.Series) -> str:
    counts = values.astype(str).value_counts()
    return sorted(counts.index[counts == counts.max()])[0]


def _factor_of(term: str) -> str:
    if term.startswith("C(ethnicity"):
        return "ethnicity"
    if term.startswith("C(gender"):
        return "gender"
    return "age" if term == "age10" else "intercept"


def _pretty_term(term: str) -> str:
    """``C(ethnicity, Treatment(...))[T.Asian]`` -> ``ethnicity: Asian``; ``age10`` -> ``age (per
    10 years)``."""
    if term == "age10":
        return "age (per 10 years)"
    return f"{_factor_of(term)}: {term.rsplit('[T.', 1)[1].rstrip(']')}"


def image_demographics(meta: pd.DataFrame, id_column: str, panel_images) -> tuple[pd.DataFrame,
                                                                                 dict]:
    """Demographics of the panel's images from an image metadata table (chapter 02's manifest, or
    :func:`emonet.data.hub.real_metadata` of the HQ dataset).

    Returns a frame indexed by panel image with ``ethnicity`` (the ethnicity *group*), ``age``,
    ``gender`` and the prompted ``emotion``, and the matching counts of :func:`match_images`;
    panel images without metadata are left out (and counted there).
    """
    needed = [id_column, "ethnicity_group", "age", "gender", "emotion"]
    missing = [c for c in needed if c not in meta]
    if missing:
        raise ValueError(f"image metadata lack column(s) {missing}")
    mapping, counts = match_images(meta[id_column], panel_images)
    rows = meta.set_index(meta[id_column].astype(str)).loc[mapping.index]
    out = pd.DataFrame({"ethnicity": rows["ethnicity_group"].to_numpy(),
                        "age": rows["age"].astype(int).to_numpy(),
                        "gender": rows["gender"].to_numpy(), "emotion": rows["emotion"].to_numpy()},
                       index=pd.Index(mapping.to_numpy(), name="image"))
    return out.loc[[i for i in map(str, panel_images) if i in out.index]], counts
