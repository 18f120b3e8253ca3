"""The artifacts contract: every table a chapter shows is also a CSV and every figure a PNG under
``artifacts/<profile>/``, written atomically (temporary file, then rename).
"""

from __future__ import annotations

import os
import tempfile
from contextlib import contextmanager
from pathlib import Path

import pandas as pd

#: Repository root (the folder that holds the ``emonet`` package).
PROJECT_ROOT = Path(__file__).resolve().parents[2]


#: The parameter profiles (``notebooks/params/<profile>.yaml``): ``local`` (offline stand-ins),
#: ``full`` (paper scale) and ``rehearsal`` (the full profile's code paths on replicas).
PROFILES = ("local", "full", "rehearsal")


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
        raise UnsafePathError(f"{where}: path {str(rel)!r} points outside {root}; refusing to "
                              "use it")
    return root / rel_path


def portable(path, root: str | os.PathLike) -> str:
    """``path`` relative to ``root`` (posix) when it lies inside it, else as given: what an
    artifact records, so a moved or copied folder keeps its meaning."""
    value = Path(str(path))
    if value.is_absolute() and value.resolve().is_relative_to(Path(root).resolve()):
        return value.resolve().relative_to(Path(root).resolve()).as_posix()
    return str(path)


def default_artifacts_dir(profile: str) -> Path:
    """``<repo>/artifacts/<profile>``, or ``$EMONET_ARTIFACTS/<profile>`` when that is set."""
    if profile not in PROFILES:
        raise ValueError(f"unknown profile {profile!r}; choose one of {PROFILES}")
    base = os.environ.get("EMONET_ARTIFACTS")
    return (Path(base) if base else PROJECT_ROOT / "artifacts") / profile


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


class Artifacts:
    """Writer for one profile's artifacts folder: ``tables/NAME.csv``, ``figures/NAME.png``."""

    def __init__(self, root: str | os.PathLike):
        self.root = Path(root)

    @classmethod
    def for_profile(cls, profile: str, root: str | os.PathLike | None = None) -> "Artifacts":
        return cls(root if root else default_artifacts_dir(profile))

    def path(self, kind: str, name: str) -> Path:
        """Path of artifact ``name`` of ``kind`` (a sub-folder such as ``tables``, ``models``)."""
        return self.root / kind / name

    def table(self, frame: pd.DataFrame, name: str, index: bool = False) -> pd.DataFrame:
        """Save ``frame`` as ``tables/<name>.csv`` and return it unchanged (for display)."""
        with atomic_path(self.path("tables", f"{name}.csv")) as tmp:
            frame.to_csv(tmp, index=index)
        return frame

    def read_table(self, name: str, columns=()) -> pd.DataFrame:
        """An earlier chapter's ``tables/<name>.csv``; a missing file or one without ``columns``
        is a :class:`FileNotFoundError` or :class:`ValueError` naming the file."""
        path = self.path("tables", f"{name}.csv")
        if not path.exists():
            raise FileNotFoundError(f"{path} is missing: run the chapters before this one first "
                                    "(emonet run)")
        frame = pd.read_csv(path)
        missing = [c for c in columns if c not in frame]
        if missing:
            raise ValueError(f"{path}: no column(s) {missing} (columns: {list(frame.columns)})")
        return frame

    def figure(self, fig, name: str, dpi: int = 150):
        """Save a matplotlib figure as ``figures/<name>.png``, close it (so the inline backend does
        not show it twice) and return it for ``myst_nb.glue``."""
        import matplotlib.pyplot as plt

        with atomic_path(self.path("figures", f"{name}.png")) as tmp:
            fig.savefig(tmp, dpi=dpi, bbox_inches="tight", format="png")
        plt.close(fig)
        return fig
