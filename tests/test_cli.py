import subprocess
import sys

import pytest

from emonet import __version__
from emonet.cli import main


def test_version_via_module():
    out = subprocess.run([sys.executable, "-m", "emonet", "--version"], capture_output=True,
                         text=True, check=True)
    assert out.stdout.strip() == f"emonet {__version__}"


def test_data_check_reports_each_file(mirror, capsys):
    assert main(["data", "check"]) == 0
    out = capsys.readouterr().out
    for name in ("binary.csv", "guide.json", "ferd.jsonl", "basic_emotion_mappings.json"):
        assert f"ok       {name}" in out
    assert "missing  hq.csv" in out  # online only; check never downloads


def test_data_errors_exit_1(monkeypatch, capsys):
    monkeypatch.delenv("EMONET_DATA_DIR", raising=False)
    assert main(["data", "check", "basic_emotion_mappings.json"]) == 1
    assert "emonet data: error: basic_emotion_mappings.json cannot be downloaded" in \
        capsys.readouterr().err


def test_data_list(capsys):
    assert main(["data", "list"]) == 0
    assert "raw.githubusercontent.com/LAION-AI/emonet-face/f4d4dab" in capsys.readouterr().out


def test_bad_override_and_profile(capsys):
    assert main(["run", "--set", "bogus=1"]) == 1
    assert "no notebook has parameter 'bogus'" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["run", "--profile", "huge"])


def test_notebooks_dry_run(tmp_path, capsys):
    assert main(["notebooks", "--artifacts-dir", str(tmp_path), "--book-dir", "book"]) == 0
    assert "01_taxonomy" in capsys.readouterr().out
