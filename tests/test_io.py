"""Atomic writes (:mod:`emonet.io`): a failed write leaves the old file and no temporary, and a
written file is readable like any file the user writes (the umask's permissions, not mkstemp's
0600)."""

import os
import stat

import pytest

from emonet import io as emonet_io
from emonet.io import atomic_path, write_text


def test_written_files_follow_the_umask(tmp_path):
    path = write_text(tmp_path / "page.txt", "hello")
    expected = 0o666 & ~emonet_io._UMASK
    # under a umask of 066 the expected mode is mkstemp's: the check could not tell them apart
    assert expected != 0o600 or emonet_io._UMASK == 0o066
    assert stat.S_IMODE(path.stat().st_mode) == expected


def test_a_failed_write_keeps_the_old_file_and_no_temporary(tmp_path):
    target = write_text(tmp_path / "out.txt", "old")
    with pytest.raises(RuntimeError), atomic_path(target) as tmp:
        tmp.write_text("half")
        raise RuntimeError("interrupted")
    assert target.read_text() == "old" and os.listdir(tmp_path) == ["out.txt"]


def test_first_outside_finds_the_paths_that_inside_refuses(tmp_path):
    """The per-folder check of a manifest's paths refuses exactly the paths the path-by-path
    check (:func:`emonet.io.inside`) refuses: '..', absolute paths, symlinks out of the folder
    (a file's or a folder's), symlinks that stay inside."""
    from emonet.io import UnsafePathError, first_outside, inside

    root = tmp_path / "root"
    (root / "images").mkdir(parents=True)
    (tmp_path / "victim.txt").write_text("x")
    (root / "images" / "out.png").symlink_to(tmp_path / "victim.txt")
    (root / "images" / "in.png").symlink_to(root / "images")
    (root / "away").symlink_to(tmp_path)
    rels = [
        "images/a.png",
        "images/missing/b.png",
        "images/../images/c.png",
        "images/out.png",
        "images/in.png",
        "away/victim.txt",
        "away/root/images/d.png",
        "../victim.txt",
        "/etc/passwd",
        "images/..",
        "images/.",
        "./images/e.png",
        "images/../..",
        "f.png",
    ]

    def refused(rel):
        try:
            inside(root, rel, "here")
        except UnsafePathError:
            return True
        return False

    for rel in rels:
        expected = refused(rel)
        assert (first_outside(root, ["images/ok.png", rel]) == 1) == expected, rel
    assert first_outside(root, ["images/x.png"] * 3) is None
    assert first_outside(root, ["images/x.png", "../y", "/z"]) == 1
