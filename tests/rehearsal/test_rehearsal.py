"""The dress rehearsal as CI runs it: one command (``emonet book --profile rehearsal``) builds the
replicas, runs every notebook's full-profile branch on them through papermill and builds the book
with -W; then what the run wrote is checked: the joins' coverage, the pins, the planted
irregularities of hq.csv, and that every replica-based result says so."""

import json
import os
import subprocess
import sys

import nbformat
import pandas as pd
import pytest

from emonet.build.notebooks import notebooks
from emonet.paths import PROJECT_ROOT
from emonet.rehearsal import build as rehearsal

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def rehearsed(tmp_path_factory, mirror):
    """The rehearsal run in a fresh artifacts folder: ``(artifacts base, command output)``."""
    base = tmp_path_factory.mktemp("rehearsal")
    env = {
        **os.environ,
        "EMONET_ARTIFACTS": str(base),
        "EMONET_DATA_DIR": str(mirror),
        "PYTHONPATH": str(PROJECT_ROOT),
        "EMONET_CACHE_DIR": str(base / "cache"),
    }
    for name in ("HF_HUB_CACHE", "HF_DATASETS_CACHE", "HF_HUB_OFFLINE"):
        env.pop(name, None)
    proc = subprocess.run(
        [sys.executable, "-m", "emonet", "book", "--profile", "rehearsal"],
        env=env,
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-4000:]
    return base, proc.stdout


def table(base, name) -> pd.DataFrame:
    return pd.read_csv(base / "rehearsal" / "tables" / f"{name}.csv")


def test_one_command_builds_the_replicas_runs_every_notebook_and_the_book(rehearsed):
    base, out = rehearsed
    assert "building the replicas" in out and "The book is at" in out
    assert (base / "rehearsal-book" / "_build" / "html" / "index.html").is_file()
    assert not (PROJECT_ROOT / "book" / ".staging" / "rehearsal").exists()
    for nb in notebooks():
        executed = nbformat.read(base / "rehearsal-book" / f"{nb.stem}.ipynb", as_version=4)
        for cell in executed.cells:
            for output in cell.get("outputs", []):
                assert output.get("output_type") != "error", nb.stem
                assert output.get("name") != "stderr", (nb.stem, output.get("text", "")[:300])


def test_the_hq_dataset_joins_hq_csv_by_content(rehearsed):
    base, _ = rehearsed
    coverage = table(base, "expert_model_coverage").set_index("what")["count"]
    n = rehearsal.datasets.SIZES["hq"]
    assert coverage["dataset rows"] == coverage["matched to one hq.csv image"] == n
    assert coverage["scored by this build's model (chapter 05)"] == n
    assert (
        coverage[
            [
                "ambiguous: the same expert ratings as several hq.csv images",
                "unmatched: no hq.csv image with these expert ratings",
            ]
        ].sum()
        == 0
    )


def test_hq_csv_irregularities_are_averaged_counted_and_shown(rehearsed):
    base, _ = rehearsed
    checks = table(base, "hq_file_checks").set_index("check")
    assert checks["count"].iloc[0] == 3  # an expert's and two models' rows given twice
    planted = json.loads((base / "replicas" / rehearsal.MANIFEST).read_text())["planted"]
    assert planted["unknown_key"] in checks["detail"].iloc[2]
    annotators = table(base, "hq_annotators")
    assert len(annotators) == 8 + 14 and annotators["human"].sum() == 8


def test_every_hub_artefact_is_read_at_its_pinned_commit_and_checked(rehearsed):
    base, _ = rehearsed
    sources = pd.concat(
        [table(base, f"{name}_hub_sources") for name in ("generation", "training", "expert")]
    )
    assert set(sources["source"]) == {replica for replica, _ in rehearsal.REPLICAS.values()}
    assert (sources["commit"] == rehearsal.REVISION).all()
    assert (sources["pinned"] == "yes (commit hash)").all()
    assert set(sources["checked against"]) == {"hub tree listing"}
    assert not list((base / "replicas" / "hub").glob("*/refs"))  # no branch to fall back to


def test_results_on_replicas_say_so(rehearsed):
    base, _ = rehearsed
    why = table(base, "evaluation_claims").set_index("claim")["why"]
    assert (
        "stand-ins (encoder emonet-replica/siglip2-so400m-patch16-384@"
        in why["Human-expert level on HQ"]
    )
    assert "panel file hq-replica.csv" in why["Human-expert level on HQ"]
    text = (base / "rehearsal-book" / "06_model_vs_experts.ipynb").read_text()
    assert "emonet-replica/siglip2-so400m-patch16-384" in text and "hq-replica.csv" in text
    files = table(base, "photos_affectnet_files")
    assert files["folder"].str.endswith("replicas/supplied").all() and len(files) == 4


def test_evaluate_reads_the_rehearsal_profiles_panel(rehearsed, tmp_path):
    """``emonet evaluate --profile rehearsal`` finds the replica panel as the run did (the
    profile's set-up is shared by every command that takes a profile)."""
    base, _ = rehearsed
    scores = base / "rehearsal" / "benchmark" / "evaluate" / "scores.csv"
    env = {
        **os.environ,
        "EMONET_ARTIFACTS": str(base),
        "PYTHONPATH": str(PROJECT_ROOT),
        "EMONET_CACHE_DIR": str(base / "cache"),
    }
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "emonet",
            "evaluate",
            "--profile",
            "rehearsal",
            "--scores",
            str(scores),
            "--out",
            str(tmp_path / "eval"),
            "--n-bootstrap",
            "20",
            "--keep-outside-scale",
        ],
        env=env,
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-3000:]
    assert "hq-replica.csv" in proc.stdout
    assert (tmp_path / "eval" / "summary.csv").is_file()
