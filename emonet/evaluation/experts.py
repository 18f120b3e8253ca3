"""The model against the experts on the HQ panel.

Scores are images x 40 DataFrames in :data:`emonet.data.taxonomy.EMOTIONS` order. A model's
scores, as stored, on the panel's image ids (:func:`match_images`; :func:`outside_scale` counts
those off the 0-7 scale) join the experts and :func:`emonet.hq.suite.run_suite` does the rest.
Beside that: the VLM protocols' readouts applied to one perceiver (:func:`read_out`,
:data:`READOUTS`, :func:`readout_table`), per-image agreement with the human median
(:func:`per_image_agreement`), the blind study's top-5 lists and their overlap against a
permutation null (:func:`top_k_sets`, :func:`top_k_overlap`, :func:`overlap_null`,
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

from emonet.data import taxonomy
from emonet.hq import readouts as hq_readouts
from emonet.hq import resampled
from emonet.hq import suite as hq_suite
from emonet.model import released
from emonet.stats import agreement, inference, seeds


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


def top_k_sets(values, k: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """The lists the blind study's compare view shows: per row of ``values`` ``(images, 40)``
    its ``k`` highest non-zero categories (fewer where fewer are non-zero), ties broken at
    random by one uniform key per value drawn from ``rng``.

    Returns ``(sets, tie_at_cut)``: ``(images, 40)`` bool, and ``(images,)`` bool, True where the
    k-th and the (k+1)-th values are equal and non-zero (the draw chose which is listed).
    """
    v = np.asarray(values, dtype=float)
    order = np.lexsort((rng.random(v.shape), -v), axis=-1)
    ranked = np.take_along_axis(v, order, axis=-1)
    sets = np.zeros(v.shape, dtype=bool)
    np.put_along_axis(sets, order, (np.arange(v.shape[-1]) < k) & (ranked != 0), axis=-1)
    return sets, (ranked[:, k - 1] == ranked[:, k]) & (ranked[:, k] != 0)


def _tie_stream(seed: int, side: str) -> np.random.Generator:
    """The seeded stream that breaks the ties of one side's lists (``side``: its name)."""
    return np.random.default_rng(seeds.keyed_seed(seed, "top-k", side))


def top_k_overlap(model: pd.DataFrame, human: pd.DataFrame, k: int = 5,
                  seed: int = 42) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """Per image, the overlap of the model's and the human median's lists (:func:`top_k_sets`,
    each side's ties broken by its own stream of ``seed``).

    Inputs: images x 40 (same index). Returns the table (columns ``overlap``, ``n_model``,
    ``n_human`` (the lists' lengths), ``model_tie_at_cut``, ``human_tie_at_cut``) and the two
    ``(images, 40)`` sets.
    """
    a, b = _aligned(model, human)
    first, model_tie = top_k_sets(a, k, _tie_stream(seed, "model"))
    second, human_tie = top_k_sets(b, k, _tie_stream(seed, "human median"))
    table = pd.DataFrame({"overlap": (first & second).sum(axis=1), "n_model": first.sum(axis=1),
                          "n_human": second.sum(axis=1), "model_tie_at_cut": model_tie,
                          "human_tie_at_cut": human_tie}, index=model.index)
    return table, first, second


#: Pairings of images drawn at once by :func:`overlap_null` (bounds its memory).
_PERMUTATION_BLOCK = 500


def overlap_null(first, second, n_perm: int, seed: int) -> dict:
    """The overlap of two lists per image against a permutation null: each image's ``first``
    list paired with another image's ``second`` list.

    ``first``, ``second``: ``(images, 40)`` bool. Returns ``mean`` (observed mean overlap),
    ``chance_mean`` and ``chance_shares`` (the mean and the distribution of the overlap over all
    pairings of two images, exact: the expectation under random pairing), and ``p``: one-sided,
    ``(1 + #pairings with a mean >= observed) / (1 + n_perm)`` over ``n_perm`` random
    permutations of the images (seeded).
    """
    first, second = np.asarray(first, dtype=np.int64), np.asarray(second, dtype=np.int64)
    pairs = first @ second.T  # (images, images): overlap of i's first with j's second list
    n = len(pairs)
    observed = float(pairs.diagonal().mean())
    rng = np.random.default_rng(seed)
    exceed = 0
    for start in range(0, n_perm, _PERMUTATION_BLOCK):
        block = min(_PERMUTATION_BLOCK, n_perm - start)
        perms = rng.permuted(np.tile(np.arange(n), (block, 1)), axis=1)
        exceed += int((pairs[np.arange(n), perms].mean(axis=1) >= observed - 1e-12).sum())
    top = int(max(first.sum(axis=1).max(initial=0), second.sum(axis=1).max(initial=0)))
    return {"mean": observed, "chance_mean": float(pairs.mean()),
            "chance_shares": np.bincount(pairs.ravel(), minlength=top + 1) / pairs.size,
            "p": (1 + exceed) / (1 + n_perm)}


def overlap_chance(overlap: pd.Series, chance_shares: np.ndarray,
                   chance_mean: float) -> pd.DataFrame:
    """Observed distribution of the overlaps next to their permutation chance
    (:func:`overlap_null`). Columns ``overlap, observed, observed_share, chance_share``; a last
    row ``mean`` holds the mean overlap and its chance value."""
    levels = np.arange(max(len(chance_shares), int(overlap.max()) + 1))
    counts = overlap.value_counts().reindex(levels, fill_value=0)
    chance = np.zeros(len(levels))
    chance[:len(chance_shares)] = chance_shares
    table = pd.DataFrame({"overlap": levels.astype(str), "observed": counts.to_numpy(),
                          "observed_share": counts.to_numpy() / len(overlap),
                          "chance_share": chance})
    mean = {"overlap": "mean", "observed": np.nan, "observed_share": overlap.mean(),
            "chance_share": chance_mean}
    return pd.concat([table, pd.DataFrame([mean])], ignore_index=True)


#: The readout study's readouts of one perceiver's 40 scores (name -> the protocol of
#: :mod:`emonet.hq.readouts`; None: every score as it is).
READOUTS: dict[str, str | None] = {"all 40 scores": None,
                                   "zero-shot protocol": hq_readouts.ZERO_SHOT,
                                   "multi-shot protocol": hq_readouts.MULTI_SHOT}


def read_out(scores: pd.DataFrame, readout: str | None) -> pd.DataFrame:
    """An images x 40 frame of scores read out by the protocol ``readout`` (None: unchanged),
    as the simulated VLMs of chapter 04 answer."""
    _check_wide(scores, "scores")
    if readout is None:
        return scores
    return pd.DataFrame(hq_readouts.read_out(scores.to_numpy(dtype=float), readout),
                        index=scores.index, columns=scores.columns)


def readout_table(experts, perceivers: dict[str, pd.DataFrame], n_boot: int = 1000,
                  seed: int = 42, method: str = "truncate") -> pd.DataFrame:
    """Each perceiver's scores (images x 40, panel image ids) read out the ways of
    :data:`READOUTS`, every variant added to ``experts`` as an annotator.

    Columns ``perceiver, readout``, ``mean_rho`` (Spearman against the human median) with
    ``ci_low, ci_high`` over image resamples, ``n_emotions`` (the emotions with a rho, which the
    mean covers: a category a readout always sets to 0 has none), ``difference`` (mean rho minus
    the perceiver's
    all-scores mean rho, on the same images) with ``diff_low, diff_high`` (paired, over the same
    resamples), ``mean_kappa`` (with the experts), ``could_be``, ``p_value`` (the authors'
    test); a perceiver's rows differ only in the readout.
    """
    joined, rows = experts, []
    for perceiver, scores in perceivers.items():
        for readout, protocol in READOUTS.items():
            name = f"{perceiver} [{readout}]"
            joined = joined.with_annotator(name, read_out(scores, protocol), "Readouts")
            rows.append((perceiver, readout, name))
    kappa, _ = hq_suite.pairwise_kappa(joined, method)  # the could-be test is all this needs
    names = [r[2] for r in rows]
    units, weights = resampled.image_resamples(joined, n_boot, seed)
    rho = resampled.resampled_rho(joined, units, weights, names)
    mean = agreement.nanmean(rho, axis=-1)
    base = [names.index(f"{p} [{next(iter(READOUTS))}]") for p, _, _ in rows]
    lo, hi = inference.basic_interval(mean[0], mean[1:])
    dlo, dhi = inference.basic_interval(mean[0] - mean[0, base], mean[1:] - mean[1:, base])
    could = hq_suite.could_be_annotator(joined, kappa, n_boot, seed).set_index("annotator").loc[
        names]
    table = pd.DataFrame(rows, columns=["perceiver", "readout", "annotator"])
    table["mean_rho"], table["ci_low"], table["ci_high"] = mean[0], lo, hi
    table["n_emotions"] = (~np.isnan(rho[0])).sum(axis=-1)
    table["difference"], table["diff_low"], table["diff_high"] = mean[0] - mean[0, base], dlo, dhi
    table["mean_kappa"] = could["mean1"].to_numpy()
    table["could_be"] = could["could_be"].to_numpy()
    table["p_value"] = could["p_value"].to_numpy()
    return table.drop(columns="annotator")


def readout_summary(readout: pd.DataFrame) -> str:
    """One sentence per perceiver of a :func:`readout_table`: its mean rho with all 40 scores and
    how far each protocol's readout moves it, with the paired 95% interval over images and the
    number of emotions the readout's mean covers."""
    full, *protocols = READOUTS
    sentences = []
    for perceiver, rows in readout.groupby("perceiver", sort=False):
        rho = rows.set_index("readout")
        moves = [f"the {name.removesuffix(' protocol')} readout moves it by "
                 f"{rho.loc[name, 'difference']:+.3f} (95% CI over images "
                 f"{rho.loc[name, 'diff_low']:+.3f} to {rho.loc[name, 'diff_high']:+.3f}; mean "
                 f"over {rho.loc[name, 'n_emotions']} emotions)"
                 if rho.loc[name, "n_emotions"] and np.isfinite(rho.loc[name, "difference"]) else
                 f"the {name.removesuffix(' protocol')} readout leaves no emotion with a defined "
                 "rho on these images, so its effect cannot be measured here"
                 for name in protocols]
        sentences.append(f"For {perceiver}, mean rho is {rho.loc[full, 'mean_rho']:.3f} with "
                         f"all 40 scores; " + " and ".join(moves) + ".")
    return " ".join(sentences)


def outside_scale(scores: pd.DataFrame, low: float = 0.0, high: float = 7.0) -> int:
    """How many of a model's scores lie outside the panel's 0-7 scale. They are analysed as
    stored: Spearman's rho needs no common scale, and kappa's levels handle them (the paper's
    truncation drops a level outside 0-7 from the pair, rounding clips it)."""
    values = _check_wide(scores, "scores").to_numpy(dtype=float)
    return int(((values < low) | (values > high)).sum())


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


def expert_top_k_overlap(panel, k: int = 5, seed: int = 42) -> tuple[pd.Series, float]:
    """For reference to the model's :func:`top_k_overlap`: per expert and rated image, the overlap
    of the expert's list with the list of the other experts' median (:func:`top_k_sets`, ties
    broken at random, each side by its own stream). Returns the overlaps of all (expert, image)
    pairs, indexed by ``(annotator, image)``, and their chance level: each expert's exact
    permutation chance (:func:`overlap_null`), weighted by the expert's images."""
    medians = hq_suite.human_medians(panel)
    parts, chance = [], 0.0
    for a in np.flatnonzero(panel.human):
        name = panel.annotators[a]
        rows = panel.rated[a] & ~np.isnan(medians[a]).any(axis=1)
        own, _ = top_k_sets(panel.ratings[a, rows], k, _tie_stream(seed, name))
        others, _ = top_k_sets(medians[a, rows], k, _tie_stream(seed, f"median without {name}"))
        overlap = (own & others).sum(axis=1)
        chance += (own.sum(axis=0) @ others.sum(axis=0)) / max(rows.sum(), 1)
        images = pd.Index(np.asarray(panel.images)[rows], name="image")
        parts.append(pd.concat({name: pd.Series(overlap, index=images)}, names=["annotator"]))
    overlaps = pd.concat(parts).rename("overlap")
    return overlaps, float(chance / max(len(overlaps), 1))


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
    coefs["p_holm"] = inference.holm(coefs["p"].to_numpy(float))
    coefs["reject"] = inference.holm_reject(coefs["p"].to_numpy(float), alpha)
    rows = []
    for factor in FAIRNESS_FACTORS:
        idx = [i for i, t in enumerate(fit.params.index) if _factor_of(t) == factor]
        matrix = np.zeros((len(idx), len(fit.params)))
        matrix[np.arange(len(idx)), idx] = 1
        test = fit.wald_test(matrix, scalar=True)
        rows.append((factor, len(idx), float(test.statistic), float(test.pvalue)))
    factors = pd.DataFrame(rows, columns=["factor", "df", "wald_chi2", "p"])
    factors["p_holm"] = inference.holm(factors["p"].to_numpy(float))
    factors["reject"] = inference.holm_reject(factors["p"].to_numpy(float), alpha)
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
