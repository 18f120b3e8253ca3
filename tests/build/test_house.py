"""The house rules: what git tracks, thin notebooks, one source for parameters, imports that point
one way, and stage-granular rebuilds."""

import ast
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from emonet.build import import_graph
from emonet.build.notebooks import INJECTED, notebook_defaults, notebooks
from emonet.build.params import load_params
from emonet.data import loaders, registry
from emonet.paths import CONFIG, PARAMS_DIR, PROFILES, PROJECT_ROOT

#: Chapter packages in run order; a stage may import the shared layers and earlier stages only.
STAGES = (
    "taxonomy",
    "generation",
    "binary",
    "hq",
    "model",
    "model_vs_experts",
    "benchmarking",
    "photographs",
    "glance",
)
#: The package's layers from the bottom up: a module imports its own layer and those below it,
#: never one above. The shared layers sit under the stages, the build system and the tools on
#: top of them. ``emonet/__init__`` (a docstring and the version, which every import runs) is
#: the bottom; ``__main__`` the top.
LAYERS = (
    ("__init__",),
    ("paths",),
    ("io",),
    ("data",),
    ("stats",),
    ("book",),
    STAGES,
    ("build",),
    ("rehearsal",),
    ("cli",),
    ("__main__",),
)
SHARED = ("paths", "io", "data", "stats", "book")
#: Suffixes of binaries and archives that never belong in git.
BINARY_SUFFIXES = (
    ".whl",
    ".zip",
    ".tar",
    ".gz",
    ".tgz",
    ".bz2",
    ".xz",
    ".7z",
    ".egg",
    ".pt",
    ".pth",
    ".safetensors",
    ".parquet",
    ".npz",
    ".npy",
    ".pkl",
    ".png",
    ".jpg",
    ".jpeg",
    ".webp",
    ".pdf",
    ".ipynb",
    ".so",
    ".bin",
)


def tracked_files() -> list[str]:
    try:
        out = subprocess.run(
            ["git", "ls-files", "-z"], cwd=PROJECT_ROOT, capture_output=True, check=True
        ).stdout
    except (OSError, subprocess.CalledProcessError):
        pytest.skip("not a git checkout")
    return [f for f in out.decode().split("\0") if f]


def binary_files(root: Path, files: list[str]) -> list[str]:
    """The ``files`` (relative to ``root``) that are binaries or archives: by suffix, or by a NUL
    byte in their first 8 KiB."""
    return [
        f
        for f in files
        if f.lower().endswith(BINARY_SUFFIXES)
        or ((root / f).is_file() and b"\0" in (root / f).read_bytes()[:8192])
    ]


def test_nothing_binary_or_archived_is_tracked():
    assert binary_files(PROJECT_ROOT, tracked_files()) == []


def test_binary_check_would_catch_a_wheel_and_a_binary_without_suffix(tmp_path):
    (tmp_path / "pyflakes-4.1.0-py2.py3-none-any.whl").write_bytes(b"PK")
    (tmp_path / "weights").write_bytes(b"\x00\x01")
    (tmp_path / "notes.md").write_text("text")
    assert binary_files(
        tmp_path, ["pyflakes-4.1.0-py2.py3-none-any.whl", "weights", "notes.md"]
    ) == ["pyflakes-4.1.0-py2.py3-none-any.whl", "weights"]


@pytest.mark.parametrize("nb", notebooks(), ids=lambda nb: nb.stem)
def test_notebook_defaults_are_the_local_profile(nb):
    defaults = notebook_defaults(nb.source)
    assert list(defaults)[: len(INJECTED)] == list(INJECTED), "profile, artifacts_dir come first"
    assert defaults["profile"] == "local" and defaults["artifacts_dir"] is None
    cell = {k: v for k, v in defaults.items() if k not in INJECTED}
    assert cell == load_params("local")[nb.stem]


@pytest.mark.parametrize("nb", notebooks(), ids=lambda nb: nb.stem)
def test_notebook_parameters_are_the_fields_of_its_chapter_params(nb):
    """The parameters cell (after the injected names) lists exactly the fields of the parameters
    dataclass the notebook builds, in order (the dataclass may also take an injected name)."""
    import dataclasses
    import importlib
    import re

    text = nb.source.read_text()
    package = re.search(r"^from emonet\.(\w+) import chapter$", text, re.M)
    built = re.search(r"chapter\.(\w+)\.from_namespace\(globals\(\)\)", text)
    assert package and built, "the notebook builds its parameters with Params.from_namespace"
    cls = getattr(importlib.import_module(f"emonet.{package.group(1)}.chapter"), built.group(1))
    fields = [f.name for f in dataclasses.fields(cls) if f.name not in INJECTED]
    assert list(notebook_defaults(nb.source)) == [*INJECTED, *fields]


#: What carries logic and so belongs in the package, not in a notebook.
LOGIC = (
    ast.FunctionDef,
    ast.AsyncFunctionDef,
    ast.ClassDef,
    ast.Lambda,
    ast.For,
    ast.AsyncFor,
    ast.While,
    ast.If,
    ast.IfExp,
    ast.Try,
    ast.Match,
    ast.ListComp,
    ast.SetComp,
    ast.DictComp,
    ast.GeneratorExp,
)
#: The most code lines (comments and blank lines aside) of a cell other than the parameters cell.
MAX_CELL_LINES = 10


def thin_notebook_problems(text: str) -> list[str]:
    """Where a notebook (jupytext py:percent text) holds logic: a definition, loop, branch or
    comprehension (by line), or a code cell other than the parameters cell longer than
    MAX_CELL_LINES code lines."""
    import jupytext

    code = "\n".join(
        "" if line.lstrip().startswith(("%", "!")) else line for line in text.splitlines()
    )
    problems = [
        f"line {node.lineno}: {type(node).__name__}"
        for node in ast.walk(ast.parse(code))
        if isinstance(node, LOGIC)
    ]
    for cell in jupytext.reads(text, fmt="py:percent").cells:
        lines = [
            line
            for line in cell.source.splitlines()
            if line.strip() and not line.lstrip().startswith("#")
        ]
        if (
            cell.cell_type == "code"
            and "parameters" not in cell.metadata.get("tags", [])
            and len(lines) > MAX_CELL_LINES
        ):
            problems.append(f"a cell of {len(lines)} code lines starting {lines[0]!r}")
    return problems


@pytest.mark.parametrize("nb", notebooks(), ids=lambda nb: nb.stem)
def test_notebooks_are_thin(nb):
    """No definition, loop, branch or comprehension in a notebook, and short cells: the logic
    lives in the chapter's package, where it is tested."""
    assert thin_notebook_problems(nb.source.read_text()) == []


def test_thin_check_would_catch_logic_and_a_long_cell():
    text = (
        "# %%\nfrom emonet.hq import chapter\n\n# %%\ndef f(x):\n    return x\n\n"
        "# %%\nrows = [r for r in range(3)]\n\n# %%\n" + "x = 1\n" * (MAX_CELL_LINES + 1)
    )
    problems = thin_notebook_problems(text)
    assert problems[:2] == ["line 5: FunctionDef", "line 9: ListComp"]
    assert problems[2].startswith(f"a cell of {MAX_CELL_LINES + 1} code lines")


#: A figure directive of a chapter (a markdown cell's ``# `` lines), its name, and a reference by
#: number: {numref}`fig-x` or {numref}`Figure %s <fig-x>`.
FIGURE = re.compile(r"^# ```\{glue:figure\}.*?^# ```$", re.M | re.S)
FIGURE_NAME = re.compile(r"^# :name: (fig-[\w-]+)$", re.M)
NUMREF = re.compile(r"\{numref\}`(?:[^`<]*<)?([^`<>]+?)>?`")


def figure_reference_problems(text: str) -> list[str]:
    """What keeps a chapter's figures from being cited by number: a named figure that no {numref}
    outside its own directive names, a {numref} to no figure of the chapter, a figure that cites
    itself in its caption."""
    named = FIGURE_NAME.findall(text)
    problems = [f"{n} is named twice" for n in sorted({n for n in named if named.count(n) > 1})]
    in_prose = set(NUMREF.findall(FIGURE.sub("", text)))
    problems += [f"{n} is not referenced by number" for n in named if n not in in_prose]
    problems += [
        f"{{numref}} to {r}, no figure here"
        for r in sorted(set(NUMREF.findall(text)))
        if r not in named
    ]
    for block in FIGURE.findall(text):
        problems += [
            f"{n} refers to itself"
            for n in FIGURE_NAME.findall(block)
            if n in NUMREF.findall(block)
        ]
    return problems


@pytest.mark.parametrize("nb", notebooks(), ids=lambda nb: nb.stem)
def test_every_named_figure_is_referenced_by_number(nb):
    """Figures are numbered, and the prose cites each one of its chapter by number."""
    assert not figure_reference_problems(nb.source.read_text())


def test_figure_reference_check_would_catch_a_typo_a_gap_and_a_self_reference():
    def figure(name, caption="A caption."):
        glued = name.replace("-", "_")
        return f"# ```{{glue:figure}} {glued}\n# :name: {name}\n#\n# {caption}\n# ```\n"

    good = (
        "# As {numref}`Figure %s <fig-a>` shows, and {numref}`fig-b`.\n"
        + figure("fig-a")
        + figure("fig-b")
    )
    assert figure_reference_problems(good) == []
    assert figure_reference_problems(good.replace("<fig-a>", "<fig-aa>")) == [
        "fig-a is not referenced by number",
        "{numref} to fig-aa, no figure here",
    ]
    assert figure_reference_problems(good + figure("fig-c", "See {numref}`fig-c`.")) == [
        "fig-c is not referenced by number",
        "fig-c refers to itself",
    ]


def test_figures_are_numbered():
    """Jupyter Book turns Sphinx's numfig on; the book's configuration must not turn it off."""
    sphinx_config = (yaml.safe_load(CONFIG.read_text()).get("sphinx") or {}).get("config") or {}
    assert sphinx_config.get("numfig", True) is True


@pytest.mark.parametrize("profile", [p for p in PROFILES if p != "local"])
def test_every_profile_sets_the_same_parameters(profile):
    local = yaml.safe_load((PARAMS_DIR / "local.yaml").read_text())
    other = yaml.safe_load((PARAMS_DIR / f"{profile}.yaml").read_text())
    assert set(other) == set(local)
    for section, values in local.items():
        assert set(other[section] or {}) == set(values or {}), section


def test_a_parameter_name_has_one_type_across_notebooks():
    """One meaning per name: a parameter used by several notebooks has one kind of value."""
    seen: dict[str, tuple[str, type]] = {}
    for nb in notebooks():
        for name, value in notebook_defaults(nb.source).items():
            kind = type(value) if value is not None else None
            if name in seen and kind is not None and seen[name][1] not in (None, kind):
                pytest.fail(
                    f"{name!r}: {seen[name][1].__name__} in {seen[name][0]}, "
                    f"{kind.__name__} in {nb.stem}"
                )
            if name not in seen or seen[name][1] is None:
                seen[name] = (nb.stem, kind)


def _package_of(name: str) -> str:
    """The layer unit of a module: ``emonet.hq.paper_statistics`` -> ``hq``, ``emonet.io`` -> ``io``,
    ``emonet`` -> ``__init__``."""
    parts = name.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def _rank(unit: str) -> tuple[int, int]:
    """Where a layer unit sits: (layer, position among the stages), bottom first."""
    for level, units in enumerate(LAYERS):
        if unit in units:
            return level, units.index(unit) if units is STAGES else 0
    raise AssertionError(f"emonet.{unit} belongs to no layer of LAYERS: add it")


def layer_problems(root: Path) -> list[str]:
    """Every import of a package module that points up the layers: into a higher layer, or into a
    later stage."""
    problems = []
    for path in sorted((root / "emonet").rglob("*.py")):
        name = ".".join(path.relative_to(root).with_suffix("").parts)
        own = _rank(_package_of(name))
        for target in sorted(import_graph.imported_modules(path.read_text(), root, name)):
            if _rank(_package_of(target)) > own:
                problems.append(f"{name} imports {target}")
    return problems


def test_imports_point_down_the_layers():
    """Shared layers import only the layers below them (``data`` does not import ``book``), a
    chapter imports only shared layers and earlier chapters, and the build system no chapter."""
    assert layer_problems(PROJECT_ROOT) == []


def test_layer_check_would_catch_a_cycle_between_shared_layers(project_copy):
    """The cycle this test exists for: ``data`` importing the page API while ``book`` imports
    ``data``; and a shared layer importing a chapter."""
    with open(project_copy / "emonet/data/registry.py", "a") as fh:
        fh.write("\nfrom emonet.book.artifacts import Artifacts\n")
    with open(project_copy / "emonet/stats/seeds.py", "a") as fh:
        fh.write("\nfrom emonet.hq import paper_statistics\n")
    assert layer_problems(project_copy) == [
        "emonet.data.registry imports emonet.book",
        "emonet.data.registry imports emonet.book.artifacts",
        "emonet.stats.seeds imports emonet.hq",
        "emonet.stats.seeds imports emonet.hq.paper_statistics",
    ]


@pytest.fixture
def project_copy(tmp_path):
    """The package and notebooks copied, for edits that must not touch the checkout."""
    shutil.copytree(
        PROJECT_ROOT / "emonet", tmp_path / "emonet", ignore=shutil.ignore_patterns("__pycache__")
    )
    shutil.copytree(
        PROJECT_ROOT / "notebooks", tmp_path / "notebooks", ignore=shutil.ignore_patterns("*.ipynb")
    )
    return tmp_path


def fingerprints(root: Path) -> dict[str, str]:
    return {
        nb.stem: import_graph.package_fingerprint(
            import_graph.notebook_dependencies(nb.source, root), root
        )
        for nb in notebooks(root / "notebooks")
    }


@pytest.mark.parametrize(
    "module, stale",
    [
        ("emonet/model_vs_experts/figures.py", {"06_model_vs_experts"}),
        ("emonet/photographs/rules.py", {"08_real_photographs", "09_at_a_glance"}),
        ("emonet/taxonomy/vocabulary.py", {"01_taxonomy", "08_real_photographs"}),
        ("emonet/model/training.py", {"05_training"}),
        ("emonet/data/taxonomy.py", {nb.stem for nb in notebooks()}),
    ],
)
def test_an_edit_makes_only_the_dependent_notebooks_stale(project_copy, module, stale):
    before = fingerprints(project_copy)
    with open(project_copy / module, "a") as fh:
        fh.write("\n# an edit\n")
    after = fingerprints(project_copy)
    assert {s for s in before if before[s] != after[s]} == stale


def test_dependencies_follow_imports_inside_functions_and_relative_ones(tmp_path):
    pkg = tmp_path / "emonet"
    (pkg / "a").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "a" / "__init__.py").write_text("")
    (pkg / "a" / "top.py").write_text("def f():\n    from . import leaf\n")
    (pkg / "a" / "leaf.py").write_text("import numpy\n")
    (pkg / "a" / "unused.py").write_text("")
    nb = tmp_path / "01_x.py"
    nb.write_text("from emonet.a import top\n")
    files = {
        p.relative_to(tmp_path).as_posix() for p in import_graph.notebook_dependencies(nb, tmp_path)
    }
    assert files == {
        "emonet/__init__.py",
        "emonet/a/__init__.py",
        "emonet/a/top.py",
        "emonet/a/leaf.py",
    }


DOCS = [
    "README.md",
    "CONTRIBUTING.md",
    "CHANGELOG.md",
    "benchmarks/README.md",
    *sorted(p.relative_to(PROJECT_ROOT).as_posix() for p in (PROJECT_ROOT / "docs").glob("*.md")),
]
#: Paths the docs name that a checkout does not hold until a build or a user makes them.
UPSTREAM_FILES = {*registry.REGISTRY, *loaders.AFFECTNET_PARTS}
#: (and the files a chapter writes, named relative to the artifacts folder, `docs/artifacts.md`).
MADE_LATER = (
    "artifacts/",
    "book/_build",
    "book/.stamps",
    ".venv",
    "../shared",
    "DIR/",
    "~",
    "models/",
    "predictions/",
    "embeddings/",
    "panel/",
    "benchmark/",
    "tables/",
    "figures/",
    "images/",
)


@pytest.mark.parametrize("doc", DOCS)
def test_docs_name_only_files_that_exist(doc):
    """Every repository path a document names in backticks or links to exists."""
    import re

    text = (PROJECT_ROOT / doc).read_text()
    base = (PROJECT_ROOT / doc).parent
    named = re.findall(r"`([\w./-]+\.(?:py|md|yml|yaml|toml|txt|cfg|json|bib))`", text)
    named += re.findall(
        r"`((?:docs|emonet|notebooks|tests|benchmarks|book|requirements)"
        r"/[\w./-]*)`",
        text,
    )
    linked = re.findall(r"\]\(([^)#:]+)\)", text)
    tracked = tracked_files()  # a path may also be named by its tail (``bench_panel.py``)
    missing = []
    for path in named:
        if (
            path.startswith(MADE_LATER)
            or "<" in path
            or "NN_" in path
            or "*" in path
            or path in UPSTREAM_FILES
        ):
            continue
        if not (
            (PROJECT_ROOT / path).exists()
            or (base / path).exists()
            or any(f.endswith("/" + path) for f in tracked)
        ):
            missing.append(path)
    missing += [p for p in linked if not (base / p).exists()]
    assert not missing, f"{doc} names missing files: {missing}"


#: A Sphinx cross-reference in a docstring or comment: ``:func:`name```, ``:class:`~emonet.x.Y```.
ROLE = re.compile(r":(?:func|class|meth|mod|data|attr|exc):`~?([\w.]+)`")
#: Names outside the package a reference may start with (resolved by their own docs).
FOREIGN = (
    "np",
    "numpy",
    "pd",
    "pandas",
    "scipy",
    "torch",
    "plt",
    "matplotlib",
    "datasets",
    "transformers",
    "diffusers",
    "huggingface_hub",
    "sklearn",
    "statsmodels",
    "krippendorff",
    "PIL",
    "ast",
    "json",
    "os",
    "pathlib",
)


def _resolves(target: str, module) -> bool:
    """Whether ``target`` names something: an ``emonet.`` path, a name of ``module``, a method or
    field of one of its classes, or a builtin (``ValueError``)."""
    import builtins
    import importlib

    parts = target.split(".")
    if parts[0] == "emonet":
        for k in range(len(parts), 0, -1):
            try:
                obj, rest = importlib.import_module(".".join(parts[:k])), parts[k:]
                break
            except ImportError:
                continue
    elif hasattr(module, parts[0]) or hasattr(builtins, parts[0]):
        owner = module if hasattr(module, parts[0]) else builtins
        obj, rest = getattr(owner, parts[0]), parts[1:]
    else:  # a method or field of a class of the module, named without its class
        return any(
            isinstance(c, type)
            and (hasattr(c, target) or target in getattr(c, "__dataclass_fields__", {}))
            for c in vars(module).values()
        )
    for name in rest:
        if name in getattr(obj, "__dataclass_fields__", {}):
            return True
        if not hasattr(obj, name):
            return False
        obj = getattr(obj, name)
    return True


def unresolved_references(root: Path) -> list[str]:
    """Every cross-reference in the package's docstrings and comments that names nothing (no
    Sphinx build reads them, so only this test keeps them true)."""
    import importlib

    problems = []
    for path in sorted((root / "emonet").rglob("*.py")):
        if path.name == "__main__.py":
            continue
        name = ".".join(path.relative_to(root).with_suffix("").parts).removesuffix(".__init__")
        module = importlib.import_module(name)
        for target in ROLE.findall(path.read_text().replace("\n", " ")):
            target = target.rstrip(".")
            if target.split(".")[0] not in FOREIGN and not _resolves(target, module):
                problems.append(f"{name}: {target}")
    return problems


def test_docstring_references_name_what_exists():
    assert unresolved_references(PROJECT_ROOT) == []


def test_reference_check_would_catch_a_moved_function():
    from emonet.stats import agreement

    assert _resolves("emonet.stats.agreement.nanmean", agreement)
    assert _resolves("nanmean", agreement) and _resolves("ValueError", agreement)
    assert not _resolves("emonet.evaluation.experts.match_images", agreement)
    assert not _resolves("rowwise_spearman", agreement)


#: The most lines of a module docstring: a few lines and a pointer to ``docs/``, which is the one
#: home of the longer explanations (a long docstring repeats a doc and drifts from it).
MAX_MODULE_DOCSTRING_LINES = 30


def test_module_docstrings_are_short():
    long = {}
    for path in sorted((PROJECT_ROOT / "emonet").rglob("*.py")):
        doc = ast.get_docstring(ast.parse(path.read_text())) or ""
        if len(doc.splitlines()) > MAX_MODULE_DOCSTRING_LINES:
            long[path.relative_to(PROJECT_ROOT).as_posix()] = len(doc.splitlines())
    assert long == {}


#: An import of a test module (``test_*.py``) at the start of a line, in code or in the code of a
#: script a test runs: ``from tests.x.test_y import``, ``from .test_y import``, ``import tests.x.test_y``.
TEST_MODULE_IMPORT = re.compile(
    r"^[ \t]*(?:from[ \t]+[\w.]*\btest_\w+[ \t]+import\b|"
    r"import[ \t]+[\w.]*\btest_\w+)",
    re.M,
)


def imports_of_test_modules(root: Path) -> list[str]:
    """Where a file under ``root/tests`` imports a test module: shared helpers belong in
    ``tests/helpers.py`` (functions, constants) or a ``conftest.py`` (fixtures), so a test module
    can move or split without breaking another."""
    return [
        f"{path.relative_to(root).as_posix()}: {match.group(0).strip()}"
        for path in sorted((root / "tests").rglob("*.py"))
        for match in TEST_MODULE_IMPORT.finditer(path.read_text())
    ]


def test_no_test_module_imports_another():
    assert imports_of_test_modules(PROJECT_ROOT) == []


def test_test_module_import_check_would_catch_one(tmp_path):
    (tmp_path / "tests" / "hq").mkdir(parents=True)
    (tmp_path / "tests" / "hq" / "test_a.py").write_text(
        "import numpy\nfrom tests.stats.test_inference import authors_kappa\n"
    )
    (tmp_path / "tests" / "hq" / "test_b.py").write_text(
        'SCRIPT = """\nimport tests.hq.test_a\n"""\n\ndef f():\n    from .test_a import x\n'
    )
    (tmp_path / "tests" / "test_c.py").write_text(
        "from tests.helpers import GUIDE\nfrom emonet.hq import paper_statistics\n# from the test_a module\n"
    )
    assert imports_of_test_modules(tmp_path) == [
        "tests/hq/test_a.py: from tests.stats.test_inference import",
        "tests/hq/test_b.py: import tests.hq.test_a",
        "tests/hq/test_b.py: from .test_a import",
    ]


@pytest.mark.parametrize(
    "script", sorted((PROJECT_ROOT / "benchmarks").glob("bench_*.py")), ids=lambda p: p.name
)
def test_benchmark_scripts_import(script, monkeypatch):
    """A benchmark imports what the package has (a rename that missed one fails here, not when
    someone next measures); their ``main`` runs only as a script, beside its siblings."""
    import importlib.util

    monkeypatch.syspath_prepend(str(script.parent))
    spec = importlib.util.spec_from_file_location(f"bench_{script.stem}", script)
    spec.loader.exec_module(importlib.util.module_from_spec(spec))
