"""The closing table of chapter 06: each claim of the paper, what this build measured, a verdict
and why, assembled from the run's numbers.
"""

from __future__ import annotations

import pandas as pd

from emonet.hq import panel
from emonet.model.encoder import FULL_MODEL_ID, UNTRAINED_LABEL


def stand_ins(encoder_label: str, panel_source: str) -> list[str]:
    """What the HQ results of a build rest on instead of the paper's data: an encoder other than
    SigLIP2 (``encoder_label`` of the checkpoint: the untrained stand-in, or another model such as
    the rehearsal's replica) and a panel other than the authors' hq.csv (``panel_source``: the
    simulated panel or a given file); empty when the build uses SigLIP2 and the real ratings."""
    out = []
    if encoder_label == UNTRAINED_LABEL:
        out.append(UNTRAINED_LABEL)
    elif encoder_label.split("@")[0] != FULL_MODEL_ID:
        out.append(f"encoder {encoder_label}")
    if panel_source != "real":
        out.append(panel.source_label(panel_source))
    return out


def stand_in_note(names: list[str]) -> str:
    """The sentence that says what the HQ rows of the claims table rest on (``names``:
    :func:`stand_ins`)."""
    if not names:
        return "This build uses the real HQ ratings and the SigLIP2 encoder."
    return (f"In this build the HQ rows rest on stand-ins ({', '.join(names)}): they test "
            "the pipeline and the statistics, not the paper's model; the full profile runs the "
            "same code on the real ratings and SigLIP2.")


def claims(model: str, suite, could_be_p: float, overlap: dict, ferd: dict,
           fairness: pd.DataFrame, stand_in: str | None = None) -> pd.DataFrame:
    """The chapter's closing table: each claim of the paper, what this build measured, a verdict
    and why, assembled from the run's numbers.

    ``suite``: :func:`emonet.hq.suite.run_suite` of the panel with ``model`` in it;
    ``could_be_p``: the p-value threshold of the "could be an annotator" test; ``overlap``:
    :func:`overlap_test` of the model's top-5 overlap plus ``expert_mean`` (the experts' own mean
    overlap);
    ``ferd``: ``accuracy, published, max_difference, chance, top1`` of the real-photograph check;
    ``fairness``: the factor table of :func:`fairness_regression`; ``stand_in``: a label such as
    "untrained encoder, simulated panel" when the model or panel is a stand-in, else None.
    Columns ``claim, paper, this_build, verdict, why``; verdicts: reproduced, partly, not
    reproduced, not testable here; for the blind study (a related check, not a replication)
    "related check: above/at chance"; for the demographics "gap detected" / "no gap detected".
    """
    rho = suite.rho_summary.set_index("annotator")
    experts = rho[rho["human"]]["mean_rho"]
    ours = rho.loc[model]
    verdict_row = suite.could_be.set_index("annotator").loc[model]
    could = verdict_row["could_be"] == "yes"
    in_range = ours["mean_rho"] >= experts.min()
    rows = []
    why = ("" if could else "the model's kappas with the experts differ from the experts' "
           f"kappas among themselves (p = {verdict_row['p_value']:.3g} <= {could_be_p})")
    if stand_in:
        why = (f"{why}; " if why else "") + (
            f"this build uses stand-ins ({stand_in}): a model trained on random-weight embeddings "
            "and simulated labels is not expected to reach the experts; the full profile tests "
            "the claim with SigLIP2 and the real ratings")
    rows.append(("Human-expert level on HQ",
                 "the model's agreement with the experts lies within the experts' own range; it "
                 "'could be an annotator'",
                 f"{model}: mean rho {ours['mean_rho']:.3f} [{ours['ci_low']:.3f}, "
                 f"{ours['ci_high']:.3f}] vs the experts' {experts.min():.3f}-{experts.max():.3f};"
                 f" could be an annotator: {'yes' if could else 'no'}",
                 "reproduced" if could and in_range else
                 "partly" if could or in_range else "not reproduced", why))
    vlms = rho[rho["group"].str.startswith("VLMs") & rho["mean_rho"].notna()]
    if len(vlms):
        best = vlms["mean_rho"].idxmax()
        beats = ours["mean_rho"] > vlms.loc[best, "ci_high"]
        rows.append(("Beats the VLMs", "higher agreement with the human median than every VLM",
                     f"mean rho {ours['mean_rho']:.3f} vs the best VLM ({best}) "
                     f"{vlms.loc[best, 'mean_rho']:.3f}",
                     "reproduced" if beats else "not reproduced",
                     "" if beats else "the model's rho does not clear the best VLM's CI"))
    else:
        rows.append(("Beats the VLMs", "higher agreement with the human median than every VLM",
                     "the panel of this build has no VLM annotators", "not testable here",
                     "the VLMs' ratings exist only in the real hq.csv (full profile)"))
    above = overlap["p"] < 0.05
    rows.append(("Blind study",
                 "experts preferred the model's top-5 emotions over the human median's in about "
                 "30% of cases",
                 f"mean top-5 overlap {overlap['mean']:.2f} of 5 (chance "
                 f"{overlap['chance_mean']:.2f}, p = {overlap['p']:.2g}); the experts' own "
                 f"overlap with the others' median: {overlap['expert_mean']:.2f}",
                 "related check: above chance" if above else "related check: at chance",
                 "the judges' choices are not public; what they compared, the two top-5 lists, "
                 "overlaps " + ("more" if above else "no more") + " than chance"
                 + (f" ({stand_in})" if stand_in else "")))
    exact = ferd["max_difference"] == 0
    rows.append(("Real photographs (FERD)",
                 f"{ferd['published']:.1%} with the authors' rule",
                 f"{ferd['accuracy']:.1%} (chance {ferd['chance']:.1%}; strict top-1 "
                 f"{ferd['top1']:.1%})", "reproduced" if exact else "not reproduced",
                 "real data: the released model's outputs; the rule is lenient, so its chance "
                 "level is high" if exact else "the published per-class numbers differ by up to "
                 f"{ferd['max_difference']:.4f}"))
    flagged = fairness.loc[fairness["reject"], "factor"].tolist()
    rows.append(("Demographic balance",
                 "balanced prompts over ethnicity, age and gender (no fairness test reported)",
                 "factors with an effect on per-image agreement after Holm correction: "
                 + (", ".join(flagged) if flagged else "none"),
                 "gap detected" if flagged else "no gap detected",
                 "a stand-in's demographic cues are drawn, not photographed" if stand_in else
                 "regression of per-image Spearman on the demographics"))
    return pd.DataFrame(rows, columns=["claim", "paper", "this_build", "verdict", "why"])
