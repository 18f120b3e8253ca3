"""Image generation behind one interface, with a resumable manifest.

Backends (each has ``name``, ``model_id``, ``label`` (for captions), ``batch_size``, ``settings``
and ``generate(rows) -> [(PIL image, truth or None), ...]``):

* :class:`OfflineFaces` draws faces with :mod:`emonet.generation.faces` (local profile; ground
  truth).
* :class:`Diffusers` runs any diffusers text-to-image pipeline (FLUX, SDXL, SD3, ...) from a hub
  id or a local folder (full profile; no ground truth). Never ``trust_remote_code``.

:func:`generate` writes ``<root>/images/<id>.png`` and the manifest ``<root>/manifest.parquet``
(``manifest-<i>-of-<n>.parquet`` per shard; :func:`merge_manifests` joins them). Manifest
schema, one row per image, in prompt-table order:

=====================  ======================================================================
prompt columns         ``id, prompt, template, emotion, descriptors, ethnicity,
                       ethnicity_group, age, gender, seed``
                       (:data:`emonet.generation.prompts.PROMPT_COLUMNS`)
``backend``            ``"offline"`` or ``"diffusers"``
``model_id``           ``"emonet.faces"`` (the offline renderer) or the diffusers model id / folder
``settings``           JSON of the backend's settings (size, steps, guidance, dtype, renderer
                       fingerprint or diffusers version, ...)
``path``               image path relative to ``<root>`` (``images/<id>.png``)
``sha256``             SHA-256 of the PNG file
``width``, ``height``  pixels
``seconds``            generation wall time attributed to the image (its batch's time / batch size)
``truth:<emotion>``    40 float columns, canonical order, 0-7 ground truth (NaN without one)
=====================  ======================================================================

Resume: a manifest row is kept when its prompt row, backend, model id and settings match the
request and its file still has the recorded SHA-256; everything else is (re)generated, and the
images of rows no longer requested are deleted. Images
are written atomically and the manifest is rewritten atomically after every batch, so a killed
run loses at most the batch in flight, and rerunning completes it without duplicates.
"""

from __future__ import annotations

import inspect
import io
import json
import os
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from tqdm import tqdm

from emonet.book.artifacts import atomic_path
from emonet.data import taxonomy
from emonet.data.checksums import sha256_bytes, sha256_of
from emonet.generation import faces
from emonet.generation.prompts import PROMPT_COLUMNS

TRUTH_COLUMNS: tuple[str, ...] = tuple(f"truth:{e}" for e in taxonomy.EMOTIONS)


MANIFEST_COLUMNS: tuple[str, ...] = (*PROMPT_COLUMNS, "backend", "model_id", "settings", "path",
                                     "sha256", "width", "height", "seconds", *TRUTH_COLUMNS)


_MATCH = (*PROMPT_COLUMNS, "backend", "model_id", "settings")


class GenerationError(ValueError):
    """A backend cannot be built or a generation request is invalid."""


class OfflineFaces:
    """The offline face generator (:func:`emonet.generation.faces.render`) as a backend."""

    name, model_id, label = "offline", "emonet.faces", "offline faces"

    def __init__(self, size: int = 128, intensity: float | tuple[float, float] = (0.6, 1.0),
                 batch_size: int = 32):
        if size < 16:
            raise GenerationError(f"image size must be at least 16 pixels, got {size}")
        self.size, self.intensity, self.batch_size = int(size), intensity, int(batch_size)

    @property
    def settings(self) -> dict:
        """Size, intensity and a fingerprint of the renderer's source (a changed drawing code
        invalidates earlier images on resume)."""
        source = Path(faces.__file__).read_bytes()
        return {"size": self.size, "intensity": list(np.atleast_1d(self.intensity)),
                "renderer": sha256_bytes(source)[:12]}

    def generate(self, rows: pd.DataFrame) -> list[tuple]:
        out = []
        for row in rows.itertuples(index=False):
            face = faces.render(row.emotion, row.ethnicity_group, row.age, row.gender, row.seed,
                                size=self.size, intensity=self.intensity)
            out.append((face.image, face.truth))
        return out


_DTYPES = ("float32", "float16", "bfloat16")


class Diffusers:
    """A diffusers text-to-image pipeline loaded from ``model_id`` (hub id or local folder).

    ``steps``, ``guidance_scale``, ``negative_prompt``, ``height`` and ``width`` are passed only
    when set and when the pipeline's ``__call__`` accepts them (a warning names any it does not).
    Each image gets its own ``torch.Generator`` seeded with the prompt row's ``seed``.
    """

    name = "diffusers"

    def __init__(self, model_id: str, *, device: str | None = None, dtype: str = "float32",
                 batch_size: int = 4, steps: int | None = None,
                 guidance_scale: float | None = None, negative_prompt: str | None = None,
                 height: int | None = None, width: int | None = None):
        import torch
        from diffusers import DiffusionPipeline

        if dtype not in _DTYPES:
            raise GenerationError(f"unknown dtype {dtype!r}; choose one of {_DTYPES}")
        if batch_size < 1:
            raise GenerationError(f"batch_size must be positive, got {batch_size}")
        self.model_id, self.batch_size, self.dtype = str(model_id), int(batch_size), dtype
        self.device = device or ("cuda" if torch.cuda.is_available() else "cpu")
        offline = os.environ.get("HF_HUB_OFFLINE", "").lower() in ("1", "true", "yes")
        try:
            self.pipe = DiffusionPipeline.from_pretrained(
                self.model_id, dtype=getattr(torch, dtype), local_files_only=offline)
        except (OSError, ValueError) as err:
            where = "it is not a local folder and not in the Hugging Face cache, and " \
                    "HF_HUB_OFFLINE is set" if offline else "see the cause above"
            raise GenerationError(f"cannot load diffusers model {self.model_id!r}: {where} "
                                  f"({type(err).__name__}: {str(err).splitlines()[0]})") from err
        self.pipe.to(self.device)
        self.pipe.set_progress_bar_config(disable=True)
        wanted = {"num_inference_steps": steps, "guidance_scale": guidance_scale,
                  "negative_prompt": negative_prompt, "height": height, "width": width}
        accepted = inspect.signature(self.pipe.__call__).parameters
        ignored = [k for k, v in wanted.items() if v is not None and k not in accepted]
        if ignored:
            warnings.warn(f"{type(self.pipe).__name__} does not accept {ignored}; ignored",
                          stacklevel=2)
        self.call_kwargs = {k: v for k, v in wanted.items() if v is not None and k in accepted}

    @property
    def label(self) -> str:
        return f"{self.name}: {self.model_id}"

    @property
    def settings(self) -> dict:
        import diffusers

        return {"dtype": self.dtype, "diffusers": diffusers.__version__, **self.call_kwargs}

    def generate(self, rows: pd.DataFrame) -> list[tuple]:
        import torch

        gen_device = "cpu" if self.device == "mps" else self.device
        generators = [torch.Generator(gen_device).manual_seed(int(s)) for s in rows["seed"]]
        kwargs = dict(self.call_kwargs)
        if "negative_prompt" in kwargs:
            kwargs["negative_prompt"] = [kwargs["negative_prompt"]] * len(rows)
        images = self.pipe(prompt=list(rows["prompt"]), generator=generators,
                           output_type="pil", **kwargs).images
        return [(img, None) for img in images]


def make_backend(name: str, **options):
    """Backend by name: ``"offline"`` (:class:`OfflineFaces`) or ``"diffusers"``
    (:class:`Diffusers`, needs ``model_id``)."""
    backends = {"offline": OfflineFaces, "diffusers": Diffusers}
    if name not in backends:
        raise GenerationError(f"unknown backend {name!r}; choose one of {list(backends)}")
    return backends[name](**options)


def manifest_path(root: Path, shard: tuple[int, int] = (0, 1)) -> Path:
    """``<root>/manifest.parquet``, or ``manifest-<i>-of-<n>.parquet`` for a shard."""
    index, count = shard
    return Path(root) / ("manifest.parquet" if count == 1 else
                         f"manifest-{index}-of-{count}.parquet")


def _write_manifest(frame: pd.DataFrame, path: Path) -> None:
    with atomic_path(path) as tmp:
        frame.to_parquet(tmp, index=False)


def read_manifest(path: Path) -> pd.DataFrame:
    """A manifest file as a table (empty, with :data:`MANIFEST_COLUMNS`, if it is missing)."""
    if not Path(path).exists():
        return pd.DataFrame(columns=list(MANIFEST_COLUMNS))
    return pd.read_parquet(path)


def truth_matrix(manifest: pd.DataFrame) -> np.ndarray:
    """Ground truth ``(n_images, 40)`` on 0-7, canonical order (NaN where the backend has none)."""
    return manifest[list(TRUTH_COLUMNS)].to_numpy(float)


def has_truth(manifest: pd.DataFrame) -> bool:
    """Whether every image of ``manifest`` has a ground truth (offline faces do, diffusers
    images do not)."""
    return bool(manifest[list(TRUTH_COLUMNS)].notna().all(axis=None))


def prompted_truth(manifest: pd.DataFrame) -> tuple[float, float]:
    """How well the ground truth recovers the prompted emotion: the share (0-1) of images whose
    prompted category has the highest ground truth, and the mean ground truth (0-7) of the
    prompted category."""
    truth = truth_matrix(manifest)
    target = manifest["emotion"].map(taxonomy.INDEX).to_numpy()
    return (float((truth.argmax(1) == target).mean()),
            float(truth[np.arange(len(truth)), target].mean()))


def _png(image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def _valid(previous: pd.DataFrame, request: pd.DataFrame, root: Path) -> pd.DataFrame:
    """Rows of ``previous`` that match ``request`` exactly and whose file is intact."""
    if previous.empty:
        return previous
    merged = previous.merge(request[list(_MATCH)], on=list(_MATCH), how="inner")
    intact = [(root / p).is_file() and sha256_of(root / p) == h
              for p, h in zip(merged["path"], merged["sha256"])]
    return merged[np.array(intact, bool)].drop_duplicates("id")


def generate(prompts: pd.DataFrame, backend, root, *, shard: tuple[int, int] = (0, 1),
             progress: bool = True) -> pd.DataFrame:
    """Generate the images of ``prompts`` (a :func:`emonet.generation.prompts.design` table) not
    yet in the manifest under ``root``; return this shard's manifest (prompt-table order).

    ``shard=(i, n)`` takes rows ``i, i+n, i+2n, ...`` (disjoint slices for ``n`` processes).
    """
    missing = [c for c in PROMPT_COLUMNS if c not in prompts]
    if missing:
        raise GenerationError(f"prompt table lacks column(s) {missing}")
    if prompts["id"].duplicated().any():
        raise GenerationError("prompt table has duplicate ids")
    index, count = shard
    if not (count >= 1 and 0 <= index < count):
        raise GenerationError(f"shard {shard}: need 0 <= index < count")
    root = Path(root)
    rows = prompts.iloc[index::count][list(PROMPT_COLUMNS)].reset_index(drop=True)
    request = rows.assign(backend=backend.name, model_id=backend.model_id,
                          settings=json.dumps(backend.settings, sort_keys=True))
    path = manifest_path(root, shard)
    previous = read_manifest(path)
    for rel in previous.loc[~previous["id"].isin(request["id"]), "path"]:
        (root / rel).unlink(missing_ok=True)  # images of rows no longer requested
    done = _valid(previous, request, root)
    records = done.to_dict("records")
    todo = request[~request["id"].isin(done["id"])]
    bar = tqdm(total=len(request), initial=len(done), disable=not progress, unit="img",
               desc=f"{backend.name} {index + 1}/{count}" if count > 1 else backend.name)
    order = {i: k for k, i in enumerate(request["id"])}

    def flush() -> pd.DataFrame:
        frame = pd.DataFrame.from_records(records, columns=list(MANIFEST_COLUMNS))
        frame = frame.sort_values("id", key=lambda s: s.map(order)).reset_index(drop=True)
        _write_manifest(frame, path)
        return frame

    manifest = flush()
    for start in range(0, len(todo), backend.batch_size):
        batch = todo.iloc[start:start + backend.batch_size]
        tic = time.perf_counter()
        outputs = backend.generate(batch)
        files = []
        for row, (image, truth) in zip(batch.itertuples(index=False), outputs):
            blob = _png(image)
            rel = f"images/{row.id}.png"
            with atomic_path(root / rel) as tmp:
                tmp.write_bytes(blob)
            files.append((row, image.size, rel, sha256_bytes(blob), truth))
        seconds = (time.perf_counter() - tic) / len(batch)
        for row, (width, height), rel, digest, truth in files:
            truth = np.full(taxonomy.N_EMOTIONS, np.nan) if truth is None else truth
            records.append({**row._asdict(), "path": rel, "sha256": digest, "width": width,
                            "height": height, "seconds": seconds,
                            **dict(zip(TRUTH_COLUMNS, map(float, truth)))})
        manifest = flush()
        bar.update(len(batch))
    bar.close()
    return manifest


def merge_manifests(root, prompts: pd.DataFrame, count: int) -> pd.DataFrame:
    """Join the ``count`` shard manifests under ``root`` into ``manifest.parquet`` (prompt order);
    raise if an image is missing or listed twice."""
    if count == 1:
        parts = [read_manifest(manifest_path(root))]
    else:
        parts = [read_manifest(manifest_path(root, (i, count))) for i in range(count)]
    merged = pd.concat(parts, ignore_index=True)
    if merged["id"].duplicated().any():
        raise GenerationError(f"shard manifests under {root} list an image twice")
    absent = sorted(set(prompts["id"]) - set(merged["id"]))
    if absent:
        raise GenerationError(f"{len(absent)} image(s) missing from the shard manifests, e.g. "
                              f"{absent[:3]}; rerun the generation to complete them")
    order = {i: k for k, i in enumerate(prompts["id"])}
    merged = merged.sort_values("id", key=lambda s: s.map(order)).reset_index(drop=True)
    _write_manifest(merged, manifest_path(root))
    return merged


def generate_sharded(prompts: pd.DataFrame, backend_name: str, root, *, cpu: bool = False,
                     **options) -> pd.DataFrame:
    """Multi-GPU generation with accelerate: launch with ``accelerate launch`` or ``torchrun``
    (one process per GPU; ``cpu=True``: CPU processes); each process builds its backend on its own
    device, generates its disjoint slice, and the main process merges the shard manifests.
    Returns the merged manifest (on every process)."""
    from accelerate import PartialState

    state = PartialState(cpu=cpu)
    if backend_name == "diffusers":
        options = {**options, "device": str(state.device)}
    backend = make_backend(backend_name, **options)
    shard = (state.process_index, state.num_processes)
    generate(prompts, backend, root, shard=shard, progress=state.is_local_main_process)
    state.wait_for_everyone()
    if state.is_main_process and state.num_processes > 1:
        merge_manifests(root, prompts, state.num_processes)
    state.wait_for_everyone()
    return read_manifest(manifest_path(root))


def timing(manifest: pd.DataFrame) -> pd.DataFrame:
    """One row: ``images``, ``seconds`` (summed generation time), ``images_per_s``,
    ``ms_per_image``, ``width``, ``height``, ``backend``, ``model_id``."""
    seconds = float(manifest["seconds"].sum())
    return pd.DataFrame([{
        "images": len(manifest), "seconds": round(seconds, 2),
        "images_per_s": round(len(manifest) / seconds, 1),
        "ms_per_image": round(1000 * seconds / len(manifest), 2),
        "width": int(manifest["width"].iloc[0]), "height": int(manifest["height"].iloc[0]),
        "backend": manifest["backend"].iloc[0], "model_id": manifest["model_id"].iloc[0]}])


def truth_by_target(manifest: pd.DataFrame) -> pd.DataFrame:
    """Mean ground truth (0-7) per prompted emotion (rows, canonical order, those present) and
    scored category (40 columns)."""
    frame = pd.DataFrame(truth_matrix(manifest), columns=list(taxonomy.EMOTIONS))
    means = frame.groupby(manifest["emotion"].to_numpy()).mean()
    return means.reindex([e for e in taxonomy.EMOTIONS if e in means.index])


def examples(manifest: pd.DataFrame, root, emotions: list[str], per_row: int):
    """Up to ``per_row`` images per emotion (manifest order) with captions
    ``"<group>, <age>, <gender>"``: returns ``(images, captions)`` as lists of rows."""
    images, captions = [], []
    for emotion in emotions:
        rows = manifest[manifest["emotion"] == emotion].head(per_row)
        images.append(open_images(root, rows["path"]))
        captions.append([f"{g}\n{a}, {s}" for g, a, s in
                         zip(rows["ethnicity_group"], rows["age"], rows["gender"])])
    return images, captions


def open_images(root, paths) -> list:
    """The images at ``paths`` (relative to ``root``, e.g. a manifest's ``path`` column) as RGB
    PIL images."""
    from PIL import Image

    return [Image.open(Path(root) / p).convert("RGB") for p in paths]
