"""Images annotated by a vision-language model under the authors' protocols (:data:`READOUTS`:
zero-shot, multi-shot and the rating probabilities), every attempt and outcome recorded, the
accepted replies as ``hq.csv`` rows; resumable and shardable.

The readouts, the backend interface, the files a run writes and how it resumes:
``docs/benchmarking.md``.
"""

from __future__ import annotations

import json
import os
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from tqdm import tqdm

from emonet.benchmarking import replies
from emonet.data import loaders, protocols, registry, taxonomy
from emonet.io import atomic_path, inside, portable, write_text
from emonet.stats.seeds import keyed_seed

READOUTS: tuple[str, ...] = ("zero-shot", "multi-shot", "logits")

#: The hq.csv name suffix of each readout (the authors' group rule reads it).
SUFFIX = {"zero-shot": "ZS", "multi-shot": "MS", "logits": "logits MS"}

#: The reply's opening up to the first emotion's name, as the multi-shot examples lay it out.
LOGIT_PREFIX = '{\n    "emotions": {\n        "'

#: Image files an image folder contributes.
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".webp")

ATTEMPT_FIELDS = (
    "run",
    "annotator",
    "readout",
    "image",
    "attempt",
    "retry",
    "status",
    "code",
    "reason",
    "reply",
    "prompt_tokens",
    "new_tokens",
    "seconds",
)
RESULT_FIELDS = (
    "run",
    "annotator",
    "readout",
    "image",
    "status",
    "attempts",
    "code",
    "reason",
    "annotations",
    "nonzero",
    "seconds",
)

#: Final status of an image under a readout.
FAILED = "failed"


class AnnotationError(ValueError):
    """Bad input to an annotation run, or an output folder made with other settings."""


def annotator_name(model_name: str, readout: str) -> str:
    """The hq.csv annotator of ``readout``: ``"<model> ZS"``, ``"<model> MS"``, ``"<model>
    logits MS"``."""
    if readout not in SUFFIX:
        raise AnnotationError(f"unknown readout {readout!r}; choose from {list(READOUTS)}")
    return f"{model_name} {SUFFIX[readout]}"


@dataclass(frozen=True)
class ImageSet:
    """Images to annotate: ``ids`` (the hq.csv ``image`` values), ``file_names`` (what the
    zero-shot prompt names) and ``sources`` (a path or encoded bytes per image; None for a
    backend that needs no pixels, :meth:`of_ids`)."""

    ids: tuple[str, ...]
    file_names: tuple[str, ...]
    sources: tuple

    def __post_init__(self):
        if not len(self.ids) == len(self.file_names) == len(self.sources):
            raise AnnotationError("ids, file names and sources need one entry per image")
        if not self.ids:
            raise AnnotationError("no images to annotate")
        seen = pd.Series(self.ids)
        if seen.duplicated().any():
            raise AnnotationError(
                f"image id {seen[seen.duplicated()].iloc[0]!r} occurs twice "
                "(ids are file names without their suffix)"
            )

    def __len__(self) -> int:
        return len(self.ids)

    def open(self, i: int):
        """Image ``i`` as an RGB PIL image."""
        import io

        from PIL import Image, UnidentifiedImageError

        source = self.sources[i]
        if source is None:
            raise AnnotationError(
                f"image {self.ids[i]!r} has no file: this image set only names images"
            )
        try:
            image = Image.open(io.BytesIO(source) if isinstance(source, bytes) else source)
            return image.convert("RGB")
        except (OSError, UnidentifiedImageError) as err:
            raise AnnotationError(
                f"image {self.ids[i]!r} ({self.file_names[i]}): not a readable image ({err})"
            ) from None

    @classmethod
    def from_paths(cls, paths) -> ImageSet:
        """Image files, and the image files (:data:`IMAGE_SUFFIXES`) of folders, sorted by name;
        an image's id is its file name without the suffix."""
        files = []
        for path in map(Path, paths):
            if path.is_dir():
                files += sorted(
                    p for p in path.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES
                )
            elif path.is_file():
                files.append(path)
            else:
                raise AnnotationError(f"{path}: no such file or folder")
        if not files:
            raise AnnotationError(
                f"no image files ({', '.join(IMAGE_SUFFIXES)}) in {[str(p) for p in paths]}"
            )
        return cls(tuple(f.stem for f in files), tuple(f.name for f in files), tuple(files))

    @classmethod
    def from_manifest(cls, root, manifest: pd.DataFrame) -> ImageSet:
        """The images of a manifest of ``emonet generate`` (columns ``id``, ``path`` relative to
        ``root``); ids are the manifest's ids."""
        files = [
            inside(root, rel, f"manifest of {root} (id {i!r})")
            for i, rel in zip(manifest["id"], manifest["path"])
        ]
        return cls(tuple(manifest["id"].astype(str)), tuple(f.name for f in files), tuple(files))

    @classmethod
    def of_ids(cls, ids) -> ImageSet:
        """Images named by id only (file name ``<id>.png``), for a backend that reads no
        pixels (:class:`emonet.benchmarking.vlm.PerceiverVLM`)."""
        ids = tuple(str(i) for i in ids)
        return cls(ids, tuple(f"{i}.png" for i in ids), (None,) * len(ids))

    def subset(self, positions) -> ImageSet:
        """The images at ``positions``, in that order."""
        return ImageSet(
            *(
                tuple(getattr(self, f)[i] for i in positions)
                for f in ("ids", "file_names", "sources")
            )
        )


def settings_of(backend, model_name: str, seed: int, out) -> dict:
    """What an annotation run's results depend on (``settings.json``); a model folder inside
    ``out`` is recorded relative to it."""
    files = (protocols.ZERO_SHOT_FILE, protocols.MULTI_SHOT_FILE)
    return {
        "model": portable(backend.name, out),
        "model_name": model_name,
        "backend": backend.settings,
        "seed": int(seed),
        "protocols": {f: registry.REGISTRY[f].sha256 for f in files},
    }


def _check_settings(out: Path, settings: dict) -> None:
    """Write ``settings.json`` into a new folder; in a used one, stop if it differs."""
    path = out / "settings.json"
    if path.exists():
        try:
            earlier = json.loads(path.read_text(encoding="utf-8"))
        except ValueError as err:
            raise AnnotationError(f"{path}: not readable JSON ({err})") from None
        wanted = json.loads(json.dumps(settings))
        if earlier != wanted:
            diff = [
                k for k in sorted(set(earlier) | set(wanted)) if earlier.get(k) != wanted.get(k)
            ]
            raise AnnotationError(
                f"{out} holds annotations made with other settings ({', '.join(diff)}: "
                f"{str(earlier.get(diff[0]))[:60]!r} vs {str(wanted.get(diff[0]))[:60]!r}); "
                "choose another --out folder to keep both"
            )
        return
    write_text(path, json.dumps(settings, indent=2, sort_keys=True) + "\n")


def log_path(out: Path, kind: str, shard: tuple[int, int] = (0, 1)) -> Path:
    """``<out>/<kind>.jsonl``, or ``<kind>-<i>-of-<n>.jsonl`` for shard ``i`` of ``n``."""
    index, count = shard
    return Path(out) / (f"{kind}.jsonl" if count == 1 else f"{kind}-{index}-of-{count}.jsonl")


def read_log(path: Path) -> list[dict]:
    """The records of a JSON-lines log; a last line without its newline (a write cut short, or
    one in progress) is left out. A complete line that is not a JSON object is an error."""
    if not path.exists():
        return []
    text = path.read_text(encoding="utf-8")
    lines = text.split("\n")[:-1]  # the part after the last newline is incomplete
    records = []
    for number, line in enumerate(lines, start=1):
        try:
            record = json.loads(line)
        except ValueError as err:
            raise AnnotationError(
                f"{path}: line {number}: not a JSON record ({err}); the log is corrupt"
            ) from None
        if not isinstance(record, dict):
            raise AnnotationError(f"{path}: line {number}: not a JSON object")
        records.append(record)
    return records


def _repair(path: Path, log) -> None:
    """Cut a torn last line (no newline) from a log this process is about to append to."""
    if not path.exists() or path.stat().st_size == 0:
        return
    data = path.read_bytes()
    if data.endswith(b"\n"):
        return
    keep = data.rfind(b"\n") + 1
    with open(path, "r+b") as fh:
        fh.truncate(keep)
    log(f"{path.name}: dropped a torn last line ({len(data) - keep} bytes) of an interrupted run")


def _append(path: Path, records: list[dict]) -> None:
    """Append ``records`` as JSON lines in one write, flushed to disk."""
    if not records:
        return
    blob = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records).encode("utf-8")
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o666)
    try:
        os.write(fd, blob)
        os.fsync(fd)
    finally:
        os.close(fd)


def _logs(out: Path, kind: str) -> list[Path]:
    return sorted(Path(out).glob(f"{kind}.jsonl")) + sorted(Path(out).glob(f"{kind}-*-of-*.jsonl"))


def _row_seed(seed: int, readout: str, image: str, attempt: int) -> int:
    """One sampling seed per image, readout and attempt (independent of batches and shards)."""
    return int(np.random.default_rng(keyed_seed(seed, readout, image, attempt)).integers(2**62))


def annotate(
    images: ImageSet,
    backend,
    out,
    *,
    model_name: str,
    readouts=READOUTS,
    seed: int = 42,
    shard: tuple[int, int] = (0, 1),
    progress: bool = True,
    log=print,
) -> pd.DataFrame:
    """Annotate this shard's images (``images`` positions ``i, i+n, ...`` for ``shard=(i, n)``)
    under ``readouts`` with ``backend``; skip what the folder's results already hold. Returns
    :func:`summary_table` of the folder (after rewriting ``hq.csv`` and the summaries when not
    sharded)."""
    unknown = [r for r in readouts if r not in READOUTS]
    if unknown:
        raise AnnotationError(f"unknown readout(s) {unknown}; choose from {list(READOUTS)}")
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise AnnotationError(f"--out {out} is a file, not a folder")
    out.mkdir(parents=True, exist_ok=True)
    _check_settings(out, settings_of(backend, model_name, seed, out))
    index, count = shard
    attempts_log, results_log = log_path(out, "attempts", shard), log_path(out, "results", shard)
    for path in (attempts_log, results_log):
        _repair(path, log)
    rows = [_row(r) for path in _logs(out, "results") for r in read_log(path)]
    done = {(annotator, image) for annotator, image, *_ in rows}
    run = uuid.uuid4().hex[:12]
    mine = list(range(index, len(images), count))
    zero, multi = protocols.zero_shot(), protocols.multi_shot()
    for readout in readouts:
        name = annotator_name(model_name, readout)
        todo = [i for i in mine if (name, images.ids[i]) not in done]
        bar = tqdm(
            total=len(mine),
            initial=len(mine) - len(todo),
            unit="img",
            desc=f"{name}" + (f" {index + 1}/{count}" if count > 1 else ""),
            disable=not progress,
        )
        for start in range(0, len(todo), backend.batch_size):
            batch = todo[start : start + backend.batch_size]
            context = _Batch(run, name, readout, images, batch, seed)
            if readout == "logits":
                results, attempts = _logit_batch(context, backend, multi), []
            else:
                protocol, check = (
                    (zero, replies.check_zero_shot)
                    if readout == "zero-shot"
                    else (multi, replies.check_multi_shot)
                )
                attempts, results = _text_batch(context, backend, protocol, check)
            _append(attempts_log, attempts)
            _append(results_log, results)
            rows += [_row(r) for r in results]
            if count == 1:
                _write_hq(out, rows)
            bar.update(len(batch))
        bar.close()
    if count > 1:
        return summary_table(out)
    _write_hq(out, rows)
    return _write_summaries(out)


@dataclass(frozen=True)
class _Batch:
    """A batch of one readout: the run id, annotator, readout, images and positions, seed."""

    run: str
    annotator: str
    readout: str
    images: ImageSet
    positions: list
    seed: int

    def record(self, i: int, **fields) -> dict:
        return {
            "run": self.run,
            "annotator": self.annotator,
            "readout": self.readout,
            "image": self.images.ids[i],
            **fields,
        }


def _text_batch(batch: _Batch, backend, protocol, check) -> tuple[list[dict], list[dict]]:
    """One batch of a text readout: ask, check, re-ask the rejected ones (batched together)
    until accepted or out of attempts. Returns ``(attempt records, result records)``."""
    pending = [(i, 1) for i in batch.positions]
    seconds = dict.fromkeys(batch.positions, 0.0)
    attempts, results = [], []
    while pending:
        prompts = [protocol.prompt(batch.images.file_names[i], retry=n > 1) for i, n in pending]
        seeds = [_row_seed(batch.seed, batch.readout, batch.images.ids[i], n) for i, n in pending]
        tic = time.perf_counter()
        replies_ = backend.generate(
            batch.images, [i for i, _ in pending], prompts, seeds, protocol.max_tokens
        )
        share = (time.perf_counter() - tic) / len(pending)
        again = []
        for (i, n), reply in zip(pending, replies_):
            verdict = check(reply.text, protocol)
            seconds[i] += share
            attempts.append(
                batch.record(
                    i,
                    attempt=n,
                    retry=n > 1,
                    status=verdict.status,
                    code=verdict.code,
                    reason=verdict.reason,
                    reply=reply.text,
                    prompt_tokens=reply.prompt_tokens,
                    new_tokens=reply.new_tokens,
                    seconds=round(share, 4),
                )
            )
            if verdict.status == replies.REJECTED and n < protocol.max_attempts:
                again.append((i, n + 1))
                continue
            status = FAILED if verdict.status == replies.REJECTED else verdict.status
            results.append(
                batch.record(
                    i,
                    status=status,
                    attempts=n,
                    code=verdict.code,
                    reason=verdict.reason,
                    annotations=verdict.annotations if status == replies.ACCEPTED else None,
                    nonzero=verdict.nonzero if status == replies.ACCEPTED else None,
                    seconds=round(seconds[i], 4),
                )
            )
        pending = again
    return attempts, results


def _logit_batch(batch: _Batch, backend, protocol) -> list[dict]:
    """One batch of the logits readout: the expected rating of every emotion per image."""
    suffixes = [f'{name}": {{"rating":' for name in taxonomy.EMOTIONS]
    tic = time.perf_counter()
    probs, mass = backend.rating_probabilities(
        batch.images, batch.positions, protocol.prompt(), LOGIT_PREFIX, suffixes
    )
    share = (time.perf_counter() - tic) / len(batch.positions)
    expected = probs @ np.arange(probs.shape[-1])
    results = []
    for row, i in enumerate(batch.positions):
        annotations = {
            taxonomy.family_key(e): round(float(v), 4)
            for e, v in zip(taxonomy.EMOTIONS, expected[row])
        }
        results.append(
            batch.record(
                i,
                status=replies.ACCEPTED,
                attempts=1,
                code="",
                reason="",
                annotations=annotations,
                nonzero=int((expected[row] > 0).sum()),
                seconds=round(share, 4),
                rating_mass=round(float(mass[row].mean()), 6),
                probabilities=np.round(probs[row], 5).tolist(),
            )
        )
    return results


def _results(out: Path) -> pd.DataFrame:
    """Every result record of the folder (first record per annotator and image), with
    ``duplicate`` marking later ones."""
    records = [r for path in _logs(out, "results") for r in read_log(path)]
    frame = pd.DataFrame(records, columns=list(RESULT_FIELDS) + ["rating_mass"])
    frame["duplicate"] = frame.duplicated(["annotator", "image"])
    return frame


def _row(record: dict) -> tuple:
    """What hq.csv needs of a result record: annotator, image, status and the annotations as a
    Python literal (accepted results only)."""
    accepted = record["status"] == replies.ACCEPTED
    return (
        record["annotator"],
        record["image"],
        record["status"],
        repr(record["annotations"]) if accepted else "",
    )


def _write_hq(out: Path, rows: list[tuple]) -> None:
    """``hq.csv`` from :func:`_row` tuples (the first per annotator and image), atomically."""
    frame = pd.DataFrame(rows, columns=["annotator", "image", "status", "annotations"])
    frame = frame.drop_duplicates(["annotator", "image"])
    frame = frame[frame["status"] == replies.ACCEPTED].sort_values(
        ["annotator", "image"], kind="stable"
    )
    with atomic_path(Path(out) / "hq.csv") as tmp:
        frame.assign(human=False)[list(loaders.HQ_COLUMNS)].to_csv(tmp, index=False)


def write_outputs(out) -> pd.DataFrame:
    """Rebuild ``hq.csv``, ``annotate_summary.csv`` and ``annotate_reasons.csv`` from the
    folder's logs (atomically); return the summary."""
    out = Path(out)
    _write_hq(out, [_row(r) for path in _logs(out, "results") for r in read_log(path)])
    return _write_summaries(out)


def _write_summaries(out: Path) -> pd.DataFrame:
    """``annotate_summary.csv`` and ``annotate_reasons.csv`` from the logs (each read once); the
    summary."""
    attempts = _attempts(out)
    summary = _summary(_results(out), attempts)
    with atomic_path(out / "annotate_summary.csv") as tmp:
        summary.to_csv(tmp, index=False)
    with atomic_path(out / "annotate_reasons.csv") as tmp:
        _reasons(attempts).to_csv(tmp, index=False)
    return summary


def _attempts(out: Path) -> pd.DataFrame:
    records = [r for path in _logs(out, "attempts") for r in read_log(path)]
    return pd.DataFrame(records, columns=list(ATTEMPT_FIELDS))


SUMMARY_COLUMNS = (
    "annotator",
    "readout",
    "images",
    "accepted",
    "failed",
    "unusable",
    "share_accepted",
    "attempts",
    "mean_attempts",
    "accepted_first_attempt",
    "accepted_after_retry",
    "mean_nonzero",
    "rating_mass",
    "mean_seconds",
    "interrupted_attempts",
    "duplicate_results",
)


def summary_table(out) -> pd.DataFrame:
    """Per annotator of the folder: images with a result; accepted, failed, unusable and the
    accepted share; attempts (sum and mean per image); accepted at the first attempt and after a
    retry; mean non-zero categories of the accepted; mean ``rating_mass`` (logits); mean
    seconds per image; attempts whose batch never got its results; duplicate results."""
    out = Path(out)
    return _summary(_results(out), _attempts(out))


def _summary(results: pd.DataFrame, attempts: pd.DataFrame) -> pd.DataFrame:
    """:func:`summary_table` of the folder's records (:func:`_results`, :func:`_attempts`)."""
    finished = set(zip(results["run"], results["annotator"], results["image"]))
    orphan = pd.Series(
        [
            key not in finished
            for key in zip(attempts["run"], attempts["annotator"], attempts["image"])
        ],
        dtype=bool,
    )
    rows = []
    for name, group in results.groupby("annotator", sort=True):
        first = group[~group["duplicate"]]
        ok = first[first["status"] == replies.ACCEPTED]
        rows.append(
            {
                "annotator": name,
                "readout": first["readout"].iloc[0],
                "images": len(first),
                "accepted": len(ok),
                "failed": int((first["status"] == FAILED).sum()),
                "unusable": int((first["status"] == replies.UNUSABLE).sum()),
                "share_accepted": len(ok) / len(first),
                "attempts": int(first["attempts"].sum()),
                "mean_attempts": float(first["attempts"].mean()),
                "accepted_first_attempt": int((ok["attempts"] == 1).sum()),
                "accepted_after_retry": int((ok["attempts"] > 1).sum()),
                "mean_nonzero": float(ok["nonzero"].mean()) if len(ok) else np.nan,
                "rating_mass": float(first["rating_mass"].astype(float).mean()),
                "mean_seconds": float(first["seconds"].mean()),
                "interrupted_attempts": int((orphan & (attempts["annotator"] == name)).sum()),
                "duplicate_results": int(group["duplicate"].sum()),
            }
        )
    return pd.DataFrame(rows, columns=list(SUMMARY_COLUMNS))


def reasons_table(out) -> pd.DataFrame:
    """Why replies were turned down: per annotator, status (rejected, unusable) and problem
    code, the number of attempts and one example reason."""
    return _reasons(_attempts(Path(out)))


def _reasons(attempts: pd.DataFrame) -> pd.DataFrame:
    """:func:`reasons_table` of the folder's attempt records (:func:`_attempts`)."""
    bad = attempts[attempts["status"] != replies.ACCEPTED]
    if bad.empty:
        return pd.DataFrame(columns=["annotator", "status", "code", "attempts", "example"])
    return (
        bad.groupby(["annotator", "status", "code"], sort=True)
        .agg(attempts=("reason", "size"), example=("reason", "first"))
        .reset_index()
    )


def annotate_sharded(
    images: ImageSet, make_backend, out, *, cpu: bool = False, **options
) -> pd.DataFrame:
    """Annotation across processes with accelerate (``accelerate launch``, one process per GPU;
    ``cpu=True``: CPU processes): each process builds its backend with ``make_backend(device)``
    and annotates its slice into its own logs; the main process then rebuilds ``hq.csv`` and
    the summaries. Returns the summary (on every process)."""
    from accelerate import PartialState

    state = PartialState(cpu=cpu)
    backend = make_backend(str(state.device))
    annotate(
        images,
        backend,
        out,
        shard=(state.process_index, state.num_processes),
        progress=state.is_local_main_process,
        **options,
    )
    state.wait_for_everyone()
    if state.is_main_process:
        write_outputs(out)
    state.wait_for_everyone()
    return summary_table(out)
