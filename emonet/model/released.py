"""The authors' released heads (``laion/Empathic-Insight-Face-Small`` / ``-Large``): their file
layout, where the files come from, their neutral means, and their scores on images.

Released format: one file per head, ``model_<snake>_best.pth``
(:func:`emonet.data.taxonomy.head_name`), holding the state dict of a module whose
``nn.Sequential`` sits under ``layers`` (Linear, ReLU, Dropout, ...): keys ``layers.0.weight``,
``layers.0.bias``, ``layers.3.*``, ``layers.6.*`` (``layers.9.*`` for Large), weights
``(out, in)`` as in ``nn.Linear``.

* :func:`load_released` reads the 40 files into one :class:`emonet.model.heads.Heads` with
  ``torch.load(weights_only=True)`` (no unpickling of code); :func:`save_released` writes that
  layout (tests, benchmark).
* :func:`locate_heads`: a local folder, or a Hugging Face model id fetched at its revision and
  verified (``*.pth`` only; :func:`head_files` records each file's size and SHA-256).
* :func:`neutral_means`: the released model's neutral mean per category head, recovered from the
  authors' own outputs (``ferd.jsonl``: ``mean_subtracted = raw - neutral_mean[head]``).
* :func:`score_embeddings`: raw, mean-subtracted and softmax scores of released heads on SigLIP2
  embeddings.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from torch import nn

from emonet.data import snapshots, taxonomy
from emonet.data.checksums import file_record
from emonet.data.registry import DataError
from emonet.io import atomic_path
from emonet.model import heads
from emonet.model.heads import SHAPES, CheckpointError, Heads
from emonet.model.scoring import frames


class ReleasedHead(nn.Module):
    """One head in the authors' layout: its ``nn.Sequential`` (Linear, ReLU, Dropout, ...,
    Linear) sits under ``layers``. ``forward(x (n, D)) -> (n, 1)``."""

    def __init__(self, shape: str, input_dim: int = 1152, dropout: float = 0.1):
        super().__init__()
        widths = (input_dim, *SHAPES[shape], 1)
        parts: list[nn.Module] = []
        for fan_in, fan_out in zip(widths[:-1], widths[1:]):
            parts += [nn.Linear(fan_in, fan_out), nn.ReLU(), nn.Dropout(dropout)]
        self.layers = nn.Sequential(*parts[:-2])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.layers(x)


def _unwrap(obj, path: Path) -> dict:
    """The state dict inside a loaded ``.pth`` (plain, or under ``state_dict`` /
    ``model_state_dict``)."""
    if isinstance(obj, dict):
        for key in ("state_dict", "model_state_dict"):
            if isinstance(obj.get(key), dict):
                obj = obj[key]
    if not isinstance(obj, dict) or not all(isinstance(v, torch.Tensor) for v in obj.values()):
        raise CheckpointError(f"{path}: not a state dict of tensors (got {type(obj).__name__})")
    return obj


def _layers_of(state: dict, path: Path) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """``[(weight (out, in), bias (out,)), ...]`` of the Linear layers under ``layers.*``."""
    keys = sorted({int(k.split(".")[1]) for k in state if k.startswith("layers.")})
    extra = [k for k in state if not k.startswith("layers.")]
    if extra or not keys:
        raise CheckpointError(
            f"{path}: expected keys 'layers.<i>.weight/bias' (nn.Sequential "
            f"under 'layers'), found {sorted(state)[:6]}"
        )
    layers = []
    for i in keys:
        w, b = state.get(f"layers.{i}.weight"), state.get(f"layers.{i}.bias")
        if w is None or b is None or w.ndim != 2 or b.shape != (w.shape[0],):
            raise CheckpointError(
                f"{path}: layer layers.{i} is not a Linear layer "
                f"(weight {None if w is None else tuple(w.shape)}, "
                f"bias {None if b is None else tuple(b.shape)})"
            )
        layers.append((w, b))
    for (w1, _), (w2, _), i in zip(layers, layers[1:], keys[1:]):
        if w2.shape[1] != w1.shape[0]:
            raise CheckpointError(
                f"{path}: layers.{i} takes {w2.shape[1]} inputs but the "
                f"previous layer gives {w1.shape[0]}"
            )
    return layers


def shape_of(widths: tuple[int, ...]) -> str:
    """Name of the head shape with these widths ``(D, ..., 1)``."""
    for name, hidden in SHAPES.items():
        if tuple(widths[1:]) == (*hidden, 1):
            return name
    raise CheckpointError(f"layer widths {widths} match no known head shape ({SHAPES})")


def released_files(folder) -> list[Path]:
    """The 40 ``model_<snake>_best.pth`` files of the released layout in ``folder`` (canonical
    order); raises :class:`CheckpointError` naming the missing ones."""
    folder = Path(folder)
    files = [folder / f"{taxonomy.head_name(e)}.pth" for e in taxonomy.EMOTIONS]
    missing = [f.name for f in files if not f.is_file()]
    if missing:
        raise CheckpointError(
            f"{folder}: {len(missing)} of the 40 head files are missing, e.g. {missing[:3]}"
        )
    return files


def load_released(folder, dropout: float = 0.1) -> Heads:
    """The authors' 40 per-emotion files in ``folder`` as one :class:`Heads` (canonical order).

    Every ``model_<snake>_best.pth`` of the 40 categories must be present and all must have the
    same shape; files of the 4 extra dimensions are not category heads and are ignored. Loaded
    with ``torch.load(weights_only=True)``.
    """
    per_head, widths = [], None
    for path in released_files(folder):
        try:
            state = torch.load(path, map_location="cpu", weights_only=True)
        except Exception as err:  # corrupt zip, pickle with code, truncated file
            raise CheckpointError(
                f"{path}: cannot be read as a weights-only torch file "
                f"({type(err).__name__}: {str(err).splitlines()[0]})"
            ) from None
        layers = _layers_of(_unwrap(state, path), path)
        these = (layers[0][0].shape[1], *(w.shape[0] for w, _ in layers))
        if widths is None:
            widths = these
        elif these != widths:
            raise CheckpointError(
                f"{path}: layer widths {these} differ from the other heads' {widths}"
            )
        per_head.append(layers)
    heads = Heads(shape_of(widths), widths[0], dropout)
    with torch.no_grad():
        for layer, b in enumerate(heads.biases):
            heads.layer_weight(layer).copy_(torch.stack([h[layer][0].T for h in per_head]))
            b.copy_(torch.stack([h[layer][1] for h in per_head]))
    return heads


def save_released(heads: Heads, folder) -> list[Path]:
    """Write ``heads`` as 40 files in the authors' layout (``model_<snake>_best.pth``)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i, emotion in enumerate(taxonomy.EMOTIONS):
        path = folder / f"{taxonomy.head_name(emotion)}.pth"
        with atomic_path(path) as tmp:
            torch.save(heads.sequential_state(i), tmp)
        paths.append(path)
    return paths


#: The released models on the Hugging Face hub, by head shape.
HUB_IDS = {
    "small": "laion/Empathic-Insight-Face-Small",
    "large": "laion/Empathic-Insight-Face-Large",
}


class ReleasedHeadsError(ValueError):
    """The released heads cannot be found, fetched or used."""


def locate_heads(source: str | os.PathLike) -> tuple[Path, snapshots.Snapshot | None]:
    """Folder holding the released head files, and the verified hub snapshot it is (None for a
    local folder): ``source`` itself when it is a folder, else a hub model id
    (``owner/name@revision`` pins a commit) fetched (``*.pth`` only) into the Hugging Face cache
    and verified (:mod:`emonet.data.snapshots`). Offline (``HF_HUB_OFFLINE=1``) only what the
    cache holds is used."""
    path = Path(source).expanduser()
    if path.is_dir():
        return path, None
    try:
        ref = snapshots.parse(source, "model")
    except DataError:
        raise ReleasedHeadsError(
            f"released heads {str(source)!r}: no such folder, and not a "
            "Hugging Face model id of the form owner/name[@revision]"
        ) from None
    if ref is None:  # it exists but is not a folder
        raise ReleasedHeadsError(
            f"released heads {str(source)!r} is a file: give the folder that "
            "holds the 40 model_<emotion>_best.pth files"
        )
    try:
        snapshot = snapshots.fetch(ref, allow_patterns=["*.pth"])
    except DataError as err:
        raise ReleasedHeadsError(
            f"{err}. Or download the 40 model_<emotion>_best.pth files once and pass their folder."
        ) from None
    return snapshot.folder, snapshot


def head_files(folder: str | os.PathLike) -> pd.DataFrame:
    """``name, bytes, sha256, git_blob`` of the 40 category head files in ``folder`` (what a result
    was computed from); raises :class:`emonet.model.heads.CheckpointError` when one is missing."""

    return pd.DataFrame([file_record(f) for f in released_files(folder)])


def neutral_means(outputs: pd.DataFrame, tolerance: float = 1e-4) -> pd.Series:
    """The released model's neutral mean per category (canonical order) from its outputs in the
    ``ferd.jsonl`` schema (:func:`emonet.data.loaders.load_model_outputs`):
    ``raw - mean_subtracted``, which must be one constant per head (within ``tolerance``)."""
    cats = outputs[outputs["is_category"]]
    offset = (cats["raw"] - cats["mean_subtracted"]).groupby(cats["emotion"])
    spread = offset.max() - offset.min()
    if (spread > tolerance).any():
        worst = spread.idxmax()
        raise ReleasedHeadsError(
            f"raw - mean_subtracted varies by {spread[worst]:.2g} within head "
            f"{worst!r}: the outputs were not centred by one constant"
        )
    means = offset.median().reindex(list(taxonomy.EMOTIONS))
    if means.isna().any():
        raise ReleasedHeadsError(f"the outputs lack heads {list(means.index[means.isna()])}")
    return means.rename("neutral_mean")


def score_embeddings(
    released: heads.Heads, embeddings: np.ndarray, neutral: pd.Series, index
) -> dict[str, pd.DataFrame]:
    """``{"raw", "mean_subtracted", "softmax"}`` images x 40 frames (index ``index``) of the
    released heads on embeddings ``(n, D)``; ``neutral``: per-category neutral means."""
    if released.input_dim != np.shape(embeddings)[1]:
        raise ReleasedHeadsError(
            f"the released heads take {released.input_dim}-d embeddings, "
            f"got {np.shape(embeddings)[1]}-d (another encoder?)"
        )
    values = heads.scores(released, embeddings, neutral.reindex(list(taxonomy.EMOTIONS)))
    return frames(values, index)
