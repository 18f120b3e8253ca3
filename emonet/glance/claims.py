"""The closing table of claims: each claim of the paper, what this build measured, on what
evidence, a verdict and why, assembled from the numbers chapters 06 and 08 wrote.

Verdicts name their evidence (:data:`VERDICTS`): a claim that holds is "reproduced on real data"
only where the result rests on the paper's data and model path, and "consistent on stand-ins"
where it rests on a stand-in (the untrained encoder, the simulated panel); a stand-in row is
never counted as reproduced.
"""

from __future__ import annotations

import pandas as pd

from emonet.hq import image_bootstrap
from emonet.photographs import rules

REPRODUCED = "reproduced on real data"
CONSISTENT = "consistent on stand-ins"
NOT_REPRODUCED = "not reproduced"
NOT_TESTABLE = "not testable here"

#: The verdicts of the claims table, in the order the prose counts them.
VERDICTS = (REPRODUCED, CONSISTENT, NOT_REPRODUCED, NOT_TESTABLE)

#: What a row rests on (the ``evidence`` column).
REAL, STAND_INS = "real data", "stand-ins"


def _verdict(holds: bool, evidence: str) -> str:
    if not holds:
        return NOT_REPRODUCED
    return REPRODUCED if evidence == REAL else CONSISTENT


def expert_level_row(
    model: str,
    people: pd.DataFrame,
    like: pd.DataFrame,
    authors: dict,
    evidence: str,
    stand_in: str | None,
) -> tuple:
    """ "Human-expert level on HQ", like for like: the model's matched could-be comparison
    (``people``: :func:`emonet.hq.image_bootstrap.annotator_intervals`) must not lie below the
    experts' agreement (its 95% interval reaches 0), and its rho against some expert's reference
    must reach that expert's own (``like``: :func:`emonet.hq.image_bootstrap.like_for_like_table`).
    ``authors``: the paper's version as reproduced (``mean_rho``, ``experts_min``,
    ``experts_max``, ``could_be``, ``p_value``)."""
    row = people.set_index("annotator").loc[model]
    mean, per_expert, reached = image_bootstrap.like_for_like_of(like, model)
    not_below = row["matched_high"] >= 0
    holds = not_below and reached > 0
    measured = (
        f"like for like, against each expert's reference: mean rho {mean['model_rho']:.3f} vs the "
        f"experts' {mean['expert_rho']:.3f} (difference {mean['difference']:+.3f}, 95% CI "
        f"{mean['ci_low']:+.3f} to {mean['ci_high']:+.3f}); at or above {reached} of "
        f"{len(per_expert)} experts on their own reference; on matched images kappa "
        f"{row['matched_difference']:+.3f} ({row['matched_low']:+.3f} to "
        f"{row['matched_high']:+.3f}) relative to the experts' pairs. The paper's version: mean "
        f"rho {authors['mean_rho']:.3f} vs the experts' {authors['experts_min']:.3f}-"
        f"{authors['experts_max']:.3f}, could be an annotator: {authors['could_be']} "
        f"(p = {authors['p_value']:.3g})"
    )
    why = (
        []
        if holds
        else [
            "the model's agreement on matched images lies below the experts' own"
            if not not_below
            else "",
            "the model's rho reaches no expert's on that expert's reference" if not reached else "",
        ]
    )
    if stand_in:
        why.append(
            f"this build uses stand-ins ({stand_in}): a model trained on random-weight "
            "embeddings and simulated labels is not expected to reach the experts; the "
            "full profile tests the claim with SigLIP2 and the real ratings"
        )
    return (
        "Human-expert level on HQ",
        "the model's agreement with the experts lies within the experts' own range; it "
        "'could be an annotator'",
        measured,
        evidence,
        _verdict(holds, evidence),
        "; ".join(w for w in why if w),
    )


def vlm_row(model: str, vlms: pd.DataFrame, evidence: str) -> tuple:
    """ "Beats the VLMs": the model's mean rho minus each VLM's on the same image resamples
    (``vlms``: ``vlm, difference, ci_low, ci_high, p_value``, from
    :func:`emonet.hq.image_bootstrap.paired_difference`); it holds when every interval lies above 0
    (an intersection-union test: each comparison at 5%, no adjustment needed)."""
    claim = ("Beats the VLMs", "higher agreement with the human median than every VLM")
    if vlms.empty:
        return (
            *claim,
            "the panel of this build has no VLM annotators",
            evidence,
            NOT_TESTABLE,
            "the VLMs' ratings exist only in the real hq.csv (full profile) and in the "
            "simulated panel",
        )
    strongest = vlms.loc[vlms["difference"].idxmin()]  # the smallest margin over a VLM
    holds = bool((vlms["ci_low"] > 0).all())
    measured = (
        f"{model} minus the strongest VLM ({strongest['vlm']}) in mean rho: "
        f"{strongest['difference']:+.3f} (95% CI {strongest['ci_low']:+.3f} to "
        f"{strongest['ci_high']:+.3f}, paired bootstrap over images); above "
        f"{int((vlms['ci_low'] > 0).sum())} of {len(vlms)} VLMs"
    )
    why = "" if holds else "the paired interval of at least one VLM reaches 0 or lies below"
    return (*claim, measured, evidence, _verdict(holds, evidence), why)


def photo_row(dataset: str, published: float, result: dict | None, not_read: str) -> tuple:
    """A real-photograph check (``dataset``: "FERD" or "AffectNet") as a claims row: the
    ``published`` overall accuracy of the authors' rule against this build's, reproduced only
    when every published per-class number is met exactly. ``result``: ``accuracy,
    max_difference, chance, top1``; None when the build does not read the dataset (``not_read``
    says why)."""
    claim, paper = f"Real photographs ({dataset})", f"{published:.1%} with the authors' rule"
    if result is None:
        return claim, paper, not_read, REAL, NOT_TESTABLE, not_read
    exact = result["max_difference"] == 0
    return (
        claim,
        paper,
        f"{result['accuracy']:.1%} (chance {result['chance']:.1%}, strict top-1 "
        f"{result['top1']:.1%})",
        REAL,
        REPRODUCED if exact else NOT_REPRODUCED,
        "the released model's own outputs; the rule is lenient, so its chance level is high"
        if exact
        else f"the published per-class numbers differ by up to {result['max_difference']:.4f}",
    )


def claims(
    model: str,
    people: pd.DataFrame,
    like: pd.DataFrame,
    authors: dict,
    vlms: pd.DataFrame,
    overlap: dict,
    ferd: dict,
    affectnet: dict | None,
    fairness: pd.DataFrame,
    stand_in: str | None = None,
) -> pd.DataFrame:
    """The closing table: each claim of the paper, what this build measured, on what
    evidence, a verdict (:data:`VERDICTS`) and why.

    ``people``, ``like``, ``authors``: see :func:`expert_level_row`; ``vlms``: see
    :func:`vlm_row`; ``overlap``: :func:`emonet.model_vs_experts.top_k.overlap_null` of the model's
    top-5 lists plus ``expert_mean`` and ``expert_chance`` (the experts' own lists); ``ferd``:
    ``accuracy, max_difference, chance, top1`` of the real-photograph check (real
    data in every build; :func:`photo_row`); ``affectnet``: the same for AffectNet, None where
    the build does not read it; ``fairness``: the factor table of
    :func:`emonet.model_vs_experts.fairness.fairness_regression`; ``stand_in``: e.g. "untrained
    encoder, simulated panel" when the HQ rows rest on stand-ins, else None. Columns ``claim,
    paper, this_build, evidence, verdict, why``.
    """
    hq = STAND_INS if stand_in else REAL
    rows = [expert_level_row(model, people, like, authors, hq, stand_in), vlm_row(model, vlms, hq)]
    above = overlap["p"] < 0.05
    rows.append(
        (
            "Blind study",
            "experts chose between the model's top-5 emotions and the human median's; a "
            "figure of 'about 30%' circulates, but its number, its direction and the number "
            "of judges are unverified",
            f"related check, not a replication: the two top-5 lists share "
            f"{overlap['mean']:.2f} emotions on average, against {overlap['chance_mean']:.2f}"
            f" when images are paired at random (p = {overlap['p']:.2g}); an expert's own "
            f"list shares {overlap['expert_mean']:.2f} with the others' median (chance "
            f"{overlap['expert_chance']:.2f})",
            hq,
            NOT_TESTABLE,
            "the judges' choices are not public; the lists they compared overlap "
            + ("more" if above else "no more")
            + " than lists of unrelated images",
        )
    )
    rows.append(photo_row("FERD", rules.AUTHORS_RESULTS["ferd"]["overall"], ferd, ""))
    rows.append(
        photo_row(
            "AffectNet",
            rules.AUTHORS_RESULTS["affectnet"]["overall"],
            affectnet,
            "not read in this build: its four output files are supplied by the "
            "user, and the full profile reads them",
        )
    )
    flagged = fairness.loc[fairness["reject"], "factor"].tolist()
    rows.append(
        (
            "Demographic balance",
            "balanced prompts over ethnicity, age and gender; no fairness test reported "
            "(implied: agreement does not depend on them)",
            "factors with an effect on per-image agreement after Holm correction: "
            + (", ".join(flagged) if flagged else "none"),
            hq,
            _verdict(not flagged, hq),
            "a stand-in's demographic cues are drawn, not photographed"
            if stand_in
            else "regression of per-image Spearman on the demographics",
        )
    )
    return pd.DataFrame(
        rows, columns=["claim", "paper", "this_build", "evidence", "verdict", "why"]
    )


def verdict_counts(table: pd.DataFrame) -> dict[str, int]:
    """How many rows of a table with a ``verdict`` column got each verdict, in the order of
    :data:`VERDICTS` (stand-in rows are counted as such, never as reproduced)."""
    counts = table["verdict"].value_counts()
    return {v: int(counts.get(v, 0)) for v in VERDICTS}
