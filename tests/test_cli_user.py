"""The command line as a user meets it (subprocesses): nothing lost, nothing outside its folder,
every failure one clear line."""

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd
import pytest

from emonet.paths import BOOK_DIR, PROJECT_ROOT
from tests.helpers import png, trained_checkpoint

#: Every test here starts the command line in a subprocess (most run a pipeline step or a chapter).
pytestmark = pytest.mark.integration

#: Progress bars write to stderr too; they are not messages.
PROGRESS_MARKS = ("cell/s", "s/cell", "img/s", "\r", "it/s")


def emonet(*args, env: dict | None = None, timeout: float = 300, **popen):
    """Run ``python -m emonet ARGS`` as a user would; return the completed process."""
    full_env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT), **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "emonet", *map(str, args)],
        env=full_env,
        capture_output=True,
        text=True,
        timeout=timeout,
        **popen,
    )


def messages(stderr: str) -> list[str]:
    """The lines of stderr that are messages (not progress bars, not empty)."""
    return [
        line
        for line in stderr.splitlines()
        if line.strip() and not any(mark in line for mark in PROGRESS_MARKS)
    ]


def one_error(proc, *fragments: str) -> str:
    """Assert ``proc`` failed with exactly one message line holding every fragment."""
    lines = messages(proc.stderr)
    assert proc.returncode != 0, proc.stdout
    assert len(lines) == 1 and "Traceback" not in proc.stderr, proc.stderr
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
    return lines[0]


@pytest.fixture
def book(tmp_path):
    """A book source folder outside the checkout (pages and toc, no executed notebooks)."""
    target = tmp_path / "book"
    shutil.copytree(
        BOOK_DIR, target, ignore=shutil.ignore_patterns("_build", ".stamps", ".staging", "*.ipynb")
    )
    return target


def run_args(book: Path, tmp_path: Path, *extra) -> list:
    return ["run", "--book-dir", book, "--artifacts-dir", tmp_path / "artifacts", *extra]


# --------------------------------------------------------------------------- generation


def test_a_smaller_request_keeps_the_images_and_prune_says_what_it_removes(mirror, tmp_path):
    out = tmp_path / "D"
    base = ["generate", "--out", out, "--size", "32"]
    assert emonet(*base, "--n", 40).returncode == 0
    smaller = emonet(*base, "--n", 20)
    assert smaller.returncode == 0 and "20 image(s) of earlier requests are kept" in smaller.stdout
    assert len(list((out / "images").glob("*.png"))) == 40
    again = emonet(*base, "--n", 40)  # the kept images are reused, nothing drawn again
    assert again.returncode == 0 and len(list((out / "images").glob("*.png"))) == 40
    pruned = emonet(*base, "--n", 20, "--prune")
    assert (
        pruned.returncode == 0 and "removing 20 image(s) not in the latest request" in pruned.stdout
    )
    assert len(list((out / "images").glob("*.png"))) == 20


def test_a_manifest_path_outside_the_folder_stops_generate(mirror, tmp_path):
    out = tmp_path / "D"
    assert emonet("generate", "--n", 8, "--out", out, "--size", "32").returncode == 0
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me")
    manifest = pd.read_parquet(out / "manifest.parquet")
    manifest.loc[7, "path"] = "../victim.txt"
    manifest.to_parquet(out / "manifest.parquet", index=False)
    proc = emonet("generate", "--n", 4, "--out", out, "--size", "32", "--prune")
    one_error(proc, "manifest.parquet row 7", "points outside")
    assert victim.read_text() == "keep me"


@pytest.mark.parametrize(
    "case, fragment",
    [
        ("not parquet", "is not a readable parquet manifest"),
        ("no columns", "lacks manifest column(s)"),
        ("out is a file", "is a file, not a folder"),
    ],
)
def test_generate_refuses_a_bad_manifest_or_out_in_one_line(mirror, tmp_path, case, fragment):
    out = tmp_path / "D"
    out.mkdir()
    if case == "not parquet":
        (out / "manifest.parquet").write_text("id,path\n")
    elif case == "no columns":
        pd.DataFrame({"id": ["img000000"]}).to_parquet(out / "manifest.parquet")
    else:
        out = tmp_path / "a-file"
        out.write_text("x")
    one_error(emonet("generate", "--n", 4, "--out", out, "--size", "32"), fragment)


# --------------------------------------------------------------------------- emonet run


@pytest.mark.parametrize(
    "setting, fragment",
    [
        ("n_images=abc", "n_images takes an integer (e.g. n_images=3600), got a string"),
        ("seed=[1,2", "the value is not valid YAML"),
        ("no_such_parameter=1", "no notebook has a parameter 'no_such_parameter'"),
    ],
)
def test_a_typo_in_set_is_caught_before_any_kernel_starts(tmp_path, book, setting, fragment):
    proc = emonet(*run_args(book, tmp_path, "--set", setting))
    one_error(proc, "emonet run: error: --set", fragment)
    assert not list(book.glob("*.ipynb"))  # no notebook ran (not a wall-clock limit: no timing)
    assert not (tmp_path / "artifacts").exists()


def test_a_failed_run_leaves_the_last_good_book(mirror, tmp_path, book):
    assert emonet(*run_args(book, tmp_path, "--only", "01_taxonomy")).returncode == 0
    good = (book / "01_taxonomy.ipynb").read_bytes()
    # a valid value that makes chapter 02 fail after chapter 01 has run again
    proc = emonet(
        *run_args(
            book,
            tmp_path,
            "--only",
            "02_generation",
            "--force",
            "--set",
            "n_images=0",
            "--set",
            "seed=7",
        )
    )
    assert proc.returncode == 1
    text = proc.stderr
    assert "02_generation.py failed" in text and "nothing was published" in text
    assert "stale chapters: 01_taxonomy, 02_generation" in text
    assert (book / "01_taxonomy.ipynb").read_bytes() == good
    assert not (book / "02_generation.ipynb").exists()


#: ``python -m emonet ARGS`` whose notebooks start with a cell that creates the file named by
#: $EMONET_TEST_READY and then waits until the run's process is gone (the kernel then exits): a
#: test acts on the run at a known point (lock taken, temporary folder made, a cell running)
#: instead of after a guessed delay.
STOPPING_RUN = '''
import sys

import nbformat
import papermill

from emonet.cli import main

CELL = """
import os, time
parent = os.getppid()
open(os.environ["EMONET_TEST_READY"], "w").close()
while os.getppid() == parent:
    time.sleep(0.05)
os._exit(0)
"""
execute_notebook = papermill.execute_notebook


def stopping(source, output, **kwargs):
    nb = nbformat.read(source, as_version=4)
    nb.cells.insert(0, nbformat.v4.new_code_cell(CELL))
    nbformat.write(nb, source)
    return execute_notebook(source, output, **kwargs)


papermill.execute_notebook = stopping
raise SystemExit(main(sys.argv[1:]))
'''


def stopping_run(tmp_path: Path, book: Path, **popen) -> tuple[subprocess.Popen, Path]:
    """Start ``emonet run --only 01_taxonomy --force`` that stops in its first cell; return the
    process and the file that appears once it got there."""
    ready = tmp_path / "ready"
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT), "EMONET_TEST_READY": str(ready)}
    args = run_args(book, tmp_path, "--only", "01_taxonomy", "--force")
    return subprocess.Popen(
        [sys.executable, "-c", STOPPING_RUN, *map(str, args)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        **popen,
    ), ready


def wait_until_ready(proc: subprocess.Popen, ready: Path, timeout: float = 300) -> None:
    """Wait for the run to reach its stopping cell (``ready`` exists); fail at once if it ends
    first. The timeout only bounds a hung test: the outcome does not depend on it."""
    deadline = time.monotonic() + timeout
    while not ready.exists():
        if proc.poll() is not None:
            pytest.fail(f"the run ended before its first cell: {proc.communicate()}")
        if time.monotonic() > deadline:
            pytest.fail(f"the run did not reach its first cell in {timeout} s")
        time.sleep(0.05)


def test_two_runs_at_once_and_a_killed_run(mirror, tmp_path, book):
    first, ready = stopping_run(tmp_path, book)
    try:
        wait_until_ready(first, ready)  # it holds the lock and its temporary folder
        holder = json.loads((tmp_path / "artifacts" / ".lock").read_text())
        assert holder["pid"] == first.pid
        second = emonet(*run_args(book, tmp_path, "--only", "01_taxonomy"))
        one_error(second, "is in use by another run", f"pid {first.pid}", "emonet run")
        assert list(Path(tempfile.gettempdir()).glob(f"emonet-{first.pid}-*"))
    finally:
        first.kill()
        first.communicate()
    third = emonet(*run_args(book, tmp_path, "--only", "01_taxonomy"))
    assert third.returncode == 0, third.stderr
    assert f"recovered the lock of {tmp_path / 'artifacts'}" in third.stdout
    assert "temporary folder(s) of earlier runs that were killed" in third.stdout
    assert not list(Path(tempfile.gettempdir()).glob(f"emonet-{first.pid}-*"))


def test_ctrl_c_is_one_line(mirror, tmp_path, book):
    proc, ready = stopping_run(tmp_path, book)
    try:
        wait_until_ready(proc, ready)  # Ctrl-C while a cell runs
        proc.send_signal(signal.SIGINT)
        _, stderr = proc.communicate(timeout=120)
    finally:
        proc.kill()
    assert proc.returncode == 130
    lines = messages(stderr)
    assert len(lines) == 1 and "Traceback" not in stderr, stderr
    assert lines[0].startswith("emonet run: interrupted; nothing was published")


# --------------------------------------------------------------------------- data


@pytest.fixture
def mirror_copy(mirror, tmp_path):
    copy = tmp_path / "mirror"
    shutil.copytree(mirror, copy)
    return copy


def test_data_check_names_corrupt_truncated_and_missing(mirror_copy, tmp_path):
    env = {"EMONET_DATA_DIR": str(mirror_copy), "EMONET_CACHE_DIR": str(tmp_path / "cache")}
    guide = mirror_copy / "guide.json"
    guide.write_bytes(guide.read_bytes().replace(b"Amusement", b"Amusemenx", 1))
    (mirror_copy / "binary.csv").write_bytes((mirror_copy / "binary.csv").read_bytes()[:1000])
    (mirror_copy / "ferd.jsonl").unlink()
    proc = emonet("data", "check", env=env)
    assert proc.returncode == 1
    out = proc.stdout
    assert "corrupt (sha256" in out and "truncated (1,000 of 2,104,615 bytes)" in out
    assert "missing (downloadable with `emonet data fetch`)" in out
    assert "2 file(s) not usable" in proc.stderr
    gone = emonet("data", "check", env={"EMONET_DATA_DIR": str(tmp_path / "nowhere")})
    one_error(gone, "EMONET_DATA_DIR=", "is not a folder")


def test_run_refuses_corrupt_data_even_for_a_fresh_chapter(mirror_copy, tmp_path, book):
    env = {"EMONET_DATA_DIR": str(mirror_copy), "EMONET_CACHE_DIR": str(tmp_path / "cache")}
    assert emonet(*run_args(book, tmp_path, "--only", "01_taxonomy"), env=env).returncode == 0
    guide = mirror_copy / "guide.json"
    guide.write_bytes(guide.read_bytes().replace(b"Amusement", b"Amusemenx", 1))  # same size
    proc = emonet(*run_args(book, tmp_path, "--only", "01_taxonomy"), env=env)
    assert proc.returncode == 1 and "guide.json: corrupt (sha256" in proc.stderr


# --------------------------------------------------------------------------- predict


@pytest.fixture
def checkpoint(tmp_path):
    faces = []
    for i in range(3):
        path = tmp_path / f"face{i}.png"
        path.write_bytes(png(i))
        faces.append(str(path))
    path, _ = trained_checkpoint(tmp_path, faces)
    return path, faces


def bomb(path: Path, side: int = 60000) -> Path:
    """A PNG whose header claims ``side`` x ``side`` pixels (a decompression bomb)."""
    import struct
    import zlib

    def chunk(kind, data):
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )

    header = struct.pack(">IIBBBBB", side, side, 8, 2, 0, 0, 0)
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\0" * 16))
        + chunk(b"IEND", b"")
    )
    return path


@pytest.mark.parametrize(
    "case, fragments",
    [
        ("bomb", ("too large to decode safely", "decompression bomb")),
        ("tiny", ("is 1x1 pixels; at least 32x32 are needed",)),
        ("json", ("a checkpoint is the .safetensors weights file", "pass m.safetensors")),
    ],
)
def test_predict_refuses_in_one_line(tmp_path, checkpoint, case, fragments):
    path, faces = checkpoint
    image = faces[0]
    if case == "bomb":
        image = bomb(tmp_path / "bomb.png")
    elif case == "tiny":
        image = tmp_path / "dot.png"
        image.write_bytes(png(1, size=1))
    elif case == "json":
        path = path.with_suffix(".json")
    one_error(emonet("predict", image, "--checkpoint", path), "emonet predict: error:", *fragments)
