"""The simulated expert panel (:mod:`emonet.hq.simulation`): the balanced design, synthetic
model annotators, the rater model's checks, and the HQ role's ground truth from chapter 02."""

import numpy as np
import pandas as pd
import pytest

from emonet.generation import images as generation_images
from emonet.hq import panel, readouts, simulation


def test_expected_shared_images_match_the_balanced_assignment():
    rng = np.random.default_rng(0)
    rated = simulation.balanced_assignment(2800, 8, 4, rng).astype(int)
    shared = rated @ rated.T
    # each of the 70 four-rater subsets rates 40 images; each pair is in 15 of them
    assert (shared[~np.eye(8, dtype=bool)] == 600).all()
    assert simulation.expected_shared_images(2800, 8, 4) == 600.0
    assert simulation.expected_shared_images(500, 8, 2) == pytest.approx(500 / 28)


def test_simulated_panel_follows_the_design():
    truth = simulation.synthetic_truth(140, seed=3)
    ids = [f"i{k}" for k in range(140)]
    p = simulation.simulate_panel(truth, ids, simulation.RaterModel(), seed=3)
    experts = p.ratings[p.human]
    assert p.annotators[-1] == panel.RANDOM_BASELINE and p.human.sum() == 8
    assert (p.rated[p.human].sum(axis=0) == 4).all()  # 4 experts per image
    assert set(p.rated[p.human].sum(axis=1)) == {70}  # balanced loads
    values = experts[~np.isnan(experts)]
    assert np.array_equal(values, np.round(values)) and values.min() >= 0 and values.max() <= 7
    marked = (np.nan_to_num(experts) > 0).sum(-1)[p.rated[p.human]].mean()
    assert marked == pytest.approx(8.0, abs=0.05)
    assert (p.ratings[-1] > 0).sum(-1).mean() == pytest.approx(8.0, abs=1.0)
    again = simulation.simulate_panel(truth, ids, simulation.RaterModel(), 3)
    np.testing.assert_array_equal(
        np.nan_to_num(p.ratings, nan=-1), np.nan_to_num(again.ratings, nan=-1)
    )


def test_adding_a_synthetic_model_changes_no_other_annotator(mirror):
    truth = simulation.synthetic_truth(40, seed=0)
    base = simulation.simulate_panel(truth, range(40), seed=5)
    more = simulation.simulate_panel(
        truth,
        range(40),
        seed=5,
        models=(
            simulation.SyntheticModel("m", 1.0),
            simulation.SyntheticModel("vlm ZS", 1.0, readout="zero-shot"),
            simulation.SyntheticModel("vlm MS", 1.0, readout="multi-shot"),
        ),
    )
    np.testing.assert_array_equal(
        np.nan_to_num(more.ratings[:9], nan=-1), np.nan_to_num(base.ratings, nan=-1)
    )
    named = more.ratings[-2] > 0  # the zero-shot answer names its 25 fixed categories
    assert (named == np.isin(np.arange(40), readouts.zero_shot_indices())).all()
    assert ((more.ratings[-1] > 0).sum(-1) <= 5).all()
    assert more.groups[-3:] == ("Synthetic Models",) * 3
    with pytest.raises(ValueError, match="unknown readout 'top 25'"):
        simulation.SyntheticModel("vlm", 1.0, readout="top 25")


def test_rater_model_validates():
    with pytest.raises(ValueError, match="per_image"):
        simulation.RaterModel(per_image=9)
    with pytest.raises(ValueError, match="marked"):
        simulation.RaterModel(marked=40)
    truth = simulation.synthetic_truth(20, seed=0)
    dense = simulation.simulate_panel(truth, range(20), simulation.RaterModel(marked=None), seed=0)
    marked = (np.nan_to_num(dense.ratings[dense.human]) > 0).sum(-1)[dense.rated[dense.human]]
    assert marked.mean() > 10  # without a threshold, noise marks far more than 8 of 40


def test_hq_role_truth_needs_the_offline_faces():

    with pytest.raises(ValueError, match="02_generation"):
        simulation.hq_role_truth(pd.DataFrame(columns=list(generation_images.MANIFEST_COLUMNS)))
    rows = pd.DataFrame(
        {
            "id": [f"img{i}" for i in range(8)],
            "emotion": ["Anger"] * 8,
            **dict.fromkeys(generation_images.TRUTH_COLUMNS, 1.0),
        }
    )
    truth, ids = simulation.hq_role_truth(rows, seed=42)
    assert truth.shape == (2, 40) and len(ids) == 2  # a quarter of each emotion's images
    rows[generation_images.TRUTH_COLUMNS[0]] = np.nan
    with pytest.raises(ValueError, match="no ground truth"):
        simulation.hq_role_truth(rows, seed=42)
