"""The artifacts contract: every table a chapter shows is also a CSV and every figure a PNG under
``artifacts/<profile>/``, written atomically (:func:`emonet.io.atomic_path`).
"""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

from emonet.io import atomic_path
from emonet.paths import default_artifacts_dir


class Artifacts:
    """Writer for one profile's artifacts folder: ``tables/NAME.csv``, ``figures/NAME.png``."""

    def __init__(self, root: str | os.PathLike):
        self.root = Path(root)

    @classmethod
    def for_profile(cls, profile: str, root: str | os.PathLike | None = None) -> Artifacts:
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
        """An earlier chapter's ``tables/<name>.csv``, its floats exactly as written; a missing
        file or one without ``columns`` is a :class:`FileNotFoundError` or :class:`ValueError`
        naming the file."""
        path = self.path("tables", f"{name}.csv")
        if not path.exists():
            raise FileNotFoundError(
                f"{path} is missing: run the chapters before this one first (emonet run)"
            )
        frame = pd.read_csv(path)  # pandas >= 3 reads floats back exactly as written
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
