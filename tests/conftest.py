"""Shared fixtures: the offline mirror of the authors' files, isolated caches, a local HTTP server."""

from __future__ import annotations

import functools
import http.server
import os
import threading
from pathlib import Path

import pytest

from emonet.book.artifacts import PROJECT_ROOT

MIRROR = Path(os.environ.get("EMONET_DATA_DIR") or PROJECT_ROOT.parent / "shared/data/emonet-face")


@pytest.fixture(scope="session")
def mirror() -> Path:
    """The offline mirror folder; required in CI, skipped elsewhere when absent."""
    if not (MIRROR / "guide.json").exists():
        if os.environ.get("CI"):
            pytest.fail(f"offline data mirror not found at {MIRROR} (set EMONET_DATA_DIR)")
        pytest.skip(f"offline data mirror not found at {MIRROR}")
    return MIRROR


@pytest.fixture(autouse=True)
def isolated_data_env(monkeypatch, tmp_path_factory):
    """Each test gets an empty download cache and the mirror (when present) as data folder."""
    monkeypatch.setenv("EMONET_CACHE_DIR", str(tmp_path_factory.mktemp("cache")))
    if (MIRROR / "guide.json").exists():
        monkeypatch.setenv("EMONET_DATA_DIR", str(MIRROR))
    else:
        monkeypatch.delenv("EMONET_DATA_DIR", raising=False)


@pytest.fixture
def http_folder(tmp_path):
    """Serve a fresh folder on 127.0.0.1; yields ``(folder, base_url)``."""
    folder = tmp_path / "served"
    folder.mkdir()
    handler = functools.partial(QuietHandler, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield folder, f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):  # keep test output clean
        pass
