"""Helpers shared by several test modules (fixtures live in ``conftest.py``)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from emonet.book.page import Page
from emonet.build.notebooks import page_keys
from emonet.data import taxonomy
from emonet.hq import panel


def missing_from_page(page: Page, notebook: Path) -> dict[str, set[str]]:
    """What the notebook at ``notebook`` pastes or shows that ``page`` does not have, by kind
    (:func:`emonet.build.notebooks.page_keys`); an empty dict when the page has it all."""
    have = {"text": page.texts, "figure": page.figures, "md": page.markdowns,
            "table": page.tables}
    missing = {kind: keys - set(have[kind]) for kind, keys in page_keys(notebook).items()}
    return {kind: keys for kind, keys in missing.items() if keys}


def wide(values, index=None) -> pd.DataFrame:
    """``values`` (images x 40) as a frame with the 40 categories as columns."""
    return pd.DataFrame(values, columns=list(taxonomy.EMOTIONS), index=index)


def small_panel(n_images=12, seed=0, experts=4, per_image=3, noise=None):
    """A hand-sized panel: ``experts`` raters, ``per_image`` per image, integer 0-7 ratings:
    uniform at random, or (``noise`` given) one shared truth plus rating noise of that SD."""
    rng = np.random.default_rng(seed)
    truth = rng.uniform(0, 7, (n_images, 40))
    ratings = np.full((experts, n_images, 40), np.nan)
    for i in range(n_images):
        who = rng.choice(experts, per_image, replace=False)
        ratings[who, i] = rng.integers(0, 8, (per_image, 40)) if noise is None else \
            np.clip(np.rint(truth[i] + rng.normal(0, noise, (per_image, 40))), 0, 7)
    return panel.Panel(ratings, [f"human-{k + 1}" for k in range(experts)], [True] * experts,
                       ["Human Annotators"] * experts, [f"img{i:02d}" for i in range(n_images)])


def affectnet_line(label, image=None, **extra) -> str:
    """One AffectNet record (the schema of ``ferd.jsonl``, an integer gold ``label``) as JSON."""
    results = {taxonomy.head_name(e): {"raw": 0.1 * i, "mean_subtracted": 0.1 * i, "softmax": 0.025}
               for i, e in enumerate(taxonomy.EMOTIONS)}
    results.update({taxonomy.head_name(d): {"raw": 1.0, "mean_subtracted": 0.5, "softmax": None}
                    for d in taxonomy.EXTRA_DIMENSIONS})
    record = {"label": label, "results": results, **extra}
    if image is not None:
        record["image_path"] = image
    return json.dumps(record)


def synthetic_fairness(n=600, seed=0) -> tuple[pd.Series, pd.DataFrame]:
    """Per-image agreement with planted effects (ethnicity B -0.2, -0.05 per 10 years) and its
    ``ethnicity, age, gender`` demographics, ``n`` images."""
    rng = np.random.default_rng(seed)
    demo = pd.DataFrame({"ethnicity": rng.choice(["A", "B", "C"], n, p=[0.5, 0.25, 0.25]),
                         "age": rng.choice([20, 40, 60, 80], n),
                         "gender": rng.choice(["man", "woman"], n)})
    agreement = 0.6 - 0.2 * (demo["ethnicity"] == "B") - 0.05 * (demo["age"] - 20) / 10 \
        + rng.normal(0, 0.1, n)
    return pd.Series(agreement.to_numpy(), index=demo.index), demo


def make_guide() -> pd.DataFrame:
    """A guide table in load_guide()'s schema: three words per category, one repeated."""
    rows = []
    for e in taxonomy.EMOTIONS:
        words = [e.lower(), f"{e.lower()} feeling", f"strong {e.lower()}", e.upper()]
        rows += [(e, taxonomy.FAMILY_OF[e], i, w) for i, w in enumerate(words)]
    return pd.DataFrame(rows, columns=["emotion", "family", "position", "word"])


#: The guide of the tests (:func:`make_guide`), without the mirror.
GUIDE = make_guide()


def tiny_experts_params(**changes):
    """Chapter 06's parameters for the tiny build of ``tests/conftest.py`` (few resamples)."""
    from emonet.model_vs_experts.chapter import ModelVsExpertsParams

    base = {"profile": "local", "seed": 42, "panel_source": "simulated",
            "model_name": "tiny model", "n_bootstrap": 20, "bootstrap_order": "keyed",
            "kappa_method": "truncate", "released_heads": None, "hq_images": None,
            "example_emotions": ["Amusement", "Sadness", "Anger", "Astonishment/Surprise"],
            "top_k_shown": 5, "n_permutations": 99}
    return ModelVsExpertsParams(**{**base, **changes})
