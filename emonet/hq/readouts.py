"""The VLM protocols' readouts: how a prompted VLM's answer turns 40 perceived intensities into
the ratings ``hq.csv`` holds, as the authors' protocol notebooks define the answer
(:mod:`emonet.data.protocols`).

* **zero-shot**: integer ratings 1-7 on the fixed set of 25 categories of the authors' example
  output (an accepted answer names exactly those 25 keys and no 0), 0 on the other 15;
* **multi-shot**: integer ratings 0-7 with at most
  :data:`emonet.data.protocols.MULTI_SHOT_MAX_NONZERO` (5) non-zero: the highest intensities
  kept, the rest 0.

A rating is the nearest integer (halves up, :func:`emonet.stats.agreement.discretize` with
``"round"``). The simulated VLM annotators (:class:`emonet.hq.simulation.SyntheticModel`) and
chapter 06's readout study both read out through :func:`read_out`.
"""

from __future__ import annotations

import functools

import numpy as np

from emonet.data import protocols, taxonomy
from emonet.stats import agreement

ZERO_SHOT = "zero-shot"
MULTI_SHOT = "multi-shot"
READOUTS = (ZERO_SHOT, MULTI_SHOT)


@functools.cache
def zero_shot_indices() -> np.ndarray:
    """Canonical indices of the 25 categories of the authors' zero-shot example output (read
    from the pinned protocol notebook once per process)."""
    return np.array([taxonomy.INDEX[e] for e in protocols.zero_shot().categories])


def zero_shot(scores) -> np.ndarray:
    """``(..., 40)`` scores read out by the zero-shot protocol: the nearest integer clipped to
    1-7 on its 25 categories, 0 on the others."""
    scores = np.asarray(scores, dtype=float)
    out = np.zeros(scores.shape)
    idx = zero_shot_indices()
    out[..., idx] = np.clip(agreement.discretize(scores[..., idx], "round"), 1, 7)
    return out


def multi_shot(scores, max_nonzero: int = protocols.MULTI_SHOT_MAX_NONZERO) -> np.ndarray:
    """``(..., 40)`` scores read out by the multi-shot protocol: the ``max_nonzero`` highest
    categories (ties in canonical order) at their nearest integer on 0-7, every other 0."""
    scores = np.asarray(scores, dtype=float)
    top = np.argsort(-scores, axis=-1, kind="stable")[..., :max_nonzero]
    kept = np.zeros(scores.shape, dtype=bool)
    np.put_along_axis(kept, top, True, axis=-1)
    return np.where(kept, agreement.discretize(scores, "round"), 0.0)


def read_out(scores, readout: str) -> np.ndarray:
    """``scores`` ``(..., 40)`` read out by the protocol ``readout`` (:data:`READOUTS`)."""
    if readout == ZERO_SHOT:
        return zero_shot(scores)
    if readout == MULTI_SHOT:
        return multi_shot(scores)
    raise ValueError(f"unknown readout {readout!r}; choose one of {READOUTS}")
