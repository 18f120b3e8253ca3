"""Image generation behind one interface (:class:`OfflineFaces`, :class:`Diffusers`; each has
``name``, ``model_id``, ``label``, ``batch_size``, ``settings`` and ``generate(rows) -> [(image,
truth or None), ...]``) with a resumable manifest (:func:`generate`, :func:`prune`).

The offline faces can be drawn in ``workers`` processes (the same pixels however many). The
manifest's schema and how a run resumes: ``docs/artifacts.md``.
"""

from __future__ import annotations

import inspect
import io
import json
import os
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from tqdm import tqdm

from emonet.data import snapshots, taxonomy
from emonet.data.checksums import sha256_bytes, sha256_of
from emonet.data.registry import DataError
from emonet.generation import faces
from emonet.generation.prompts import PROMPT_COLUMNS
from emonet.io import atomic_path, first_outside, inside

TRUTH_COLUMNS: tuple[str, ...] = tuple(f"truth:{e}" for e in taxonomy.EMOTIONS)


MANIFEST_COLUMNS: tuple[str, ...] = (
    *PROMPT_COLUMNS,
    "backend",
    "model_id",
    "settings",
    "path",
    "sha256",
    "width",
    "height",
    "seconds",
    *TRUTH_COLUMNS,
    "requested",
)


_MATCH = (*PROMPT_COLUMNS, "backend", "model_id", "settings")


class GenerationError(ValueError):
    """A backend cannot be built or a generation request is invalid."""


class OfflineFaces:
    """The offline face generator (:func:`emonet.generation.faces.render`) as a backend.

    ``workers`` > 1: :meth:`generate_batches` draws and PNG-encodes the faces in that many
    processes, working ahead of the caller (each face depends on its own seed alone, so the
    files are the same bit for bit); the drawing is pure Python and Pillow on one core each.
    """

    name, model_id, label = "offline", "emonet.faces", "offline faces"

    def __init__(
        self,
        size: int = 128,
        intensity: float | tuple[float, float] = (0.6, 1.0),
        batch_size: int = 32,
        workers: int = 1,
    ):
        if size < 16:
            raise GenerationError(f"image size must be at least 16 pixels, got {size}")
        if workers < 1:
            raise GenerationError(f"workers must be at least 1, got {workers}")
        self.size, self.intensity, self.batch_size = int(size), intensity, int(batch_size)
        self.workers = int(workers)

    @property
    def settings(self) -> dict:
        """Size, intensity and a fingerprint of the renderer's source (a changed drawing code
        invalidates earlier images on resume)."""
        source = Path(faces.__file__).read_bytes()
        return {
            "size": self.size,
            "intensity": list(np.atleast_1d(self.intensity)),
            "renderer": sha256_bytes(source)[:12],
        }

    def generate(self, rows: pd.DataFrame) -> list[tuple]:
        out = []
        for row in rows.itertuples(index=False):
            face = faces.render(
                row.emotion,
                row.ethnicity_group,
                row.age,
                row.gender,
                row.seed,
                size=self.size,
                intensity=self.intensity,
            )
            out.append((face.image, face.truth))
        return out

    def generate_batches(self, batches: list[pd.DataFrame]):
        """:meth:`generate` of each of ``batches``, in order (a generator): in this process, or
        with ``workers`` > 1 in worker processes that encode the PNG files too (an
        :class:`Encoded` in place of each image), all batches queued at once."""
        if self.workers == 1:
            for rows in batches:
                yield self.generate(rows)
            return
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        slots = [
            [
                (r.emotion, r.ethnicity_group, r.age, r.gender, r.seed)
                for r in rows.itertuples(index=False)
            ]
            for rows in batches
        ]
        # spawn: a fresh interpreter per worker, safe under a notebook kernel's threads
        with ProcessPoolExecutor(
            self.workers, mp_context=multiprocessing.get_context("spawn")
        ) as pool:
            jobs = [
                pool.submit(_render_encoded, batch, self.size, self.intensity) for batch in slots
            ]
            try:
                for job in jobs:
                    yield job.result()
            finally:  # stopped early (an error, an interrupt): drop the queued batches
                for job in jobs:
                    job.cancel()


@dataclass(frozen=True)
class Encoded:
    """An image already encoded as PNG (by a worker process): its bytes and ``(width,
    height)``."""

    blob: bytes
    size: tuple[int, int]


def _render_encoded(slots: list[tuple], size: int, intensity) -> list[tuple]:
    """Offline faces of ``(emotion, ethnicity group, age, gender, seed)`` slots, as
    ``(Encoded, truth)`` (a worker process's job)."""
    out = []
    for emotion, group, age, gender, seed in slots:
        face = faces.render(emotion, group, age, gender, seed, size=size, intensity=intensity)
        out.append((Encoded(_png(face.image), face.image.size), face.truth))
    return out


_DTYPES = ("float32", "float16", "bfloat16")


class Diffusers:
    """A diffusers text-to-image pipeline loaded from ``model_id`` (hub id or local folder).

    ``steps``, ``guidance_scale``, ``negative_prompt``, ``height`` and ``width`` are passed only
    when set and when the pipeline's ``__call__`` accepts them (a warning names any it does not).
    Each image gets its own ``torch.Generator`` seeded with the prompt row's ``seed``.
    """

    name = "diffusers"

    def __init__(
        self,
        model_id: str,
        *,
        device: str | None = None,
        dtype: str = "float32",
        batch_size: int = 4,
        steps: int | None = None,
        guidance_scale: float | None = None,
        negative_prompt: str | None = None,
        height: int | None = None,
        width: int | None = None,
    ):
        import torch

        snapshots.import_tqdm()
        from diffusers import DiffusionPipeline

        if dtype not in _DTYPES:
            raise GenerationError(f"unknown dtype {dtype!r}; choose one of {_DTYPES}")
        if batch_size < 1:
            raise GenerationError(f"batch_size must be positive, got {batch_size}")
        self.model_id, self.batch_size, self.dtype = str(model_id), int(batch_size), dtype
        self.device = device or ("cuda" if torch.cuda.is_available() else "cpu")
        self.snapshot, folder = self._fetch(DiffusionPipeline)
        try:
            with snapshots.quiet_loading():
                self.pipe = DiffusionPipeline.from_pretrained(folder, dtype=getattr(torch, dtype))
        except (OSError, ValueError) as err:
            raise GenerationError(
                f"cannot load diffusers model {self.model_id!r} from {folder} "
                f"({type(err).__name__}: {str(err).splitlines()[0]})"
            ) from err
        self.pipe.to(self.device)
        self.pipe.set_progress_bar_config(disable=True)
        wanted = {
            "num_inference_steps": steps,
            "guidance_scale": guidance_scale,
            "negative_prompt": negative_prompt,
            "height": height,
            "width": width,
        }
        accepted = inspect.signature(self.pipe.__call__).parameters
        ignored = [k for k, v in wanted.items() if v is not None and k not in accepted]
        if ignored:
            warnings.warn(
                f"{type(self.pipe).__name__} does not accept {ignored}; ignored", stacklevel=2
            )
        self.call_kwargs = {k: v for k, v in wanted.items() if v is not None and k in accepted}

    def _fetch(self, pipeline_class) -> tuple[snapshots.Snapshot | None, str]:
        """``(snapshot, folder)`` of the model: a local folder as it is, a hub id (``@revision``
        pins a commit) downloaded with diffusers' own file selection and verified
        (:func:`emonet.data.snapshots.verified`)."""
        try:
            ref = snapshots.parse(self.model_id, "model")
        except DataError as err:
            raise GenerationError(f"diffusers model: {err}") from None
        if ref is None:
            return None, self.model_id
        offline = os.environ.get("HF_HUB_OFFLINE", "").lower() in ("1", "true", "yes")
        try:
            with snapshots.quiet_loading():
                folder = Path(
                    pipeline_class.download(
                        ref.repo_id, revision=ref.revision, local_files_only=offline
                    )
                )
            snapshot = snapshots.verified(ref, folder)
        except DataError as err:
            raise GenerationError(f"diffusers model: {err}") from None
        except Exception as err:  # offline, unknown repo or revision, gated, network
            raise GenerationError(f"diffusers model: {snapshots.unreachable(ref, err)}") from None
        return snapshot, str(folder)

    @property
    def label(self) -> str:
        return f"{self.name}: {snapshots.short(self.model_id)}"

    @property
    def settings(self) -> dict:
        import diffusers

        return {
            "dtype": self.dtype,
            "diffusers": diffusers.__version__,
            "commit": None if self.snapshot is None else self.snapshot.commit,
            **self.call_kwargs,
        }

    def generate(self, rows: pd.DataFrame) -> list[tuple]:
        import torch

        gen_device = "cpu" if self.device == "mps" else self.device
        generators = [torch.Generator(gen_device).manual_seed(int(s)) for s in rows["seed"]]
        kwargs = dict(self.call_kwargs)
        if "negative_prompt" in kwargs:
            kwargs["negative_prompt"] = [kwargs["negative_prompt"]] * len(rows)
        images = self.pipe(
            prompt=list(rows["prompt"]), generator=generators, output_type="pil", **kwargs
        ).images
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
    return Path(root) / (
        "manifest.parquet" if count == 1 else f"manifest-{index}-of-{count}.parquet"
    )


def _write_manifest(frame: pd.DataFrame, path: Path) -> None:
    with atomic_path(path) as tmp:
        frame.to_parquet(tmp, index=False)


def read_manifest(path: Path, everything: bool = False) -> pd.DataFrame:
    """The images of the latest request recorded in a manifest file, in request order (empty, with
    :data:`MANIFEST_COLUMNS`, if the file is missing); ``everything=True`` also returns the images
    kept from earlier requests.

    Raises :class:`GenerationError` naming the file when it is not a parquet file, lacks columns,
    or a row's ``path`` leaves the folder.
    """
    path = Path(path)
    if not path.exists():
        return pd.DataFrame(columns=list(MANIFEST_COLUMNS))
    try:
        frame = pd.read_parquet(path)
    except Exception as err:  # pyarrow raises several types for a file that is not parquet
        raise GenerationError(
            f"{path} is not a readable parquet manifest ({type(err).__name__}:"
            f" {str(err).splitlines()[0]}); move it away or delete it to start "
            "a new manifest"
        ) from None
    if "requested" not in frame:  # manifests from before kept images existed: all requested
        frame["requested"] = True
    missing = [c for c in MANIFEST_COLUMNS if c not in frame]
    if missing:
        raise GenerationError(
            f"{path} lacks manifest column(s) {missing[:5]}"
            f"{' and more' if len(missing) > 5 else ''}; it is not a manifest "
            "written by emonet generate"
        )
    row = first_outside(path.parent, frame["path"])
    if row is not None:
        inside(
            path.parent, frame["path"].iat[row], f"{path} row {row} (id {frame['id'].iat[row]!r})"
        )  # raises, naming the row
    return frame if everything else frame[frame["requested"]].reset_index(drop=True)


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
    return (
        float((truth.argmax(1) == target).mean()),
        float(truth[np.arange(len(truth)), target].mean()),
    )


def _png(image) -> bytes:
    if isinstance(image, Encoded):
        return image.blob
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def _describe(previous: pd.Series, wanted: pd.Series) -> str:
    """What differs between an image's record and a request: the first differing field."""
    for column in _MATCH:
        if previous[column] != wanted[column]:
            return f"{column} {str(previous[column])[:40]!r} vs {str(wanted[column])[:40]!r}"
    return "the file's checksum (modified or corrupt)"


def _classify(
    known: pd.DataFrame, request: pd.DataFrame, root: Path
) -> tuple[pd.DataFrame, pd.DataFrame, list[str]]:
    """Split the requested images into those already done (a matching record with an intact
    file), and those that would overwrite an existing file; return ``(done, conflicts, notes)``
    with one note per conflict."""
    known = known.drop_duplicates("id", keep="last").set_index("id", drop=False)
    done, conflicts, notes = [], [], []
    for _, wanted in request.iterrows():
        rec = known.loc[wanted["id"]] if wanted["id"] in known.index else None
        target = root / f"images/{wanted['id']}.png"
        if rec is not None:
            file = inside(root, rec["path"], f"manifest record of {wanted['id']!r}")
            intact = file.is_file() and sha256_of(file) == rec["sha256"]
            same = all(rec[c] == wanted[c] for c in _MATCH)
            if intact and same:
                done.append(rec)
                continue
            if file.exists():
                conflicts.append(wanted)
                notes.append(f"{wanted['id']}: {_describe(rec, wanted)}")
                continue
        elif target.exists():
            conflicts.append(wanted)
            notes.append(f"{wanted['id']}: {target.name} exists without a manifest record")
    frame = pd.DataFrame(done, columns=list(MANIFEST_COLUMNS))
    return frame.reset_index(drop=True), pd.DataFrame(conflicts), notes


def _output_folder(root) -> Path:
    root = Path(root)
    if root.exists() and not root.is_dir():
        raise GenerationError(f"--out {root} is a file, not a folder")
    return root


def generate(
    prompts: pd.DataFrame,
    backend,
    root,
    *,
    shard: tuple[int, int] = (0, 1),
    progress: bool = True,
    replace: bool = False,
) -> pd.DataFrame:
    """Generate the images of ``prompts`` (a :func:`emonet.generation.prompts.design` table) that
    the folder ``root`` does not hold yet; return this shard's manifest of the request
    (prompt-table order).

    Nothing is deleted: images of earlier requests that this one does not name stay, recorded in
    the manifest as kept (``requested`` False; :func:`prune` removes them on request). A requested
    image whose file exists but does not match the request (other settings, another model, a
    modified file, or a file without a record) is regenerated only with ``replace=True``;
    otherwise :class:`GenerationError` says how many and why. ``shard=(i, n)`` takes rows ``i,
    i+n, i+2n, ...`` (disjoint slices for ``n`` processes).
    """
    missing = [c for c in PROMPT_COLUMNS if c not in prompts]
    if missing:
        raise GenerationError(f"prompt table lacks column(s) {missing}")
    if prompts["id"].duplicated().any():
        raise GenerationError("prompt table has duplicate ids")
    index, count = shard
    if not (count >= 1 and 0 <= index < count):
        raise GenerationError(f"shard {shard}: need 0 <= index < count")
    root = _output_folder(root)
    rows = prompts.iloc[index::count][list(PROMPT_COLUMNS)].reset_index(drop=True)
    request = rows.assign(
        backend=backend.name,
        model_id=backend.model_id,
        settings=json.dumps(backend.settings, sort_keys=True),
    )
    path = manifest_path(root, shard)
    known = pd.concat(
        [
            read_manifest(manifest_path(root), everything=True),
            read_manifest(path, everything=True) if count > 1 else None,
        ],
        ignore_index=True,
    )
    done, conflicts, notes = _classify(known, request, root)
    if len(conflicts) and not replace:
        raise GenerationError(
            f"{len(conflicts)} requested image(s) in {root / 'images'} exist but do not match "
            f"this request, e.g. {'; '.join(notes[:3])}. Nothing was overwritten: pass --replace "
            "(replace=True) to regenerate them, or choose another --out folder"
        )
    kept = (
        known[~known["id"].isin(request["id"])].drop_duplicates("id", keep="last")
        if count == 1
        else known.iloc[:0]
    )
    todo = request[~request["id"].isin(done["id"])]
    bar = tqdm(
        total=len(request),
        initial=len(done),
        disable=not progress,
        unit="img",
        desc=f"{backend.name} {index + 1}/{count}" if count > 1 else backend.name,
    )
    order = {i: k for k, i in enumerate(request["id"])}
    # The records so far as one table, extended by each batch's records: building the table of
    # every record again after every batch made the manifest's upkeep grow with the square of
    # the images (the same rows, the same column types)
    made = pd.DataFrame.from_records(done.to_dict("records"), columns=list(MANIFEST_COLUMNS))
    ranks = np.array([order[i] for i in made["id"]], dtype=np.int64)  # request order of each row

    def flush(records=()) -> pd.DataFrame:
        nonlocal made, ranks
        if records:
            batch = pd.DataFrame.from_records(records, columns=list(MANIFEST_COLUMNS))
            made = batch if made.empty else pd.concat([made, batch], ignore_index=True)
            ranks = np.concatenate([ranks, [order[r["id"]] for r in records]]).astype(np.int64)
        # request order (ids are unique): the rows as they came when a run starts afresh
        frame = made if (np.diff(ranks) > 0).all() else made.take(np.argsort(ranks))
        frame = frame.reset_index(drop=True)
        frame["requested"] = True
        _write_manifest(
            pd.concat([frame, kept.assign(requested=False)], ignore_index=True)
            if len(kept)
            else frame,
            path,
        )
        return frame

    manifest = flush()
    batches = [
        todo.iloc[start : start + backend.batch_size]
        for start in range(0, len(todo), backend.batch_size)
    ]
    many = getattr(backend, "generate_batches", None)
    produced = many(batches) if many else (backend.generate(batch) for batch in batches)
    tic = time.perf_counter()
    try:
        for batch, outputs in zip(batches, produced):
            files = []
            for row, (image, truth) in zip(batch.itertuples(index=False), outputs):
                blob = _png(image)
                rel = f"images/{row.id}.png"
                with atomic_path(root / rel) as tmp:
                    tmp.write_bytes(blob)
                files.append((row, image.size, rel, sha256_bytes(blob), truth))
            seconds = (time.perf_counter() - tic) / len(batch)
            records = []
            for row, (width, height), rel, digest, truth in files:
                truth = np.full(taxonomy.N_EMOTIONS, np.nan) if truth is None else truth
                records.append(
                    {
                        **row._asdict(),
                        "path": rel,
                        "sha256": digest,
                        "width": width,
                        "height": height,
                        "seconds": seconds,
                        **dict(zip(TRUTH_COLUMNS, map(float, truth))),
                    }
                )
            manifest = flush(records)
            bar.update(len(batch))
            tic = time.perf_counter()
    finally:  # stopped early: the backend stops working ahead (worker processes)
        produced.close()
    bar.close()
    return manifest


def prune(root, dry_run: bool = False, log=print) -> list[str]:
    """Remove the images a folder keeps from earlier requests (manifest rows with ``requested``
    False) and their rows; say what is removed before removing it. Returns the removed paths
    (with ``dry_run`` nothing is removed)."""
    root = _output_folder(root)
    path = manifest_path(root)
    frame = read_manifest(path, everything=True)
    stale = frame[~frame["requested"]]
    if stale.empty:
        log("nothing to prune: every image in the manifest belongs to the latest request")
        return []
    files = [inside(root, rel, f"{path} (id {i!r})") for rel, i in zip(stale["path"], stale["id"])]
    shown = ", ".join(f.name for f in files[:5]) + (
        f" and {len(files) - 5} more" if len(files) > 5 else ""
    )
    log(
        f"{'would remove' if dry_run else 'removing'} {len(files)} image(s) not in the latest "
        f"request: {shown}"
    )
    if not dry_run:
        _write_manifest(frame[frame["requested"]].reset_index(drop=True), path)
        for file in files:
            file.unlink(missing_ok=True)
    return [str(f.relative_to(root)) for f in files]


def merge_manifests(root, prompts: pd.DataFrame, count: int) -> pd.DataFrame:
    """Join the ``count`` shard manifests under ``root`` into ``manifest.parquet`` (prompt order,
    images of earlier requests kept); raise if an image is missing or listed twice."""
    if count == 1:
        parts = [read_manifest(manifest_path(root))]
    else:
        parts = [read_manifest(manifest_path(root, (i, count))) for i in range(count)]
    merged = pd.concat(parts, ignore_index=True)
    if merged["id"].duplicated().any():
        raise GenerationError(f"shard manifests under {root} list an image twice")
    absent = sorted(set(prompts["id"]) - set(merged["id"]))
    if absent:
        raise GenerationError(
            f"{len(absent)} image(s) missing from the shard manifests, e.g. "
            f"{absent[:3]}; rerun the generation to complete them"
        )
    order = {i: k for k, i in enumerate(prompts["id"])}
    merged = merged.sort_values("id", key=lambda s: s.map(order)).reset_index(drop=True)
    earlier = read_manifest(manifest_path(root), everything=True)
    kept = earlier[~earlier["id"].isin(merged["id"])].assign(requested=False)
    _write_manifest(
        pd.concat([merged.assign(requested=True), kept], ignore_index=True), manifest_path(root)
    )
    return merged


def generate_sharded(
    prompts: pd.DataFrame,
    backend_name: str,
    root,
    *,
    cpu: bool = False,
    replace: bool = False,
    **options,
) -> pd.DataFrame:
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
    generate(
        prompts, backend, root, shard=shard, progress=state.is_local_main_process, replace=replace
    )
    state.wait_for_everyone()
    if state.is_main_process and state.num_processes > 1:
        merge_manifests(root, prompts, state.num_processes)
    state.wait_for_everyone()
    return read_manifest(manifest_path(root))


def timing(manifest: pd.DataFrame) -> pd.DataFrame:
    """One row: ``images``, ``seconds`` (summed generation time), ``images_per_s``,
    ``ms_per_image``, ``width``, ``height``, ``backend``, ``model_id``."""
    seconds = float(manifest["seconds"].sum())
    return pd.DataFrame(
        [
            {
                "images": len(manifest),
                "seconds": round(seconds, 2),
                "images_per_s": round(len(manifest) / seconds, 1),
                "ms_per_image": round(1000 * seconds / len(manifest), 2),
                "width": int(manifest["width"].iloc[0]),
                "height": int(manifest["height"].iloc[0]),
                "backend": manifest["backend"].iloc[0],
                "model_id": manifest["model_id"].iloc[0],
            }
        ]
    )


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
        captions.append(
            [
                f"{g}\n{a}, {s}"
                for g, a, s in zip(rows["ethnicity_group"], rows["age"], rows["gender"])
            ]
        )
    return images, captions


def open_images(root, paths) -> list:
    """The images at ``paths`` (relative to ``root``, e.g. a manifest's ``path`` column) as RGB
    PIL images."""
    from PIL import Image

    return [Image.open(inside(root, p, f"image path under {root}")).convert("RGB") for p in paths]
