"""The chapter's figures draw their inputs."""

import matplotlib
import pytest

from emonet.data import loaders
from emonet.photographs import figures, rules

matplotlib.use("Agg")


def test_figures_draw_the_inputs(mirror):
    outputs = loaders.load_model_outputs(mirror / "ferd.jsonl")
    mappings = loaders.load_basic_mappings(mirror / "basic_emotion_mappings.json")
    scores, gold = rules.photo_scores(outputs)
    table = rules.evaluate_photos(scores, gold, mappings["ferd"])
    acc = rules.accuracy_table(table, n_perm=99)
    fig = figures.photo_accuracy_bars(acc, "t")
    heights = [p.get_height() for p in fig.axes[0].patches]
    assert heights[:9] == pytest.approx(acc["authors_accuracy"].iloc[:9].tolist())
    assert (
        len(
            figures.photo_confusion(
                rules.confusion(table), rules.acceptance_matrix(table), "t"
            ).axes
        )
        == 2
    )
    sens = rules.mapping_sensitivity(
        scores, gold, {"ferd": mappings["ferd"], "affectnet": mappings["affectnet"]}
    )
    assert len(figures.mapping_sensitivity_bars(sens, ("ferd", "affectnet"), "t").axes) == 2
