"""The figure style every chapter shares: one colour per emotion family and per annotator group,
family legends and coloured family labels, and a figure that states a message in place of a plot
that cannot be drawn in a build.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import seaborn as sns

from emonet.data import taxonomy

#: One colour per family, used by every figure that colours by family.
FAMILY_COLORS: dict[str, tuple] = dict(zip(taxonomy.FAMILIES, sns.color_palette("tab10", 7)))


def family_legend(ax, loc="lower right", **kw) -> None:
    """Add a legend of the 7 family colours to ``ax``."""
    handles = [plt.Rectangle((0, 0), 1, 1, color=c) for c in FAMILY_COLORS.values()]
    ax.legend(handles, list(FAMILY_COLORS), loc=loc, fontsize=8, frameon=False, **kw)


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
GROUP_COLORS: dict[str, tuple] = dict(zip(
    ("Human Annotators", "Our Models", "Proprietary Models", "VLMs Multi-Shot", "VLMs Zero-Shot",
     "Random Baseline", "Synthetic Models", "Other Models"), sns.color_palette("Set2", 8)))


def group_color(group: str):
    return GROUP_COLORS.get(group, (0.5, 0.5, 0.5))
