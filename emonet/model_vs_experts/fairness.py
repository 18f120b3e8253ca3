"""Does agreement differ by ethnicity, age or gender? Per-image agreement with the experts'
median, regressed on the images' demographics."""

from __future__ import annotations

import numpy as np
import pandas as pd

from emonet.hq import paper_statistics
from emonet.stats import agreement, inference


def per_image_agreement(panel) -> pd.DataFrame:
    """Spearman rho over the 40 categories of every annotator against the per-image human median
    (:func:`emonet.hq.paper_statistics.leave_one_out_medians`: an expert's own rating left out), per image.

    Returns images x annotators (NaN where the annotator did not rate the image or either side is
    constant over the 40 categories).
    """
    rho = agreement.spearman(panel.ratings, paper_statistics.leave_one_out_medians(panel), axis=2)
    return pd.DataFrame(
        rho.T,
        index=pd.Index(panel.images, name="image"),
        columns=pd.Index(panel.annotators, name="annotator"),
    )


FAIRNESS_FACTORS = ("ethnicity", "age", "gender")


def fairness_regression(
    agreement: pd.Series, demographics: pd.DataFrame, alpha: float = 0.05
) -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    """OLS of per-image agreement on ethnicity (categorical), age (per 10 years) and gender.

    ``agreement``: per image (e.g. :func:`per_image_agreement`); NaN rows are excluded and counted.
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
    coefs = pd.DataFrame(
        {
            "term": [_pretty_term(t) for t in names],
            "factor": [_factor_of(t) for t in names],
            "estimate": fit.params[names].to_numpy(),
            "ci_low": ci.loc[names, 0].to_numpy(),
            "ci_high": ci.loc[names, 1].to_numpy(),
            "p": fit.pvalues[names].to_numpy(),
        }
    )
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
    info = {
        "n_used": int(keep.sum()),
        "n_excluded": excluded,
        "references": refs,
        "r2": float(fit.rsquared),
    }
    return coefs, factors, info


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
