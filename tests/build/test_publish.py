"""The publishing workflow and the book's buttons, checked offline."""

import shutil
import subprocess
import sys
from pathlib import Path

import yaml

from emonet.build.pipeline import BINDER_URL, book_config
from emonet.paths import CONFIG, PROJECT_ROOT

WORKFLOW = PROJECT_ROOT / ".github" / "workflows" / "book.yml"


def test_the_workflow_is_a_valid_github_workflow():
    exe = (
        shutil.which("check-jsonschema", path=str(Path(sys.executable).parent))
        or "check-jsonschema"
    )
    proc = subprocess.run(
        [exe, "--builtin-schema", "vendor.github-workflows", str(WORKFLOW)],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_the_workflow_runs_the_readme_commands_and_deploys_the_book():
    workflow = yaml.safe_load(WORKFLOW.read_text())
    steps = workflow["jobs"]["build"]["steps"]
    runs = [s.get("run", "") for s in steps]
    assert "make book" in runs and "make test" in runs
    readme = (PROJECT_ROOT / "README.md").read_text()
    assert "make book" in readme and "make test" in readme
    pages = [s for s in steps if s.get("uses", "").startswith("actions/upload-pages-artifact")]
    assert pages and pages[0]["with"]["path"] == "book/_build/html"
    assert "default_branch" in pages[0]["if"]
    uploads = [s for s in steps if s.get("uses", "").startswith("actions/upload-artifact")]
    assert "book/*.ipynb" in uploads[0]["with"]["path"]
    deploy = workflow["jobs"]["deploy"]
    assert deploy["needs"] == "build" and deploy["permissions"]["pages"] == "write"


def test_a_repository_url_turns_the_buttons_on(tmp_path):
    settings = yaml.safe_load(CONFIG.read_text())
    assert settings["repository"]["url"] == ""  # unset: no buttons
    off = yaml.safe_load(book_config(CONFIG, tmp_path / "off.yml").read_text())
    assert not off["html"]["use_repository_button"] and not off["launch_buttons"]["binderhub_url"]
    settings["repository"]["url"] = "https://github.com/someone/emonet"
    (tmp_path / "_config.yml").write_text(yaml.safe_dump(settings))
    on = yaml.safe_load(book_config(tmp_path / "_config.yml", tmp_path / "on.yml").read_text())
    assert on["html"]["use_repository_button"] and on["html"]["use_issues_button"]
    assert on["launch_buttons"]["binderhub_url"] == BINDER_URL
    assert on["repository"]["url"] == "https://github.com/someone/emonet"
