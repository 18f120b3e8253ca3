"""Figures every chapter shares: titles that fit, text that stays inside the figure."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
from PIL import Image  # noqa: E402

from emonet.book.page import Page  # noqa: E402
from emonet.book.style import fit_text  # noqa: E402

LONG = ("Mean Spearman rho against the human median over the 40 emotions (untrained encoder, "
        "simulated panel)")


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
