"""Image embeddings from a SigLIP2 encoder, batched, with a content-addressed cache.

Two encoders behind one class, :class:`Encoder`:

* **hub** (full profile): a pretrained checkpoint such as ``google/siglip2-so400m-patch16-384``
  (the paper's encoder; its fixed-resolution SigLIP2 variant loads as transformers'
  ``SiglipModel``) with its own image processor; embeddings are ``get_image_features``'s pooled
  output (1152-d for so400m). A hub id is fetched at its revision (``owner/name@revision``) and
  verified (:mod:`emonet.data.snapshots`); the weights fingerprint is the commit. Never
  ``trust_remote_code``; offline it reads only the cache.
* **untrained** (local profile): the same architecture built from a small config with random,
  seeded weights (:func:`untrained_config`). It stands in for the real encoder where no weights
  can be downloaded; every result that uses it is labelled **"untrained encoder"**
  (:data:`UNTRAINED_LABEL`). A fingerprint of its weights (:attr:`Encoder.identity`) makes any
  drift in the seeded initialisation visible.

Cache: ``<cache_dir>/<identity key>/shard-*.npz``, one file per embedded batch, each holding the
images' SHA-256 (of the file bytes) and their float32 embeddings ``(n, dim)``. Files are written
atomically, so an interrupted run keeps every finished batch and a re-run (or another chapter,
or another process of :func:`embed_sharded`) embeds only what is missing. The key covers the
model identity, the image processor's settings and the dtype, so a different encoder never
reads another's embeddings.
"""

from __future__ import annotations

import io
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from tqdm import tqdm

from emonet.data import snapshots
from emonet.data.checksums import sha256_bytes
from emonet.data.registry import DataError
from emonet.io import atomic_path

FULL_MODEL_ID = "google/siglip2-so400m-patch16-384"


#: Label attached to every result computed from the random-weight stand-in encoder.
UNTRAINED_LABEL = "untrained encoder"


_DTYPES = ("float32", "float16", "bfloat16")


#: Architecture of the local stand-in: a SigLIP vision tower (the fixed-resolution SigLIP2
#: layout) sized for a 2-core CPU, and a minimal text tower (``get_image_features`` lives on
#: the joint model). With random weights, attention pooling over many patches averages away
#: where things are in the face (a linear probe of the pooled embedding recovered a mean
#: Spearman rho of about 0.06 with the offline faces' ground truth at 128 px / 16 px patches);
#: one 32 px patch keeps a random projection of the whole face (about 0.27, raw pixels 0.34).
UNTRAINED_DEFAULTS = {
    "image_size": 32,
    "patch_size": 32,
    "hidden_size": 768,
    "intermediate_size": 1536,
    "num_hidden_layers": 1,
    "num_attention_heads": 8,
}


def _quiet_imports():
    """Import transformers (and the hub client) without tqdm's "IProgress not found" warning
    (:func:`emonet.data.snapshots.import_tqdm`)."""
    snapshots.import_tqdm()
    import transformers  # noqa: F401


class EncoderError(ValueError):
    """An encoder cannot be built, or an image cannot be embedded."""


def untrained_config(**vision):
    """A small ``SiglipConfig``: :data:`UNTRAINED_DEFAULTS` updated with ``vision``."""
    _quiet_imports()
    from transformers import SiglipConfig

    unknown = sorted(set(vision) - set(UNTRAINED_DEFAULTS))
    if unknown:
        raise EncoderError(
            f"unknown encoder setting(s) {unknown}; known: {sorted(UNTRAINED_DEFAULTS)}"
        )
    text = {
        "vocab_size": 64,
        "hidden_size": 32,
        "intermediate_size": 64,
        "num_hidden_layers": 1,
        "num_attention_heads": 2,
        "max_position_embeddings": 16,
        "pad_token_id": 1,
        "bos_token_id": 2,
        "eos_token_id": 3,
    }
    return SiglipConfig(vision_config={**UNTRAINED_DEFAULTS, **vision}, text_config=text)


def image_bytes(image) -> bytes:
    """The bytes an image is identified by: a file's content (path), or the bytes themselves."""
    if isinstance(image, (bytes, bytearray)):
        return bytes(image)
    path = Path(image)
    try:
        return path.read_bytes()
    except OSError as err:
        raise EncoderError(f"cannot read image {path}: {err.strerror or err}") from None


def content_hash(image) -> str:
    """SHA-256 (hex) of an image's bytes (see :func:`image_bytes`)."""
    return sha256_bytes(image_bytes(image))


def open_image(blob: bytes, name: str, min_side: int = 1):
    """Decode an image as RGB, refusing what is not an image, a decompression bomb (more pixels
    than Pillow's ``MAX_IMAGE_PIXELS``, read from the header before decoding) and images with a
    side shorter than ``min_side`` pixels; every refusal is an :class:`EncoderError` naming the
    image."""
    import warnings

    from PIL import Image, UnidentifiedImageError

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(blob))
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise EncoderError(
            f"image {name} is too large to decode safely (more than "
            f"{Image.MAX_IMAGE_PIXELS:,} pixels in its header: a possible "
            "decompression bomb); refusing it"
        ) from None
    except (UnidentifiedImageError, OSError) as err:
        raise EncoderError(f"cannot decode image {name}: {err}") from None
    if min(image.size) < min_side:
        raise EncoderError(
            f"image {name} is {image.size[0]}x{image.size[1]} pixels; at least "
            f"{min_side}x{min_side} are needed (a face crop)"
        )
    try:
        return image.convert("RGB")
    except OSError as err:  # truncated data behind a valid header
        raise EncoderError(f"cannot decode image {name}: {err}") from None


@dataclass(frozen=True)
class EncoderSpec:
    """What identifies an encoder: ``kind`` ("hub" or "untrained"), ``model_id`` (hub id or
    folder; for untrained, a descriptive name), ``config`` (untrained: the vision settings),
    ``seed`` (untrained), ``dtype``."""

    kind: str
    model_id: str
    config: dict | None = None
    seed: int | None = None
    dtype: str = "float32"

    def to_dict(self) -> dict:
        return {
            "kind": self.kind,
            "model_id": self.model_id,
            "config": self.config,
            "seed": self.seed,
            "dtype": self.dtype,
        }

    @classmethod
    def from_dict(cls, d: dict) -> EncoderSpec:
        return cls(
            d["kind"], d["model_id"], d.get("config"), d.get("seed"), d.get("dtype", "float32")
        )

    @property
    def label(self) -> str:
        """Human-readable name for captions (``"untrained encoder"`` for the stand-in)."""
        return UNTRAINED_LABEL if self.kind == "untrained" else snapshots.short(self.model_id)


def untrained(seed: int = 42, **vision) -> EncoderSpec:
    """Spec of the local stand-in encoder (random weights drawn with ``seed``)."""
    config = {**UNTRAINED_DEFAULTS, **vision}
    untrained_config(**vision)  # validates the names
    return EncoderSpec("untrained", "siglip-untrained", config, int(seed), "float32")


def hub(model_id: str = FULL_MODEL_ID, dtype: str = "float32") -> EncoderSpec:
    """Spec of a pretrained SigLIP2 checkpoint (hub id or local folder)."""
    return EncoderSpec("hub", str(model_id), None, None, dtype)


def from_id(encoder_id: str, seed: int, dtype: str = "float32") -> EncoderSpec:
    """Spec named by a notebook parameter: ``"untrained"`` for the local stand-in (seeded with
    ``seed``, always float32), anything else a SigLIP2 hub id or folder run in ``dtype``."""
    return untrained(seed) if encoder_id == "untrained" else hub(encoder_id, dtype)


class Encoder:
    """A SigLIP2 image encoder with its image processor and an embedding cache.

    ``embed(images)`` returns float32 embeddings ``(len(images), dim)`` in input order; images
    are paths or encoded image bytes (PNG/JPEG). ``cache_dir=None`` disables the cache.
    """

    def __init__(
        self,
        spec: EncoderSpec,
        *,
        device: str | None = None,
        batch_size: int = 32,
        cache_dir: str | os.PathLike | None = None,
        progress: bool = True,
    ):
        import torch

        _quiet_imports()
        if spec.dtype not in _DTYPES:
            raise EncoderError(f"unknown dtype {spec.dtype!r}; choose one of {_DTYPES}")
        if batch_size < 1:
            raise EncoderError(f"batch_size must be positive, got {batch_size}")
        self.spec, self.batch_size, self.progress = spec, int(batch_size), progress
        self.device = device or ("cuda" if torch.cuda.is_available() else "cpu")
        dtype = getattr(torch, spec.dtype)
        self.snapshot = None  # the verified hub snapshot of a hub encoder
        if spec.kind == "untrained":
            from transformers import SiglipModel
            from transformers.models.siglip import SiglipImageProcessorPil

            config = untrained_config(**(spec.config or {}))
            with torch.random.fork_rng(devices=[]):
                torch.manual_seed(spec.seed)
                self.model = SiglipModel(config)
            size = config.vision_config.image_size
            self.processor = SiglipImageProcessorPil(size={"height": size, "width": size})
            self._fingerprint = sha256_bytes(
                *(
                    name.encode() + tensor.detach().numpy().tobytes()
                    for name, tensor in sorted(self.model.state_dict().items())
                )
            )[:16]
        elif spec.kind == "hub":
            self.model, self.processor, self.snapshot = _load_hub(spec.model_id, dtype)
            self._fingerprint = "local" if self.snapshot is None else self.snapshot.commit
        else:
            raise EncoderError(f"unknown encoder kind {spec.kind!r} (hub or untrained)")
        self.model.to(self.device, dtype=dtype).eval()
        self.dim = int(self.model.config.vision_config.hidden_size)
        self.cache_dir = None if cache_dir is None else Path(cache_dir) / self.key

    @property
    def identity(self) -> dict:
        """The spec plus a weights fingerprint (untrained) or hub revision, the processor's
        settings and the embedding dimension."""
        processor = {
            k: v
            for k, v in self.processor.to_dict().items()
            if k
            in (
                "size",
                "image_mean",
                "image_std",
                "resample",
                "rescale_factor",
                "do_resize",
                "do_normalize",
                "do_rescale",
                "do_convert_rgb",
            )
        }
        return {
            **self.spec.to_dict(),
            "weights": self._fingerprint,
            "processor": processor,
            "dim": self.dim,
        }

    @property
    def key(self) -> str:
        """Cache folder name: a readable stem plus a hash of :attr:`identity`."""
        blob = json.dumps(self.identity, sort_keys=True, default=str).encode()
        stem = Path(self.spec.model_id).name.replace("/", "_")
        return f"{stem}-{sha256_bytes(blob)[:12]}"

    # ---------------------------------------------------------------- cache
    def cached(self) -> dict[str, np.ndarray]:
        """Every cached embedding: ``{sha256: (dim,) float32}``."""
        out: dict[str, np.ndarray] = {}
        if self.cache_dir is None or not self.cache_dir.is_dir():
            return out
        for shard in sorted(self.cache_dir.glob("shard-*.npz")):
            try:
                with np.load(shard, allow_pickle=False) as data:
                    hashes, vectors = data["sha256"], data["embedding"]
            except (OSError, ValueError, KeyError) as err:
                raise EncoderError(
                    f"corrupt embedding cache file {shard}: {err}; delete it to re-embed its images"
                ) from None
            if vectors.shape != (len(hashes), self.dim):
                raise EncoderError(
                    f"embedding cache file {shard} holds shape {vectors.shape}, "
                    f"expected ({len(hashes)}, {self.dim}); delete it"
                )
            out.update(zip(hashes.tolist(), vectors))
        return out

    def _store(self, hashes: list[str], vectors: np.ndarray, tag: str) -> None:
        if self.cache_dir is None:
            return
        self.cache_dir.mkdir(parents=True, exist_ok=True)
        meta = self.cache_dir / "encoder.json"
        if not meta.exists():
            with atomic_path(meta) as tmp:
                tmp.write_text(json.dumps(self.identity, indent=1, sort_keys=True, default=str))
        name = sha256_bytes("".join(hashes).encode())[:16]
        with atomic_path(self.cache_dir / f"shard-{tag}{name}.npz") as tmp, open(tmp, "wb") as fh:
            np.savez(fh, sha256=np.array(hashes, dtype="U64"), embedding=vectors)

    # ---------------------------------------------------------------- embedding
    def embed_batch(self, images: Sequence) -> np.ndarray:
        """Embeddings ``(len(images), dim)`` float32 of one batch, without the cache."""
        import torch

        pil = [
            open_image(image_bytes(im), str(im) if not isinstance(im, bytes) else f"#{i} (bytes)")
            for i, im in enumerate(images)
        ]
        inputs = self.processor(images=pil, return_tensors="pt")
        pixels = inputs["pixel_values"].to(self.device, dtype=self.model.dtype)
        with torch.inference_mode():
            out = self.model.get_image_features(pixel_values=pixels)
        out = getattr(out, "pooler_output", out)  # transformers 5 returns a model output
        return out.float().cpu().numpy()

    def embed(self, images: Sequence, *, shard: tuple[int, int] = (0, 1)) -> np.ndarray:
        """Embeddings ``(len(images), dim)`` float32 in input order; cached ones are read, the
        rest embedded in batches (and cached). ``shard=(i, n)`` embeds only the missing ones
        among the distinct images ``i, i+n, ...`` (first occurrences, input order) and returns
        None (one process of :func:`embed_sharded`)."""
        hashes = [content_hash(im) for im in images]
        have = self.cached()
        first = {}
        for i, h in enumerate(hashes):
            first.setdefault(h, i)
        index, count = shard
        # A process owns every count-th distinct image (input order), whatever is cached when it
        # looks: a split of the *missing* images would shift as other processes fill the cache.
        todo = [i for k, (h, i) in enumerate(first.items()) if k % count == index and h not in have]
        tag = f"{index}-" if count > 1 else ""
        bar = tqdm(
            total=len(todo),
            disable=not self.progress or not todo,
            unit="img",
            desc=f"embedding ({self.spec.label})",
        )
        for start in range(0, len(todo), self.batch_size):
            rows = todo[start : start + self.batch_size]
            vectors = self.embed_batch([images[i] for i in rows])
            batch_hashes = [hashes[i] for i in rows]
            self._store(batch_hashes, vectors, tag)
            have.update(zip(batch_hashes, vectors))
            bar.update(len(rows))
        bar.close()
        if count > 1:
            return None
        return (
            np.stack([have[h] for h in hashes]).astype(np.float32)
            if hashes
            else np.zeros((0, self.dim), np.float32)
        )


#: The files of a SigLIP2 checkpoint the encoder reads (tokenizer files are not needed).
HUB_FILES = ["config.json", "preprocessor_config.json", "*.safetensors", "*.safetensors.index.json"]


def _load_hub(model_id: str, dtype):
    """A pretrained SigLIP/SigLIP2 model, its PIL image processor and the verified hub snapshot
    it came from (None for a local folder): a hub id (``owner/name@revision`` pins a commit) is
    fetched with :func:`emonet.data.snapshots.fetch` (:data:`HUB_FILES` only), then both are
    loaded from the snapshot folder."""
    from transformers import AutoImageProcessor, AutoModel

    try:
        ref = snapshots.parse(model_id, "model")
        snapshot = None if ref is None else snapshots.fetch(ref, allow_patterns=HUB_FILES)
    except DataError as err:
        raise EncoderError(f"cannot load encoder {model_id!r}: {err}") from None
    folder = str(model_id if snapshot is None else snapshot.folder)
    try:
        with snapshots.quiet_loading():
            model = AutoModel.from_pretrained(folder, dtype=dtype)
            processor = AutoImageProcessor.from_pretrained(folder, backend="pil")
    except (OSError, ValueError) as err:
        raise EncoderError(
            f"cannot load encoder {model_id!r} from {folder} "
            f"({type(err).__name__}: {str(err).splitlines()[0]})"
        ) from err
    if not hasattr(model, "get_image_features"):
        raise EncoderError(
            f"{model_id!r} loads as {type(model).__name__}, which has no "
            "get_image_features (expected a SigLIP/SigLIP2 model)"
        )
    return model, processor, snapshot


def embed_sharded(
    images: Sequence, spec: EncoderSpec, cache_dir, *, cpu: bool = False, batch_size: int = 32
) -> np.ndarray:
    """Multi-GPU embedding with accelerate: launch with ``accelerate launch`` or ``torchrun``
    (one process per GPU; ``cpu=True``: CPU processes). Each process embeds a disjoint slice of
    the images missing from the cache into its own cache files; then every process reads the
    complete cache and returns all embeddings in input order."""
    from accelerate import PartialState

    state = PartialState(cpu=cpu)
    encoder = Encoder(
        spec,
        device=str(state.device),
        batch_size=batch_size,
        cache_dir=cache_dir,
        progress=state.is_local_main_process,
    )
    encoder.embed(images, shard=(state.process_index, state.num_processes))
    state.wait_for_everyone()
    return encoder.embed(images)
