"""Helpers shared by several test modules (fixtures live in ``conftest.py``)."""

from __future__ import annotations

from pathlib import Path

from emonet.book.page import Page
from emonet.build.notebooks import page_keys


def missing_from_page(page: Page, notebook: Path) -> dict[str, set[str]]:
    """What the notebook at ``notebook`` pastes or shows that ``page`` does not have, by kind
    (:func:`emonet.build.notebooks.page_keys`); an empty dict when the page has it all."""
    have = {"text": page.texts, "figure": page.figures, "md": page.markdowns,
            "table": page.tables}
    missing = {kind: keys - set(have[kind]) for kind, keys in page_keys(notebook).items()}
    return {kind: keys for kind, keys in missing.items() if keys}
