import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from emonet.data import taxonomy


def test_forty_categories_in_seven_families():
    assert len(taxonomy.EMOTIONS) == len(set(taxonomy.EMOTIONS)) == 40
    assert len(taxonomy.FAMILIES) == 7
    members = [e for m in taxonomy.FAMILIES.values() for e in m]
    assert sorted(members) == sorted(taxonomy.EMOTIONS)
    assert taxonomy.FAMILY_OF["Jealousy & Envy"] == "Negative Low-Energy Emotions"
    assert list(taxonomy.EXTRA_DIMENSIONS) == [
        "Arousal",
        "Valence",
        "Dominance",
        "Emotional Vulnerability",
    ]


@pytest.mark.parametrize(
    "emotion, head",
    [
        ("Jealousy & Envy", "model_jealousy_&_envy_best"),
        ("Impatience and Irritability", "model_impatience_and_irritability_best"),
        (
            "Intoxication/Altered States of Consciousness",
            "model_intoxication_altered_states_of_consciousness_best",
        ),
        ("Hope/Enthusiasm/Optimism", "model_hope_enthusiasm_optimism_best"),
        ("Emotional Vulnerability", "model_emotional_vulnerability_best"),
        ("Hopelessness", "model_helplessness_best"),  # upstream alias
    ],
)
def test_head_names(emotion, head):
    assert taxonomy.head_name(emotion) == head
    assert taxonomy.from_head_name(head) == taxonomy.ALIASES.get(emotion, emotion)


@given(st.sampled_from(taxonomy.EMOTIONS + tuple(taxonomy.EXTRA_DIMENSIONS)))
def test_name_round_trips(name):
    assert taxonomy.from_head_name(taxonomy.head_name(name)) == name
    parsed, is_category = taxonomy.from_family_key(taxonomy.family_key(name))
    assert parsed == name and is_category == (name in taxonomy.INDEX)


def test_family_keys():
    assert taxonomy.family_key("Anger") == "Negative High-Energy Emotions|Anger"
    assert taxonomy.from_family_key("Extra Dimensions|Valence") == ("Valence", False)
    assert taxonomy.from_family_key("Whatever Family|Hopelessness") == ("Helplessness", True)
    with pytest.raises(taxonomy.UnknownEmotionError, match="malformed key"):
        taxonomy.from_family_key("Anger")
    with pytest.raises(taxonomy.UnknownEmotionError, match="unknown extra dimension"):
        taxonomy.from_family_key("Extra Dimensions|Mood")


def test_unknown_names_are_errors_with_a_hint():
    with pytest.raises(taxonomy.UnknownEmotionError, match=r"did you mean 'Anger'"):
        taxonomy.canonical("anger")
    with pytest.raises(taxonomy.UnknownEmotionError, match="'Joy'"):
        taxonomy.head_name("Joy")
    with pytest.raises(taxonomy.UnknownEmotionError, match="unknown head name"):
        taxonomy.from_head_name("model_joy_best")


def test_canonical_order_is_the_guide_order(mirror):
    raw = json.loads((mirror / "guide.json").read_text())
    assert tuple(raw["options"]["labels"]) == taxonomy.EMOTIONS
    assert {f: tuple(m) for f, m in raw["options"]["buttons"].items()} == taxonomy.FAMILIES


def test_head_names_match_the_released_model_outputs(mirror):
    first = json.loads((mirror / "ferd.jsonl").read_text().splitlines()[0])
    ours = {taxonomy.head_name(e) for e in (*taxonomy.EMOTIONS, *taxonomy.EXTRA_DIMENSIONS)}
    assert set(first["results"]) == ours
    mapping = json.loads((mirror / "basic_emotion_mappings.json").read_text())
    assert set(mapping["ferd"]) == {taxonomy.head_name(e) for e in taxonomy.EMOTIONS}


def test_tables():
    t = taxonomy.families_table()
    assert list(t["emotion"]) == list(taxonomy.EMOTIONS)
    s = taxonomy.families_summary()
    assert s["n_categories"].sum() == 40 and list(s["family"]) == list(taxonomy.FAMILIES)
    assert tuple(sorted(taxonomy.BASIC_EMOTIONS)) == taxonomy.BASIC_EMOTIONS
