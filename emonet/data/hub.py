"""The EmoNet-Face datasets on the Hugging Face hub (``laion/emonet-face-big``, ``-binary``,
``-hq``) through the ``datasets`` library, or local parquet files in their schemas: images kept
encoded and read lazily, weak labels, votes and demographics, validated with errors that name the
source, row and field (:class:`emonet.data.registry.DataError`).
"""

from __future__ import annotations

import ast
import json

import numpy as np
import pandas as pd

from emonet.data import taxonomy
from emonet.data.demographics import AGES, ETHNICITIES, GENDERS, GROUP_OF
from emonet.data.registry import DataError

#: Metadata columns of the ``laion/emonet-face-*`` datasets on the Hugging Face hub.
HF_COLUMNS = ("path", "prompt", "age", "ethnicity", "gender", "emotion", "subset", "label")


def real_metadata(frame: pd.DataFrame) -> pd.DataFrame:
    """Normalise an EmoNet-Face dataset's metadata (``HF_COLUMNS`` schema) to this module's slots.

    Returns ``path, emotion, ethnicity, ethnicity_group, age, gender``, one row per image (the
    Binary set repeats an image per label; ``emotion`` is then its first row's category).
    Ethnicity strings match case-insensitively; ages are read as integers; names that match no
    level raise :class:`DataError` with examples.
    """
    missing = [c for c in ("path", "age", "ethnicity", "gender", "emotion") if c not in frame]
    if missing:
        raise DataError(f"metadata lacks column(s) {missing}; expected {list(HF_COLUMNS)}")
    images = frame.drop_duplicates("path")
    folded = {s.casefold(): s for s in ETHNICITIES}
    ethnicity = images["ethnicity"].astype(str).str.strip().str.casefold().map(folded)
    age = pd.to_numeric(images["age"].astype(str).str.extract(r"(\d+)")[0], errors="coerce")
    gender = images["gender"].astype(str).str.strip().str.lower()
    for name, bad in (("ethnicity", ethnicity.isna()), ("age", ~age.isin(AGES)),
                      ("gender", ~gender.isin(GENDERS))):
        if bad.any():
            examples = images.loc[bad, name].astype(str).unique()[:5].tolist()
            raise DataError(f"{bad.sum()} image(s) with unknown {name}: {examples}")
    return pd.DataFrame({
        "path": images["path"].astype(str).to_numpy(),
        "emotion": [taxonomy.canonical(e) for e in images["emotion"]],
        "ethnicity": ethnicity.to_numpy(),
        "ethnicity_group": ethnicity.map(GROUP_OF).to_numpy(),
        "age": age.astype(int).to_numpy(),
        "gender": gender.to_numpy(),
    })


def load_real_metadata(source: str) -> pd.DataFrame:
    """Metadata of a real EmoNet-Face dataset, normalised by :func:`real_metadata`.

    ``source``: a local parquet file in the ``HF_COLUMNS`` schema, or a Hugging Face dataset id
    such as ``laion/emonet-face-binary`` (full profile; needs the ``datasets`` library and the
    hub; only the metadata columns are read).
    """
    if source.endswith(".parquet"):
        return real_metadata(pd.read_parquet(source))
    from datasets import load_dataset

    data = load_dataset(source, split="train")
    keep = [c for c in HF_COLUMNS if c in data.column_names]
    return real_metadata(data.select_columns(keep).to_pandas())


def _hf_dataset(source: str):
    """A Hugging Face dataset by hub id, or a local parquet file in the same schema; images are
    kept encoded (``Image(decode=False)``: dicts with ``bytes``)."""
    from datasets import Image, load_dataset

    if source.endswith(".parquet"):
        data = load_dataset("parquet", data_files=source, split="train")
    else:
        data = load_dataset(source, split="train")
    if "image" not in data.column_names:
        raise DataError(f"{source}: no 'image' column (columns: {data.column_names})")
    return data.cast_column("image", Image(decode=False))


class DatasetImages:
    """The encoded image bytes of a Hugging Face dataset as a lazy sequence (for
    :meth:`emonet.model.encoder.Encoder.embed`): nothing is held in memory."""

    def __init__(self, data, source: str):
        self.data, self.source = data, source

    def __len__(self) -> int:
        return len(self.data)

    def __getitem__(self, i: int) -> bytes:
        cell = self.data[int(i)]["image"]
        blob = cell.get("bytes") if isinstance(cell, dict) else None
        if not blob:
            raise DataError(f"{self.source}: row {i} has no embedded image bytes")
        return blob


def parse_annotations(cell, where: str) -> np.ndarray:
    """40 weak intensities (canonical order) from one ``annotations`` cell: a dict, or a JSON /
    Python-literal string of one, mapping a category (its name, a known alias or a
    ``"Family|Emotion"`` key) to a number on 0-7; a list of such dicts is averaged. Missing
    categories count as 0; ``Extra Dimensions|...`` keys are not categories and are skipped."""
    if isinstance(cell, str):
        try:
            cell = json.loads(cell)
        except json.JSONDecodeError:
            try:
                cell = ast.literal_eval(cell)
            except (ValueError, SyntaxError):
                raise DataError(f"{where}: annotations are neither JSON nor a Python "
                                        f"literal: {cell[:60]!r}") from None
    if isinstance(cell, (list, tuple)):
        if not cell:
            raise DataError(f"{where}: empty list of annotations")
        return np.mean([parse_annotations(c, where) for c in cell], axis=0)
    if not isinstance(cell, dict):
        raise DataError(f"{where}: annotations must be a dict of category -> 0-7, got "
                                f"{type(cell).__name__}")
    out = np.zeros(taxonomy.N_EMOTIONS)
    for key, value in cell.items():
        if value is None:
            continue
        try:
            name, is_category = taxonomy.from_family_key(key) if "|" in str(key) else \
                (taxonomy.canonical(key), True)
        except taxonomy.UnknownEmotionError as err:
            raise DataError(f"{where}: {err}") from None
        if not is_category:
            continue
        try:
            value = float(value)
        except (TypeError, ValueError):
            raise DataError(f"{where}: {key!r} has a non-numeric value {value!r}") \
                from None
        if not 0.0 <= value <= 7.0:
            raise DataError(f"{where}: {key!r} = {value} lies outside 0-7")
        out[taxonomy.INDEX[name]] = value
    return out


def load_hf_big(source: str = "laion/emonet-face-big"):
    """The Big set: ``(images, weak)`` with ``images`` a lazy sequence of encoded images and
    ``weak`` ``(n, 40)`` from the ``annotations`` column (dataset card fields: ``image``,
    ``prompt``, ``demographics``, ``annotations``)."""
    data = _hf_dataset(source)
    if "annotations" not in data.column_names:
        raise DataError(f"{source}: no 'annotations' column (columns: "
                                f"{data.column_names})")
    cells = data["annotations"]
    weak = np.stack([parse_annotations(c, f"{source} row {i}") for i, c in enumerate(cells)]) \
        if len(cells) else np.zeros((0, taxonomy.N_EMOTIONS))
    return DatasetImages(data, source), weak


def load_hf_binary(source: str = "laion/emonet-face-binary"):
    """The Binary set: ``(images, ids, labels)``: one encoded image per distinct ``path`` (first
    row), their ids, and the votes in the :func:`emonet.data.loaders.load_binary` schema. Rows follow
    :data:`emonet.data.hub.HF_COLUMNS` plus ``image``; ``label`` is yes/no (or true/false, 1/0)."""

    data = _hf_dataset(source)
    missing = [c for c in ("path", "emotion", "label") if c not in data.column_names]
    if missing:
        raise DataError(f"{source}: missing column(s) {missing}; expected "
                                f"{list(HF_COLUMNS)} and 'image'")
    meta = data.select_columns(["path", "emotion", "label"]).to_pandas()
    answer = meta["label"].astype(str).str.strip().str.lower()
    known = {"yes": True, "true": True, "1": True, "no": False, "false": False, "0": False}
    bad = ~answer.isin(known)
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise DataError(f"{source} row {row}: label {meta['label'].iloc[row]!r} is not "
                                f"yes/no ({int(bad.sum())} such rows)")
    emotions = []
    for row, name in enumerate(meta["emotion"].astype(str)):
        try:
            emotions.append(taxonomy.canonical(name))
        except taxonomy.UnknownEmotionError as err:
            raise DataError(f"{source} row {row}: {err}") from None
    labels = pd.DataFrame({"image": meta["path"].astype(str).to_numpy(),
                           "value": answer.map(known).to_numpy(bool),
                           "emotion": pd.Categorical(emotions, categories=taxonomy.EMOTIONS),
                           "line": np.arange(len(meta)) + 2})
    first = ~meta["path"].astype(str).duplicated().to_numpy()
    ids = meta["path"].astype(str).to_numpy()[first]
    images = DatasetImages(data.select(np.flatnonzero(first).tolist()), source)
    return images, ids, labels


def load_hf_hq(source: str = "laion/emonet-face-hq") -> tuple[DatasetImages, np.ndarray]:
    """The HQ images (a lazy sequence of encoded images) and their ids: the ``path`` column, or
    the row number as ``00000`` when the dataset has none."""
    hq = _hf_dataset(source)
    ids = np.asarray(hq["path"] if "path" in hq.column_names else
                     [f"{i:05d}" for i in range(len(hq))]).astype(str)
    return DatasetImages(hq, source), ids
