"""Replicas of the EmoNet-Face data in their published schemas, made from the project's stand-ins
(the offline faces of chapter 02, the simulated HQ panel, the simulated Binary protocol, the
simulated weak labeler): the three Hugging Face datasets as ``datasets`` stores them on the hub
(parquet with the features in its schema, a README with the configuration), ``hq.csv`` and the
AffectNet result parts. Each function writes into a folder and returns what the others need.
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from emonet.binary import protocol
from emonet.data import loaders, taxonomy
from emonet.generation import faces, prompts
from emonet.hq import panel as hq_panel
from emonet.hq import simulation
from emonet.model import released, standins
from emonet.stats.seeds import keyed_seed

#: Rows of each replica (small: the rehearsal runs in CI in minutes).
SIZES = {"hq": 40, "binary": 40, "big": 48, "affectnet": 64}


#: The 14 model annotators of hq.csv: name -> (kind, noise SD, categories named per image).
#: Kinds follow the authors' files: "ours" (float, mean-subtracted, may be negative), "hume" (0-1,
#: x7 on reading, with extra dimensions), "zs" (exactly 25 integers), "ms" (at most 5 integers,
#: with extra dimensions), "random" (all 40).
MODEL_ANNOTATORS = {
    "Empathic Insight Face Small": ("ours", 1.1, 17),
    "Empathic Insight Face Large": ("ours", 0.9, 19),
    "Hume Face*": ("hume", 1.2, 31),
    "Random Baseline": ("random", 0.0, 40),
    "Gemini 2.0 Flash ZS": ("zs", 1.6, 25),
    "Gemini 2.0 Flash MS": ("ms", 1.3, 5),
    "Gemini 2.5 Flash ZS": ("zs", 1.5, 25),
    "Gemini 2.5 Flash MS": ("ms", 1.2, 5),
    "Gemini 2.5 Pro 03-25 ZS": ("zs", 1.4, 25),
    "GPT-4o ZS": ("zs", 1.5, 25),
    "Claude 3.7 MS": ("ms", 1.3, 5),
    "Nova Pro ZS": ("zs", 1.8, 25),
    "Pixtral Large ZS": ("zs", 1.7, 25),
    "Qwen Plus ZS": ("zs", 1.7, 25),
}


#: The key the replica plants once in a model row, to exercise the counting of unknown keys.
PLANTED_UNKNOWN_KEY = "Extra Dimensions|Confidence"


@dataclass
class Faces:
    """Rendered offline faces of one role: their prompt rows, PNG bytes and truth ``(n, 40)``."""

    table: pd.DataFrame
    png: list[bytes]
    truth: np.ndarray


def render_faces(seed: int, size: int = 128) -> dict[str, Faces]:
    """Offline faces for the HQ, Binary and Big replicas (:data:`SIZES`): consecutive blocks of
    one balanced prompt design (:func:`emonet.generation.prompts.design`)."""
    n = sum(SIZES[r] for r in ("hq", "binary", "big"))
    design = prompts.design(n, loaders.load_guide(), seed=seed)
    out, start = {}, 0
    for role in ("hq", "binary", "big"):  # consecutive blocks of the balanced design
        rows = design.iloc[start : start + SIZES[role]].reset_index(drop=True)
        start += SIZES[role]
        drawn = [
            faces.render(r.emotion, r.ethnicity_group, r.age, r.gender, r.seed, size=size)
            for r in rows.itertuples()
        ]
        out[role] = Faces(rows, [_png(f.image) for f in drawn], np.array([f.truth for f in drawn]))
    return out


def _png(image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def _stored_names(n: int, rng: np.random.Generator) -> list[str]:
    """File names as an upload stores them inside the Image feature: temporary names that say
    nothing about the image (the published HQ set lost its originals)."""
    return [f"tmp{rng.integers(16**8):08x}.png" for _ in range(n)]


def _class_label(values, rng: np.random.Generator):
    """A ``ClassLabel`` over the distinct ``values`` in a shuffled order (so that code which
    assumes an order of its own fails) and the values' integers."""
    from datasets import ClassLabel

    names = sorted({str(v) for v in values})
    names = [names[i] for i in rng.permutation(len(names))]
    return ClassLabel(names=names), [names.index(str(v)) for v in values]


def _write_dataset(columns: dict, features: dict, folder: Path, title: str) -> None:
    """Write a dataset as ``push_to_hub`` lays it out: ``data/train-00000-of-00001.parquet`` (the
    features in the parquet schema) and a README whose YAML names the configuration."""
    import datasets
    from datasets import Dataset, Features

    datasets.disable_progress_bars()
    data = Dataset.from_dict(columns, features=Features(features))
    (folder / "data").mkdir(parents=True, exist_ok=True)
    data.to_parquet(str(folder / "data" / "train-00000-of-00001.parquet"))
    card = {
        "configs": [
            {"config_name": "default", "data_files": [{"split": "train", "path": "data/train-*"}]}
        ],
        "dataset_info": {
            "features": data.features._to_yaml_list(),
            "splits": [{"name": "train", "num_bytes": data.data.nbytes, "num_examples": len(data)}],
        },
    }
    (folder / "README.md").write_text(
        f"---\n{yaml.safe_dump(card, sort_keys=False)}---\n# {title}"
        "\n\nA replica built by emonet for its dress rehearsal; not "
        "the published dataset.\n"
    )


def _metadata_columns(rows: pd.DataFrame, rng: np.random.Generator) -> tuple[dict, dict]:
    """The Binary/HQ metadata columns (``prompt``, ClassLabel ``age``, ``ethnicity``, ``gender``,
    ``emotion``) and their features. ``Helplessness`` is spelled ``Hopelessness`` as upstream."""
    from datasets import Value

    columns, features = {"prompt": list(rows["prompt"])}, {"prompt": Value("string")}
    spelled = rows["emotion"].replace({v: k for k, v in taxonomy.ALIASES.items()})
    for name, values in (
        ("age", rows["age"]),
        ("ethnicity", rows["ethnicity"]),
        ("gender", rows["gender"]),
        ("emotion", spelled),
    ):
        features[name], columns[name] = _class_label(values, rng)
    return columns, features


def _expert_label(entries: list[tuple[str, np.ndarray]]) -> str:
    """An HQ ``label``: a Python-literal list of one-key dicts ``{rater: {"Family|Emotion":
    rating}}`` naming the categories the rater marked (the rest count as 0)."""
    return repr(
        [
            {
                rater: {
                    taxonomy.family_key(e): int(v[k])
                    for k, e in enumerate(taxonomy.EMOTIONS)
                    if v[k] > 0
                }
            }
            for rater, v in entries
        ]
    )


def write_hq(faces_hq: Faces, dataset: Path, csv_path: Path, seed: int) -> dict:
    """The HQ replicas: ``hq.csv`` (8 experts, 4 per image, and the 14 model annotators with
    their typical output, a few repeated rows and one planted unknown key) and the HQ dataset
    (its rows in another order, images under meaningless stored names, the experts' ratings in
    ``label``). Returns what was planted (for the tests and the docs)."""
    from datasets import ClassLabel, Image, Value

    rng = np.random.default_rng(keyed_seed(seed, "replica", "hq"))
    names = [f"hq/{i}.png" for i in faces_hq.table["id"]]
    experts = simulation.simulate_panel(
        faces_hq.truth, names, simulation.RaterModel(), seed, baseline=False
    )
    ratings, extra = _model_rows(experts, rng)
    annotators = (*experts.annotators, *MODEL_ANNOTATORS)
    groups = tuple(hq_panel.annotator_group(a, a.startswith("human")) for a in annotators)
    full = hq_panel.Panel(
        np.concatenate([experts.ratings, ratings]),
        annotators,
        np.r_[experts.human, np.zeros(len(MODEL_ANNOTATORS), bool)],
        groups,
        experts.images,
        extra,
    )
    hq_panel.write_hq_csv(full, csv_path, zeros="humans")
    planted = _plant_rows(full, csv_path, rng)

    order = rng.permutation(experts.n_images)
    labels = []
    for i in order:
        entries = [
            (experts.annotators[a], experts.ratings[a, i])
            for a in np.flatnonzero(experts.rated[:, i])
        ]
        if names[i] == planted["expert_image"]:
            entries.append((planted["expert"], planted["expert_second"]))
        labels.append(_expert_label(entries))
    rows = faces_hq.table.iloc[order]
    columns, features = _metadata_columns(rows, rng)
    columns = {
        "path": [
            {"bytes": faces_hq.png[i], "path": p}
            for i, p in zip(order, _stored_names(len(order), rng))
        ],
        **columns,
        "subset": [0] * len(order),
        "label": labels,
    }
    features = {
        "path": Image(),
        **features,
        "subset": ClassLabel(names=["hq"]),
        "label": Value("string"),
    }
    _write_dataset(columns, features, dataset, "emonet-face-hq replica")
    return planted


def _model_rows(
    experts: hq_panel.Panel, rng: np.random.Generator
) -> tuple[np.ndarray, pd.DataFrame]:
    """Ratings ``(14, images, 40)`` of :data:`MODEL_ANNOTATORS` on the panel's scale (Hume x7,
    categories a model leaves out at 0) and their extra dimensions (Hume and the MS models)."""
    median = np.nanmedian(experts.ratings[experts.human], axis=0)  # what the images show
    out, extra = [], []
    for name, (kind, noise, named) in MODEL_ANNOTATORS.items():
        score = np.clip(median + rng.normal(0, max(noise, 1e-9), median.shape), 0, 7)
        if kind == "random":
            values = rng.uniform(0.01, 7.0, median.shape)
        else:
            kept = np.argsort(-score, axis=1, kind="stable")[:, :named]
            mask = np.zeros(score.shape, bool)
            np.put_along_axis(mask, kept, True, axis=1)
            if kind == "ours":  # mean-subtracted: raw minus a neutral mean per category
                values = np.where(mask, score - rng.uniform(0.5, 2.5, taxonomy.N_EMOTIONS), 0.0)
            elif kind == "hume":
                values = np.where(mask, np.round(score / 7, 4) * 7, 0.0)
            else:
                values = np.where(mask, np.maximum(np.round(score), 1.0), 0.0)
                if kind == "ms":  # at most 5: the weakest answers fall away
                    values = np.where(values >= 2, values, 0.0)
        out.append(values)
        if kind in ("hume", "ms"):
            for image in experts.images:
                for dim, (low, high) in taxonomy.EXTRA_DIMENSIONS.items():
                    value = (
                        round(rng.uniform(0, 1), 4) * 7
                        if kind == "hume"
                        else float(rng.integers(low, high + 1))
                    )
                    extra.append((image, name, dim, value))
    return np.array(out), pd.DataFrame(extra, columns=hq_panel.EXTRA_COLUMNS)


def _plant_rows(full: hq_panel.Panel, path: Path, rng: np.random.Generator) -> dict:
    """Append what the real file may hold: a model row repeated for an image (another attempt), an
    expert's row repeated with one rating one level higher (both averaged by the loader), and a
    model row with a key outside the 40 categories and 4 extra dimensions."""
    experts = np.flatnonzero(full.human)
    image = int(rng.integers(full.n_images))
    expert = int(rng.choice([a for a in experts if full.rated[a, image]]))
    second = full.ratings[expert, image].copy()
    top = int(np.argmax(second))
    second[top] = min(second[top] + 1, 7.0) if second[top] < 7 else second[top] - 1
    model = full.index("GPT-4o ZS")
    again = np.where(
        full.ratings[model, image] > 0,
        np.clip(full.ratings[model, image] + rng.integers(-1, 2, 40), 1, 7),
        0.0,
    )
    keys = [taxonomy.family_key(e) for e in taxonomy.EMOTIONS]

    def line(name, human, values, extra=""):
        items = ", ".join(f"{k!r}: {int(v)}" for k, v in zip(keys, values) if human or v != 0)
        return f'{full.images[image]},{name},{human},"{{{items}{extra}}}"\n'

    ms = full.index("Claude 3.7 MS")
    with open(path, "a") as fh:
        fh.write(line(full.annotators[model], False, again))
        fh.write(line(full.annotators[expert], True, second))
        fh.write(
            line(
                full.annotators[ms],
                False,
                np.nan_to_num(full.ratings[ms, image]),
                f", {PLANTED_UNKNOWN_KEY!r}: 3",
            )
        )
    return {
        "expert_image": full.images[image],
        "expert": full.annotators[expert],
        "expert_second": second,
        "repeated_model": full.annotators[model],
        "unknown_key": PLANTED_UNKNOWN_KEY,
    }


def write_binary(faces_binary: Faces, dataset: Path, seed: int) -> None:
    """The Binary replica: one row per image with the prompt slots (ClassLabels) and ``label``,
    the simulated experts' yes/no answers under the paper's sequential protocol
    (:func:`emonet.binary.protocol.simulate_on_intensity`) as a list of one-key dicts in the
    order asked."""
    from datasets import ClassLabel, Image, Value

    rng = np.random.default_rng(keyed_seed(seed, "replica", "binary"))
    ids = [f"b{i}" for i in range(len(faces_binary.png))]
    target = faces_binary.table["emotion"].map(taxonomy.INDEX).to_numpy()
    votes = protocol.simulate_on_intensity(
        ids,
        faces_binary.truth,
        target,
        [-0.8, -0.4, -0.1, 0.0, 0.2, 0.4, 0.8],
        [3, 2, 2, 2, 1, 1, 1],
        threshold=3.0,
        slope=1.0,
        rng=rng,
    )
    votes = votes[votes["asked"]]
    spelled = {v: k for k, v in taxonomy.ALIASES.items()}
    labels = []
    for image in ids:
        mine = votes[votes["image"] == image].sort_values("line")
        labels.append(
            repr(
                [
                    {
                        r.annotator.replace("sim-", "human-"): {
                            spelled.get(str(r.emotion), str(r.emotion)): bool(r.value)
                        }
                    }
                    for r in mine.itertuples()
                ]
            )
        )
    columns, features = _metadata_columns(faces_binary.table, rng)
    subsets = ["train" if k % 5 else "test" for k in range(len(ids))]
    columns = {
        "path": [
            {"bytes": b, "path": p} for b, p in zip(faces_binary.png, _stored_names(len(ids), rng))
        ],
        **columns,
        "subset": [["test", "train"].index(s) for s in subsets],
        "label": labels,
    }
    features = {
        "path": Image(),
        **features,
        "subset": ClassLabel(names=["test", "train"]),
        "label": Value("string"),
    }
    _write_dataset(columns, features, dataset, "emonet-face-binary replica")


def write_big(faces_big: Faces, dataset: Path, seed: int) -> None:
    """The Big replica: ``image``, ``prompt``, ``demographics`` (ethnicity, gender, age) and
    ``annotations``, the simulated weak labeler's 0-7 ratings as a JSON dict of the categories it
    names (the published form of this column is not confirmed)."""
    from datasets import Image, Value

    rng = np.random.default_rng(keyed_seed(seed, "replica", "big"))
    weak = standins.weak_labels(faces_big.truth, rng)
    rows = faces_big.table
    columns = {
        "image": [
            {"bytes": b, "path": p} for b, p in zip(faces_big.png, _stored_names(len(rows), rng))
        ],
        "prompt": list(rows["prompt"]),
        "demographics": [
            {"ethnicity": e, "gender": g, "age": int(a)}
            for e, g, a in zip(rows["ethnicity"], rows["gender"], rows["age"])
        ],
        "annotations": [
            json.dumps(
                {
                    taxonomy.family_key(e): int(w[k])
                    for k, e in enumerate(taxonomy.EMOTIONS)
                    if w[k] > 0
                }
            )
            for w in weak
        ],
    }
    features = {
        "image": Image(),
        "prompt": Value("string"),
        "demographics": {
            "ethnicity": Value("string"),
            "gender": Value("string"),
            "age": Value("int32"),
        },
        "annotations": Value("string"),
    }
    _write_dataset(columns, features, dataset, "emonet-face-big replica")


def write_affectnet(folder: Path, seed: int) -> int:
    """The AffectNet result parts (``affectnet1.jsonl`` ... ``affectnet4.jsonl``) in the
    ``ferd.jsonl`` schema with an integer ``label``: for each record a face expression of one of
    the categories the authors map to its basic label (the offline faces' expression model, no
    drawing), read by 44 heads as truth plus noise around the released neutral means
    (``mean_subtracted = raw - neutral``, ``softmax`` over the 40). Returns the record count."""
    rng = np.random.default_rng(keyed_seed(seed, "replica", "affectnet"))
    mappings = loaders.load_basic_mappings()
    neutral = released.neutral_means(loaders.load_model_outputs())
    n_labels = len(mappings["affectnet_label_index"])
    folder.mkdir(parents=True, exist_ok=True)
    records = []
    for k in range(SIZES["affectnet"]):
        label = k % n_labels
        basic = mappings["affectnet_label_index"][label]
        members = mappings["affectnet"].index[mappings["affectnet"] == basic]
        emotion = (
            str(members[rng.integers(len(members))])
            if len(members)
            else taxonomy.EMOTIONS[rng.integers(taxonomy.N_EMOTIONS)]
        )
        truth = faces.truth_of(faces.expression(emotion, rng.uniform(0.6, 1.0), rng))
        raw = truth * 0.6 + rng.normal(0, 0.8, truth.shape) + neutral.to_numpy()
        shifted = raw - neutral.to_numpy()
        soft = np.exp(shifted - shifted.max())
        soft /= soft.sum()
        results = {
            taxonomy.head_name(e): {
                "raw": float(raw[i]),
                "mean_subtracted": float(shifted[i]),
                "softmax": float(soft[i]),
            }
            for i, e in enumerate(taxonomy.EMOTIONS)
        }
        for dim, (low, high) in taxonomy.EXTRA_DIMENSIONS.items():
            value = float(rng.uniform(low, high))
            results[taxonomy.head_name(dim)] = {
                "raw": value,
                "mean_subtracted": value,
                "softmax": None,
            }
        records.append({"image_path": f"affectnet/{k:06d}.jpg", "label": label, "results": results})
    for part, name in enumerate(loaders.AFFECTNET_PARTS):
        lines = records[part :: len(loaders.AFFECTNET_PARTS)]
        (folder / name).write_text("".join(json.dumps(r) + "\n" for r in lines))
    return len(records)
