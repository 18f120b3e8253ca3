"""``emonet evaluate`` and ``emonet annotate`` as a user runs them: what they print, what they
write, and bad input as one line on stderr with exit status 1."""

import numpy as np
import pandas as pd
import pytest

from emonet.benchmarking import vlm
from emonet.cli import main
from emonet.data import taxonomy
from emonet.hq import panel, simulation


@pytest.fixture(scope="module")
def artifacts(tmp_path_factory):
    """A profile's artifacts folder with a simulated panel, and a score table for it."""
    root = tmp_path_factory.mktemp("artifacts")
    truth = simulation.synthetic_truth(24, seed=3)
    ids = [f"im{k}" for k in range(24)]
    experts = simulation.simulate_panel(
        truth, ids, simulation.RaterModel(n_raters=4, per_image=2), seed=3
    )
    panel.write_hq_csv(experts, root / panel.SIMULATED_FILE)
    scores = pd.DataFrame(truth, columns=list(taxonomy.EMOTIONS)).clip(0, 7)
    scores.insert(0, "image", ids)
    scores.to_csv(root / "scores.csv", index=False)
    return root


def test_evaluate_uses_the_profiles_panel_and_says_what_it_found(artifacts, tmp_path, capsys):
    out = tmp_path / "eval"
    assert (
        main(
            [
                "evaluate",
                "--scores",
                str(artifacts / "scores.csv"),
                "--out",
                str(out),
                "--artifacts-dir",
                str(artifacts),
                "--name",
                "Truth",
                "--n-bootstrap",
                "20",
            ]
        )
        == 0
    )
    printed = capsys.readouterr().out
    assert "panel: simulated panel (a stand-in for the paper's hq.csv) (4 experts" in printed
    assert "Truth (Other Models, 24 images): mean kappa" in printed
    assert f"report: {out / 'report.html'}" in printed
    summary = pd.read_csv(out / "summary.csv").set_index("annotator")
    assert summary.loc["Truth", "mean_rho"] > summary.loc["Random Baseline", "mean_rho"] + 0.2


def test_evaluate_errors_are_one_line(artifacts, tmp_path, capsys):
    bad = pd.read_csv(artifacts / "scores.csv").drop(columns="Awe")
    bad.to_csv(tmp_path / "bad.csv", index=False)
    assert (
        main(
            [
                "evaluate",
                "--scores",
                str(tmp_path / "bad.csv"),
                "--out",
                str(tmp_path),
                "--artifacts-dir",
                str(artifacts),
            ]
        )
        == 1
    )
    err = capsys.readouterr().err
    assert err.startswith("emonet evaluate: error: ") and err.count("\n") == 1
    assert "missing category column(s) ['Awe']" in err
    assert (
        main(
            [
                "evaluate",
                "--scores",
                str(artifacts / "scores.csv"),
                "--out",
                str(tmp_path),
                "--artifacts-dir",
                str(tmp_path / "empty"),
            ]
        )
        == 1
    )
    assert "run notebook 04_hq_panel first" in capsys.readouterr().err


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory, mirror):
    with pytest.MonkeyPatch.context() as env:
        env.setenv("EMONET_DATA_DIR", str(mirror))
        return vlm.build_tiny_vlm(tmp_path_factory.mktemp("tiny") / "model")


def test_annotate_writes_rows_and_resumes(tiny_model, tmp_path, capsys):
    from PIL import Image

    Image.fromarray(np.zeros((40, 40, 3), dtype=np.uint8)).save(tmp_path / "face.png")
    args = [
        "annotate",
        str(tmp_path / "face.png"),
        "--model",
        str(tiny_model),
        "--out",
        str(tmp_path / "out"),
        "--name",
        "Tiny",
        "--readouts",
        "multi-shot",
        "logits",
        "--max-new-tokens",
        "4",
        "--threads",
        "1",
    ]
    assert main(args) == 0
    printed = capsys.readouterr().out
    assert "Tiny MS: 0 of 1 image(s) accepted, 1 failed, 0 unusable; 1 attempt(s)" in printed
    assert "Tiny logits MS: 1 of 1 image(s) accepted" in printed
    rows = pd.read_csv(tmp_path / "out" / "hq.csv")
    assert rows[["image", "annotator", "human"]].values.tolist() == [
        ["face", "Tiny logits MS", False]
    ]
    assert main(args) == 0  # resumed: nothing left to ask
    assert (tmp_path / "out" / "results.jsonl").read_text().count("\n") == 2
    assert main([*args[:-2], "--temperature", "0.5"]) == 1
    assert "holds annotations made with other settings (backend" in capsys.readouterr().err


def test_annotate_errors_are_one_line(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    assert (
        main(["annotate", str(tmp_path / "nothing"), "--model", "x/y", "--out", str(tmp_path)]) == 1
    )
    assert (
        capsys.readouterr().err == f"emonet annotate: error: {tmp_path / 'nothing'}: no such "
        "file or folder\n"
    )
    (tmp_path / "a.png").write_bytes(b"")
    assert (
        main(
            ["annotate", str(tmp_path), "--model", "no-such/model", "--out", str(tmp_path / "out")]
        )
        == 1
    )
    err = capsys.readouterr().err
    assert err.startswith("emonet annotate: error: cannot load 'no-such/model'")
    assert err.count("\n") == 1
