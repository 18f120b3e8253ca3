"""Score images with a trained checkpoint, and the prediction tables chapter 06 reads.

* :func:`score_images`: image paths (or encoded bytes) -> the checkpoint's encoder -> heads ->
  ``{"raw", "mean_subtracted", "softmax"}``, each an images x 40 DataFrame in canonical order.
  Used by ``emonet predict`` and by chapter 06 for any image set.
* :func:`write_predictions` / :func:`load_predictions`: the wide parquet table chapter 05 writes
  for the HQ-role images (``artifacts/<profile>/predictions/hq.parquet``): ``id``, ``path``
  (relative to the artifacts folder when the image lies in it), then
  ``<field>:<emotion>`` for the three fields (:data:`FIELDS`) and 40 emotions.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from emonet.data import taxonomy
from emonet.io import atomic_path
from emonet.model.encoder import (
    Encoder,
    EncoderError,
    EncoderSpec,
    image_bytes,
    open_image,
)
from emonet.model.heads import Checkpoint, CheckpointError, load_checkpoint

#: Shortest image side (pixels) :func:`score_images` accepts: smaller is no face crop.
MIN_SIDE_PX = 32
#: The three readings of the heads, as in the authors' released outputs.
FIELDS = ("raw", "mean_subtracted", "softmax")


#: Where chapter 05 puts the chosen model and the HQ-role predictions (under artifacts/<profile>).
CHECKPOINT_PATH = Path("models") / "empathic_insight_face.safetensors"


HQ_PREDICTIONS_PATH = Path("predictions") / "hq.parquet"


def columns(field: str) -> list[str]:
    """The 40 column names of ``field`` in a predictions table."""
    if field not in FIELDS:
        raise ValueError(f"unknown field {field!r}; choose one of {FIELDS}")
    return [f"{field}:{e}" for e in taxonomy.EMOTIONS]


def encoder_for(
    checkpoint: Checkpoint,
    *,
    device: str | None = None,
    batch_size: int = 32,
    cache_dir=None,
    progress: bool = False,
) -> Encoder:
    """The encoder a checkpoint was trained on, rebuilt from its metadata and checked against
    the recorded identity (weights fingerprint, embedding dimension)."""
    recorded = checkpoint.encoder
    encoder = Encoder(
        EncoderSpec.from_dict(recorded),
        device=device,
        batch_size=batch_size,
        cache_dir=cache_dir,
        progress=progress,
    )
    for key in ("weights", "dim"):
        if key in recorded and recorded[key] != encoder.identity[key]:
            raise EncoderError(
                f"the rebuilt encoder's {key} ({encoder.identity[key]}) differs "
                f"from the checkpoint's ({recorded[key]}): the heads were "
                "trained on other embeddings"
            )
    if encoder.dim != checkpoint.heads.input_dim:
        raise CheckpointError(
            f"encoder gives {encoder.dim}-d embeddings, the heads expect "
            f"{checkpoint.heads.input_dim}"
        )
    return encoder


def frames(values: dict[str, np.ndarray], index) -> dict[str, pd.DataFrame]:
    """``{field: images x 40 DataFrame}`` (columns: canonical emotions)."""
    return {
        f: pd.DataFrame(
            values[f],
            index=pd.Index(list(index), name="image"),
            columns=pd.Index(taxonomy.EMOTIONS, name="emotion"),
        )
        for f in FIELDS
    }


def score_images(
    images,
    checkpoint,
    *,
    device: str | None = None,
    batch_size: int = 32,
    cache_dir=None,
    progress: bool = False,
) -> dict[str, pd.DataFrame]:
    """Scores of ``images`` (paths or encoded bytes) under ``checkpoint`` (a path to a
    ``.safetensors`` file or a loaded :class:`~emonet.model.heads.Checkpoint`): ``{"raw",
    "mean_subtracted", "softmax"}``, each images x 40 (index: the paths as given). Every image
    must decode, hold no more pixels than Pillow allows, and measure at least
    :data:`MIN_SIDE_PX` on its shorter side; otherwise :class:`EncoderError` names it."""
    if not isinstance(checkpoint, Checkpoint):
        checkpoint = load_checkpoint(checkpoint)
    for k, image in enumerate(images):  # refuse what cannot be a face before loading the encoder
        open_image(
            image_bytes(image),
            str(image) if not isinstance(image, bytes) else f"#{k}",
            min_side=MIN_SIDE_PX,
        )
    encoder = encoder_for(
        checkpoint, device=device, batch_size=batch_size, cache_dir=cache_dir, progress=progress
    )
    embeddings = encoder.embed(list(images))
    names = [
        str(i) if not isinstance(i, (bytes, bytearray)) else f"#{k}" for k, i in enumerate(images)
    ]
    return frames(checkpoint.scores(embeddings), names)


def top_emotions(row: pd.Series, k: int = 5) -> pd.Series:
    """The ``k`` highest-scoring emotions of one image (descending; ties in canonical order)."""
    order = np.argsort(-row.to_numpy(), kind="stable")[:k]
    return row.iloc[order]


def write_predictions(path, ids, paths, values: dict[str, np.ndarray]) -> pd.DataFrame:
    """Write the wide predictions table (parquet, atomically) and return it."""
    table = pd.DataFrame({"id": list(ids), "path": list(paths)})
    blocks = [pd.DataFrame(np.asarray(values[f], float), columns=columns(f)) for f in FIELDS]
    table = pd.concat([table, *blocks], axis=1)
    with atomic_path(Path(path)) as tmp:
        table.to_parquet(tmp, index=False)
    return table


def load_predictions(path, field: str = "mean_subtracted") -> pd.DataFrame:
    """One field of a predictions table as an images x 40 DataFrame (index ``id``, columns the
    canonical emotions). ``path`` is the parquet file or an artifacts folder (then
    :data:`HQ_PREDICTIONS_PATH` inside it)."""
    path = Path(path)
    if path.is_dir():
        path = path / HQ_PREDICTIONS_PATH
    if not path.is_file():
        raise FileNotFoundError(f"predictions table {path} is missing (chapter 05 writes it)")
    table = pd.read_parquet(path)
    wanted = columns(field)
    missing = [c for c in ["id", *wanted] if c not in table]
    if missing:
        raise ValueError(f"{path}: missing column(s) {missing[:3]} ({len(missing)} in all)")
    out = table.set_index("id")[wanted]
    out.columns = pd.Index(taxonomy.EMOTIONS, name="emotion")
    return out
