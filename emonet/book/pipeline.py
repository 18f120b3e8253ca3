"""Execute the chapter notebooks in order with papermill and build the Jupyter Book.

- Notebooks (:mod:`emonet.book.notebooks`) run in the order of their numbers with the parameters
  of a profile (:mod:`emonet.book.params`).
- The executed notebook is written atomically to ``<book_dir>/<stem>.ipynb``. A stamp in
  ``<book_dir>/.stamps/<stem>.json`` records the fingerprint of the notebook's inputs and the
  artifacts it wrote (size, mtime and SHA-256 of each). The inputs are its source, its parameters,
  the package modules it can reach (:mod:`emonet.book.deps`: an edit to a module reruns only the
  notebooks that import it, directly or through other modules), the pinned data checksums, and
  the content of the earlier notebooks' outputs other than figures (a later notebook reruns when
  an output it may read changed, not when an earlier notebook merely ran). A notebook whose
  fingerprint matches its stamp and whose outputs are intact is skipped.
- A failure names the notebook, the cell and its line in the ``.py`` source, removes the failed
  notebook and every later one from the book (no stale pages), and keeps the failed notebook
  under ``<artifacts>/failed/`` for inspection.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from emonet.book import deps
from emonet.book.artifacts import PROJECT_ROOT, default_artifacts_dir, write_text
from emonet.book.notebooks import (
    BOOK_DIR,
    CONFIG,
    NOTEBOOK_DIR,
    Notebook,
    PipelineError,
    check_toc,
    notebooks,
    source_line,
)
from emonet.book.params import load_params
from emonet.data import registry
from emonet.data.checksums import sha256_bytes, sha256_of


@dataclass
class Step:
    """What happened to one notebook in a run."""

    stem: str
    status: str  # "ran", "skipped" or "would run"
    seconds: float = 0.0
    outputs: dict = field(default_factory=dict)


def fingerprint(nb: Notebook, params: dict, upstream: dict, package: str) -> str:
    """Fingerprint of everything a notebook's result depends on (see the module docstring)."""
    payload = {
        "source": sha256_bytes(nb.source.read_bytes()),
        "params": params,
        "package": package,
        "data": registry.data_fingerprint(),
        "upstream": upstream,
    }
    return sha256_bytes(json.dumps(payload, sort_keys=True, default=str).encode())


def _snapshot(root: Path) -> dict[str, list[int]]:
    """``relpath -> [size, mtime_ns]`` of every file under ``root`` (failed runs excluded)."""
    out = {}
    if root.exists():
        for path in root.rglob("*"):
            if path.is_file() and "failed" not in path.relative_to(root).parts[:1]:
                st = path.stat()
                out[path.relative_to(root).as_posix()] = [st.st_size, st.st_mtime_ns]
    return out


def _outputs_intact(root: Path, outputs: dict) -> bool:
    """Every recorded output still has its recorded size and mtime."""
    for rel, (size, mtime, *_) in outputs.items():
        try:
            st = (root / rel).stat()
        except FileNotFoundError:
            return False
        if st.st_size != size or st.st_mtime_ns != mtime:
            return False
    return True


#: Artifact folders no notebook reads from an earlier one: a change there leaves later notebooks
#: fresh.
NOT_READ_DOWNSTREAM = ("figures",)


def _readable(outputs: dict) -> dict[str, str]:
    """``relpath -> sha256`` of the outputs a later notebook may read."""
    return {rel: rec[2] for rel, rec in outputs.items()
            if rel.split("/", 1)[0] not in NOT_READ_DOWNSTREAM}


class Pipeline:
    """Runs the notebooks of one profile into a book folder."""

    def __init__(self, profile: str = "local", *, book_dir: Path = BOOK_DIR,
                 artifacts_dir: Path | None = None, overrides: dict | None = None,
                 notebook_dir: Path = NOTEBOOK_DIR, log=print):
        self.profile = profile
        self.book_dir = Path(book_dir)
        self.artifacts_dir = Path(artifacts_dir) if artifacts_dir else default_artifacts_dir(profile)
        self.notebooks = notebooks(Path(notebook_dir))
        self.package_root = PROJECT_ROOT
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

        A notebook runs when ``force``, named in ``only``, or stale (its fingerprint or outputs
        differ from its stamp). With ``dry_run`` nothing executes and the steps say
        ``"would run"`` or ``"skipped"``.
        """
        if only:
            unknown = sorted(set(only) - {nb.stem for nb in self.notebooks})
            if unknown:
                raise PipelineError(f"unknown notebook(s) {unknown}; known: "
                                    f"{[nb.stem for nb in self.notebooks]}")
        check_toc(self.book_dir, self.notebooks)
        self._set_environment()
        upstream: dict[str, dict] = {}
        steps = []
        total = len(self.notebooks)
        for i, nb in enumerate(self.notebooks, start=1):
            params = self.parameters(nb.stem)
            fp = fingerprint(nb, params, upstream, self.package_fingerprint(nb))
            stamp = self._is_fresh(nb.stem, fp)
            if not (force or stamp is None or (only is not None and nb.stem in only)):
                self.log(f"[{i}/{total}] {nb.stem}: unchanged, skipped")
                steps.append(Step(nb.stem, "skipped", outputs=stamp["outputs"]))
                upstream[nb.stem] = _readable(stamp["outputs"])
                continue
            if dry_run:
                self.log(f"[{i}/{total}] {nb.stem}: would run")
                steps.append(Step(nb.stem, "would run"))
                upstream[nb.stem] = {"pending": nb.stem}
                continue
            self.log(f"[{i}/{total}] {nb.stem}: running ({self.profile} profile)")
            step = self._execute(nb, params, fp, later=self.notebooks[i:])
            self.log(f"[{i}/{total}] {nb.stem}: done in {step.seconds:.1f} s, "
                     f"{len(step.outputs)} artifact file(s) written")
            steps.append(step)
            upstream[nb.stem] = _readable(step.outputs)
        return steps

    def package_fingerprint(self, nb: Notebook) -> str:
        """Fingerprint of the package files notebook ``nb`` can reach."""
        return deps.package_fingerprint(deps.notebook_dependencies(nb.source, self.package_root),
                                        self.package_root)

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
        outputs = {k: [*v, sha256_of(self.artifacts_dir / k)] for k, v in after.items()
                   if before.get(k) != v}
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
        where = source_line(nb.source, err.source)
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
