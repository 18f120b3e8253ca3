"""Checksums of files and bytes: SHA-256 and GitHub's git blob id, and a record of what a result
was computed from. Every other module hashes through these functions.
"""

from __future__ import annotations

import hashlib
from pathlib import Path


def git_blob_id(path: Path) -> str:
    """GitHub's blob id of a file: SHA-1 of ``b"blob <size>\\0" + content`` (hex)."""
    digest = hashlib.sha1(f"blob {path.stat().st_size}\0".encode())
    _update_from_file(digest, path=path)
    return digest.hexdigest()


def git_blob_bytes(data: bytes) -> str:
    """GitHub's blob id of ``data``: SHA-1 of ``b"blob <size>\\0" + data`` (hex)."""
    return hashlib.sha1(f"blob {len(data)}\0".encode() + data).hexdigest()


def sha256_of(path: Path) -> str:
    """SHA-256 of a file's content (hex)."""
    digest = hashlib.sha256()
    _update_from_file(digest, path=path)
    return digest.hexdigest()


def sha256_bytes(*parts: bytes) -> str:
    """SHA-256 (hex) of the concatenation of ``parts`` (bytes), without joining them."""
    digest = hashlib.sha256()
    for part in parts:
        digest.update(part)
    return digest.hexdigest()


def _update_from_file(*digests, path: Path, chunk: int = 1 << 20) -> None:
    """Feed the content of ``path`` to every one of ``digests``, reading the file once."""
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            for digest in digests:
                digest.update(block)


def file_record(path: Path) -> dict:
    """``name, bytes, sha256, git_blob`` of a file, to record what a result was computed from
    (both digests from one read)."""
    path = Path(path)
    size = path.stat().st_size
    sha256, blob = hashlib.sha256(), hashlib.sha1(f"blob {size}\0".encode())
    _update_from_file(sha256, blob, path=path)
    return {
        "name": path.name,
        "bytes": size,
        "sha256": sha256.hexdigest(),
        "git_blob": blob.hexdigest(),
    }
