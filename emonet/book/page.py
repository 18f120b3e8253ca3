"""What a chapter hands to its page.

A chapter's stage functions take their parameters (a :class:`Params` dataclass filled from the
notebook's parameters cell) and a :class:`Page`, compute, and put on the page what the prose
quotes: sentences and formatted numbers (:meth:`Page.text`), tables (:meth:`Page.table`, also
written as CSV under ``artifacts/<profile>/tables/``) and figures (:meth:`Page.figure`, also
written as PNG under ``figures/``) and Markdown with links (:meth:`Page.markdown`, pasted by
``{glue:md}``). The notebook then makes one call, :meth:`Page.glue`, that glues every text, figure
and Markdown block, and shows tables by name (:meth:`Page.show`). So a notebook holds prose and a few calls, and the logic is tested here.
"""

from __future__ import annotations

import dataclasses
import os

import pandas as pd

from emonet.book.artifacts import Artifacts
from emonet.book.style import fit_text
from emonet.book.tables import readable


class Params:
    """Base of a chapter's parameter dataclass: :meth:`from_namespace` fills it from the names a
    notebook's parameters cell defines (``Params.from_namespace(globals())``)."""

    @classmethod
    def from_namespace(cls, namespace: dict):
        fields = [f.name for f in dataclasses.fields(cls)]
        missing = [f for f in fields if f not in namespace]
        if missing:
            raise NameError(
                f"{cls.__module__}.{cls.__qualname__}: the parameters cell does not "
                f"define {missing}"
            )
        return cls(**{f: namespace[f] for f in fields})


class Page:
    """Texts, tables and figures of one chapter page, written to ``art`` as they are added."""

    def __init__(self, art: Artifacts):
        self.art = art
        self.texts: dict[str, str] = {}
        self.figures: dict[str, object] = {}
        self.tables: dict[str, pd.DataFrame] = {}
        self.markdowns: dict[str, str] = {}

    @classmethod
    def for_profile(cls, profile: str, root: str | os.PathLike | None = None) -> Page:
        return cls(Artifacts.for_profile(profile, root))

    @property
    def root(self):
        """The artifacts folder."""
        return self.art.root

    def text(self, **values: str) -> None:
        """Sentences or formatted numbers the prose quotes as ``{glue:text}`key```."""
        for key, value in values.items():
            if not isinstance(value, str):
                raise TypeError(
                    f"page text {key!r} must be a formatted string, got "
                    f"{type(value).__name__} {value!r}"
                )
            self.texts[key] = value

    def markdown(self, **values: str) -> None:
        """MyST Markdown the prose pastes as a ``{glue:md}`` block with ``:format: myst`` (a table
        whose cells link to sections, say): its roles are resolved, and checked, by the book."""
        for key, value in values.items():
            if not isinstance(value, str):
                raise TypeError(
                    f"page markdown {key!r} must be a string, got {type(value).__name__}"
                )
            self.markdowns[key] = value

    def table(self, frame: pd.DataFrame, name: str, index: bool = False) -> pd.DataFrame:
        """Write ``frame`` as ``tables/<name>.csv``, keep it for :meth:`show`, return it."""
        self.tables[name] = self.art.table(frame, name, index=index)
        return frame

    def view(self, frame: pd.DataFrame, name: str) -> pd.DataFrame:
        """Keep ``frame``, a view of a table written already (a selection, a summary), for
        :meth:`show` under ``name`` without writing it again."""
        self.tables[name] = frame
        return frame

    def figure(self, fig, name: str, key: str | None = None):
        """Make its titles fit (:func:`emonet.book.style.fit_text`; text that still does not fit
        is a :class:`ValueError` naming the figure), write ``fig`` as ``figures/<name>.png`` and
        keep it to glue as ``key`` (default ``fig_<name>``)."""
        problems = fit_text(fig)
        if problems:
            raise ValueError(f"figure {name}: {'; '.join(problems)}")
        self.figures[key or f"fig_{name}"] = self.art.figure(fig, name)
        return fig

    def show(
        self, name: str, decimals: int = 3, headers: dict | None = None, rows: int | None = None
    ):
        """A table of this page by name (its first ``rows`` rows when given), styled for readers
        (:func:`emonet.book.tables.readable`: numbers rounded to ``decimals``, headers in
        words); a table without rows shows as the word "None." rather than a bare header."""
        frame = self.tables[name]
        if frame.empty:
            from IPython.display import Markdown

            return Markdown("*None.*")
        return readable(frame if rows is None else frame.head(rows), decimals, headers)

    def glue(self) -> None:
        """Glue every text, figure and Markdown block of the page (inside a notebook kernel)."""
        from IPython.display import Markdown
        from myst_nb import glue

        for key, value in self.texts.items():
            glue(key, value, display=False)
        for key, fig in self.figures.items():
            glue(key, fig, display=False)
        for key, value in self.markdowns.items():
            glue(key, Markdown(value), display=False)
