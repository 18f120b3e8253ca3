"""Execute the chapter notebooks in order with papermill and build the Jupyter Book.

- Notebooks are ``notebooks/NN_name.py`` (jupytext py:percent), run in the order of ``NN``.
- Parameters come from ``notebooks/params/<profile>.yaml``: a ``common`` section given to every
  notebook plus a section per notebook stem; ``overrides`` replace keys of either.
- The executed notebook is written atomically to ``<book_dir>/<stem>.ipynb``. A stamp in
  ``<book_dir>/.stamps/<stem>.json`` records the fingerprint of its inputs (source, parameters,
  ``emonet`` source, data checksums, upstream notebooks' outputs) and the artifacts it wrote;
  an unchanged notebook whose outputs are intact is skipped.
- A failure names the notebook, the cell and its line in the ``.py`` source, removes the failed
  notebook and every later one from the book (no stale pages), and keeps the failed notebook
  under ``<artifacts>/failed/`` for inspection.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from emonet.book.artifacts import PROFILES, PROJECT_ROOT, default_artifacts_dir, write_text
from emonet.data import registry

NOTEBOOK_DIR = PROJECT_ROOT / "notebooks"


PARAMS_DIR = NOTEBOOK_DIR / "params"


BOOK_DIR = PROJECT_ROOT / "book"


CONFIG = PROJECT_ROOT / "_config.yml"


PACKAGE_DIR = PROJECT_ROOT / "emonet"


class PipelineError(RuntimeError):
    """A notebook failed, or the pipeline's inputs are inconsistent."""


@dataclass(frozen=True)
class Notebook:
    source: Path

    @property
    def stem(self) -> str:
        return self.source.stem


@dataclass
class Step:
    """What happened to one notebook in a run."""

    stem: str
    status: str  # "ran", "skipped" or "would run"
    seconds: float = 0.0
    outputs: dict = field(default_factory=dict)


def notebooks(folder: Path = NOTEBOOK_DIR) -> list[Notebook]:
    """The chapter notebooks ``NN_*.py`` in execution order."""
    found = sorted(p for p in folder.glob("[0-9][0-9]_*.py"))
    if not found:
        raise PipelineError(f"no notebooks NN_*.py in {folder}")
    return [Notebook(p) for p in found]


def load_params(profile: str, overrides: dict | None = None, params_dir: Path = PARAMS_DIR,
                stems: list[str] | None = None) -> dict[str, dict]:
    """Parameters per notebook stem for ``profile`` (common section merged with the stem's)."""
    if profile not in PROFILES:
        raise PipelineError(f"unknown profile {profile!r}; choose one of {PROFILES}")
    path = params_dir / f"{profile}.yaml"
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


def _sha256_bytes(blob: bytes) -> str:
    return hashlib.sha256(blob).hexdigest()


def package_fingerprint(folder: Path = PACKAGE_DIR) -> str:
    """Hash of every ``.py`` file of the ``emonet`` package (path and content)."""
    digest = hashlib.sha256()
    for path in sorted(folder.rglob("*.py")):
        digest.update(str(path.relative_to(folder)).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def fingerprint(nb: Notebook, params: dict, upstream: list[dict], package: str) -> str:
    """Fingerprint of everything a notebook's result depends on."""
    payload = {
        "source": _sha256_bytes(nb.source.read_bytes()),
        "params": params,
        "package": package,
        "data": registry.data_fingerprint(),
        "upstream": upstream,
    }
    return _sha256_bytes(json.dumps(payload, sort_keys=True, default=str).encode())


def _snapshot(root: Path) -> dict[str, list[int]]:
    """``relpath -> [size, mtime_ns]`` of every file under ``root`` (failed runs excluded)."""
    out = {}
    if root.exists():
        for path in root.rglob("*"):
            if path.is_file() and "failed" not in path.relative_to(root).parts[:1]:
                st = path.stat()
                out[str(path.relative_to(root))] = [st.st_size, st.st_mtime_ns]
    return out


def _outputs_intact(root: Path, outputs: dict) -> bool:
    for rel, (size, mtime) in outputs.items():
        try:
            st = (root / rel).stat()
        except FileNotFoundError:
            return False
        if st.st_size != size or st.st_mtime_ns != mtime:
            return False
    return True


class Pipeline:
    """Runs the notebooks of one profile into a book folder."""

    def __init__(self, profile: str = "local", *, book_dir: Path = BOOK_DIR,
                 artifacts_dir: Path | None = None, overrides: dict | None = None,
                 notebook_dir: Path = NOTEBOOK_DIR, log=print):
        self.profile = profile
        self.book_dir = Path(book_dir)
        self.artifacts_dir = Path(artifacts_dir) if artifacts_dir else default_artifacts_dir(profile)
        self.notebooks = notebooks(Path(notebook_dir))
        self.params = load_params(profile, overrides, Path(notebook_dir) / "params",
                                  [nb.stem for nb in self.notebooks])
        self.log = log

    # ---------------------------------------------------------------- paths
    def executed(self, stem: str) -> Path:
        return self.book_dir / f"{stem}.ipynb"

    def stamp_path(self, stem: str) -> Path:
        return self.book_dir / ".stamps" / f"{stem}.json"

    def _read_stamp(self, stem: str) -> dict | None:
        try:
            return json.loads(self.stamp_path(stem).read_text())
        except (FileNotFoundError, json.JSONDecodeError):
            return None

    def parameters(self, stem: str) -> dict:
        """The parameters papermill injects into notebook ``stem``."""
        return {**self.params[stem], "profile": self.profile,
                "artifacts_dir": str(self.artifacts_dir.resolve())}

    # ---------------------------------------------------------------- run
    def _is_fresh(self, stem: str, fp: str) -> dict | None:
        """The stamp of ``stem`` if its fingerprint matches and its outputs are intact."""
        stamp = self._read_stamp(stem)
        if (stamp is not None and stamp.get("fingerprint") == fp and self.executed(stem).exists()
                and _outputs_intact(self.artifacts_dir, stamp.get("outputs", {}))):
            return stamp
        return None

    def run(self, force: bool = False, only: list[str] | None = None,
            dry_run: bool = False) -> list[Step]:
        """Execute stale notebooks in order; return what happened to each.

        A notebook runs when ``force``, named in ``only``, stale, or after one that ran. With
        ``dry_run`` nothing executes and the steps say ``"would run"`` or ``"skipped"``.
        """
        if only:
            unknown = sorted(set(only) - {nb.stem for nb in self.notebooks})
            if unknown:
                raise PipelineError(f"unknown notebook(s) {unknown}; known: "
                                    f"{[nb.stem for nb in self.notebooks]}")
        check_toc(self.book_dir, self.notebooks)
        self._set_environment()
        package = package_fingerprint()
        upstream: list[dict] = []
        steps, rerun = [], False
        total = len(self.notebooks)
        for i, nb in enumerate(self.notebooks, start=1):
            params = self.parameters(nb.stem)
            fp = fingerprint(nb, params, upstream, package)
            stamp = self._is_fresh(nb.stem, fp)
            rerun = rerun or force or stamp is None or (only is not None and nb.stem in only)
            if not rerun:
                self.log(f"[{i}/{total}] {nb.stem}: unchanged, skipped")
                steps.append(Step(nb.stem, "skipped", outputs=stamp["outputs"]))
                upstream.append(stamp["outputs"])
                continue
            if dry_run:
                self.log(f"[{i}/{total}] {nb.stem}: would run")
                steps.append(Step(nb.stem, "would run"))
                upstream.append({"pending": nb.stem})
                continue
            self.log(f"[{i}/{total}] {nb.stem}: running ({self.profile} profile)")
            step = self._execute(nb, params, fp, later=self.notebooks[i:])
            self.log(f"[{i}/{total}] {nb.stem}: done in {step.seconds:.1f} s, "
                     f"{len(step.outputs)} artifact file(s) written")
            steps.append(step)
            upstream.append(step.outputs)
        return steps

    def _set_environment(self) -> None:
        if self.profile == "local":
            os.environ["HF_HUB_OFFLINE"] = "1"
        # The kernel's inline backend renders (and glues) figures; a forced Agg would not.
        if os.environ.get("MPLBACKEND", "").lower() == "agg":
            del os.environ["MPLBACKEND"]

    def _execute(self, nb: Notebook, params: dict, fp: str, later: list[Notebook]) -> Step:
        import jupytext
        import papermill
        from papermill.exceptions import PapermillExecutionError

        before = _snapshot(self.artifacts_dir)
        self.book_dir.mkdir(parents=True, exist_ok=True)
        start = time.perf_counter()
        with tempfile.TemporaryDirectory(prefix=f"emonet-{nb.stem}-") as tmp:
            src = Path(tmp) / f"{nb.stem}.source.ipynb"
            out = Path(tmp) / f"{nb.stem}.ipynb"
            jupytext.write(jupytext.read(nb.source), src)
            try:
                papermill.execute_notebook(
                    str(src), str(out), parameters=params, cwd=str(PROJECT_ROOT),
                    progress_bar={"desc": nb.stem, "leave": False, "unit": "cell"},
                    kernel_manager_class=_local_kernel_manager(Path(tmp)))
            except PapermillExecutionError as err:
                self._discard(nb, later, failed=out)
                raise PipelineError(self._failure_message(nb, err)) from None
            except Exception as err:  # kernel died, missing kernel, bad parameters, ...
                self._discard(nb, later, failed=out)
                raise PipelineError(f"notebook {_display_path(nb.source)} could not "
                                    f"run: {type(err).__name__}: {err}") from None
            _tag_parameter_cells(out)
            os.replace(out, self.executed(nb.stem))
        seconds = time.perf_counter() - start
        after = _snapshot(self.artifacts_dir)
        outputs = {k: v for k, v in after.items() if before.get(k) != v}
        write_text(self.stamp_path(nb.stem), json.dumps(
            {"fingerprint": fp, "profile": self.profile, "seconds": round(seconds, 2),
             "parameters": params, "outputs": outputs}, indent=1, sort_keys=True))
        return Step(nb.stem, "ran", seconds, outputs)

    def _discard(self, nb: Notebook, later: list[Notebook], failed: Path) -> None:
        """Remove the failed notebook and every later one from the book; keep the failed copy."""
        for other in (nb, *later):
            self.executed(other.stem).unlink(missing_ok=True)
            self.stamp_path(other.stem).unlink(missing_ok=True)
        if failed.exists():
            keep = self.artifacts_dir / "failed" / f"{nb.stem}.ipynb"
            keep.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(failed, keep)

    def _failure_message(self, nb: Notebook, err) -> str:
        rel = _display_path(nb.source)
        where = _source_line(nb.source, err.source)
        first = (err.source or "").strip().splitlines()[:3]
        kept = self.artifacts_dir / "failed" / f"{nb.stem}.ipynb"
        return (f"notebook {rel} failed in cell {err.exec_count or err.cell_index}"
                + (f" (line {where} of {rel})" if where else "")
                + f": {err.ename}: {err.evalue}\n  cell starts: "
                + "\n               ".join(first)
                + f"\n  the executed notebook with the traceback is kept at {kept}; "
                  "its page and later ones were removed from the book")


def _display_path(path: Path) -> Path:
    """``path`` relative to the repository when inside it (for messages)."""
    return path.relative_to(PROJECT_ROOT) if path.is_relative_to(PROJECT_ROOT) else path


def _tag_parameter_cells(path: Path) -> None:
    """In the book, drop the default-parameters cell and fold the injected one behind a toggle."""
    import nbformat

    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        tags = cell.metadata.setdefault("tags", [])
        if "parameters" in tags:
            tags.append("remove-cell")
        elif "injected-parameters" in tags:
            tags.append("hide-cell")
    nbformat.write(nb, path)


def _local_kernel_manager(folder: Path):
    """Kernel manager talking to the kernel over Unix sockets in ``folder`` (not open TCP ports)."""
    from jupyter_client.manager import AsyncKernelManager

    class LocalKernelManager(AsyncKernelManager):
        def __init__(self, **kwargs):
            super().__init__(transport="ipc", ip=str(folder / "kernel"), **kwargs)

    return LocalKernelManager


def _source_line(source: Path, cell_source: str | None) -> int | None:
    """1-based line of ``cell_source``'s first line in the ``.py`` notebook, if found."""
    if not cell_source or not cell_source.strip():
        return None
    first = cell_source.strip().splitlines()[0]
    for lineno, line in enumerate(source.read_text().splitlines(), start=1):
        if line.strip() == first.strip():
            return lineno
    return None


def check_toc(book_dir: Path, nbs: list[Notebook]) -> None:
    """Every notebook must be a chapter of ``<book_dir>/_toc.yml`` (and no missing one listed)."""
    toc = book_dir / "_toc.yml"
    try:
        text = toc.read_text()
    except FileNotFoundError:
        raise PipelineError(f"{toc} is missing") from None
    files = set(_toc_files(yaml.safe_load(text)))
    missing = [nb.stem for nb in nbs if nb.stem not in files]
    if missing:
        raise PipelineError(f"{toc}: notebook(s) {missing} are not in the table of contents")


def _toc_files(node) -> list[str]:
    if isinstance(node, dict):
        found = [node["file"]] if "file" in node else []
        if "root" in node:
            found.append(node["root"])
        return found + [f for v in node.values() for f in _toc_files(v)]
    if isinstance(node, list):
        return [f for v in node for f in _toc_files(v)]
    return []


def build_book(book_dir: Path = BOOK_DIR, config: Path = CONFIG, *, all_pages: bool = False,
               strict: bool = True, quiet: bool = True) -> Path:
    """Build the HTML book with Jupyter Book 1 (warnings fail when ``strict``); return index.html."""
    book_dir, config = Path(book_dir).resolve(), Path(config).resolve()
    exe = Path(sys.executable).parent / "jupyter-book"
    # Absolute paths: jupyter-book resolves --toc against the source folder, output against cwd.
    cmd = [str(exe if exe.exists() else "jupyter-book"), "build", str(book_dir),
           "--config", str(config), "--toc", str(book_dir / "_toc.yml"),
           "--path-output", str(book_dir)]
    if strict:
        cmd += ["-W", "-n", "--keep-going"]
    if all_pages:
        cmd.append("--all")
    if quiet:
        cmd.append("-q")
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise PipelineError("jupyter-book build failed:\n" + (proc.stdout + proc.stderr)[-6000:])
    index = book_dir / "_build" / "html" / "index.html"
    if not index.exists():
        raise PipelineError(f"jupyter-book build ended without {index}")
    return index
