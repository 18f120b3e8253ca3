"""Where the project's files live: the repository root, the notebooks and their parameters, the
book's sources and each profile's artifacts folder."""

from __future__ import annotations

import os
from pathlib import Path

#: Repository root (the folder that holds the ``emonet`` package).
PROJECT_ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK_DIR = PROJECT_ROOT / "notebooks"
PARAMS_DIR = NOTEBOOK_DIR / "params"
BOOK_DIR = PROJECT_ROOT / "book"
CONFIG = PROJECT_ROOT / "_config.yml"

#: The parameter profiles (``notebooks/params/<profile>.yaml``): ``local`` (offline stand-ins),
#: ``full`` (paper scale) and ``rehearsal`` (the full profile's code paths on replicas).
PROFILES = ("local", "full", "rehearsal")


def default_artifacts_dir(profile: str) -> Path:
    """``<repo>/artifacts/<profile>``, or ``$EMONET_ARTIFACTS/<profile>`` when that is set."""
    if profile not in PROFILES:
        raise ValueError(f"unknown profile {profile!r}; choose one of {PROFILES}")
    base = os.environ.get("EMONET_ARTIFACTS")
    return (Path(base) if base else PROJECT_ROOT / "artifacts") / profile
