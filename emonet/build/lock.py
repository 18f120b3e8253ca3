"""One run at a time per artifacts folder, and no leftovers from runs that were killed.

:func:`artifacts_lock` holds an exclusive ``flock`` on ``<artifacts>/.lock`` for the duration of a
run and writes the holder (pid, host, command, start time) into it. A second run on the same
folder fails at once with a message naming the holder. The lock dies with its process, so a
SIGKILLed run leaves nothing to clean up by hand: the next run takes the lock and says it
recovered it.

:func:`run_tempdir` makes a run's temporary folders (``emonet-<pid>-*`` in the system's temporary
folder: the kernels' sockets, the notebook being executed) and :func:`clean_stale_tempdirs`
removes those of processes that no longer exist.
"""

from __future__ import annotations

import errno
import fcntl
import json
import os
import shutil
import socket
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

LOCK_NAME = ".lock"
TEMP_PREFIX = "emonet-"


class LockedError(RuntimeError):
    """Another run holds the artifacts folder."""


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@contextmanager
def artifacts_lock(root: Path, command: str, log=print):
    """Hold the lock of artifacts folder ``root`` while the body runs."""
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    path = root / LOCK_NAME
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as err:
            if err.errno not in (errno.EWOULDBLOCK, errno.EACCES):
                raise
            raise LockedError(
                f"{root} is in use by another run ({_describe(path)}); wait for "
                "it to finish or stop it"
            ) from None
        previous = _holder(path)
        if (
            previous
            and previous.get("pid")
            and previous.get("host") == socket.gethostname()
            and not _alive(int(previous["pid"]))
        ):
            log(
                f"recovered the lock of {root} left by a run that died "
                f"(pid {previous['pid']}, {previous.get('command', '?')})"
            )
        os.ftruncate(fd, 0)
        os.pwrite(
            fd,
            json.dumps(
                {
                    "pid": os.getpid(),
                    "host": socket.gethostname(),
                    "command": command,
                    "started": time.strftime("%Y-%m-%d %H:%M:%S"),
                }
            ).encode(),
            0,
        )
        yield
        os.ftruncate(fd, 0)
    finally:
        os.close(fd)  # closing releases the flock


def _holder(path: Path) -> dict:
    try:
        return json.loads(path.read_text() or "{}")
    except (OSError, json.JSONDecodeError):
        return {}


def _describe(path: Path) -> str:
    holder = _holder(path)
    if not holder:
        return "holder unknown"
    return (
        f"pid {holder.get('pid')} on {holder.get('host')}, started {holder.get('started')}: "
        f"{holder.get('command')}"
    )


def run_tempdir(label: str) -> tempfile.TemporaryDirectory:
    """A temporary folder named after this process, so a later run can tell it is stale."""
    return tempfile.TemporaryDirectory(prefix=f"{TEMP_PREFIX}{os.getpid()}-{label}-")


def clean_stale_tempdirs(log=print, base: Path | None = None) -> int:
    """Remove the temporary folders of runs whose process is gone; return how many."""
    base = Path(base or tempfile.gettempdir())
    removed = 0
    for folder in base.glob(f"{TEMP_PREFIX}*-*"):
        pid = folder.name[len(TEMP_PREFIX) :].split("-", 1)[0]
        if folder.is_dir() and pid.isdigit() and int(pid) != os.getpid() and not _alive(int(pid)):
            shutil.rmtree(folder, ignore_errors=True)
            removed += 1
    if removed:
        log(f"removed {removed} temporary folder(s) of earlier runs that were killed")
    return removed
