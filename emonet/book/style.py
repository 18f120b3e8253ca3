"""The figure style every chapter shares: one colour per emotion family and per annotator group,
family legends and coloured family labels, a figure that states a message in place of a plot
that cannot be drawn in a build, and :func:`fit_text`, which every figure of the book passes
through (:meth:`emonet.book.page.Page.figure`) so that no title is cut off or runs into a label.
"""

from __future__ import annotations

import textwrap
import warnings

import matplotlib.pyplot as plt
import seaborn as sns

from emonet.data import taxonomy

#: One colour per family, used by every figure that colours by family.
FAMILY_COLORS: dict[str, tuple] = dict(zip(taxonomy.FAMILIES, sns.color_palette("tab10", 7)))


def family_legend(ax, **kw) -> None:
    """Add a legend of the 7 family colours to ``ax``, beside it unless ``kw`` (legend keywords)
    places it elsewhere: inside, it would hide some of the 40 categories' marks."""
    handles = [plt.Rectangle((0, 0), 1, 1, color=c) for c in FAMILY_COLORS.values()]
    place = kw if "loc" in kw else {"loc": "upper left", "bbox_to_anchor": (1.01, 1.0), **kw}
    ax.legend(handles, list(FAMILY_COLORS), fontsize=8, frameon=False, **place)


def color_family_labels(ax, axis="y") -> None:
    labels = ax.get_yticklabels() if axis == "y" else ax.get_xticklabels()
    for label in labels:
        name = label.get_text()
        family = taxonomy.FAMILY_OF.get(name, name)
        label.set_color(FAMILY_COLORS.get(family, "black"))


def message_figure(text: str):
    """A small figure that only states ``text`` (a chapter's figure slot when its data are absent
    in this build)."""
    fig, ax = plt.subplots(figsize=(5, 1))  # an axes: IPython renders no PNG of a figure without
    ax.set_axis_off()
    ax.text(0.5, 0.5, text, ha="center", va="center", wrap=True, transform=ax.transAxes)
    return fig


#: One colour per annotator group (the paper's six, then the simulation's and unknown ones).
GROUP_COLORS: dict[str, tuple] = dict(
    zip(
        (
            "Human Annotators",
            "Our Models",
            "Proprietary Models",
            "VLMs Multi-Shot",
            "VLMs Zero-Shot",
            "Random Baseline",
            "Synthetic Models",
            "Other Models",
        ),
        sns.color_palette("Set2", 8),
    )
)


def group_color(group: str):
    return GROUP_COLORS.get(group, (0.5, 0.5, 0.5))


def group_shades(group: str, n: int) -> list:
    """``n`` colours of one annotator group's hue, dark to light, to tell apart the annotators of
    a group in a figure while the group keeps its colour (:func:`group_color`)."""
    import matplotlib.colors as mcolors

    base = mcolors.to_rgb(group_color(group))
    if n <= 1:
        return [base]
    dark = tuple(0.45 * c for c in base)
    light = tuple(c + 0.6 * (1 - c) for c in base)
    return sns.blend_palette([dark, base, light], n)


def _wrap_to(text_artist, width_px: float, renderer) -> None:
    """Wrap a title in place until it is no wider than ``width_px``."""
    text = text_artist.get_text()
    if not text or text_artist.get_window_extent(renderer).width <= width_px:
        return
    words = text.split()
    for lines in range(2, 6):
        per_line = max(10, len(text) // lines + 1)
        wrapped = textwrap.fill(" ".join(words), per_line)
        text_artist.set_text(wrapped)
        if text_artist.get_window_extent(renderer).width <= width_px:
            return


#: How far past a figure's size its text may reach, as a multiple of that size in each dimension:
#: figures are saved to their tight bounding box (:meth:`emonet.book.artifacts.Artifacts.figure`),
#: so text past the edge is kept, but text reaching much further would shrink the figure in the
#: book around mostly empty space.
MAX_REACH = 1.5


def fit_text(fig) -> list[str]:
    """Make a figure's text fit: an axes title wider than its axes and a figure title wider than
    the figure are wrapped onto more lines, a legend drawn over its axes' data (on this build's
    numbers) moves beside the axes, below any legend already there, and the layout is redone
    (``tight_layout`` unless the figure has a layout engine). Returns what still does not fit: an
    axes title overlapping its y-axis label, titles and axis labels reaching past the figure's
    edges further than :data:`MAX_REACH` allows, a legend still over data (an empty list when
    all is well)."""
    renderer = fig.canvas.get_renderer()
    for ax in fig.axes:
        for title in (ax.title, ax._left_title, ax._right_title):
            _wrap_to(title, ax.get_window_extent(renderer).width * 1.05, renderer)
    if fig._suptitle is not None:
        _wrap_to(fig._suptitle, fig.bbox.width * 0.95, renderer)
    _lay_out(fig)
    moved = [(ax, legend) for ax in fig.axes for legend in covering_legends(ax, renderer)]
    for _ in range(2 if moved else 0):  # anchored, laid out, anchored again at the new size
        _move_beside(moved, renderer)
        _lay_out(fig)
    problems = []
    box = fig.bbox
    for label in _labels(fig):
        extent = label.get_window_extent(renderer)
        reach_x = max(extent.x1, box.x1) - min(extent.x0, box.x0)
        reach_y = max(extent.y1, box.y1) - min(extent.y0, box.y0)
        if reach_x > MAX_REACH * box.width or reach_y > MAX_REACH * box.height:
            problems.append(f"{label.get_text()[:40]!r} runs far past the figure's edge")
    for ax in fig.axes:
        ylabel = ax.yaxis.label
        if (
            ax.title.get_text()
            and ylabel.get_text()
            and ax.title.get_window_extent(renderer).overlaps(ylabel.get_window_extent(renderer))
        ):
            problems.append(f"title {ax.title.get_text()[:40]!r} overlaps the y-axis label")
    problems += [
        f"a legend of {_name(ax, i, len(fig.axes))} covers its data"
        for i, ax in enumerate(fig.axes)
        if moved and covering_legends(ax, renderer)
    ]
    return problems


def _move_beside(moved: list, renderer) -> None:
    """Anchor each ``(axes, legend)`` of ``moved`` at its axes' right edge, top-aligned below the
    legends already beside that axes (those not moved, and those moved before it)."""
    from matplotlib.legend import Legend

    moving = {id(legend) for _, legend in moved}
    for ax, legend in moved:
        frame = ax.get_window_extent(renderer)
        beside = [
            c.get_window_extent(renderer).y0
            for c in ax.get_children()
            if isinstance(c, Legend)
            and c is not legend
            and c.get_visible()
            and id(c) not in moving
            and c.get_window_extent(renderer).x0 >= frame.x1 - 1
        ]
        top = min(beside) - 0.02 * frame.height if beside else frame.y1
        legend.set_loc("upper left")
        legend.set_bbox_to_anchor((1.01, (top - frame.y0) / frame.height), transform=ax.transAxes)
        moving.discard(id(legend))


def _name(ax, i: int, n: int) -> str:
    """How a problem names axes ``i`` of ``n``: by its title, else by position."""
    return repr(ax.get_title()[:40]) if ax.get_title() else f"axes {i + 1} of {n}"


#: A data mark counts as covered when the legend hides at least this many pixels of it in each
#: direction; marks covering more than BACKGROUND of the axes (bands, spans) are backgrounds.
COVER_PX, BACKGROUND = 3.0, 0.5


def covering_legends(ax, renderer) -> list:
    """The legends of ``ax`` (its legend and those kept with ``add_artist``) drawn inside the axes
    over its data: bars and other patches, the points of lines (error bars included) and scatter
    markers. Images (heat maps) and backgrounds are not data here."""
    from matplotlib.legend import Legend

    return [
        legend
        for legend in ax.get_children()
        if isinstance(legend, Legend)
        and legend.get_visible()
        and _covers(legend.get_window_extent(renderer), ax, renderer)
    ]


def _covers(box, ax, renderer) -> bool:
    """Whether the window box ``box`` (pixels) lies over data of ``ax``."""
    import numpy as np

    frame = ax.get_window_extent(renderer)
    if not box.overlaps(frame):
        return False
    for patch in ax.patches:
        extent = patch.get_window_extent(renderer)
        if extent.width * extent.height > BACKGROUND * frame.width * frame.height:
            continue
        overlap_x = min(extent.x1, box.x1) - max(extent.x0, box.x0)
        overlap_y = min(extent.y1, box.y1) - max(extent.y0, box.y0)
        if overlap_x >= COVER_PX and overlap_y >= COVER_PX:
            return True
    points = [
        line.get_transform().transform(line.get_xydata())
        for line in ax.lines
        if line.get_visible() and len(line.get_xydata())
    ]
    for collection in ax.collections:
        if not collection.get_visible():
            continue
        offsets = collection.get_offsets()
        if len(offsets) and hasattr(collection, "get_sizes") and len(collection.get_sizes()):
            points.append(collection.get_offset_transform().transform(offsets))
        for segment in getattr(collection, "get_segments", lambda: [])():
            points.append(collection.get_transform().transform(segment))
    x0, y0, x1, y1 = box.x0 + COVER_PX, box.y0 + COVER_PX, box.x1 - COVER_PX, box.y1 - COVER_PX
    for p in points:
        p = np.asarray(p, dtype=float).reshape(-1, 2)  # a NaN error bar's segment comes back flat
        if len(p) > 1:  # the segments between the points too, so a line crossing the legend counts
            t = np.linspace(0, 1, 9)[:, None, None]
            p = (p[:-1] * (1 - t) + p[1:] * t).reshape(-1, 2)
        if np.any((p[:, 0] > x0) & (p[:, 0] < x1) & (p[:, 1] > y0) & (p[:, 1] < y1)):
            return True
    return False


def _lay_out(fig) -> None:
    """Redo the figure's layout (``tight_layout`` unless it has a layout engine) and draw it
    without rendering: every artist is placed and measured as in a real draw (what the checks
    read), but no pixel is painted; the figure is rendered when it is saved."""
    if fig.get_layout_engine() is None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # tight_layout's notes on axes it cannot fit
            fig.tight_layout()
    fig.draw_without_rendering()


def _labels(fig) -> list:
    """The figure's visible titles and axis labels (the text :func:`fit_text` checks)."""
    labels = [fig._suptitle] if fig._suptitle is not None else []
    for ax in fig.axes:
        labels += [ax.title, ax.xaxis.label, ax.yaxis.label]
    return [t for t in labels if t.get_text() and t.get_visible()]
