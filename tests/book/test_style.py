"""Figures every chapter shares: titles that fit, text that stays inside the figure, legends off
the data."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest
from PIL import Image

from emonet.book.page import Page
from emonet.book.style import covering_legends, fit_text

LONG = (
    "Mean Spearman rho against the human median over the 40 emotions (untrained encoder, "
    "simulated panel)"
)


def bars(title: str, ylabel: str = "mean Spearman rho vs the human median"):
    fig, ax = plt.subplots(figsize=(5, 4))
    ax.bar(range(4), [0.3, 0.2, 0.1, 0.0])
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    return fig


def test_a_title_wider_than_its_axes_is_wrapped_and_clears_the_label():
    fig = bars(LONG)
    renderer = fig.canvas.get_renderer()
    ax = fig.axes[0]
    assert ax.title.get_window_extent(renderer).x0 < fig.bbox.x0  # cut at the left edge
    assert fit_text(fig) == []
    assert "\n" in ax.title.get_text()
    title = ax.title.get_window_extent(renderer)
    assert fig.bbox.x0 <= title.x0 and title.x1 <= fig.bbox.x1
    assert not title.overlaps(ax.yaxis.label.get_window_extent(renderer))
    plt.close(fig)


def test_text_a_little_past_the_edge_is_kept_in_the_saved_image(tmp_path):
    fig = bars("short", ylabel="a label longer than the figure is tall")
    fig.set_size_inches(3, 2)
    assert fit_text(fig) == []  # it reaches past the edge, but not far
    path = Page.for_profile("local", tmp_path).art.path("figures", "a.png")
    Page.for_profile("local", tmp_path).figure(fig, "a")
    assert Image.open(path).size[1] > 2 * 150  # saved to its tight box: taller than 2 in


def test_text_that_cannot_fit_stops_the_figure(tmp_path):
    fig = bars("short", ylabel="a label far too long to fit beside any axes " * 8)
    assert any("runs far past the figure's edge" in p for p in fit_text(fig))
    with pytest.raises(ValueError, match="figure too_long: .*runs far past the figure's edge"):
        Page.for_profile("local", tmp_path).figure(fig, "too_long")
    plt.close(fig)


def _covered(draw, **legend) -> bool:
    fig, ax = plt.subplots(figsize=(4, 3))
    draw(ax)
    ax.legend(**legend)
    fig.canvas.draw()
    covered = bool(covering_legends(ax, fig.canvas.get_renderer()))
    plt.close(fig)
    return covered


@pytest.mark.parametrize(
    "draw, loc, covered",
    [
        (lambda ax: ax.barh(range(10), [1.0] * 10, label="bars"), "lower right", True),
        (
            lambda ax: ax.barh(range(10), [0.1 * i for i in range(1, 11)], label="bars"),
            "lower right",
            False,
        ),
        (lambda ax: ax.plot([0, 9], [5, 5], label="a line through the middle"), "center", True),
        (lambda ax: ax.plot(range(10), range(10), label="a rising line"), "upper left", False),
        (lambda ax: ax.scatter(range(10), [5] * 10, label="points"), "center", True),
        (
            lambda ax: ax.errorbar(range(10), [5] * 10, yerr=1, fmt="none", label="bars"),
            "center",
            True,
        ),
        (
            lambda ax: (
                ax.errorbar([1], [np.nan], yerr=[np.nan], fmt="none"),
                ax.scatter(range(10), [5] * 10, label="points beside a missing error bar"),
            ),
            "center",
            True,
        ),
    ],
    ids=["bars", "short-bars", "line", "line-clear", "scatter", "errorbars", "nan-errorbar"],
)
def test_a_legend_over_the_data_is_found(draw, loc, covered):
    assert _covered(draw, loc=loc) is covered


def test_a_legend_beside_the_axes_covers_nothing():
    assert not _covered(
        lambda ax: ax.scatter(range(10), [5] * 10, label="points"),
        loc="upper left",
        bbox_to_anchor=(1.01, 1.0),
    )


def test_fit_text_moves_covering_legends_beside_the_axes_one_below_the_other():
    """On other data a legend placed inside may land on the marks: fit_text moves it beside the
    axes, below a legend already there, instead of stopping a long run over a legend."""
    fig, ax = plt.subplots(figsize=(4, 3))
    ax.barh(range(10), [1.0] * 10, label="bars")
    ax.axvline(0.5, label="a line")
    inside = ax.legend(loc="lower right")
    ax.add_artist(inside)
    outside = ax.legend(
        [plt.Rectangle((0, 0), 1, 1)],
        ["beside already"],
        loc="upper left",
        bbox_to_anchor=(1.01, 1.0),
    )
    assert fit_text(fig) == []
    renderer = fig.canvas.get_renderer()
    frame, moved, first = (a.get_window_extent(renderer) for a in (ax, inside, outside))
    assert moved.x0 >= frame.x1 and moved.y1 <= first.y0 + 1  # beside, below the other
    assert covering_legends(ax, renderer) == []
    plt.close(fig)


def test_a_legend_kept_with_add_artist_is_checked_too():
    def two_legends(ax):
        ax.barh(range(10), [1.0] * 10, label="bars")
        ax.add_artist(ax.legend(loc="lower right"))  # over the bars, then replaced as ax's legend

    assert _covered(two_legends, loc="upper left", bbox_to_anchor=(1.01, 1.0))


def _moved_legends_and_long_titles():
    fig, axes = plt.subplots(1, 2, figsize=(6, 3))
    for ax in axes:
        ax.barh(range(10), np.linspace(0.2, 1.0, 10), label="bars")
        ax.axvline(0.5, label="a line")
        ax.legend(loc="lower right")
        ax.set_title(LONG)
    fig.suptitle(LONG * 2)
    return fig


@pytest.mark.parametrize("make", [lambda: bars(LONG), _moved_legends_and_long_titles])
def test_laying_out_without_rendering_saves_the_same_image(make, tmp_path, monkeypatch):
    """fit_text places and measures the figure without painting it: the saved PNG is byte for
    byte the one after a full draw (the straightforward layout pass)."""
    from emonet.book import style

    def drawn(fig):
        if fig.get_layout_engine() is None:
            fig.tight_layout()
        fig.canvas.draw()

    pngs = []
    for lay_out in (style._lay_out, drawn):
        monkeypatch.setattr(style, "_lay_out", lay_out)
        fig = make()
        assert fit_text(fig) == []
        fig.savefig(tmp_path / "a.png", dpi=150, bbox_inches="tight")
        pngs.append((tmp_path / "a.png").read_bytes())
        plt.close(fig)
    assert pngs[0] == pngs[1]
