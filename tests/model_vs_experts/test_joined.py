"""The model on the panel: scores off the scale counted, ids matched by name, demographics in panel
order, inputs checked, and what a build's HQ results rest on."""

import matplotlib
import numpy as np
import pandas as pd
import pytest

from emonet.model.encoder import UNTRAINED_LABEL
from emonet.model_vs_experts import joined, top_k
from tests.helpers import wide

matplotlib.use("Agg")


def test_outside_scale_counts_the_scores_off_0_to_7():
    assert joined.outside_scale(wide(np.array([[-1.0, 8.0, 7.0, 0.0] + [3.0] * 36]))) == 2


def test_match_images_exact_then_by_stem_and_counts():
    mapping, counts = joined.match_images(
        ["a", "hq/00002.png", "zz", "00003.jpg"], ["a", "00002.png", "00003", "00004"]
    )
    assert mapping.to_dict() == {"a": "a", "hq/00002.png": "00002.png", "00003.jpg": "00003"}
    assert counts == {"matched": 3, "unmatched_ids": 1, "panel_without_scores": 1, "by_stem": 2}
    with pytest.raises(ValueError, match="different image sets"):
        joined.match_images(["x", "y"], ["a", "b"])
    with pytest.raises(ValueError, match="duplicate image ids"):
        joined.match_images(["a", "a"], ["a"])


def test_image_demographics_follow_the_panel_order():
    meta = pd.DataFrame(
        {
            "id": ["img01", "img00", "other"],
            "ethnicity_group": ["Black", "White", "White"],
            "age": [30, 40, 50],
            "gender": ["man", "woman", "man"],
            "emotion": ["Fear", "Anger", "Pain"],
        }
    )
    demo, counts = joined.image_demographics(meta, "id", ["img00", "img01", "img02"])
    assert list(demo.index) == ["img00", "img01"] and demo["ethnicity"].tolist() == [
        "White",
        "Black",
    ]
    assert counts["panel_without_scores"] == 1 and counts["unmatched_ids"] == 1
    with pytest.raises(ValueError, match="lack column"):
        joined.image_demographics(meta.drop(columns="age"), "id", ["img00"])


def test_wide_inputs_are_checked():
    good = wide(np.zeros((2, 40)))
    with pytest.raises(ValueError, match=r"missing \['Amusement'\]"):
        joined.outside_scale(good.drop(columns="Amusement"))
    with pytest.raises(ValueError, match="same images"):
        top_k.top_k_overlap(good, good.set_axis(["a", "b"]))
    nan = good.copy()
    nan.iloc[1, 3] = np.nan
    with pytest.raises(ValueError, match=r"non-finite values in 1 image"):
        joined.outside_scale(nan)


def test_stand_ins_name_what_the_hq_results_rest_on():
    assert joined.stand_ins(UNTRAINED_LABEL, "simulated") == [
        "untrained encoder",
        "simulated panel",
    ]
    assert joined.stand_ins("google/siglip2-so400m-patch16-384", "simulated") == ["simulated panel"]
    assert joined.stand_ins("emonet-replica/siglip2@abc", "real") == [
        "encoder emonet-replica/siglip2@abc"
    ]
    assert joined.stand_ins("google/siglip2-so400m-patch16-384@abc", "real") == []
