"""The simulated HQ panel: the local profile's stand-in for the real expert ratings.

:func:`simulate_panel` draws a panel with the paper's design: 8 raters, 4 per image in a balanced
incomplete design, integer ratings 0-7 of a known ground truth, with per-rater leniency, scale
use, noise and a marking threshold calibrated so that a rater marks a given number of the 40
categories per image on average, plus a Random Baseline and synthetic model annotators (among
them simulated VLMs that answer by the authors' protocols, :func:`simulated_vlms`).
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations

import numpy as np
import pandas as pd

from emonet.data import taxonomy
from emonet.generation import faces, prompts
from emonet.generation import images as generation_images
from emonet.hq import readouts
from emonet.hq.panel import GROUPS, RANDOM_BASELINE, Panel, annotator_group
from emonet.stats.seeds import keyed_seed


@dataclass(frozen=True)
class RaterModel:
    """How simulated experts turn a perceived intensity ``p`` (0-7) into a rating.

    Rater ``r`` forms an impression ``z = scale_r * p + noise_r * e`` (``e`` standard normal). It
    marks the category if ``z`` reaches its threshold ``t + threshold_r`` and then rates
    ``round(leniency_r + z)`` clipped to 1-7; otherwise it rates 0. Per rater: ``leniency_r ~ N(0,
    leniency_sd)``, ``scale_r = exp(N(0, scale_sd))``, ``noise_r = noise_sd * exp(N(0,
    noise_spread))``, ``threshold_r ~ N(0, threshold_sd)``. The common threshold ``t`` is solved so
    that a rater marks ``marked`` categories per image on average; with ``marked=None`` there is no
    threshold and every category gets ``round(leniency_r + z)`` clipped to 0-7. ``shared_sd``: SD
    of the image-level deviation of what the image shows from the generator's ground truth,
    common to every observer (humans and models).
    """

    n_raters: int = 8
    per_image: int = 4
    marked: float | None = 8.0
    leniency_sd: float = 0.5
    scale_sd: float = 0.15
    noise_sd: float = 1.0
    noise_spread: float = 0.25
    threshold_sd: float = 0.3
    shared_sd: float = 0.5

    def __post_init__(self):
        if not 1 <= self.per_image <= self.n_raters:
            raise ValueError(
                f"per_image must lie in 1..n_raters={self.n_raters}, got {self.per_image}"
            )
        if self.marked is not None and not 0 < self.marked < taxonomy.N_EMOTIONS:
            raise ValueError(
                f"marked must lie strictly between 0 and {taxonomy.N_EMOTIONS} "
                f"(or be None for no threshold), got {self.marked}"
            )


def hq_role_truth(manifest: pd.DataFrame, seed: int = 42) -> tuple[np.ndarray, list[str]]:
    """Ground truth ``(images, 40)`` and ids of the generated images whose role is ``hq``
    (:func:`emonet.generation.prompts.assign_subsets` with ``seed``), from chapter 02's manifest."""
    if manifest.empty:
        raise ValueError("the image manifest is empty: run notebook 02_generation first")
    rows = manifest[prompts.assign_subsets(manifest, seed=seed) == "hq"]
    truth = generation_images.truth_matrix(rows)
    if np.isnan(truth).any():
        raise ValueError(
            "the generated images have no ground truth (a text-to-image backend); "
            "the simulated panel needs the offline faces of chapter 02"
        )
    return truth, rows["id"].astype(str).tolist()


def synthetic_truth(n_images: int, seed: int, intensity=(0.6, 1.0)) -> np.ndarray:
    """``(n_images, 40)`` ground truth on 0-7 from the offline faces' expression model
    (:mod:`emonet.generation.faces`, no drawing): each image expresses one category, balanced
    over the 40, at an intensity drawn from ``intensity``."""
    rng = np.random.default_rng(keyed_seed(seed, "truth"))
    emotions = np.resize(np.array(taxonomy.EMOTIONS), n_images)[rng.permutation(n_images)]
    codes = [faces.expression(e, rng.uniform(*intensity), rng) for e in emotions]
    return faces.truth_of(np.array(codes))


def perceive(truth, shared_sd: float, rng: np.random.Generator) -> np.ndarray:
    """What the images show to every observer: ``truth`` plus an image-level deviation of SD
    ``shared_sd``, clipped to 0-7 (same shape as ``truth``)."""
    truth = np.asarray(truth, dtype=float)
    return np.clip(truth + rng.normal(0.0, shared_sd, truth.shape), 0.0, 7.0)


def balanced_assignment(
    n_images: int, n_raters: int, per_image: int, rng: np.random.Generator
) -> np.ndarray:
    """``(n_raters, n_images)`` bool: which raters rate each image. Every ``per_image``-subset of
    raters is used equally often (up to one), in random order, so loads and pairwise overlaps are
    balanced."""
    subsets = np.array(list(combinations(range(n_raters), per_image)))
    picks = np.resize(rng.permutation(len(subsets)), n_images)[rng.permutation(n_images)]
    out = np.zeros((n_raters, n_images), dtype=bool)
    out[subsets[picks].T, np.arange(n_images)] = True
    return out


def expected_shared_images(n_images: int, n_raters: int, per_image: int) -> float:
    """Images two given raters both rate under :func:`balanced_assignment`, on average:
    ``n_images * per_image * (per_image - 1) / (n_raters * (n_raters - 1))``."""
    return n_images * per_image * (per_image - 1) / (n_raters * (n_raters - 1))


def _solve_threshold(
    impression: np.ndarray, offsets: np.ndarray, rated: np.ndarray, marked: float
) -> float:
    """Common threshold ``t`` at which raters mark ``marked`` categories per rated image on
    average (bisection; the count falls as ``t`` rises)."""

    def mean_marked(t):
        return (impression >= t + offsets[:, None, None])[rated].sum(axis=-1).mean()

    lo, hi = float(impression.min()) - 1.0, float(impression.max()) + 1.0
    for _ in range(60):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if mean_marked(mid) > marked else (lo, mid)
    return (lo + hi) / 2


def rate(perceived, model: RaterModel, rng: np.random.Generator) -> np.ndarray:
    """Simulated experts' integer ratings ``(n_raters, images, 40)`` of ``perceived``
    ``(images, 40)`` under ``model``, NaN where a rater was not assigned the image.

    The raters' traits, the assignment and the rating noise come from three generators spawned
    from ``rng``, so two models that differ in one setting (say ``noise_sd``) draw the same
    raters and the same standard-normal noise (common random numbers).
    """
    p = np.asarray(perceived, dtype=float)
    r = model.n_raters
    traits, assignment, draws = rng.spawn(3)
    leniency = traits.normal(0.0, model.leniency_sd, r)[:, None, None]
    scale = np.exp(traits.normal(0.0, model.scale_sd, r))[:, None, None]
    noise = model.noise_sd * np.exp(traits.normal(0.0, model.noise_spread, r))[:, None, None]
    offsets = traits.normal(0.0, model.threshold_sd, r)
    rated = balanced_assignment(p.shape[0], r, model.per_image, assignment)
    impression = scale * p[None] + noise * draws.normal(size=(r, *p.shape))
    level = np.floor(leniency + impression + 0.5)
    if model.marked is None:
        levels = np.clip(level, 0, 7)
    else:
        t = _solve_threshold(impression, offsets, rated, model.marked)
        levels = np.where(impression >= t + offsets[:, None, None], np.clip(level, 1, 7), 0.0)
    return np.where(rated[..., None], levels, np.nan)


def random_baseline(n_images: int, p_marked: float, rng: np.random.Generator) -> np.ndarray:
    """``(n_images, 40)`` ratings that ignore the image: each category is marked with probability
    ``p_marked``, with a level drawn uniformly from 1-7."""
    on = rng.random((n_images, taxonomy.N_EMOTIONS)) < p_marked
    return np.where(on, rng.integers(1, 8, (n_images, taxonomy.N_EMOTIONS)), 0).astype(float)


@dataclass(frozen=True)
class SyntheticModel:
    """A simulated model annotator: continuous scores ``perceived + offset`` plus Gaussian noise of
    SD ``noise_sd``, clipped to 0-7 (a regression head's range). With ``readout`` set
    (:data:`emonet.hq.readouts.READOUTS`) it answers like a prompted VLM instead: those scores
    read out by the protocol (:func:`emonet.hq.readouts.read_out`)."""

    name: str
    noise_sd: float
    offset: float = 0.0
    group: str = "Synthetic Models"
    readout: str | None = None

    def __post_init__(self):
        if self.readout is not None and self.readout not in readouts.READOUTS:
            raise ValueError(
                f"{self.name}: unknown readout {self.readout!r}; choose one of {readouts.READOUTS}"
            )


def simulated_vlms(noise_sd: float) -> tuple[SyntheticModel, SyntheticModel]:
    """Two simulated VLM annotators that perceive with noise SD ``noise_sd`` (each its own draws)
    and answer by the zero-shot and by the multi-shot protocol; named so that the authors' group
    rules place them (``... ZS``, ``... MS``)."""
    return tuple(
        SyntheticModel(name, noise_sd, group=annotator_group(name, False), readout=readout)
        for name, readout in (
            ("Simulated VLM ZS", readouts.ZERO_SHOT),
            ("Simulated VLM MS", readouts.MULTI_SHOT),
        )
    )


def model_scores(perceived, model: SyntheticModel, rng: np.random.Generator) -> np.ndarray:
    """``(images, 40)`` scores of a :class:`SyntheticModel` for ``perceived`` ``(images, 40)``."""
    p = np.asarray(perceived, dtype=float)
    scores = np.clip(p + model.offset + rng.normal(0.0, model.noise_sd, p.shape), 0.0, 7.0)
    return scores if model.readout is None else readouts.read_out(scores, model.readout)


def simulate_panel(
    truth,
    images,
    model: RaterModel = RaterModel(),
    seed: int = 42,
    baseline: bool = True,
    models=(),
) -> Panel:
    """A simulated panel of ``truth`` ``(images, 40)``: raters ``human-1`` ... under ``model``,
    a Random Baseline that marks as many categories per image as the raters do (``baseline``),
    and the :class:`SyntheticModel` annotators ``models``, all observing the same perceived
    images. One seed fixes everything; adding a model changes no other annotator's ratings, and
    panels with the same seed that differ in one setting of ``model`` share their random
    numbers."""
    truth = np.asarray(truth, dtype=float)
    seeing, rating, guessing = np.random.default_rng(keyed_seed(seed, "panel")).spawn(3)
    perceived = perceive(truth, model.shared_sd, seeing)
    ratings = [*rate(perceived, model, rating)]
    names = [f"human-{k + 1}" for k in range(model.n_raters)]
    groups = [GROUPS[0]] * model.n_raters
    if baseline:
        marked = (np.nan_to_num(ratings) > 0).sum(-1)[~np.isnan(ratings).all(-1)].mean()
        ratings.append(random_baseline(len(truth), marked / taxonomy.N_EMOTIONS, guessing))
        names.append(RANDOM_BASELINE)
        groups.append(annotator_group(RANDOM_BASELINE, False))
    for m in models:
        model_rng = np.random.default_rng(keyed_seed(seed, m.name))
        ratings.append(model_scores(perceived, m, model_rng))
        names.append(m.name)
        groups.append(m.group)
    human = np.arange(len(names)) < model.n_raters
    return Panel(
        np.array(ratings), tuple(names), human, tuple(groups), tuple(str(i) for i in images)
    )
