"""The stand-ins of the local profile (:mod:`emonet.model.standins`): weak labels from the
ground truth and neutral faces."""

import numpy as np

from emonet.model import standins


def test_weak_labels_are_noisy_integer_truth():
    truth = np.random.default_rng(0).uniform(0, 7, (500, 40))
    weak = standins.weak_labels(truth, np.random.default_rng(1))
    assert set(np.unique(weak)) <= set(range(8)) and not (weak == np.rint(truth)).all()
    assert np.corrcoef(weak.ravel(), truth.ravel())[0, 1] > 0.8
    exact = standins.weak_labels(
        truth, np.random.default_rng(1), noise_sd=0, bias_sd=0, scale_sd=0, floor=0
    )
    np.testing.assert_array_equal(exact, np.rint(truth))


def test_neutral_faces_are_png_and_seeded():
    a, b = standins.neutral_faces(3, size=32, seed=1), standins.neutral_faces(3, size=32, seed=1)
    assert a == b and all(f.startswith(b"\x89PNG") for f in a)
