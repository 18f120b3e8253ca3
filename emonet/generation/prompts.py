"""Balanced text-to-image prompts in the shape of EmoNet-Face's.

The paper's prompts fill four slots (:mod:`emonet.data.demographics`): ethnicity (14 strings), age
(20-80 by decade), gender (3) and the target emotion's descriptor words. :func:`design` spreads a
requested number of images over the 40 emotions x 8 ethnicity groups x 7 ages x 3 genders = 6,720
cells. For *every* size n:

* the counts of any two cells differ by at most one;
* so do the counts of any two emotions, and, within each emotion, of any two ethnicity groups,
  ages or genders (so no demographic slot is confounded with the emotion);
* the overall counts of ethnicity groups, ages, genders, their pairs and the 168 demographic
  cells differ by at most two (checked exhaustively by the tests for the 40-emotion design).

How: position ``k`` is occurrence ``j = k // 40`` of emotion ``e = k mod 40``. Its demographic
cell is ``t = (j + 41 e) mod 168`` and ``t`` decodes to ``(t mod 8, t mod 7, t mod 3)`` (Chinese
remainder theorem: 8, 7 and 3 are coprime). Each emotion thus walks through all 168 demographic
cells in a run of consecutive ``t``, which is balanced in every factor and pair of factors; the
offsets ``41 e`` spread the 40 walks so that their sum stays balanced too (41 was chosen by
exhaustive search). After 6,720 positions every cell has been used once and the order repeats.
The seed relabels the levels of each factor (a permutation keeps every property above) and picks
where the ethnicity strings start cycling within their group (so strings are balanced within a
group); image ``i``'s template, descriptor words and generator seed come from its own stream
(``keyed_seed(seed, "image", i)``). Nothing depends on ``n``: the design is prefix-stable, and a
larger request extends a smaller one instead of replacing it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from emonet.data import taxonomy
from emonet.data.demographics import AGES, ETHNICITIES, ETHNICITY_GROUPS, GENDERS
from emonet.stats.seeds import keyed_seed

#: Prompt templates in the shape of the paper's (Binary set: ``binary``; HQ set: the others).
TEMPLATES: dict[str, str] = {
    "binary": (
        "a focused close-up photo of {a} {ethnicity} {gender} of {age} years who seems to "
        "genuinely experience {descriptors}. Strong facial expression of {descriptors}."
    ),
    "hq_authentic": (
        "an authentic, realistic closeup image of {a} {ethnicity} {gender}, {age} "
        "years old, whose face clearly shows {descriptors}, full face visible"
    ),
    "hq_dslr": (
        "very realistic high quality portrait DSLR photo of {a} {ethnicity} {gender} of "
        "{age} years, face in full view, expressing {descriptors}, sharp focus"
    ),
}


N_CELLS = taxonomy.N_EMOTIONS * len(ETHNICITY_GROUPS) * len(AGES) * len(GENDERS)  # 6,720


_N_DEMO = len(ETHNICITY_GROUPS) * len(AGES) * len(GENDERS)  # 168


PROMPT_COLUMNS = (
    "id",
    "prompt",
    "template",
    "emotion",
    "descriptors",
    "ethnicity",
    "ethnicity_group",
    "age",
    "gender",
    "seed",
)


class DesignError(ValueError):
    """Invalid arguments for a prompt design."""


#: Offset step between the emotions' walks through the demographic cells (see module docstring).
WALK_STEP = 41


def cell_order(n: int, n_emotions: int = taxonomy.N_EMOTIONS) -> np.ndarray:
    """Cells of the first ``n`` positions: int array ``(n, 4)`` of (emotion, ethnicity group,
    age, gender) level indices, before the seeded relabelling."""
    k = np.arange(n)
    emotion, j = k % n_emotions, k // n_emotions
    t = (j + WALK_STEP * emotion) % _N_DEMO
    return np.stack([emotion, t % len(ETHNICITY_GROUPS), t % len(AGES), t % len(GENDERS)], axis=1)


def _article(word: str) -> str:
    return "an" if word[:1].lower() in "aeiou" else "a"


def _join(words: list[str]) -> str:
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


def descriptor_lists(guide: pd.DataFrame) -> dict[str, list[str]]:
    """Distinct descriptor words per emotion (case-folded duplicates dropped), upstream order."""
    out: dict[str, list[str]] = {}
    for emotion, words in guide.groupby("emotion", sort=False)["word"]:
        seen: dict[str, str] = {}
        for w in words:
            seen.setdefault(w.strip().casefold(), w.strip())
        out[emotion] = list(seen.values())
    return out


def design(
    n: int,
    guide: pd.DataFrame,
    seed: int = 42,
    emotions=None,
    templates=None,
    n_descriptors: int = 3,
) -> pd.DataFrame:
    """A balanced prompt table of ``n`` rows (columns :data:`PROMPT_COLUMNS`).

    ``guide`` is :func:`emonet.data.loaders.load_guide`'s table. ``emotions`` restricts the design
    to some categories (default: all 40, canonical order); ``templates`` to some of
    :data:`TEMPLATES`. The same arguments always give the same table, and the design is
    prefix-stable: image ``i`` has the same prompt, slots and seed whatever ``n`` is, so a larger
    request extends a smaller one (its first ``n`` rows are the smaller design).
    """
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n <= 0:
        raise DesignError(f"number of images must be a positive integer, got {n!r}")
    emotions = (
        list(taxonomy.EMOTIONS) if emotions is None else [taxonomy.canonical(e) for e in emotions]
    )
    if not emotions or len(set(emotions)) != len(emotions):
        raise DesignError(f"emotions must be a non-empty list without repeats, got {emotions}")
    templates = list(TEMPLATES) if templates is None else list(templates)
    unknown = [t for t in templates if t not in TEMPLATES]
    if unknown or not templates:
        raise DesignError(f"unknown template(s) {unknown}; known: {list(TEMPLATES)}")
    if n_descriptors < 1:
        raise DesignError(f"n_descriptors must be at least 1, got {n_descriptors}")
    words = descriptor_lists(guide)
    rng = np.random.default_rng(seed)
    groups = list(ETHNICITY_GROUPS)
    # Seeded relabelling of every factor's levels (keeps all balance properties).
    emo_levels = rng.permutation(len(emotions))
    group_levels, age_levels, gender_levels = (
        rng.permutation(m) for m in (len(groups), len(AGES), len(GENDERS))
    )
    cells = cell_order(n, len(emotions))
    emo = [emotions[i] for i in emo_levels[cells[:, 0]]]
    grp = [groups[i] for i in group_levels[cells[:, 1]]]
    age = [AGES[i] for i in age_levels[cells[:, 2]]]
    gender = [GENDERS[i] for i in gender_levels[cells[:, 3]]]
    # Ethnicity strings cycle within each group, starting at a seeded position.
    start = {g: int(rng.integers(len(ETHNICITY_GROUPS[g]))) for g in groups}
    seen = dict.fromkeys(groups, 0)
    ethnicity = []
    for g in grp:
        members = ETHNICITY_GROUPS[g]
        ethnicity.append(members[(start[g] + seen[g]) % len(members)])
        seen[g] += 1
    rows = []
    for i in range(n):
        # Each image's own stream: its template, words and seed do not depend on n.
        own = np.random.default_rng(keyed_seed(seed, "image", i))
        template = templates[int(own.integers(len(templates)))]
        pool = words[emo[i]]
        chosen = [
            pool[j]
            for j in sorted(own.choice(len(pool), min(n_descriptors, len(pool)), replace=False))
        ]
        desc = _join(chosen)
        prompt = TEMPLATES[template].format(
            a=_article(ethnicity[i]),
            ethnicity=ethnicity[i],
            gender=gender[i],
            age=age[i],
            descriptors=desc,
        )
        rows.append(
            (
                f"img{i:06d}",
                prompt,
                template,
                emo[i],
                desc,
                ethnicity[i],
                grp[i],
                age[i],
                gender[i],
                int(own.integers(0, 2**31 - 1)),
            )
        )
    return pd.DataFrame(rows, columns=list(PROMPT_COLUMNS))


#: Roles of the generated images, as in the paper: ``big`` stands in for the weakly labelled
#: pre-training set, ``binary`` for the expert yes/no fine-tuning set, ``hq`` for the expert-panel
#: test set. Fractions of each emotion's images.
SUBSETS: dict[str, float] = {"big": 0.5, "binary": 0.25, "hq": 0.25}


def assign_subsets(
    table: pd.DataFrame, fractions: dict[str, float] | None = None, seed: int = 42
) -> pd.Series:
    """The subset (role) of every row of a prompt table or manifest: a Series aligned with
    ``table``, named ``subset``.

    Within each emotion the rows are shuffled with ``seed`` and cut in the proportions of
    ``fractions`` (default :data:`SUBSETS`; largest remainders), so every subset holds each
    emotion in proportion and the subsets are disjoint. Depends only on the rows' ``id`` and
    ``emotion``: the same images always get the same roles, whatever the row order.
    """
    fractions = dict(SUBSETS if fractions is None else fractions)
    weights = np.array(list(fractions.values()), dtype=float)
    if not fractions or (weights < 0).any() or not np.isclose(weights.sum(), 1.0):
        raise DesignError(f"subset fractions must be non-negative and sum to 1, got {fractions}")
    for column in ("id", "emotion"):
        if column not in table:
            raise DesignError(f"cannot assign subsets: the table has no {column!r} column")
    if table["id"].duplicated().any():
        raise DesignError(
            f"cannot assign subsets: duplicate ids, e.g. "
            f"{table.loc[table['id'].duplicated(), 'id'].iloc[0]!r}"
        )
    names = np.array(list(fractions))
    out = pd.Series("", index=table.index, name="subset", dtype=object)
    for emotion in sorted(table["emotion"].unique()):
        ids = np.sort(table.loc[table["emotion"] == emotion, "id"].to_numpy())
        # One generator per emotion, seeded by the emotion's name: order-independent.
        rng = np.random.default_rng(keyed_seed(seed, emotion))
        exact = weights * len(ids)
        counts = np.floor(exact).astype(int)
        counts[np.argsort(counts - exact, kind="stable")[: len(ids) - counts.sum()]] += 1
        role = dict(zip(ids[rng.permutation(len(ids))], np.repeat(names, counts)))
        rows = table["emotion"] == emotion
        out[rows] = table.loc[rows, "id"].map(role)
    return out


def subset_counts(table: pd.DataFrame, subsets: pd.Series) -> pd.DataFrame:
    """Images per subset (columns, :data:`SUBSETS` order; 0 for a subset no image falls in) in all
    (row ``images``) and the least and most of any emotion (rows ``min per emotion``, ``max per
    emotion``); ``subsets`` is :func:`assign_subsets` of ``table``."""
    per_emotion = pd.crosstab(table["emotion"], subsets).reindex(
        columns=list(SUBSETS), fill_value=0
    )
    return per_emotion.agg(["sum", "min", "max"]).rename(
        index={"sum": "images", "min": "min per emotion", "max": "max per emotion"}
    )


def ethnicity_groups_table() -> pd.DataFrame:
    """The grouping of the 14 ethnicity strings: ``group, n_strings, strings``."""
    return pd.DataFrame(
        [(g, len(m), ", ".join(m)) for g, m in ETHNICITY_GROUPS.items()],
        columns=["group", "n_strings", "strings"],
    )


def templates_table() -> pd.DataFrame:
    """The prompt templates: ``template, text``."""
    return pd.DataFrame(list(TEMPLATES.items()), columns=["template", "text"])


def examples(prompts: pd.DataFrame, per_template: int = 2) -> pd.DataFrame:
    """The first ``per_template`` prompts of each template: ``id, emotion, template, prompt``."""
    return prompts.groupby("template").head(per_template)[["id", "emotion", "template", "prompt"]]


def balance_table(prompts: pd.DataFrame, rows: str, columns: str) -> pd.DataFrame:
    """Counts of images per ``rows`` x ``columns`` level (a crosstab with every level present)."""
    levels = {
        "emotion": [e for e in taxonomy.EMOTIONS if e in set(prompts["emotion"])],
        "ethnicity_group": list(ETHNICITY_GROUPS),
        "ethnicity": list(ETHNICITIES),
        "age": list(AGES),
        "gender": list(GENDERS),
    }
    table = pd.crosstab(prompts[rows], prompts[columns])
    return table.reindex(index=levels.get(rows), columns=levels.get(columns), fill_value=0)


def balance_panels(prompts: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """The three crosstabs the chapter shows: emotion x ethnicity group, ethnicity group x age,
    age x gender (``{title: table}``)."""
    pairs = [("emotion", "ethnicity_group"), ("ethnicity_group", "age"), ("age", "gender")]
    return {
        f"{r.replace('_', ' ')} x {c.replace('_', ' ')}": balance_table(prompts, r, c)
        for r, c in pairs
    }


def panel_name(title: str) -> str:
    """A :func:`balance_panels` title as a file name: ``"age x gender"`` -> ``"age_by_gender"``."""
    return title.replace(" x ", "_by_").replace(" ", "_")


#: Columns of :func:`balance_summary`.
BALANCE_SUMMARY_COLUMNS = ("factor", "levels", "min", "max", "spread")


def balance_summary(prompts: pd.DataFrame) -> pd.DataFrame:
    """Per factor or pair of factors: number of levels, min and max count, spread (max - min).

    Levels that never occur count as 0 (so the full cells show 0 until ``n`` covers them all).
    """
    n_emotions = prompts["emotion"].nunique()
    levels = {
        "emotion": n_emotions,
        "ethnicity_group": len(ETHNICITY_GROUPS),
        "age": len(AGES),
        "gender": len(GENDERS),
    }
    demo = ["ethnicity_group", "age", "gender"]
    factors = [
        ["emotion"],
        *[[f] for f in demo],
        *[["emotion", f] for f in demo],
        ["ethnicity_group", "age"],
        ["ethnicity_group", "gender"],
        ["age", "gender"],
        demo,
        ["emotion", *demo],
    ]
    rows = []
    for cols in factors:
        size = int(np.prod([levels[c] for c in cols]))
        counts = prompts.groupby(cols).size().to_numpy()
        low = counts.min() if len(counts) == size else 0
        name = (
            " x ".join(c.replace("_", " ") for c in cols)
            if len(cols) < 3
            else ("demographic cell" if cols == demo else "emotion x demographic cell")
        )
        rows.append((name, size, int(low), int(counts.max()), int(counts.max() - low)))
    return pd.DataFrame(rows, columns=list(BALANCE_SUMMARY_COLUMNS))


def max_spreads(summary: pd.DataFrame) -> tuple[int, int]:
    """Largest spread (images) of a :func:`balance_summary` over the factors that involve the
    emotion, and over the purely demographic ones."""
    emotion = summary["factor"].str.startswith("emotion")
    return int(summary.loc[emotion, "spread"].max()), int(summary.loc[~emotion, "spread"].max())
