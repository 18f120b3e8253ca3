"""The pinned upstream files and their resolution.

Resolution order for a registry file (:func:`fetch`):
1. the offline mirror folder named by ``$EMONET_DATA_DIR`` (e.g. ``../shared/data/emonet-face``);
2. the local cache (``$EMONET_CACHE_DIR``, default: pooch's per-user cache for ``emonet``);
3. a download with pooch from the authors' repository, pinned to one commit.

Every file is verified against its checksum wherever it comes from.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from emonet.data.checksums import git_blob_id, sha256_of
from emonet.io import write_text

#: The authors' repository and the commit every URL is pinned to (see PROVENANCE.md).
UPSTREAM_REPO = "LAION-AI/emonet-face"


UPSTREAM_COMMIT = "f4d4dabc9117a8a07229f02f6672d16c2447e38d"


RAW_URL = f"https://raw.githubusercontent.com/{UPSTREAM_REPO}/{UPSTREAM_COMMIT}/{{path}}"


class DataError(ValueError):
    """A data file is missing, corrupt or malformed; the message names file, line and field."""


@dataclass(frozen=True)
class RemoteFile:
    """One registry entry. Exactly one of ``sha256`` / ``git_blob`` pins the content."""

    name: str
    upstream_path: str | None  # None: not downloadable as such (a converted file)
    sha256: str | None = None
    git_blob: str | None = None  # SHA-1 of b"blob <size>\0" + content (GitHub's blob id)
    size: int | None = None
    description: str = ""
    derived_from: str | None = None  # upstream path of the file it is converted from

    @property
    def url(self) -> str | None:
        return None if self.upstream_path is None else RAW_URL.format(path=self.upstream_path)

    @property
    def source_url(self) -> str | None:
        """Where the bytes come from: the file itself, or the file it is converted from."""
        path = self.upstream_path or self.derived_from
        return None if path is None else RAW_URL.format(path=path)


REGISTRY: dict[str, RemoteFile] = {
    f.name: f
    for f in (
        RemoteFile(
            "binary.csv",
            "data/binary.csv",
            size=2104615,
            sha256="3ea29e40b39422ea74e3f5639844408071261a9262d92cc7f7dbd0fa594f0d22",
            description="Binary set: 65,686 expert yes/no labels on 19,999 images",
        ),
        RemoteFile(
            "guide.json",
            "data/guide.json",
            size=10828,
            sha256="679049ed7ac1dc01ce28891132c8bc285032b84f2319f099fbd4aa2c23ec9191",
            description="taxonomy: 40 categories with descriptor words, 7 families",
        ),
        RemoteFile(
            "ferd.jsonl",
            "eval/results/ferd.jsonl",
            size=865727,
            sha256="99598bfdc4e3c2dfbd7b180b0c69716975fd6893e71cb84c1f147179e8cb73a6",
            description="released model's 44 head outputs on 152 real FERD photographs",
        ),
        RemoteFile(
            "basic_emotion_mappings.json",
            None,
            size=3278,
            sha256="68f597ae704850e78214824a4fc9fc8bcb2927cef637298962d2b8bc2b417649",
            description="40 heads -> 8 basic emotions (converted from the authors' "
            "eval/config.py; the conversion is verified by this file's pin)",
            derived_from="eval/config.py",
        ),
        RemoteFile(
            "vlm-inference-prompt-zero-shot.ipynb",
            "inference/vlm-inference-prompt-zero-shot.ipynb",
            size=3047156,
            sha256="d1cab9a216b57f36f8433321281d0120bfcb7628756f37441d4197f31810ebea",
            description="the authors' zero-shot VLM protocol (prompt, guideline, 25-key "
            "example, retry text); read with ast, never executed",
        ),
        RemoteFile(
            "vlm-inference-prompt-multi-shot.ipynb",
            "inference/vlm-inference-prompt-multi-shot.ipynb",
            size=173775,
            sha256="9517a40b69bb0724f4aa8915e9a755c52d41313ecfd8fcbf55607c9801ff4374",
            description="the authors' multi-shot VLM protocol (template, worked examples, at "
            "most 5 non-zero); read with ast, never executed",
        ),
        RemoteFile(
            "hq.csv",
            "data/hq.csv",
            git_blob="7154035c588f90f50976051e1e3a542275631831",
            description="HQ set: 0-7 ratings by 4 of 8 experts and 14 models on 2,500 images",
        ),
    )
}


def mirror_dir() -> Path | None:
    """The offline mirror folder from ``$EMONET_DATA_DIR``, or None when unset."""
    value = os.environ.get("EMONET_DATA_DIR", "").strip()
    if not value:
        return None
    path = Path(value).expanduser()
    if not path.is_dir():
        raise DataError(f"EMONET_DATA_DIR={value!r} is not a folder")
    return path


def cache_dir() -> Path:
    """Download cache: ``$EMONET_CACHE_DIR`` or pooch's per-user cache folder for emonet."""
    value = os.environ.get("EMONET_CACHE_DIR", "").strip()
    if value:
        return Path(value).expanduser()
    import pooch

    return Path(pooch.os_cache("emonet"))


def problem(path: Path, entry: RemoteFile) -> tuple[str, str] | None:
    """What is wrong with ``path`` as ``entry``: ``(kind, detail)`` with kind ``"truncated"`` or
    ``"corrupt"``, or None when its size and checksum are the pinned ones."""
    size = path.stat().st_size
    if size == 0:
        return "truncated", "0 bytes"
    if entry.size is not None and size < entry.size:
        return "truncated", f"{size:,} of {entry.size:,} bytes"
    if entry.size is not None and size != entry.size:
        return "corrupt", f"{size:,} bytes, expected {entry.size:,}"
    if entry.sha256 is not None:
        got, want, algo = sha256_of(path), entry.sha256, "sha256"
    else:
        got, want, algo = git_blob_id(path), entry.git_blob, "git blob id"
    if got != want:
        return "corrupt", f"{algo} {got[:12]}..., expected {want[:12]}..."
    return None


def verify(path: Path, entry: RemoteFile) -> Path:
    """Check size and checksum of ``path`` against ``entry``; raise :class:`DataError` if off."""
    found = problem(path, entry)
    if found is not None:
        kind, detail = found
        raise DataError(
            f"{path}: {kind} ({detail}) for {entry.name}; the file is not the pinned "
            "upstream version: delete it and fetch it again"
        )
    return path


def local_path(name: str) -> Path | None:
    """Where registry file ``name`` is on this machine (mirror first, then cache), unverified."""
    mirror = mirror_dir()
    for folder in ([mirror] if mirror is not None else []) + [cache_dir()]:
        if (folder / name).exists():
            return folder / name
    return None


def status(name: str) -> tuple[str, Path | None, str]:
    """``(state, path, detail)`` of registry file ``name`` without downloading: state ``"ok"``,
    ``"missing"``, ``"truncated"`` or ``"corrupt"``."""
    entry = REGISTRY[name]
    path = local_path(name)
    if path is None:
        where = (
            "downloadable with `emonet data fetch`"
            if entry.source_url
            else "cannot be downloaded: put it in the mirror folder"
        )
        return "missing", None, where
    found = problem(path, entry)
    return ("ok", path, "") if found is None else (found[0], path, found[1])


def fetch(name: str, *, download: bool = True) -> Path:
    """Local path of registry file ``name``: mirror, then cache, then download (all verified)."""
    try:
        entry = REGISTRY[name]
    except KeyError:
        raise DataError(f"unknown data file {name!r}; known: {', '.join(REGISTRY)}") from None
    mirror = mirror_dir()
    if mirror is not None and (mirror / name).exists():
        return verify(mirror / name, entry)
    cached = cache_dir() / name
    if cached.exists():
        return verify(cached, entry)
    where = f"not in the mirror {mirror}" if mirror else "EMONET_DATA_DIR is not set"
    if entry.source_url is None:
        raise DataError(
            f"{name} cannot be downloaded ({entry.description}); {where} and it is "
            f"not in the cache {cache_dir()}. Point EMONET_DATA_DIR at the offline "
            "mirror that holds it."
        )
    if not download:
        raise DataError(f"{name}: {where}, not cached in {cache_dir()}, and downloads are off")
    if entry.derived_from is not None:
        return _derive(entry, cached)
    return _download(entry, cached)


def convert_mappings(source: str) -> bytes:
    """``basic_emotion_mappings.json`` from the text of the authors' ``eval/config.py``: its dict
    literals ``ferd_mapping`` and ``affectnet_mapping`` (head -> basic label) and the dict of
    AffectNet's integer labels (0-7 -> basic label), written as the mirror holds them (JSON,
    indent 1, sorted keys). Read with :mod:`ast`, never executed."""
    import ast

    found: dict = {}
    for node in ast.parse(source).body:
        if (
            isinstance(node, ast.Assign)
            and len(node.targets) == 1
            and isinstance(node.targets[0], ast.Name)
            and isinstance(node.value, ast.Dict)
        ):
            try:
                found[node.targets[0].id] = ast.literal_eval(node.value)
            except ValueError:
                continue
    labels = [v for v in found.values() if sorted(v) == list(range(8))]
    missing = [n for n in ("ferd_mapping", "affectnet_mapping") if n not in found]
    if missing or len(labels) != 1:
        raise DataError(
            f"eval/config.py: expected dict literals ferd_mapping, affectnet_mapping "
            f"and one dict of the labels 0-7; missing {missing}, {len(labels)} label "
            "dict(s) found"
        )
    out = {
        "affectnet": found["affectnet_mapping"],
        "ferd": found["ferd_mapping"],
        "affectnet_label_index": {str(k): v for k, v in labels[0].items()},
    }
    return json.dumps(out, indent=1, sort_keys=True).encode()


def _derive(entry: RemoteFile, target: Path) -> Path:
    """Download the file ``entry`` is converted from (its URL pins the commit), convert it and
    keep the result only if it has ``entry``'s pinned checksum."""
    import pooch

    target.parent.mkdir(parents=True, exist_ok=True)
    source = target.with_name(Path(entry.derived_from).name + ".source")
    try:
        pooch.retrieve(
            entry.source_url,
            known_hash=None,
            fname=source.name,
            path=target.parent,
            progressbar=False,
        )
    except Exception as err:  # network errors: name the file and the way out
        raise DataError(
            f"could not download {entry.source_url} to derive {entry.name}: {err}. "
            "Offline? Set EMONET_DATA_DIR to a mirror folder that holds it."
        ) from None
    partial = target.with_name(target.name + ".part")
    try:
        partial.write_bytes(convert_mappings(source.read_text(encoding="utf-8")))
        verify(partial, entry)
    except DataError as err:
        partial.unlink(missing_ok=True)
        raise DataError(
            f"{entry.name} derived from {entry.source_url} does not match its pin "
            f"({err}); use a mirror that holds it"
        ) from None
    finally:
        source.unlink(missing_ok=True)
    os.replace(partial, target)
    return target


def _download(entry: RemoteFile, target: Path) -> Path:
    import pooch

    target.parent.mkdir(parents=True, exist_ok=True)
    known = f"sha256:{entry.sha256}" if entry.sha256 else None
    partial = target.with_name(target.name + ".part")
    try:
        pooch.retrieve(
            entry.url, known_hash=known, fname=partial.name, path=target.parent, progressbar=True
        )
    except ValueError as err:  # pooch's hash mismatch
        partial.unlink(missing_ok=True)
        raise DataError(
            f"download of {entry.name} from {entry.url} failed verification: {err}"
        ) from None
    except Exception as err:  # network errors: name the file and the way out
        partial.unlink(missing_ok=True)
        raise DataError(
            f"could not download {entry.name} from {entry.url}: {err}. Offline? "
            "Set EMONET_DATA_DIR to a mirror folder that holds it."
        ) from None
    try:
        verify(partial, entry)
    except DataError:
        partial.unlink(missing_ok=True)
        raise
    os.replace(partial, target)
    return target


def data_fingerprint(names=None) -> dict[str, str]:
    """Pinned checksum of each registry file, for cache keys of downstream steps."""
    names = REGISTRY if names is None else names
    return {n: REGISTRY[n].sha256 or REGISTRY[n].git_blob for n in names}


#: Where :class:`VerificationRecord` remembers what was verified (in the cache folder).
VERIFIED_RECORD = "verified.json"


class VerificationRecord:
    """What this machine has verified: ``path -> [size, mtime_ns, expected checksum]`` in
    ``<cache>/verified.json``, so a file is hashed again only when it changed (or is expected to
    have another checksum). Used as a context manager; the record is saved (atomically) on exit
    when something was added."""

    def __init__(self):
        self.path = cache_dir() / VERIFIED_RECORD
        try:
            self.entries = json.loads(self.path.read_text())
        except (OSError, ValueError):
            self.entries = {}
        self.changed = False

    @staticmethod
    def _key(path: Path, expected: str) -> tuple[str, list]:
        st = path.stat()
        return str(path.resolve()), [st.st_size, st.st_mtime_ns, expected]

    def seen(self, path: Path, expected: str) -> bool:
        """Whether ``path`` was verified against ``expected`` and has not changed since."""
        key, value = self._key(path, expected)
        return self.entries.get(key) == value

    def add(self, path: Path, expected: str) -> None:
        """Remember that ``path`` (as it is now) matched ``expected``."""
        key, value = self._key(path, expected)
        self.entries[key], self.changed = value, True

    def __enter__(self) -> VerificationRecord:
        return self

    def __exit__(self, *exc) -> None:
        if self.changed:
            write_text(self.path, json.dumps(self.entries, indent=1, sort_keys=True))


def verified_fingerprint() -> dict[str, str]:
    """:func:`data_fingerprint` after verifying every registry file present on this machine.

    Cheap on repeat: a file whose size and modification time match its last successful
    verification (:class:`VerificationRecord`) is not hashed again; any other is. Raises
    :class:`DataError` naming a truncated or corrupt file, so nothing downstream is considered
    fresh on bad data.
    """
    with VerificationRecord() as record:
        for name, entry in REGISTRY.items():
            path = local_path(name)
            if path is None:
                continue
            expected = entry.sha256 or entry.git_blob
            if not record.seen(path, expected):
                verify(path, entry)
                record.add(path, expected)
    return data_fingerprint()


def locate_supplied(name: str, upstream: str | None = None) -> Path:
    """Path of a file the user supplies (no pinned checksum exists): the mirror, then the cache.

    Such files are never downloaded, because nothing could verify them; the caller records their
    size and hashes (:func:`emonet.data.checksums.file_record`) so a result names exactly what it was computed from.
    ``upstream``: where the file is published, for the message when it is missing.
    """
    mirror = mirror_dir()
    for folder in ([mirror] if mirror is not None else []) + [cache_dir()]:
        if (folder / name).is_file():
            return folder / name
    where = f" (upstream: {upstream})" if upstream else ""
    raise DataError(
        f"{name} is not in the mirror ({mirror or 'EMONET_DATA_DIR is not set'}) nor "
        f"in the cache {cache_dir()}. It has no pinned checksum here, so it is not "
        f"downloaded automatically: fetch it yourself{where} and put it in one of "
        "those folders."
    )
