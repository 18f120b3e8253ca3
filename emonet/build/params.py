"""Parameters of a profile: ``notebooks/params/<profile>.yaml`` holds a ``common`` section given
to every notebook and a section per notebook stem; command-line overrides replace keys of either.
"""

from __future__ import annotations

from pathlib import Path

import yaml

from emonet.build.notebooks import PipelineError, notebooks
from emonet.paths import PARAMS_DIR, PROFILES


def load_params(
    profile: str,
    overrides: dict | None = None,
    params_dir: Path = PARAMS_DIR,
    stems: list[str] | None = None,
) -> dict[str, dict]:
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
    references = _reference_values(Path(params_dir), stems)
    for key, value in (overrides or {}).items():
        hits = [s for s in stems if key in merged[s]]
        if not hits:
            raise PipelineError(f"--set {key}={_show(value)}: no notebook has a parameter {key!r}")
        check_value(key, value, [merged[s][key] for s in hits] + references.get(key, []))
        for s in hits:
            merged[s][key] = value
    return merged


def _reference_values(params_dir: Path, stems: list[str]) -> dict[str, list]:
    """Every value each parameter name has in any profile file (the types it may take)."""
    out: dict[str, list] = {}
    for path in sorted(params_dir.glob("*.yaml")):
        try:
            raw = yaml.safe_load(path.read_text()) or {}
        except yaml.YAMLError:
            continue
        for section in ("common", *stems):
            for key, value in (raw.get(section) or {}).items():
                out.setdefault(key, []).append(value)
    return out


_KINDS = (
    (bool, "a boolean (true or false)", "booleans"),
    (int, "an integer", "integers"),
    (float, "a number", "numbers"),
    (str, "a string", "strings"),
    (dict, "a mapping", "mappings"),
)


def _kind(value) -> str:
    """``"an integer"``, ``"a list of numbers"``, ...: the kind of a parameter value."""
    if isinstance(value, list):
        inner = {_plural(v) for v in value}
        return "a list of " + " and ".join(sorted(inner)) if inner else "a list"
    return next((one for kind, one, _ in _KINDS if isinstance(value, kind)), type(value).__name__)


def _plural(value) -> str:
    return next((many for kind, _, many in _KINDS if isinstance(value, kind)), type(value).__name__)


def _show(value) -> str:
    """A value as one would type it after ``--set KEY=``."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return "[" + ", ".join(_show(v) for v in value) + "]"
    return str(value)


def _fits(value, reference) -> bool:
    if reference is None or value is None:
        return True
    if isinstance(reference, bool) or isinstance(value, bool):
        return isinstance(value, bool) and isinstance(reference, bool)
    if isinstance(reference, float):
        return isinstance(value, (int, float))
    if isinstance(reference, list):
        return (
            isinstance(value, list) and all(any(_fits(v, r) for r in reference) for v in value)
            if reference
            else isinstance(value, list)
        )
    return isinstance(value, type(reference))


def check_value(key: str, value, references: list) -> None:
    """Raise :class:`PipelineError` unless ``value`` has the kind of value parameter ``key`` takes
    in the profiles (``references``; null in every profile accepts anything)."""
    known = [r for r in references if r is not None]
    if not known or any(_fits(value, r) for r in known):
        return
    example = known[0]
    raise PipelineError(
        f"--set {key}={_show(value)}: {key} takes {_kind(example)} (e.g. "
        f"{key}={_show(example)}), got "
        f"{_kind(value)}; nothing was run"
    )


def parse_overrides(items: list[str]) -> dict:
    """``["n_images=50", "seed=1"]`` -> ``{"n_images": 50, "seed": 1}`` (values parsed as YAML)."""
    out = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise PipelineError(f"--set {item!r}: expected KEY=VALUE")
        try:
            out[key.strip()] = yaml.safe_load(value)
        except yaml.YAMLError as err:
            reason = getattr(err, "problem", None) or str(err).splitlines()[0]
            raise PipelineError(f"--set {item}: the value is not valid YAML ({reason})") from None
    return out
