"""A repository written into a Hugging Face hub cache as ``huggingface_hub`` lays out a download:
``<cache>/<type>s--<owner>--<name>/blobs/<etag>`` (the files' content, named by SHA-256 for LFS
files and by git blob id for the others), ``snapshots/<commit>/<path>`` (relative links to the
blobs) and ``trees/<commit>.json`` (the hub's tree listing, format 1: size, git blob id and, for
LFS files, the content's SHA-256 and size). No ``refs/`` entry is written, so the repository can
only be opened at its commit: a call that drops the revision fails instead of reading it.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

from emonet.data.checksums import git_blob_bytes, sha256_bytes

#: Files stored with Git LFS, as the hub's default ``.gitattributes`` does.
LFS_SUFFIXES = (".parquet", ".safetensors", ".pth", ".bin", ".png", ".jpg", ".arrow", ".tar")


def repo_folder(cache: Path, repo_id: str, repo_type: str) -> Path:
    """The cache folder of a repository (``datasets--owner--name``, ``models--owner--name``)."""
    return Path(cache) / f"{repo_type}s--{repo_id.replace('/', '--')}"


def put(cache: Path, repo_id: str, repo_type: str, files: Path, commit: str) -> Path:
    """Write every file under the folder ``files`` as repository ``repo_id`` at ``commit``;
    return the snapshot folder. An earlier copy of the repository is replaced."""
    storage = repo_folder(cache, repo_id, repo_type)
    shutil.rmtree(storage, ignore_errors=True)
    snapshot = storage / "snapshots" / commit
    (storage / "blobs").mkdir(parents=True)
    listing = {}
    for path in sorted(p for p in Path(files).rglob("*") if p.is_file()):
        rel = path.relative_to(files).as_posix()
        data = path.read_bytes()
        if path.suffix in LFS_SUFFIXES:
            sha = sha256_bytes(data)
            pointer = (
                f"version https://git-lfs.github.com/spec/v1\noid sha256:{sha}\nsize {len(data)}\n"
            ).encode()
            etag = sha
            listing[rel] = {
                "size": len(data),
                "blob_id": git_blob_bytes(pointer),
                "lfs_sha256": sha,
                "lfs_size": len(data),
            }
        else:
            etag = git_blob_bytes(data)
            listing[rel] = {"size": len(data), "blob_id": etag}
        blob = storage / "blobs" / etag
        blob.write_bytes(data)
        link = snapshot / rel
        link.parent.mkdir(parents=True, exist_ok=True)
        link.symlink_to(os.path.relpath(blob, link.parent))
    trees = storage / "trees"
    trees.mkdir()
    (trees / f"{commit}.json").write_text(
        json.dumps({"format_version": 1, "files": listing}, indent=1)
    )
    return snapshot
