"""Training the 40 heads: pre-training on weak labels (Big), fine-tuning on expert yes/no votes
(Binary) with the unasked categories anchored, early stopping on a validation split, the
ablation's recipes (:func:`train`, :func:`finetune`) and the neutral means.

The recipe and the measurements behind each choice: ``docs/training-recipe.md``; the data each
profile trains on: ``docs/profiles.md``; what chapter 05 writes for later chapters:
``docs/artifacts.md``.
"""

from __future__ import annotations

import copy
import time
from dataclasses import asdict, dataclass, field

import numpy as np
import pandas as pd
import torch

from emonet.binary import protocol
from emonet.data import taxonomy
from emonet.model.heads import Heads, predict

RECIPES = ("pretrain", "finetune", "both")


MODEL_NAME = "empathic_insight_face"


class TrainingDataError(ValueError):
    """Training data are malformed (the message names the source, row and field)."""


def split_ids(
    ids, val_fraction: float, seed: int, test_fraction: float = 0.0
) -> tuple[np.ndarray, np.ndarray]:
    """Boolean masks ``(val, test)`` (aligned with ``ids``): the validation images early stopping
    judges by, a seeded share ``val_fraction``, and the test images nothing in training sees, a
    share ``test_fraction`` (none at 0), both chosen from the sorted ids with one permutation
    (independent of the input order; disjoint)."""
    ids = np.asarray(ids).astype(str)
    if not 0.0 < val_fraction < 1.0 or not 0.0 <= test_fraction < 1.0 - val_fraction:
        raise ValueError(
            f"val_fraction must lie in (0, 1) and test_fraction in [0, 1 - "
            f"val_fraction), got {val_fraction} and {test_fraction}"
        )
    order = np.sort(ids)[np.random.default_rng(seed).permutation(len(ids))]
    n_test = int(round(test_fraction * len(ids))) if test_fraction else 0
    n_val = max(1, int(round(val_fraction * len(ids))))
    test, val = set(order[:n_test]), set(order[n_test : n_test + n_val])
    return np.array([i in val for i in ids]), np.array([i in test for i in ids])


def yes_value(weak: np.ndarray) -> float:
    """Intensity a "yes" vote stands for: the mean over images of their highest weak label."""
    return float(np.asarray(weak, float).max(axis=1).mean())


def vote_targets(labels: pd.DataFrame, image_ids, yes: float) -> tuple[np.ndarray, np.ndarray]:
    """Regression targets and weights ``(n_images, 40)`` from yes/no votes.

    ``labels``: the collected votes in the :func:`emonet.data.loaders.load_binary` schema (``image,
    value, emotion, line``); ``image_ids`` fixes the row order (images without votes get zero
    weight). Target ``yes * n_yes / n``, weight ``n`` (see the module docstring).
    """
    counts, images = protocol.item_counts(protocol.items(labels))
    position = {str(i): k for k, i in enumerate(image_ids)}
    unknown = [i for i in images if str(i) not in position]
    if unknown:
        raise TrainingDataError(
            f"{len(unknown)} voted image(s) are not among the images to "
            f"train on, e.g. {unknown[:3]}"
        )
    rows = np.array([position[str(i)] for i in images], int)
    n = counts.sum(axis=-1)
    target = np.zeros((len(position), taxonomy.N_EMOTIONS))
    weight = np.zeros_like(target)
    target[rows] = np.where(n > 0, yes * counts[..., 1] / np.maximum(n, 1), 0.0)
    weight[rows] = n
    return target, weight


def neutral_means(heads: Heads, embeddings: np.ndarray) -> np.ndarray:
    """Mean raw score per head ``(40,)`` over neutral images' embeddings ``(n, D)``."""
    return predict(heads, embeddings).mean(axis=0)


PRECISIONS = ("float32", "bfloat16")


@dataclass
class Settings:
    """Training settings (saved with the checkpoint)."""

    shape: str = "large"
    dropout: float = 0.1
    batch_size: int = 64
    lr_pretrain: float = 1e-3
    lr_finetune: float = 3e-4
    weight_decay: float = 1e-4
    max_epochs_pretrain: int = 60
    max_epochs_finetune: int = 60
    patience: int = 8
    seed: int = 42
    standardise: bool = True
    anchor_weight: float = 1.0
    precision: str = "float32"

    def __post_init__(self):
        if self.precision not in PRECISIONS:
            raise ValueError(f"unknown precision {self.precision!r}; choose one of {PRECISIONS}")
        if self.anchor_weight < 0:
            raise ValueError(f"anchor_weight must be >= 0, got {self.anchor_weight}")

    def to_dict(self) -> dict:
        return asdict(self)


def settings_table(settings: Settings, **extra) -> pd.DataFrame:
    """One row ``setting, value`` (the value as text) per field of ``settings``, then per
    ``extra`` item (what else a run records, e.g. the input dimension)."""
    return pd.DataFrame(
        [(name, str(value)) for name, value in {**settings.to_dict(), **extra}.items()],
        columns=["setting", "value"],
    )


@dataclass
class Stage:
    """One role's data for training: embeddings ``(n, D)``, targets and weights ``(n, 40)``,
    the validation mask ``(n,)`` (early stopping) and the test mask ``(n,)`` (images no part of
    training sees; None: none)."""

    x: np.ndarray
    target: np.ndarray
    weight: np.ndarray
    val: np.ndarray
    test: np.ndarray | None = None

    @property
    def train(self) -> np.ndarray:
        """``(n,)`` bool: the images trained on (neither validation nor test)."""
        return ~self.val if self.test is None else ~(self.val | self.test)

    def part(self, val: bool):
        keep = self.val if val else self.train
        return (
            torch.as_tensor(self.x[keep], dtype=torch.float32),
            torch.as_tensor(self.target[keep], dtype=torch.float32),
            torch.as_tensor(self.weight[keep], dtype=torch.float32),
        )


@dataclass
class Result:
    """A trained model and its learning curves (``stage, epoch, train_loss, val_loss,
    seconds``; ``best`` marks the epoch whose weights were kept)."""

    recipe: str
    heads: Heads
    history: pd.DataFrame
    seconds: float
    extra: dict = field(default_factory=dict)


def weighted_mse(pred: torch.Tensor, target: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
    """``sum(w (pred - target)^2) / sum(w)`` over all images and heads."""
    return (weight * (pred - target) ** 2).sum() / weight.sum().clamp_min(1e-12)


def _fit(
    heads: Heads, stage: Stage, lr: float, settings: Settings, max_epochs: int, name: str, seed: int
) -> pd.DataFrame:
    """Train ``heads`` in place with early stopping; restore the best epoch's weights. Epoch 0
    (the starting weights, validation loss only) competes, so a stage that never improves the
    validation loss leaves the weights as they were."""
    x, y, w = stage.part(val=False)
    xv, yv, wv = stage.part(val=True)
    # One fused kernel per step: the default for-loop AdamW makes ~10 passes over every
    # parameter tensor, which dominates a step of the 40 stacked heads (benchmarks/bench_heads).
    opt = torch.optim.AdamW(
        heads.parameters(), lr=lr, weight_decay=settings.weight_decay, fused=True
    )
    dtype = getattr(torch, settings.precision)
    gen = torch.Generator().manual_seed(seed)

    def validation_loss() -> float:  # always in fp32: early stopping judges the fp32 model
        heads.eval()
        with torch.no_grad():
            return float(weighted_mse(heads(xv), yv, wv))

    best = validation_loss()
    best_state, since, rows = copy.deepcopy(heads.state_dict()), 0, [(name, 0, np.nan, best, 0.0)]
    for epoch in range(1, max_epochs + 1):
        tic = time.perf_counter()
        heads.train()
        order = torch.randperm(len(x), generator=gen)
        total, mass = 0.0, 0.0
        for start in range(0, len(x), settings.batch_size):
            idx = order[start : start + settings.batch_size]
            batch_mass = float(w[idx].sum())
            if batch_mass == 0:
                continue
            loss = weighted_mse(heads(x[idx], dtype), y[idx], w[idx])
            opt.zero_grad(set_to_none=False)  # the heads keep their gradient buffers
            loss.backward()
            opt.step()
            total += float(loss.detach()) * batch_mass
            mass += batch_mass
        val = validation_loss()
        rows.append((name, epoch, total / max(mass, 1e-12), val, time.perf_counter() - tic))
        if val < best - 1e-6:
            best, best_state, since = val, copy.deepcopy(heads.state_dict()), 0
        else:
            since += 1
            if since >= settings.patience:
                break
    heads.load_state_dict(best_state)
    history = pd.DataFrame(rows, columns=["stage", "epoch", "train_loss", "val_loss", "seconds"])
    history["best"] = history["val_loss"] == best
    return history


def anchored(votes: Stage, heads: Heads, anchor_weight: float) -> Stage:
    """The Binary stage for fine-tuning pre-trained ``heads``: asked categories keep their vote
    targets and weights; every unasked category of a training image gets the heads' own
    prediction (eval mode) as target with weight ``anchor_weight`` (see the module docstring).
    Validation images keep their votes alone: the anchor is a prior, not evidence, so early
    stopping judges the fine-tuning by the held-out votes."""
    if anchor_weight == 0:
        return votes
    keep = (votes.weight > 0) | ~votes.train[:, None]  # validation, test: the votes alone
    prior = predict(heads, votes.x)
    return Stage(
        votes.x,
        np.where(keep, votes.target, prior),
        np.where(keep, votes.weight, anchor_weight),
        votes.val,
        votes.test,
    )


def _check_data(recipe: str, big: Stage | None, votes: Stage | None) -> None:
    if recipe not in RECIPES:
        raise ValueError(f"unknown recipe {recipe!r}; choose one of {RECIPES}")
    if recipe in ("pretrain", "both") and big is None:
        raise TrainingDataError(f"recipe {recipe!r} needs Big (weak-label) data")
    if recipe in ("finetune", "both") and votes is None:
        raise TrainingDataError(f"recipe {recipe!r} needs Binary (vote) data")


def train(
    recipe: str, input_dim: int, big: Stage | None, votes: Stage | None, settings: Settings
) -> Result:
    """Train 40 heads with ``recipe`` (see :data:`RECIPES`) from a seeded initialisation;
    ``"both"`` is :func:`finetune` of the ``"pretrain"`` result."""
    _check_data(recipe, big, votes)
    if recipe == "both":
        return finetune(train("pretrain", input_dim, big, None, settings), votes, settings)
    first = big if recipe == "pretrain" else votes
    torch.manual_seed(settings.seed)
    heads = Heads(settings.shape, input_dim, settings.dropout, seed=settings.seed)
    if settings.standardise:
        heads.standardise(first.x[first.train])
    tic = time.perf_counter()
    if recipe == "pretrain":
        history = _fit(
            heads,
            big,
            settings.lr_pretrain,
            settings,
            settings.max_epochs_pretrain,
            "pretrain",
            settings.seed,
        )
    else:
        history = _fit(
            heads,
            votes,
            settings.lr_pretrain,
            settings,
            settings.max_epochs_finetune,
            "finetune",
            settings.seed + 1,
        )
    history.insert(0, "recipe", recipe)
    return Result(recipe, heads, history, time.perf_counter() - tic)


def finetune(pretrained: Result, votes: Stage, settings: Settings, recipe: str = "both") -> Result:
    """Fine-tune a copy of a ``"pretrain"`` result on the anchored Binary stage (:func:`anchored`
    with ``settings.anchor_weight``) at ``lr_finetune``. ``seconds`` and ``history`` cover both
    stages; ``extra["finetune_seconds"]`` the second alone."""
    if pretrained.recipe != "pretrain":
        raise ValueError(f"finetune continues a 'pretrain' result, got {pretrained.recipe!r}")
    heads = copy.deepcopy(pretrained.heads)
    tic = time.perf_counter()
    history = _fit(
        heads,
        anchored(votes, heads, settings.anchor_weight),
        settings.lr_finetune,
        settings,
        settings.max_epochs_finetune,
        "finetune",
        settings.seed + 1,
    )
    seconds = time.perf_counter() - tic
    history.insert(0, "recipe", recipe)
    history = pd.concat([pretrained.history.assign(recipe=recipe), history], ignore_index=True)
    return Result(
        recipe, heads, history, pretrained.seconds + seconds, {"finetune_seconds": seconds}
    )
