"""A notebook's stamp: the fingerprint of everything its result depends on, and the record of
the artifacts it wrote.

A stamp (``<book_dir>/.stamps/<stem>.json``) holds the fingerprint of the notebook's source, its
parameters (paths inside the project relative to it, so a moved clone stays fresh), the package
modules it can reach (:mod:`emonet.build.import_graph`), the verified checksums of the data files,
the reader that turns it into a page, and the content of the earlier notebooks' outputs other
than figures; and each output's size, mtime and SHA-256. ``docs/layout.md`` explains the rules.
"""

from __future__ import annotations

import json
from pathlib import Path

from emonet.build import reader
from emonet.build.notebooks import Notebook
from emonet.data.checksums import sha256_bytes, sha256_of
from emonet.io import portable
from emonet.paths import PROJECT_ROOT

#: Artifact folders no notebook reads from an earlier one: a change there leaves later notebooks
#: fresh.
NOT_READ_DOWNSTREAM = ("figures",)


def fingerprint(nb: Notebook, params: dict, upstream: dict, package: str, data: dict) -> str:
    """Fingerprint of everything a notebook's result depends on (see the module docstring)."""
    payload = {
        "source": sha256_bytes(nb.source.read_bytes()),
        "params": params,
        "package": package,
        "data": data,
        "upstream": upstream,
        "reader": sha256_bytes(Path(reader.__file__).read_bytes()),
    }
    return sha256_bytes(json.dumps(payload, sort_keys=True, default=str).encode())


def snapshot(root: Path) -> dict[str, list[int]]:
    """``relpath -> [size, mtime_ns]`` of every file under ``root`` (failed runs and the lock
    excluded)."""
    out = {}
    if root.exists():
        for path in root.rglob("*"):
            rel = path.relative_to(root)
            if path.is_file() and rel.parts[0] not in ("failed", ".lock"):
                st = path.stat()
                out[rel.as_posix()] = [st.st_size, st.st_mtime_ns]
    return out


def outputs_intact(root: Path, outputs: dict) -> bool:
    """Every recorded output still has its recorded content: the same size and mtime, or (a copied
    or touched file) the same SHA-256."""
    for rel, (size, mtime, digest) in outputs.items():
        try:
            st = (root / rel).stat()
        except FileNotFoundError:
            return False
        if st.st_size != size or (st.st_mtime_ns != mtime and sha256_of(root / rel) != digest):
            return False
    return True


def readable(outputs: dict) -> dict[str, str]:
    """``relpath -> sha256`` of the outputs a later notebook may read."""
    return {
        rel: rec[2]
        for rel, rec in outputs.items()
        if rel.split("/", 1)[0] not in NOT_READ_DOWNSTREAM
    }


def _portable(value):
    """``value`` with a path inside the project made relative to it (for stamps)."""
    if isinstance(value, str) and Path(value).is_absolute():
        return portable(value, PROJECT_ROOT)
    return value


def portable_params(params: dict) -> dict:
    """Parameters as a stamp records them: paths inside the project relative to it."""
    return {k: _portable(v) for k, v in params.items()}
