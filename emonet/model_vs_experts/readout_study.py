"""The readout study: one perceiver's 40 scores read out as the VLM protocols demanded, each
readout joined to the panel and scored on the same image resamples."""

from __future__ import annotations

import numpy as np
import pandas as pd

from emonet.hq import image_bootstrap, paper_statistics
from emonet.hq import readouts as hq_readouts
from emonet.model_vs_experts.joined import check_wide
from emonet.stats import agreement, inference

#: The readout study's readouts of one perceiver's 40 scores (name -> the protocol of
#: :mod:`emonet.hq.readouts`; None: every score as it is).
READOUTS: dict[str, str | None] = {
    "all 40 scores": None,
    "zero-shot protocol": hq_readouts.ZERO_SHOT,
    "multi-shot protocol": hq_readouts.MULTI_SHOT,
}


def read_out(scores: pd.DataFrame, readout: str | None) -> pd.DataFrame:
    """An images x 40 frame of scores read out by the protocol ``readout`` (None: unchanged),
    as the simulated VLMs of chapter 04 answer."""
    check_wide(scores, "scores")
    if readout is None:
        return scores
    return pd.DataFrame(
        hq_readouts.read_out(scores.to_numpy(dtype=float), readout),
        index=scores.index,
        columns=scores.columns,
    )


def readout_table(
    experts,
    perceivers: dict[str, pd.DataFrame],
    n_boot: int = 1000,
    seed: int = 42,
    method: str = "truncate",
) -> pd.DataFrame:
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
    kappa, _ = paper_statistics.pairwise_kappa(
        joined, method
    )  # the could-be test is all this needs
    names = [r[2] for r in rows]
    units, weights = image_bootstrap.image_resamples(joined, n_boot, seed)
    rho = image_bootstrap.resampled_rho(joined, units, weights, names)
    mean = agreement.nanmean(rho, axis=-1)
    base = [names.index(f"{p} [{next(iter(READOUTS))}]") for p, _, _ in rows]
    lo, hi = inference.basic_interval(mean[0], mean[1:])
    dlo, dhi = inference.basic_interval(mean[0] - mean[0, base], mean[1:] - mean[1:, base])
    could = (
        paper_statistics.could_be_annotator(joined, kappa, n_boot, seed)
        .set_index("annotator")
        .loc[names]
    )
    table = pd.DataFrame(rows, columns=["perceiver", "readout", "annotator"])
    table["mean_rho"], table["ci_low"], table["ci_high"] = mean[0], lo, hi
    table["n_emotions"] = (~np.isnan(rho[0])).sum(axis=-1)
    table["difference"], table["diff_low"], table["diff_high"] = mean[0] - mean[0, base], dlo, dhi
    table["mean_kappa"] = could["mean1"].to_numpy()
    table["could_be"] = could["could_be"].to_numpy()
    table["p_value"] = could["p_value"].to_numpy()
    return table.drop(columns="annotator")
