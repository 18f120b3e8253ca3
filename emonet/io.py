"""Safe file writes and paths: atomic writes (a temporary file renamed onto the target) and
containment of every path read from a manifest, a stamp or another artifact."""

from __future__ import annotations

import os
import tempfile
from contextlib import contextmanager
from pathlib import Path

#: The process's umask (read once: ``os.umask`` can only be read by setting it).
_UMASK = os.umask(0)
os.umask(_UMASK)


class UnsafePathError(ValueError):
    """A path read from a manifest, a stamp or another artifact points outside its folder."""


def inside(root: str | os.PathLike, rel: str, where: str) -> Path:
    """``root / rel`` when that stays inside ``root`` (a relative path, no ``..`` escaping it, no
    symlink out of it); else :class:`UnsafePathError` naming ``where`` (file and row) the path
    came from. Every path read from an artifact goes through here before it is opened or
    removed."""
    root = Path(root)
    rel_path = Path(str(rel))
    target = (root / rel_path).resolve()
    if rel_path.is_absolute() or not target.is_relative_to(root.resolve()):
        raise UnsafePathError(
            f"{where}: path {str(rel)!r} points outside {root}; refusing to use it"
        )
    return root / rel_path


def first_outside(root: str | os.PathLike, rels) -> int | None:
    """The position of the first of ``rels`` that :func:`inside` refuses, None when every one
    stays inside ``root``: the same check, each folder resolved once rather than every path in
    full (a manifest names thousands of files in one folder), and a path in full when its last
    part is a symlink, ``.`` or ``..``."""
    root = Path(root)
    base, folders = root.resolve(), {}
    for k, rel in enumerate(rels):
        rel_path = Path(str(rel))
        if rel_path.is_absolute():
            return k
        target = root / rel_path
        if target.name in ("", ".", "..") or target.is_symlink():
            resolved = target.resolve()
        else:
            if target.parent not in folders:
                folders[target.parent] = target.parent.resolve()
            resolved = folders[target.parent] / target.name
        if not resolved.is_relative_to(base):
            return k
    return None


def portable(path, root: str | os.PathLike) -> str:
    """``path`` relative to ``root`` (posix) when it lies inside it, else as given: what an
    artifact records, so a moved or copied folder keeps its meaning."""
    value = Path(str(path))
    if value.is_absolute() and value.resolve().is_relative_to(Path(root).resolve()):
        return value.resolve().relative_to(Path(root).resolve()).as_posix()
    return str(path)


@contextmanager
def atomic_path(target: Path):
    """Yield a temporary path beside ``target``; rename it onto ``target`` only on success."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=target.suffix, dir=target.parent)
    os.close(fd)
    try:
        yield Path(tmp)
        os.chmod(tmp, 0o666 & ~_UMASK)  # mkstemp's 0600 would make published files private
        os.replace(tmp, target)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def write_text(target: Path, text: str) -> Path:
    """Write ``text`` to ``target`` atomically."""
    with atomic_path(target) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return Path(target)
