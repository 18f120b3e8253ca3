"""The chapter notebooks: their order, their table of contents, the defaults of their parameters
cell and what their prose pastes from the page.

Notebooks are ``notebooks/NN_name.py`` (jupytext py:percent) with unique numbers ``NN`` that give
the run order; each is a chapter of ``book/_toc.yml``. The cell tagged ``parameters`` holds the
notebook's defaults, which equal the ``local`` profile (a test compares them), so a notebook run
as-is in Jupyter reproduces the local build.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path

import yaml

from emonet.paths import NOTEBOOK_DIR

#: Parameters every run injects (not part of a profile's parameter file).
INJECTED = ("profile", "artifacts_dir")
_STEM = re.compile(r"^(\d\d)_[a-z0-9_]+$")


class PipelineError(RuntimeError):
    """A notebook failed, or the pipeline's inputs are inconsistent."""


@dataclass(frozen=True)
class Notebook:
    source: Path

    @property
    def stem(self) -> str:
        return self.source.stem


def notebooks(folder: Path = NOTEBOOK_DIR) -> list[Notebook]:
    """The chapter notebooks ``NN_*.py`` in run order; two notebooks may not share a number."""
    found = sorted(p for p in Path(folder).glob("[0-9][0-9]_*.py"))
    if not found:
        raise PipelineError(f"no notebooks NN_*.py in {folder}")
    numbers: dict[str, str] = {}
    for path in found:
        match = _STEM.match(path.stem)
        if match is None:
            raise PipelineError(f"{path}: a notebook's name must be NN_lower_case_words.py")
        if match.group(1) in numbers:
            raise PipelineError(
                f"{path.name} and {numbers[match.group(1)]} share the number "
                f"{match.group(1)}: each chapter needs its own"
            )
        numbers[match.group(1)] = path.name
    return [Notebook(p) for p in found]


#: What a notebook's prose pastes and shows, by kind: ``{glue:text}`key```, ``{glue:figure} key``,
#: ``{glue:md} key`` and ``page.show("name")``.
_PAGE_KEYS = {
    "text": re.compile(r"\{glue:text\}`(\w+)`"),
    "figure": re.compile(r"\{glue:figure\} (\w+)"),
    "md": re.compile(r"\{glue:md\} (\w+)"),
    "table": re.compile(r"page\.show\(\"(\w+)\""),
}


def page_keys(path: Path) -> dict[str, set[str]]:
    """The glue keys and table names the notebook at ``path`` uses, by kind (``text``,
    ``figure``, ``md``, ``table``)."""
    source = Path(path).read_text()
    return {kind: set(pattern.findall(source)) for kind, pattern in _PAGE_KEYS.items()}


def parameters_cell(path: Path) -> str:
    """Source of the cell tagged ``parameters`` of a py:percent notebook."""
    import jupytext

    cells = [c for c in jupytext.read(path).cells if "parameters" in c.metadata.get("tags", [])]
    if len(cells) != 1:
        raise PipelineError(f"{path}: expected one cell tagged 'parameters', found {len(cells)}")
    return cells[0].source


def notebook_defaults(path: Path) -> dict:
    """The parameters cell's assignments ``name = literal`` as a dict (in cell order)."""
    source = parameters_cell(path)
    out = {}
    for node in ast.parse(source).body:
        if not (
            isinstance(node, ast.Assign)
            and len(node.targets) == 1
            and isinstance(node.targets[0], ast.Name)
        ):
            raise PipelineError(
                f"{path}: the parameters cell may only hold 'name = value' lines, "
                f"found {ast.get_source_segment(source, node)!r}"
            )
        try:
            out[node.targets[0].id] = ast.literal_eval(node.value)
        except ValueError:
            raise PipelineError(
                f"{path}: parameter {node.targets[0].id} is not a literal"
            ) from None
    return out


def source_line(source: Path, cell_source: str | None) -> int | None:
    """1-based line of ``cell_source``'s first line in the ``.py`` notebook, if found."""
    if not cell_source or not cell_source.strip():
        return None
    first = cell_source.strip().splitlines()[0]
    for lineno, line in enumerate(Path(source).read_text().splitlines(), start=1):
        if line.strip() == first.strip():
            return lineno
    return None


def check_toc(book_dir: Path, nbs: list[Notebook]) -> None:
    """Every notebook must be a chapter of ``<book_dir>/_toc.yml``."""
    toc = Path(book_dir) / "_toc.yml"
    try:
        text = toc.read_text()
    except FileNotFoundError:
        raise PipelineError(f"{toc} is missing") from None
    files = set(_toc_files(yaml.safe_load(text)))
    missing = [nb.stem for nb in nbs if nb.stem not in files]
    if missing:
        raise PipelineError(f"{toc}: notebook(s) {missing} are not in the table of contents")


def _toc_files(node) -> list[str]:
    if isinstance(node, dict):
        found = [node["file"]] if "file" in node else []
        if "root" in node:
            found.append(node["root"])
        return found + [f for v in node.values() for f in _toc_files(v)]
    if isinstance(node, list):
        return [f for v in node for f in _toc_files(v)]
    return []
