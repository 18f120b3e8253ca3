"""Hugging Face hub artefacts pinned by revision and checked after download.

A hub source is written ``owner/name`` or ``owner/name@revision`` (a commit hash, a tag or a
branch); anything that exists on disk is a local source instead. :func:`fetch` downloads the
repository at that revision with ``huggingface_hub.snapshot_download`` into the Hugging Face cache
(offline, ``HF_HUB_OFFLINE=1``: only what the cache holds) and :func:`verify` checks every file of
the snapshot against the hub's own tree listing, which ``snapshot_download`` caches next to the
files (``trees/<commit>.json``): LFS files by SHA-256, other files by git blob id. Without a cached
listing (a cache filled by an older client) each file is checked against the hash its cache blob
is named by. A file that differs raises :class:`emonet.data.registry.DataError` naming the
repository, commit and file. Checked files are remembered by size and mtime
(:class:`emonet.data.registry.VerificationRecord`), so a rerun hashes only what changed.

No commit hash of the EmoNet-Face repositories is published, so the full profile names them
without one: the run resolves ``main`` and records the commit it got (:func:`sources_table`).
Appending ``@<commit>`` pins a run to that commit; offline, a revision that is not in the cache is
an error, not a silent fall-back to another one.
"""

from __future__ import annotations

import json
import logging
import os
import re
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from emonet.data.checksums import git_blob_id, sha256_of
from emonet.data.registry import DataError, VerificationRecord

_REPO = re.compile(r"^([\w.-]+/[\w.-]+)(?:@([\w./-]+))?$")
_COMMIT = re.compile(r"^[0-9a-f]{40}$")
#: The format of huggingface_hub's cached tree listings this module reads.
TREE_FORMAT = 1


@dataclass(frozen=True)
class HubRef:
    """A repository on the Hugging Face hub: ``repo_id``, ``repo_type`` ("dataset" or "model")
    and the ``revision`` asked for (None: the default branch)."""

    repo_id: str
    repo_type: str
    revision: str | None = None

    @property
    def pinned(self) -> bool:
        """Whether the revision is a commit hash (a branch or tag can move)."""
        return self.revision is not None and bool(_COMMIT.match(self.revision))

    def __str__(self) -> str:
        return self.repo_id + (f"@{self.revision}" if self.revision else "")


def short(source: str) -> str:
    """``source`` for captions: a revision after ``@`` cut to 12 characters."""
    name, sep, revision = str(source).partition("@")
    return name + (sep + revision[:12] if sep else "")


def parse(source: str | os.PathLike, repo_type: str) -> HubRef | None:
    """The hub repository ``source`` names, or None when ``source`` exists on disk (a local
    folder or file). Raises :class:`DataError` for anything else."""
    if Path(source).expanduser().exists():
        return None
    match = _REPO.match(str(source))
    if match is None:
        raise DataError(
            f"{str(source)!r} is neither an existing file or folder nor a Hugging "
            "Face repository id of the form owner/name or owner/name@revision"
        )
    return HubRef(match.group(1), repo_type, match.group(2))


@dataclass(frozen=True)
class Snapshot:
    """A verified local copy of a hub repository at one commit: its ``folder`` in the
    Hugging Face cache, the ``commit`` it resolved to and the checked ``files`` (``file, bytes,
    expected, checked_against``)."""

    ref: HubRef
    folder: Path
    commit: str
    files: pd.DataFrame

    def record(self) -> dict:
        """One row of :func:`sources_table`."""
        return {
            "source": self.ref.repo_id,
            "type": self.ref.repo_type,
            "revision asked": self.ref.revision or "(none: default branch)",
            "pinned": "yes (commit hash)"
            if self.ref.pinned
            else "no: no published commit hash"
            if self.ref.revision is None
            else "no: a branch or tag",
            "commit": self.commit,
            "files": len(self.files),
            "bytes": int(self.files["bytes"].sum()),
            "checked against": ", ".join(sorted(set(self.files["checked_against"]))),
        }


def sources_table(snapshots) -> pd.DataFrame:
    """Where a chapter's hub artefacts came from: one row per :class:`Snapshot` (source, revision
    asked, whether that pins a commit, the commit, the files checked and against what; ``None``
    entries, artefacts this build did not read, are skipped), or a one-row note when there is
    none."""
    records = [s.record() for s in snapshots if s is not None]
    return (
        pd.DataFrame(records)
        if records
        else pd.DataFrame({"note": ["no Hugging Face artefacts in this build"]})
    )


def fetch(ref: HubRef, allow_patterns: list[str] | None = None) -> Snapshot:
    """Download ``ref`` (only ``allow_patterns`` when given) and verify it (:func:`verify`)."""
    import_tqdm()
    from huggingface_hub import snapshot_download
    from huggingface_hub.utils import disable_progress_bars

    disable_progress_bars()  # a notebook page would keep every bar; the sources table says it all
    try:
        folder = Path(
            snapshot_download(
                ref.repo_id,
                repo_type=ref.repo_type,
                revision=ref.revision,
                allow_patterns=allow_patterns,
            )
        )
    except Exception as err:  # offline, unknown repo or revision, gated, network
        raise DataError(unreachable(ref, err)) from None
    return verified(ref, folder)


def unreachable(ref: HubRef, err: Exception) -> str:
    """The message for a hub artefact that could not be fetched: what, why, and the way out."""
    first = str(err).splitlines()[0] if str(err) else ""
    return (
        f"cannot fetch {ref.repo_type} {ref} from the Hugging Face hub ({type(err).__name__}: "
        f"{first}). Offline (HF_HUB_OFFLINE=1), only a revision already in the cache "
        f"(HF_HUB_CACHE) can be used; a gated repository needs a token (HF_TOKEN)"
    )


def verified(ref: HubRef, folder: Path) -> Snapshot:
    """The :class:`Snapshot` of a downloaded cache folder ``snapshots/<commit>`` of ``ref``,
    after :func:`verify`; the folder must be the commit ``ref`` asked for when it asked for one."""
    commit = folder.name
    if ref.pinned and commit != ref.revision:
        raise DataError(f"{ref}: the download resolved to commit {commit}, not the pinned one")
    return Snapshot(ref, folder, commit, verify(ref, commit, folder))


def verify(ref: HubRef, commit: str, folder: Path) -> pd.DataFrame:
    """Check every file under ``folder`` (a snapshot of ``ref`` at ``commit``) against the hub's
    cached tree listing, else against its cache blob's name; return ``file, bytes, expected,
    checked_against`` per file. Raises :class:`DataError` naming the first file that differs or
    cannot be checked."""
    listing = _listing(folder, commit)
    rows = []
    with VerificationRecord() as record:
        for path in sorted(p for p in folder.rglob("*") if p.is_file()):
            rel = path.relative_to(folder).as_posix()
            if rel in listing:
                expected, against = listing[rel], "hub tree listing"
            else:
                expected, against = _blob_name(path), "cache blob name"
            if expected is None:
                raise DataError(
                    f"{ref} (commit {commit}): {rel} cannot be checked: it is "
                    "neither in the hub's tree listing nor a link to a cache blob; "
                    "download the repository again with huggingface_hub"
                )
            if not record.seen(path, expected):
                got = sha256_of(path) if len(expected) == 64 else git_blob_id(path)
                if got != expected:
                    raise DataError(
                        f"{ref} (commit {commit}): {rel} is corrupt ("
                        f"{'sha256' if len(expected) == 64 else 'git blob id'} "
                        f"{got[:12]}..., expected {expected[:12]}... from the "
                        f"{against}); delete it from the cache and fetch it again"
                    )
                record.add(path, expected)
            rows.append((rel, path.stat().st_size, expected, against))
    if not rows:
        raise DataError(f"{ref} (commit {commit}): the snapshot {folder} holds no files")
    return pd.DataFrame(rows, columns=["file", "bytes", "expected", "checked_against"])


def _listing(folder: Path, commit: str) -> dict[str, str]:
    """``file -> expected checksum`` (LFS: SHA-256 of the content, else git blob id) from the tree
    listing huggingface_hub cached for ``commit`` beside the snapshot ``folder``
    (``<repo folder>/trees/<commit>.json``, format 1); empty when none is cached. (The public
    ``get_cached_repo_tree`` leaves out the LFS checksums, so the file is read here.)"""
    path = folder.parent.parent / "trees" / f"{commit}.json"
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict) or data.get("format_version") != TREE_FORMAT:
        return {}
    return {
        name: info.get("lfs_sha256") or info["blob_id"]
        for name, info in data.get("files", {}).items()
    }


def _blob_name(path: Path) -> str | None:
    """The checksum a cache file's blob is named by (``blobs/<sha256 or git blob id>``), or None
    when the file is not a link to a cache blob."""
    target = Path(os.path.realpath(path))
    if (
        path.is_symlink()
        and target.parent.name == "blobs"
        and re.fullmatch(r"[0-9a-f]{40}|[0-9a-f]{64}", target.name)
    ):
        return target.name
    return None


#: Notices transformers prints while loading a checkpoint that say nothing about the checkpoint:
#: torchvision is absent on purpose (``docs/pins.md``), and ``SiglipConfig.from_pretrained``
#: checks a default text configuration of its own (vocabulary 32,000, special tokens 49,406).
IRRELEVANT_NOTICES = (
    "requires torchvision (not installed)",
    "must be `None` or an integer within the vocabulary",
)


class _Notices(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return not any(text in record.getMessage() for text in IRRELEVANT_NOTICES)


def import_tqdm() -> None:
    """Import ``tqdm.auto`` (which ``datasets``, ``huggingface_hub`` and ``transformers`` import)
    without the "IProgress not found" warning it prints once inside a notebook kernel without
    ipywidgets."""
    import warnings

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="IProgress not found")
        import tqdm.auto  # noqa: F401  (the warning is emitted once, at this import)


@contextmanager
def quiet_loading():
    """Load transformers or diffusers models without their progress bars and without
    :data:`IRRELEVANT_NOTICES` (every other warning, e.g. weights left uninitialised, still
    shows)."""
    import_tqdm()
    from diffusers.utils import logging as diffusers_logging
    from transformers.utils import logging as transformers_logging

    transformers_logging.disable_progress_bar()
    diffusers_logging.disable_progress_bar()
    handlers = transformers_logging.get_logger().handlers
    notices = _Notices()
    for handler in handlers:
        handler.addFilter(notices)
    try:
        yield
    finally:
        for handler in handlers:
            handler.removeFilter(notices)
