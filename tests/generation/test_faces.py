"""Offline face generator: determinism, identity variety, ground truth, legible expressions."""

import numpy as np
import pytest

from emonet.data import demographics, taxonomy
from emonet.generation import faces


def render(emotion="Amusement", seed=1, **kw):
    args = {"ethnicity_group": "White", "age": 40, "gender": "woman", "size": 64, **kw}
    return faces.render(emotion, seed=seed, **args)


def test_same_seed_same_pixels():
    a, b = render(seed=11), render(seed=11)
    assert a.image.tobytes() == b.image.tobytes()
    np.testing.assert_array_equal(a.truth, b.truth)


def test_no_two_faces_alike():
    pixels = {render(seed=s).image.tobytes() for s in range(20)}
    assert len(pixels) == 20


def test_output_shapes_and_ranges():
    face = render("Fear", size=48)
    assert face.image.size == (48, 48) and face.image.mode == "RGB"
    assert face.codes.shape == (len(faces.CODES),)
    assert face.truth.shape == (taxonomy.N_EMOTIONS,)
    assert face.truth.min() >= 0 and face.truth.max() <= 7


def test_prototypes_cover_the_taxonomy():
    assert list(faces.PROTOTYPES) == list(taxonomy.EMOTIONS)
    for emotion, proto in faces.PROTOTYPES.items():
        assert set(proto) <= set(faces.CODES), emotion
        assert all(0 < v <= 1 for v in proto.values())
    # no two prototypes identical (every category is expressible on its own)
    assert len({tuple(r) for r in faces.PROTOTYPE_MATRIX}) == taxonomy.N_EMOTIONS


def test_pure_prototype_truth_peaks_on_its_category():
    truth = faces.truth_of(faces.PROTOTYPE_MATRIX)
    assert (truth.argmax(1) == np.arange(taxonomy.N_EMOTIONS)).all()
    np.testing.assert_allclose(np.diag(truth), 7.0)
    np.testing.assert_allclose(faces.truth_of(0.5 * faces.PROTOTYPE_MATRIX).diagonal(), 3.5)
    assert (faces.truth_of(np.zeros(len(faces.CODES))) == 0).all()


def test_rendered_truth_mostly_recovers_the_target():
    hits = [
        render(e, seed=s).truth.argmax() == i
        for i, e in enumerate(taxonomy.EMOTIONS)
        for s in range(3)
    ]
    assert np.mean(hits) > 0.85


def test_intensity_moves_the_truth():
    low = render("Sadness", seed=3, intensity=0.3).truth[taxonomy.INDEX["Sadness"]]
    high = render("Sadness", seed=3, intensity=1.0).truth[taxonomy.INDEX["Sadness"]]
    assert high > low + 2


def test_basic_expressions_are_legible_across_identities():
    """Smile, frown, surprise and disgust on new identities are told apart by a linear model
    trained on the edge maps of other identities (chance: 0.25)."""
    from sklearn.linear_model import LogisticRegression

    groups = list(demographics.ETHNICITY_GROUPS)
    emotions = ("Amusement", "Sadness", "Astonishment/Surprise", "Disgust")

    def edges(emotion, s):
        image = faces.render(
            emotion,
            groups[s % 8],
            20 + 10 * (s % 7),
            demographics.GENDERS[s % 3],
            seed=1000 + s,
            size=48,
        ).image.convert("L")
        gy, gx = np.gradient(np.asarray(image, float)[8:44, 8:40])
        return np.hypot(gx, gy).ravel() / 50

    X = np.array([[edges(e, s) for s in range(60)] for e in emotions])
    y = np.repeat(np.arange(len(emotions)), 20)
    model = LogisticRegression(C=0.05, max_iter=2000)
    model.fit(X[:, :40].reshape(-1, X.shape[-1]), np.repeat(np.arange(len(emotions)), 40))
    assert model.score(X[:, 40:].reshape(-1, X.shape[-1]), y) > 0.6


def test_appearance_follows_the_slots():
    def skin(group):
        return np.mean(
            [
                faces.render("Contentment", group, 30, "man", seed=s, size=64).image.getpixel(
                    (32, 40)
                )[0]
                for s in range(8)
            ]
        )

    assert skin("White") > skin("Black") + 40


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"ethnicity_group": "Martian"}, "unknown ethnicity group"),
        ({"size": 4}, "at least 16"),
        ({"intensity": 1.5}, "intensity"),
    ],
)
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        render(**kwargs)


def test_unknown_emotion():
    with pytest.raises(taxonomy.UnknownEmotionError):
        render("Happiness")
