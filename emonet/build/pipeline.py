"""Execute the chapter notebooks in order with papermill and build the Jupyter Book.

- Notebooks (:mod:`emonet.build.notebooks`) run in the order of their numbers with the parameters
  of a profile (:mod:`emonet.build.params`), one run at a time per artifacts folder
  (:mod:`emonet.build.lock`).
- A stamp (:mod:`emonet.build.stamps`) records the fingerprint of a notebook's inputs and the
  artifacts it wrote; a notebook whose fingerprint matches its stamp and whose outputs are intact
  is skipped, so an edit reruns exactly the chapters it can affect.
- Every run works in a staging copy of the book (``<book_dir>/.staging``): executed notebooks and
  their stamps are published into the book only when every notebook of the run succeeded (and,
  for :meth:`Pipeline.build`, the Jupyter Book build too), so a failed or interrupted run leaves
  the last good book as it was. A failure names the notebook, the cell and its line in the
  ``.py`` source, keeps the failed notebook under ``<artifacts>/failed/`` and lists the chapters
  that are now stale.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from emonet.build import import_graph, reader, stamps
from emonet.build.lock import artifacts_lock, clean_stale_tempdirs, run_tempdir
from emonet.build.notebooks import (
    Notebook,
    PipelineError,
    check_toc,
    notebooks,
    source_line,
)
from emonet.build.params import load_params
from emonet.data import registry
from emonet.data.checksums import sha256_of
from emonet.io import write_text
from emonet.paths import (
    BOOK_DIR,
    CONFIG,
    NOTEBOOK_DIR,
    PROJECT_ROOT,
    default_artifacts_dir,
)

#: What a book folder holds besides its sources: built output, stamps, staging, executed notebooks
#: (left out when a profile's own book folder takes the sources, ``Pipeline(sources=...)``).
NOT_SOURCES = ("_build", ".stamps", ".staging", "*.ipynb", ".ipynb_checkpoints", reader.SOURCES)


class PipelineInterrupted(PipelineError):
    """The run was interrupted (Ctrl-C); nothing was published."""


@dataclass
class Step:
    """What happened to one notebook in a run: ``status`` is ``"ran"``, ``"skipped"``
    (up to date), ``"would run"`` (dry run) or ``"stale"`` (out of date, not run: after the
    notebooks ``only`` named)."""

    stem: str
    status: str
    seconds: float = 0.0
    outputs: dict = field(default_factory=dict)


def _same_file(a: Path, b: Path) -> bool:
    if not b.exists():
        return False
    sa, sb = a.stat(), b.stat()
    return sa.st_size == sb.st_size and sa.st_mtime_ns == sb.st_mtime_ns


def _mirror(source: Path, target: Path, ignore=()) -> None:
    """Make ``target`` hold the files of ``source`` (copies keep their mtime, unchanged files are
    not copied again, files gone from ``source`` are removed); ``ignore``: glob patterns."""
    target.mkdir(parents=True, exist_ok=True)
    wanted = set()
    for path in source.iterdir():
        if any(path.match(pattern) for pattern in ignore):
            continue
        wanted.add(path.name)
        if path.is_dir():
            _mirror(path, target / path.name, ignore)
        elif not _same_file(path, target / path.name):
            shutil.copy2(path, target / path.name)
    for path in target.iterdir():
        if path.name not in wanted and not any(path.match(pattern) for pattern in ignore):
            shutil.rmtree(path) if path.is_dir() else path.unlink()


class Pipeline:
    """Runs the notebooks of one profile into a book folder."""

    def __init__(
        self,
        profile: str = "local",
        *,
        book_dir: Path = BOOK_DIR,
        artifacts_dir: Path | None = None,
        overrides: dict | None = None,
        notebook_dir: Path = NOTEBOOK_DIR,
        sources: Path | None = None,
        inputs: dict | None = None,
        log=print,
    ):
        """``book_dir``: where the executed notebooks, stamps and HTML go; ``sources``: a folder
        of book sources (``_toc.yml``, pages) copied into ``book_dir`` before each run (a
        profile's own book beside the published one); ``inputs``: checksums of further inputs
        every notebook depends on (e.g. the rehearsal's replicas), part of every fingerprint."""
        self.profile = profile
        self.book_dir = Path(book_dir)
        self.sources = Path(sources) if sources is not None else None
        self.inputs = dict(inputs or {})
        self.artifacts_dir = (
            Path(artifacts_dir) if artifacts_dir else default_artifacts_dir(profile)
        )
        self.notebook_dir = Path(notebook_dir)
        self.notebooks = notebooks(self.notebook_dir)
        self.package_root = PROJECT_ROOT
        self.params = load_params(
            profile, overrides, Path(notebook_dir) / "params", [nb.stem for nb in self.notebooks]
        )
        self.log = log

    # ---------------------------------------------------------------- paths
    @property
    def staging(self) -> Path:
        """The staging copy of the book a run writes into before it publishes."""
        return self.book_dir / ".staging"

    def executed(self, stem: str, staged: bool = False) -> Path:
        return (self.staging if staged else self.book_dir) / f"{stem}.ipynb"

    def stamp_path(self, stem: str, staged: bool = False) -> Path:
        return (self.staging if staged else self.book_dir) / ".stamps" / f"{stem}.json"

    def _read_stamp(self, stem: str) -> dict | None:
        try:
            return json.loads(self.stamp_path(stem).read_text())
        except (FileNotFoundError, json.JSONDecodeError):
            return None

    def parameters(self, stem: str) -> dict:
        """The parameters papermill injects into notebook ``stem``."""
        return {
            **self.params[stem],
            "profile": self.profile,
            "artifacts_dir": str(self.artifacts_dir.resolve()),
        }

    def package_fingerprint(self, nb: Notebook) -> str:
        """Fingerprint of the package files notebook ``nb`` can reach."""
        return import_graph.package_fingerprint(
            import_graph.notebook_dependencies(nb.source, self.package_root), self.package_root
        )

    # ---------------------------------------------------------------- run
    def _is_fresh(self, stem: str, fp: str) -> dict | None:
        """The published stamp of ``stem`` if its fingerprint matches and its outputs are
        intact."""
        stamp = self._read_stamp(stem)
        if (
            stamp is not None
            and stamp.get("fingerprint") == fp
            and self.executed(stem).exists()
            and stamps.outputs_intact(self.artifacts_dir, stamp.get("outputs", {}))
        ):
            return stamp
        return None

    def run(
        self,
        force: bool = False,
        only: list[str] | None = None,
        dry_run: bool = False,
        publish: bool = True,
    ) -> list[Step]:
        """Execute the stale notebooks in order; return what happened to each.

        ``force`` reruns every notebook. ``only`` reruns the named notebooks (``force`` adds
        nothing to it) and the earlier ones that are stale, and runs nothing after the last one
        named (those are reported ``"stale"`` when out of date). ``dry_run`` executes nothing.
        ``publish=False`` leaves the results in the staging copy (for :meth:`build`).
        """
        if only:
            unknown = sorted(set(only) - {nb.stem for nb in self.notebooks})
            if unknown:
                raise PipelineError(
                    f"unknown notebook(s) {unknown}; known: {[nb.stem for nb in self.notebooks]}"
                )
        check_toc(self.sources or self.book_dir, self.notebooks)
        if dry_run:
            return self._walk(force, only, execute=False)
        with self._guarded(f"emonet run --profile {self.profile}"):
            steps = self._walk(force, only, execute=True)
            if publish:
                self.publish(steps)
        return steps

    @contextmanager
    def _guarded(self, command: str):
        """Hold the artifacts lock, clean up after killed runs, refresh the staging copy, and turn
        a failure or Ctrl-C into one message that says the book was left as it was."""
        with artifacts_lock(self.artifacts_dir, command, self.log):
            clean_stale_tempdirs(self.log)
            self._set_environment()
            if self.sources is not None and self.sources.resolve() != self.book_dir.resolve():
                _mirror(self.sources, self.book_dir, ignore=NOT_SOURCES)
            _mirror(self.book_dir, self.staging, ignore=(".staging", "_build", reader.SOURCES))
            try:
                yield
            except KeyboardInterrupt:
                raise PipelineInterrupted(
                    "interrupted; nothing was published, the book still shows the last good "
                    f"build{self._stale_note()}"
                ) from None
            except PipelineError as err:
                raise type(err)(
                    f"{err}\n  nothing was published: the book still shows the "
                    f"last good build{self._stale_note()}"
                ) from None

    def _walk(self, force: bool, only: list[str] | None, execute: bool) -> list[Step]:
        data = {**registry.verified_fingerprint(), **self.inputs}
        last = (
            max((i for i, nb in enumerate(self.notebooks) if nb.stem in only), default=-1)
            if only
            else len(self.notebooks)
        )
        upstream: dict[str, dict] = {}
        steps = []
        total = len(self.notebooks)
        for i, nb in enumerate(self.notebooks):
            params = self.parameters(nb.stem)
            fp = stamps.fingerprint(
                nb, stamps.portable_params(params), upstream, self.package_fingerprint(nb), data
            )
            stamp = self._is_fresh(nb.stem, fp)
            wanted = (nb.stem in only) if only else force
            where = f"[{i + 1}/{total}] {nb.stem}"
            if stamp is not None and not wanted:
                self.log(f"{where}: unchanged, skipped")
                steps.append(Step(nb.stem, "skipped", outputs=stamp["outputs"]))
                upstream[nb.stem] = stamps.readable(stamp["outputs"])
                continue
            if i > last:
                self.log(f"{where}: stale, not run (after the notebooks --only named)")
                steps.append(Step(nb.stem, "stale"))
                upstream[nb.stem] = {"pending": nb.stem}
                continue
            if not execute:
                self.log(f"{where}: would run")
                steps.append(Step(nb.stem, "would run"))
                upstream[nb.stem] = {"pending": nb.stem}
                continue
            self.log(f"{where}: running ({self.profile} profile)")
            step = self._execute(nb, params, fp)
            self.log(
                f"{where}: done in {step.seconds:.1f} s, {len(step.outputs)} artifact "
                "file(s) written"
            )
            steps.append(step)
            upstream[nb.stem] = stamps.readable(step.outputs)
        return steps

    def stale(self) -> list[str]:
        """The notebooks whose published page is out of date."""
        return [s.stem for s in self._walk(False, None, execute=False) if s.status != "skipped"]

    def _stale_note(self) -> str:
        try:
            stale = self.stale()
        except (PipelineError, registry.DataError, KeyboardInterrupt):
            return ""
        return f"; stale chapters: {', '.join(stale)}" if stale else ""

    def publish(self, steps: list[Step]) -> None:
        """Move the executed notebooks and stamps of the steps that ran into the book."""
        for step in steps:
            if step.status != "ran":
                continue
            for staged, published in (
                (self.executed(step.stem, True), self.executed(step.stem)),
                (self.stamp_path(step.stem, True), self.stamp_path(step.stem)),
            ):
                published.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(staged, published.with_name(published.name + ".new"))
                os.replace(published.with_name(published.name + ".new"), published)

    def build(self, force: bool = False, all_pages: bool = False, run: bool = True) -> Path:
        """Run the stale notebooks (unless ``run`` is False), build the book in the staging copy
        and, when both succeeded, publish the notebooks and the HTML; return the published
        index.html."""
        with self._guarded(f"emonet book --profile {self.profile}"):
            steps = self._walk(force, None, execute=True) if run else []
            self.log("building the book with Jupyter Book (warnings fail the build) ...")
            _mirror(
                self.notebook_dir,
                self.staging / reader.SOURCES,
                ignore=("params", "*.ipynb", ".ipynb_checkpoints"),
            )
            build_book(self.staging, all_pages=all_pages or force)
            self.publish(steps)
            html = self.book_dir / "_build" / "html"
            fresh, old = html.with_name(".html-new"), html.with_name(".html-old")
            for folder in (fresh, old):
                shutil.rmtree(folder, ignore_errors=True)
            shutil.copytree(self.staging / "_build" / "html", fresh)
            if html.exists():
                os.replace(html, old)
            os.replace(fresh, html)
            shutil.rmtree(old, ignore_errors=True)
        return html / "index.html"

    def _set_environment(self) -> None:
        if self.profile == "local":
            os.environ["HF_HUB_OFFLINE"] = "1"
        # The kernel's inline backend renders (and glues) figures; a forced Agg would not.
        if os.environ.get("MPLBACKEND", "").lower() == "agg":
            del os.environ["MPLBACKEND"]

    def _execute(self, nb: Notebook, params: dict, fp: str) -> Step:
        import jupytext
        import papermill
        from papermill.exceptions import PapermillExecutionError

        before = stamps.snapshot(self.artifacts_dir)
        start = time.perf_counter()
        with run_tempdir(nb.stem) as tmp, open(Path(tmp) / "kernel-stderr.log", "wb") as log:
            src = Path(tmp) / f"{nb.stem}.source.ipynb"
            out = Path(tmp) / f"{nb.stem}.ipynb"
            jupytext.write(jupytext.read(nb.source), src)
            try:
                # The executed notebook is written once, at the end (and on a failing cell, with
                # its traceback): saving it at the start and end of every cell, as papermill
                # does by default, rewrote a notebook of a dozen figures 124 times in chapter 06.
                papermill.execute_notebook(
                    str(src),
                    str(out),
                    parameters=params,
                    cwd=str(PROJECT_ROOT),
                    progress_bar={"desc": nb.stem, "leave": False, "unit": "cell"},
                    request_save_on_cell_execute=False,
                    kernel_manager_class=_local_kernel_manager(Path(tmp), log),
                )
            except PapermillExecutionError as err:
                self._keep_failed(nb, out, Path(log.name))
                raise PipelineError(self._failure_message(nb, err)) from None
            except KeyboardInterrupt:
                raise
            except Exception as err:  # kernel died, missing kernel, bad parameters, ...
                self._keep_failed(nb, out, Path(log.name))
                raise PipelineError(
                    f"notebook {_display_path(nb.source)} could not "
                    f"run: {type(err).__name__}: {err}"
                ) from None
            reader.prepare(out, nb.stem, stamps.portable_params(params))
            self.executed(nb.stem, True).parent.mkdir(parents=True, exist_ok=True)
            shutil.move(out, self.executed(nb.stem, True))
        seconds = time.perf_counter() - start
        after = stamps.snapshot(self.artifacts_dir)
        outputs = {
            k: [*v, sha256_of(self.artifacts_dir / k)]
            for k, v in after.items()
            if before.get(k) != v
        }
        write_text(
            self.stamp_path(nb.stem, True),
            json.dumps(
                {
                    "fingerprint": fp,
                    "profile": self.profile,
                    "seconds": round(seconds, 2),
                    "parameters": stamps.portable_params(params),
                    "outputs": outputs,
                },
                indent=1,
                sort_keys=True,
            ),
        )
        return Step(nb.stem, "ran", seconds, outputs)

    def _keep_failed(self, nb: Notebook, failed: Path, kernel_log: Path) -> None:
        """Keep the failed notebook (with its traceback) and, when the kernel wrote any, its own
        stderr under ``<artifacts>/failed/``."""
        folder = self.artifacts_dir / "failed"
        folder.mkdir(parents=True, exist_ok=True)
        if failed.exists():
            shutil.copyfile(failed, folder / f"{nb.stem}.ipynb")
        if kernel_log.exists() and kernel_log.stat().st_size:
            shutil.copyfile(kernel_log, folder / f"{nb.stem}.kernel-stderr.log")

    def _failure_message(self, nb: Notebook, err) -> str:
        rel = _display_path(nb.source)
        where = source_line(nb.source, err.source)
        first = (err.source or "").strip().splitlines()[:3]
        kept = self.artifacts_dir / "failed" / f"{nb.stem}.ipynb"
        return (
            f"notebook {rel} failed in cell {err.exec_count or err.cell_index}"
            + (f" (line {where} of {rel})" if where else "")
            + f": {err.ename}: {err.evalue}\n  cell starts: "
            + "\n               ".join(first)
            + f"\n  the executed notebook with the traceback is kept at {kept}"
        )


def _display_path(path: Path) -> Path:
    """``path`` relative to the repository when inside it (for messages)."""
    return path.relative_to(PROJECT_ROOT) if path.is_relative_to(PROJECT_ROOT) else path


def _local_kernel_manager(folder: Path, stderr):
    """Kernel manager for one notebook: the kernel talks over Unix sockets in ``folder`` (the ipc
    transport: no TCP port for its five channels) and writes its own stderr (kernel-level
    messages, not cell output) to ``stderr``, a file, so a dying kernel prints no traceback over
    the run's one-line messages. ipykernel still opens a loopback TCP port for its IOPub pipe from
    forked subprocesses (messages on it need a random 16-byte key); see ``docs/layout.md``."""
    from jupyter_client.manager import AsyncKernelManager

    class LocalKernelManager(AsyncKernelManager):
        def __init__(self, **kwargs):
            super().__init__(transport="ipc", ip=str(folder / "kernel"), **kwargs)

        async def start_kernel(self, **kw):
            kw.setdefault("stderr", stderr)
            return await super().start_kernel(**kw)

    return LocalKernelManager


#: Where a set ``repository.url`` (``_config.yml``) points the launch button.
BINDER_URL = "https://mybinder.org"


def book_config(config: Path, target: Path) -> Path:
    """The Jupyter Book configuration of a build: ``config`` as it is, with the repository, issue
    and Binder launch buttons turned on when ``repository.url`` is set; written to ``target``."""
    import yaml

    settings = yaml.safe_load(config.read_text()) or {}
    if (settings.get("repository") or {}).get("url"):
        settings.setdefault("html", {}).update(use_repository_button=True, use_issues_button=True)
        settings.setdefault("launch_buttons", {}).update(binderhub_url=BINDER_URL)
    write_text(target, yaml.safe_dump(settings, sort_keys=False))
    return target


def build_book(
    book_dir: Path = BOOK_DIR,
    config: Path = CONFIG,
    *,
    all_pages: bool = False,
    strict: bool = True,
    quiet: bool = True,
) -> Path:
    """Build the HTML book with Jupyter Book 1 (warnings fail when ``strict``); return index.html."""
    book_dir = Path(book_dir).resolve()
    config = book_config(Path(config).resolve(), book_dir / ".config.yml")
    exe = Path(sys.executable).parent / "jupyter-book"
    # Absolute paths: jupyter-book resolves --toc against the source folder, output against cwd.
    cmd = [
        str(exe if exe.exists() else "jupyter-book"),
        "build",
        str(book_dir),
        "--config",
        str(config),
        "--toc",
        str(book_dir / "_toc.yml"),
        "--path-output",
        str(book_dir),
    ]
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
