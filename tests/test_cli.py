import re
import subprocess
import sys

import pytest

from emonet import __version__
from emonet.cli import main
from tests.helpers import trained_checkpoint


def test_version_via_module():
    out = subprocess.run(
        [sys.executable, "-m", "emonet", "--version"], capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == f"emonet {__version__}"


def test_data_check_reports_each_file(mirror, capsys):
    assert main(["data", "check"]) == 0
    out = capsys.readouterr().out
    for name in ("binary.csv", "guide.json", "ferd.jsonl", "basic_emotion_mappings.json"):
        assert re.search(rf"^ok +{re.escape(name)} ", out, re.M), out
    # online only, downloadable on use: reported, not an error; check never downloads
    assert re.search(r"^missing \(downloadable with `emonet data fetch`\) +hq.csv", out, re.M)


def test_data_check_of_a_named_missing_file_exits_1(monkeypatch, capsys):
    monkeypatch.delenv("EMONET_DATA_DIR", raising=False)
    assert main(["data", "check", "basic_emotion_mappings.json"]) == 1
    captured = capsys.readouterr()
    assert "missing (downloadable with `emonet data fetch`)" in captured.out
    assert "1 file(s) not usable" in captured.err


def test_data_list(capsys):
    assert main(["data", "list"]) == 0
    assert "raw.githubusercontent.com/LAION-AI/emonet-face/f4d4dab" in capsys.readouterr().out


def test_bad_override_and_profile(capsys):
    assert main(["run", "--set", "bogus=1"]) == 1
    assert "--set bogus=1: no notebook has a parameter 'bogus'" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["run", "--profile", "huge"])


def test_notebooks_dry_run(tmp_path, capsys):
    assert main(["notebooks", "--artifacts-dir", str(tmp_path), "--book-dir", "book"]) == 0
    assert "01_taxonomy" in capsys.readouterr().out


def test_generate_writes_and_resumes(mirror, tmp_path, capsys):
    args = [
        "generate",
        "--n",
        "12",
        "--out",
        str(tmp_path),
        "--emotions",
        "Anger",
        "Amusement",
        "--size",
        "48",
    ]
    assert main(args) == 0
    first = (tmp_path / "manifest.parquet").read_bytes()
    assert len(list((tmp_path / "images").glob("*.png"))) == 12
    assert "12 image(s)" in capsys.readouterr().out
    assert main(args) == 0  # resume: nothing to do, same manifest
    assert (tmp_path / "manifest.parquet").read_bytes() == first


@pytest.mark.parametrize(
    "extra, message",
    [
        (["--n", "0"], "number of images must be a positive integer, got 0"),
        (["--n", "3", "--emotions", "Angr"], "unknown emotion 'Angr'"),
        (["--n", "3", "--backend", "diffusers"], "--backend diffusers needs --model-id"),
    ],
)
def test_generate_bad_arguments(mirror, tmp_path, capsys, extra, message):
    assert main(["generate", "--out", str(tmp_path), *extra]) == 1
    assert message in capsys.readouterr().err


def test_cli_predict(tmp_path, png_paths, capsys):
    path, _ = trained_checkpoint(tmp_path, png_paths)
    plot = tmp_path / "bars.png"
    assert (
        main(
            [
                "predict",
                *png_paths[:2],
                "--checkpoint",
                str(path),
                "--top",
                "3",
                "--plot",
                str(plot),
            ]
        )
        == 0
    )
    out = capsys.readouterr()
    assert out.out.count("softmax") == 6 and png_paths[0] in out.out
    assert "untrained stand-in encoder" in out.err
    assert plot.read_bytes().startswith(b"\x89PNG")
    assert main(["predict", png_paths[0], "--checkpoint", str(tmp_path / "none.safetensors")]) == 1
    assert "is missing" in capsys.readouterr().err
