"""Parameters of a profile: ``notebooks/params/<profile>.yaml`` holds a ``common`` section given
to every notebook and a section per notebook stem; command-line overrides replace keys of either.
"""

from __future__ import annotations

from pathlib import Path

import yaml

from emonet.book.artifacts import PROFILES
from emonet.book.notebooks import PARAMS_DIR, PipelineError, notebooks


def load_params(profile: str, overrides: dict | None = None, params_dir: Path = PARAMS_DIR,
                stems: list[str] | None = None) -> dict[str, dict]:
    """Parameters per notebook stem for ``profile`` (common section merged with the stem's)."""
    if profile not in PROFILES:
        raise PipelineError(f"unknown profile {profile!r}; choose one of {PROFILES}")
    path = Path(params_dir) / f"{profile}.yaml"
    try:
        raw = yaml.safe_load(path.read_text()) or {}
    except FileNotFoundError:
        raise PipelineError(f"parameter file {path} is missing") from None
    except yaml.YAMLError as err:
        raise PipelineError(f"{path}: invalid YAML: {err}") from None
    stems = stems if stems is not None else [nb.stem for nb in notebooks()]
    unknown = sorted(set(raw) - {"common", *stems})
    if unknown:
        raise PipelineError(f"{path}: sections {unknown} name no notebook; known: {stems}")
    common = raw.get("common") or {}
    merged = {s: {**common, **(raw.get(s) or {})} for s in stems}
    for key, value in (overrides or {}).items():
        hits = [s for s in stems if key in merged[s]]
        if not hits:
            raise PipelineError(f"override {key}={value!r}: no notebook has parameter {key!r}")
        for s in hits:
            merged[s][key] = value
    return merged


def parse_overrides(items: list[str]) -> dict:
    """``["n_images=50", "seed=1"]`` -> ``{"n_images": 50, "seed": 1}`` (values parsed as YAML)."""
    out = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise PipelineError(f"override {item!r}: expected KEY=VALUE")
        out[key.strip()] = yaml.safe_load(value)
    return out
