"""The papermill pipeline on two small fixture notebooks: order, parameters, skipping of
unchanged notebooks, staleness from upstream artifacts, and failure handling (the tests that
execute notebooks are marked integration)."""

import json
import shutil
import textwrap

import nbformat
import pytest

from emonet.build.notebooks import PipelineError
from emonet.build.params import load_params, parse_overrides
from emonet.build.pipeline import Pipeline
from emonet.paths import PROJECT_ROOT

HEADER = textwrap.dedent("""\
    # ---
    # jupyter:
    #   kernelspec:
    #     display_name: Python 3
    #     language: python
    #     name: python3
    # ---
    """)

FIRST = HEADER + textwrap.dedent("""\
    # %% tags=["parameters"]
    artifacts_dir = None
    profile = "local"
    n = 3

    # %%
    import pandas as pd
    from emonet.book.artifacts import Artifacts
    Artifacts(artifacts_dir).table(pd.DataFrame({"x": range(n)}), "first")
    """)

SECOND = HEADER + textwrap.dedent("""\
    # %% tags=["parameters"]
    artifacts_dir = None
    profile = "local"
    fail = False

    # %%
    import pandas as pd
    from emonet.stats import seeds
    total = pd.read_csv(f"{artifacts_dir}/tables/first.csv")["x"].sum()

    # %%
    if fail:
        raise ValueError("boom")
    print(total)
    """)


@pytest.fixture
def project(tmp_path):
    nbs = tmp_path / "notebooks"
    (nbs / "params").mkdir(parents=True)
    (nbs / "01_first.py").write_text(FIRST)
    (nbs / "02_second.py").write_text(SECOND)
    (nbs / "params" / "local.yaml").write_text(
        "common: {}\n01_first:\n  n: 3\n02_second:\n  fail: false\n"
    )
    book = tmp_path / "book"
    book.mkdir()
    (book / "_toc.yml").write_text(
        "format: jb-book\nroot: intro\nchapters:\n  - file: 01_first\n  - file: 02_second\n"
    )
    return tmp_path


def make(project, **overrides):
    return Pipeline(
        "local",
        book_dir=project / "book",
        artifacts_dir=project / "artifacts",
        notebook_dir=project / "notebooks",
        overrides=overrides,
        log=lambda _: None,
    )


def statuses(steps):
    return [s.status for s in steps]


@pytest.mark.integration
def test_runs_in_order_then_skips_unchanged(project):
    steps = make(project).run()
    assert statuses(steps) == ["ran", "ran"]
    assert list(steps[0].outputs) == ["tables/first.csv"]
    executed = nbformat.read(project / "book" / "02_second.ipynb", as_version=4)
    printed = [o.get("text", "") for c in executed.cells for o in c.get("outputs", [])]
    assert "3\n" in printed  # 0 + 1 + 2, read from the upstream artifact
    tags = [c.metadata.get("tags", []) for c in executed.cells]
    assert not [t for t in tags if "parameters" in t or "injected-parameters" in t]
    sources = [c.source for c in executed.cells if c.cell_type == "markdown"]
    assert any("Parameters of this build" in s and "| `fail` | `False` |" in s for s in sources)
    assert any("{download}`Source (02_second.py) <sources/02_second.py>`" in s for s in sources)
    assert all(
        "remove-input" in c.metadata["tags"] for c in executed.cells if c.cell_type == "code"
    )
    stamp = json.loads((project / "book" / ".stamps" / "01_first.json").read_text())
    assert stamp["parameters"]["n"] == 3 and stamp["profile"] == "local"
    assert statuses(make(project).run()) == ["skipped", "skipped"]


@pytest.mark.integration
def test_changed_parameter_reruns_that_notebook_and_later_ones(project):
    make(project).run()
    assert statuses(make(project, fail=False).run()) == ["skipped", "skipped"]
    assert statuses(make(project, n=4).run()) == ["ran", "ran"]
    (project / "notebooks" / "02_second.py").write_text(SECOND + "\nprint('changed')\n")
    assert statuses(make(project, n=4).run()) == ["skipped", "ran"]


@pytest.mark.integration
def test_touched_output_reruns_its_notebook_and_only_changed_content_reaches_downstream(project):
    make(project).run()
    (project / "artifacts" / "tables" / "first.csv").write_text("x\n10\n")
    # 01 reruns and writes the same table again: 02 reads nothing new and stays fresh
    assert statuses(make(project).run()) == ["ran", "skipped"]
    (project / "book" / "02_second.ipynb").unlink()
    assert statuses(make(project).run()) == ["skipped", "ran"]


@pytest.mark.integration
def test_force_only_and_dry_run(project):
    make(project).run()
    assert statuses(make(project).run(only=["02_second"])) == ["skipped", "ran"]
    assert statuses(make(project).run(force=True, dry_run=True)) == ["would run", "would run"]
    # --only X --force reruns X alone; what X changed makes the later notebook stale, not run
    assert statuses(make(project, n=5).run(only=["01_first"], force=True)) == ["ran", "stale"]
    assert statuses(make(project, n=5).run(dry_run=True)) == ["skipped", "would run"]
    # --only names a later notebook: the stale earlier one runs first, then the named one
    assert statuses(make(project, n=6).run(only=["02_second"])) == ["ran", "ran"]
    with pytest.raises(PipelineError, match=r"unknown notebook\(s\) \['03_x'\]"):
        make(project).run(only=["03_x"])


@pytest.mark.integration
def test_failure_names_notebook_and_cell_and_keeps_the_last_good_book(project):
    make(project).run()
    good = (project / "book" / "02_second.ipynb").read_bytes()
    with pytest.raises(PipelineError) as err:
        make(project, fail=True).run()
    message = str(err.value)
    assert "02_second.py failed in cell" in message and "ValueError: boom" in message
    line = SECOND.splitlines().index("if fail:") + 1
    assert f"(line {line} of" in message and "cell starts: if fail:" in message
    assert "nothing was published: the book still shows the last good build" in message
    assert "stale chapters: 02_second" in message
    assert (project / "book" / "02_second.ipynb").read_bytes() == good
    assert (project / "book" / ".stamps" / "02_second.json").exists()
    assert (project / "artifacts" / "failed" / "02_second.ipynb").exists()
    assert statuses(make(project).run()) == ["skipped", "skipped"]  # the good build stands


@pytest.mark.integration
def test_a_failure_publishes_nothing_of_the_run(project):
    make(project).run()
    published = {p.name: p.read_bytes() for p in (project / "book").glob("*.ipynb")}
    (project / "notebooks" / "01_first.py").write_text(FIRST.replace("range(n)", "range(n + 1)"))
    (project / "notebooks" / "02_second.py").write_text(SECOND + "\nundefined_name\n")
    with pytest.raises(PipelineError, match="02_second.py failed .*NameError") as err:
        make(project).run()
    assert "stale chapters: 01_first, 02_second" in str(err.value)
    assert {p.name: p.read_bytes() for p in (project / "book").glob("*.ipynb")} == published


def test_configuration_errors(project):
    with pytest.raises(PipelineError, match="no notebook has a parameter 'size'"):
        make(project, size=3)
    (project / "notebooks" / "params" / "local.yaml").write_text("03_gone: {}\n")
    with pytest.raises(PipelineError, match=r"sections \['03_gone'\] name no notebook"):
        make(project)
    with pytest.raises(PipelineError, match="unknown profile 'big'"):
        load_params("big")
    with pytest.raises(PipelineError, match="expected KEY=VALUE"):
        parse_overrides(["seed"])
    assert parse_overrides(["seed=1", "name=a b", "on=true"]) == {
        "seed": 1,
        "name": "a b",
        "on": True,
    }


def test_notebook_missing_from_toc(project):
    (project / "book" / "_toc.yml").write_text(
        "format: jb-book\nroot: intro\nchapters:\n  - file: 01_first\n"
    )
    with pytest.raises(PipelineError, match=r"\['02_second'\] are not in the table of contents"):
        make(project).run()


@pytest.mark.integration
def test_an_edited_module_reruns_only_the_notebooks_that_import_it(project, tmp_path):
    """02_second imports emonet.stats.seeds, 01_first does not: an edit there reruns 02 only."""
    copy = tmp_path / "package"
    shutil.copytree(
        PROJECT_ROOT / "emonet", copy / "emonet", ignore=shutil.ignore_patterns("__pycache__")
    )

    def pipeline():
        p = make(project)
        p.package_root = copy
        return p

    pipeline().run()
    with open(copy / "emonet" / "stats" / "seeds.py", "a") as fh:
        fh.write("\n# an edit\n")
    assert statuses(pipeline().run(dry_run=True)) == ["skipped", "would run"]
    with open(copy / "emonet" / "book" / "artifacts.py", "a") as fh:
        fh.write("\n# an edit\n")
    assert statuses(pipeline().run(dry_run=True)) == ["would run", "would run"]


@pytest.mark.integration
def test_a_moved_project_stays_fresh(tmp_path, monkeypatch):
    """Stamps record paths relative to the project: moving the folder reruns nothing."""
    from emonet.build import pipeline as pipeline_module
    from emonet.build import stamps

    root = tmp_path / "clone"
    nbs = root / "notebooks"
    (nbs / "params").mkdir(parents=True)
    (nbs / "01_first.py").write_text(FIRST)
    (nbs / "params" / "local.yaml").write_text("common: {}\n01_first:\n  n: 3\n")
    (root / "book").mkdir()
    (root / "book" / "_toc.yml").write_text(
        "format: jb-book\nroot: intro\nchapters:\n  - file: 01_first\n"
    )

    def at(where):  # the project's root, as emonet.paths would find it there
        monkeypatch.setattr(pipeline_module, "PROJECT_ROOT", where)
        monkeypatch.setattr(stamps, "PROJECT_ROOT", where)
        return Pipeline(
            "local",
            book_dir=where / "book",
            artifacts_dir=where / "artifacts",
            notebook_dir=where / "notebooks",
            log=lambda _: None,
        )

    assert statuses(at(root).run()) == ["ran"]
    stamp = json.loads((root / "book" / ".stamps" / "01_first.json").read_text())
    assert stamp["parameters"]["artifacts_dir"] == "artifacts"
    moved = tmp_path / "moved"
    root.rename(moved)
    assert statuses(at(moved).run(dry_run=True)) == ["skipped"]


@pytest.mark.integration
def test_a_profile_book_of_its_own_and_further_inputs(project):
    """``sources``: the book's sources are copied into another book folder (the rehearsal's),
    which then holds that run's notebooks and stamps; ``inputs`` (the replicas' digest) are part
    of every fingerprint."""

    def other(**inputs):
        return Pipeline(
            "local",
            book_dir=project / "other-book",
            sources=project / "book",
            artifacts_dir=project / "other-artifacts",
            notebook_dir=project / "notebooks",
            inputs=inputs,
            log=lambda _: None,
        )

    assert statuses(other(replicas="a").run()) == ["ran", "ran"]
    assert (project / "other-book" / "_toc.yml").is_file()
    assert (project / "other-book" / "02_second.ipynb").is_file()
    assert not (project / "book" / "02_second.ipynb").exists()
    assert statuses(other(replicas="a").run(dry_run=True)) == ["skipped", "skipped"]
    assert statuses(other(replicas="b").run(dry_run=True)) == ["would run", "would run"]
