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
    with pytest.raises(RuntimeError):
        with atomic_path(target) as tmp:
            tmp.write_text("half")
            raise RuntimeError("interrupted")
    assert target.read_text() == "old" and os.listdir(tmp_path) == ["out.txt"]
