"""The EmoNet-Face taxonomy: 40 emotion categories in one canonical order, 7 families,
4 extra dimensions, and the name conversions used at the edges of the data.

Canonical order is the order of ``options.labels`` in the authors' ``guide.json``; every array,
table and figure in the compendium uses it. Descriptor words are read from ``guide.json``
(see :func:`emonet.data.loaders.load_guide`), which is checked against the names fixed here.
"""

from __future__ import annotations

import re

import pandas as pd

#: The 40 categories, canonical order (``guide.json`` ``options.labels``).
EMOTIONS: tuple[str, ...] = (
    "Amusement",
    "Elation",
    "Pleasure/Ecstasy",
    "Contentment",
    "Thankfulness/Gratitude",
    "Affection",
    "Infatuation",
    "Hope/Enthusiasm/Optimism",
    "Triumph",
    "Pride",
    "Interest",
    "Awe",
    "Astonishment/Surprise",
    "Concentration",
    "Contemplation",
    "Relief",
    "Longing",
    "Teasing",
    "Impatience and Irritability",
    "Sexual Lust",
    "Doubt",
    "Fear",
    "Distress",
    "Confusion",
    "Embarrassment",
    "Shame",
    "Disappointment",
    "Sadness",
    "Bitterness",
    "Contempt",
    "Disgust",
    "Anger",
    "Malevolence/Malice",
    "Sourness",
    "Pain",
    "Helplessness",
    "Fatigue/Exhaustion",
    "Emotional Numbness",
    "Intoxication/Altered States of Consciousness",
    "Jealousy & Envy",
)


#: The 7 families and their members, in ``guide.json`` ``options.buttons`` order.
FAMILIES: dict[str, tuple[str, ...]] = {
    "Positive High-Energy Emotions": (
        "Amusement",
        "Elation",
        "Pleasure/Ecstasy",
        "Hope/Enthusiasm/Optimism",
        "Triumph",
        "Interest",
        "Awe",
        "Astonishment/Surprise",
        "Teasing",
    ),
    "Positive Low-Energy Emotions": (
        "Contentment",
        "Thankfulness/Gratitude",
        "Affection",
        "Relief",
        "Contemplation",
        "Pride",
    ),
    "Negative High-Energy Emotions": (
        "Fear",
        "Anger",
        "Malevolence/Malice",
        "Disgust",
        "Impatience and Irritability",
        "Distress",
    ),
    "Negative Low-Energy Emotions": (
        "Sadness",
        "Bitterness",
        "Contempt",
        "Disappointment",
        "Shame",
        "Emotional Numbness",
        "Doubt",
        "Jealousy & Envy",
        "Embarrassment",
        "Helplessness",
    ),
    "Cognitive States and Processes": ("Concentration", "Confusion"),
    "Physical and Exhaustive States": (
        "Pain",
        "Fatigue/Exhaustion",
        "Intoxication/Altered States of Consciousness",
        "Sourness",
    ),
    "Longing & Lust": ("Longing", "Sexual Lust", "Infatuation"),
}


#: The four dimensions rated outside the 40 categories: name -> (low, high) of their scale.
EXTRA_DIMENSIONS: dict[str, tuple[int, int]] = {
    "Arousal": (0, 7),
    "Valence": (-3, 3),
    "Dominance": (-3, 3),
    "Emotional Vulnerability": (0, 5),
}


#: Upstream spellings that differ from the taxonomy (binary.csv says "Hopelessness").
ALIASES: dict[str, str] = {"Hopelessness": "Helplessness"}


#: Family of the extra dimensions in ``"Family|Emotion"`` keys (hq.csv).
EXTRA_FAMILY = "Extra Dimensions"


N_EMOTIONS = len(EMOTIONS)


INDEX: dict[str, int] = {name: i for i, name in enumerate(EMOTIONS)}


FAMILY_OF: dict[str, str] = {e: fam for fam, members in FAMILIES.items() for e in members}


class UnknownEmotionError(ValueError):
    """A name that is neither one of the 40 categories nor a known alias."""


def canonical(name: str) -> str:
    """Return the canonical category for ``name`` (exact spelling, or a known alias)."""
    if name in INDEX:
        return name
    if name in ALIASES:
        return ALIASES[name]
    raise UnknownEmotionError(
        f"unknown emotion {name!r}: not one of the 40 EmoNet-Face categories{_suggestion(name)}"
    )


def _suggestion(name: str) -> str:
    folded = {e.casefold(): e for e in EMOTIONS}
    hit = folded.get(str(name).strip().casefold())
    return f" (did you mean {hit!r}?)" if hit else ""


def _snake(name: str) -> str:
    return re.sub(r"[ /]+", "_", name.lower())


def head_name(emotion: str) -> str:
    """Head file stem of the released model, e.g. ``'Jealousy & Envy' -> 'model_jealousy_&_envy_best'``.

    Works for the 40 categories and the 4 extra dimensions.
    """
    name = emotion if emotion in EXTRA_DIMENSIONS else canonical(emotion)
    return f"model_{_snake(name)}_best"


_FROM_HEAD = {head_name(e): e for e in (*EMOTIONS, *EXTRA_DIMENSIONS)}


def from_head_name(head: str) -> str:
    """Inverse of :func:`head_name`: category (or extra dimension) for a head name."""
    try:
        return _FROM_HEAD[head]
    except KeyError:
        raise UnknownEmotionError(f"unknown head name {head!r}") from None


def is_category_head(head: str) -> bool:
    """True for the 40 category heads, False for the 4 extra-dimension heads."""
    return from_head_name(head) in INDEX


def family_key(emotion: str) -> str:
    """``"Family|Emotion"`` key as used in hq.csv annotations."""
    if emotion in EXTRA_DIMENSIONS:
        return f"{EXTRA_FAMILY}|{emotion}"
    name = canonical(emotion)
    return f"{FAMILY_OF[name]}|{name}"


def from_family_key(key: str) -> tuple[str, bool]:
    """Parse a ``"Family|Emotion"`` key into ``(name, is_category)``.

    ``is_category`` is False for ``Extra Dimensions|…`` keys. The family part of a category key
    is not trusted (the emotion after ``|`` decides), but the key must contain exactly one ``|``.
    """
    parts = key.split("|")
    if len(parts) != 2:
        raise UnknownEmotionError(f"malformed key {key!r}: expected 'Family|Emotion'")
    family, name = parts
    if family == EXTRA_FAMILY:
        if name not in EXTRA_DIMENSIONS:
            raise UnknownEmotionError(f"unknown extra dimension {name!r} in key {key!r}")
        return name, False
    return canonical(name), True


def families_table() -> pd.DataFrame:
    """One row per category in canonical order: ``emotion, family, family_index, index``."""
    fam_index = {f: i for i, f in enumerate(FAMILIES)}
    return pd.DataFrame(
        {
            "index": range(N_EMOTIONS),
            "emotion": EMOTIONS,
            "family": [FAMILY_OF[e] for e in EMOTIONS],
            "family_index": [fam_index[FAMILY_OF[e]] for e in EMOTIONS],
            "head": [head_name(e) for e in EMOTIONS],
        }
    )


def families_summary() -> pd.DataFrame:
    """One row per family: ``family, n_categories, categories`` (members joined by ', ')."""
    return pd.DataFrame(
        [(f, len(m), ", ".join(m)) for f, m in FAMILIES.items()],
        columns=["family", "n_categories", "categories"],
    )


def extra_dimensions_table() -> pd.DataFrame:
    """The 4 extra dimensions with their scales: ``dimension, low, high, head``."""
    return pd.DataFrame(
        [(d, lo, hi, head_name(d)) for d, (lo, hi) in EXTRA_DIMENSIONS.items()],
        columns=["dimension", "low", "high", "head"],
    )


def _check_static() -> None:
    members = [e for m in FAMILIES.values() for e in m]
    assert sorted(members) == sorted(EMOTIONS) and len(set(members)) == N_EMOTIONS == 40


_check_static()


#: The 8 basic emotions of FERD / AffectNet, in the authors' AffectNet label order.
BASIC_EMOTIONS: tuple[str, ...] = (
    "anger",
    "contempt",
    "disgust",
    "fear",
    "happy",
    "neutral",
    "sad",
    "surprise",
)
