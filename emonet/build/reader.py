"""How an executed notebook becomes a page for readers.

Applied to every notebook right after it runs (:mod:`emonet.build.pipeline`); the pipeline's
fingerprints include this module, so a change here re-executes the chapters. The notebook's
default-parameters cell and the injected one give way to a collapsed table of the values this
build used; the input of every code cell is removed (its output stays) unless the cell is tagged
:data:`SHOW_INPUT`, for the few calls that are themselves the lesson; and a line after the title
offers the executed notebook and its ``.py`` source for download.
"""

from __future__ import annotations

from pathlib import Path

#: Tag of a code cell whose input the book shows (the call is the lesson); every other code
#: cell's input is removed from the page and only its output stays.
SHOW_INPUT = "show-input"
#: Folder of the book's sources (staging copy) holding each notebook's ``.py`` for download.
SOURCES = "sources"


def prepare(path: Path, stem: str, params: dict) -> None:
    """Make an executed notebook read as a page: the default-parameters cell and the injected
    one are removed and replaced by a collapsed table of the values this build used; every code
    cell's input is removed unless tagged :data:`SHOW_INPUT`; a line after the title offers the
    executed notebook and its ``.py`` source for download."""
    import nbformat

    nb = nbformat.read(path, as_version=4)
    cells = []
    for cell in nb.cells:
        tags = cell.metadata.setdefault("tags", [])
        if "parameters" in tags:
            continue
        if "injected-parameters" in tags:
            cells.append(nbformat.v4.new_markdown_cell(_parameters_table(params)))
            continue
        if cell.cell_type == "code" and SHOW_INPUT not in tags and "remove-input" not in tags:
            tags.append("remove-input")
        cells.append(cell)
    first = next((i for i, c in enumerate(cells) if c.cell_type == "markdown"), 0)
    cells.insert(
        first + 1,
        nbformat.v4.new_markdown_cell(
            f"{{download}}`Executed notebook <{stem}.ipynb>` · "
            f"{{download}}`Source ({stem}.py) <{SOURCES}/{stem}.py>`"
        ),
    )
    nb.cells = cells
    nbformat.write(nb, path)


def _parameters_table(params: dict) -> str:
    """The parameters of a run as a collapsed Markdown table."""
    rows = [f"| `{name}` | `{value!r}` |" for name, value in params.items()]
    return (
        ":::{admonition} Parameters of this build\n:class: dropdown\n\n"
        "| parameter | value |\n|---|---|\n" + "\n".join(rows) + "\n:::"
    )
