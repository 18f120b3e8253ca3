"""The EmoNet-Face datasets on the Hugging Face hub (``laion/emonet-face-big``, ``-binary``,
``-hq``) in their published schemas, through the ``datasets`` library: images kept encoded and
read lazily, weak labels, votes, expert ratings and demographics, validated with errors that name
the source, row and field (:class:`emonet.data.registry.DataError`).

A source is a hub id (``owner/name`` or ``owner/name@revision``: fetched and verified by
:mod:`emonet.data.snapshots`, then opened with ``datasets.load_dataset`` on the snapshot
folder), a local dataset folder, or a parquet file in the same schema. The published schemas
(``docs/rehearsal.md`` lists what is known of them):

* every set: the image in the column typed ``Image`` (``image`` in Big, ``path`` in Binary and
  HQ). The file names stored inside that feature are not the original ones, so rows are named by
  their position, ``<prefix>-000042`` (:func:`row_ids`);
* Binary and HQ: ``prompt``, ``age``, ``ethnicity``, ``gender``, ``emotion``, ``subset`` (often
  ``ClassLabel`` features: integers mapped through the feature's own names, never by position in
  a list of ours) and ``label``: a Python-literal list of one-key dicts, ``[{'human-4':
  {'Amusement': True}}, ...]`` (Binary: the experts' yes/no votes in the order asked) or
  ``[{'human-3': {'Family|Emotion': 5, ...}}, ...]`` (HQ: the experts' 0-7 ratings);
* Big: ``prompt``, ``demographics`` and ``annotations`` (the weak labels, a dict of category ->
  0-7 in some form, :func:`parse_annotations`).
"""

from __future__ import annotations

import ast
import json
from dataclasses import dataclass

import numpy as np
import pandas as pd

from emonet.data import loaders, snapshots, taxonomy
from emonet.data.demographics import AGES, ETHNICITIES, GENDERS, GROUP_OF
from emonet.data.registry import DataError


def row_ids(prefix: str, n: int) -> np.ndarray:
    """Ids of a dataset's rows: ``<prefix>-000000`` ... (the datasets carry no file names)."""
    return np.array([f"{prefix}-{i:06d}" for i in range(n)])


@dataclass
class HubSet:
    """One dataset as read: the opened ``datasets.Dataset`` (images not decoded), its
    ``image_column``, the row ids (:func:`row_ids`), where it came from (``snapshot``: None for a
    local folder or file) and the ``source`` as given."""

    data: object
    image_column: str
    ids: np.ndarray
    snapshot: snapshots.Snapshot | None
    source: str

    @property
    def images(self) -> DatasetImages:
        """The encoded images as a lazy sequence (for the encoder)."""
        return DatasetImages(self.data, self.source, self.image_column)

    def frame(self, columns) -> pd.DataFrame:
        """``columns`` as a table indexed by row id, ``ClassLabel`` integers mapped through the
        feature's names; a column the dataset lacks is a :class:`DataError` naming those it has."""
        missing = [c for c in columns if c not in self.data.column_names]
        if missing:
            raise DataError(
                f"{self.source}: no column(s) {missing} (columns: {self.data.column_names})"
            )
        frame = self.data.select_columns(list(columns)).to_pandas()
        for column in columns:
            names = getattr(self.data.features[column], "names", None)
            if names is not None:  # a ClassLabel: its integers index its own names
                frame[column] = frame[column].map(dict(enumerate(names)))
        return frame.set_axis(pd.Index(self.ids, name="id"))


def open_set(source: str, prefix: str) -> HubSet:
    """A dataset by hub id (fetched at its revision and verified), local folder or parquet file,
    images kept encoded (``Image(decode=False)``: dicts with ``bytes``)."""
    snapshots.import_tqdm()
    import datasets
    from datasets import Image, load_dataset

    datasets.disable_progress_bars()
    snapshot = None
    if str(source).endswith(".parquet"):
        data = load_dataset("parquet", data_files=str(source), split="train")
    else:
        ref = snapshots.parse(source, "dataset")
        folder = source
        if ref is not None:
            snapshot = snapshots.fetch(ref)
            folder = snapshot.folder
        data = load_dataset(str(folder), split="train")
    column = image_column(data, source)
    data = data.cast_column(column, Image(decode=False))
    return HubSet(data, column, row_ids(prefix, len(data)), snapshot, str(source))


def image_column(data, source: str) -> str:
    """The dataset's image column: the one typed ``Image`` (``path`` in Binary and HQ, ``image``
    in Big), else a column named ``image`` holding ``{bytes, path}`` records."""
    from datasets import Image

    typed = [c for c, f in data.features.items() if isinstance(f, Image)]
    if len(typed) == 1:
        return typed[0]
    if (
        not typed
        and isinstance(data.features.get("image"), dict)
        and "bytes" in data.features["image"]
    ):
        return "image"
    raise DataError(
        f"{source}: expected one image column (typed Image), found "
        f"{typed or 'none'} among {data.column_names}"
    )


class DatasetImages:
    """The encoded image bytes of a dataset's image column as a lazy sequence (for
    :meth:`emonet.model.encoder.Encoder.embed`): nothing is held in memory."""

    def __init__(self, data, source: str, column: str = "image"):
        self.data, self.source, self.column = data, source, column

    def __len__(self) -> int:
        return len(self.data)

    def __getitem__(self, i: int) -> bytes:
        cell = self.data[int(i)][self.column]
        blob = cell.get("bytes") if isinstance(cell, dict) else None
        if not blob:
            raise DataError(
                f"{self.source}: row {i}, field {self.column!r}: no embedded image bytes"
            )
        return blob


def real_metadata(frame: pd.DataFrame, source: str = "metadata") -> pd.DataFrame:
    """Normalise a dataset's metadata (``id, age, ethnicity, gender, emotion``; ClassLabels
    already mapped to their names) to this module's slots.

    Returns ``id, emotion, ethnicity, ethnicity_group, age, gender``, one row per image.
    Ethnicity strings match case-insensitively; ages are read as integers; names that match no
    level raise :class:`DataError` with the count and examples.
    """
    needed = ("id", "age", "ethnicity", "gender", "emotion")
    missing = [c for c in needed if c not in frame]
    if missing:
        raise DataError(f"{source}: metadata lacks column(s) {missing}; expected {list(needed)}")
    folded = {s.casefold(): s for s in ETHNICITIES}
    ethnicity = frame["ethnicity"].astype(str).str.strip().str.casefold().map(folded)
    age = pd.to_numeric(frame["age"].astype(str).str.extract(r"(\d+)")[0], errors="coerce")
    gender = frame["gender"].astype(str).str.strip().str.lower()
    for name, bad in (
        ("ethnicity", ethnicity.isna()),
        ("age", ~age.isin(AGES)),
        ("gender", ~gender.isin(GENDERS)),
    ):
        if bad.any():
            examples = frame.loc[bad, name].astype(str).unique()[:5].tolist()
            raise DataError(
                f"{source}: field {name!r}: {bad.sum()} image(s) with an unknown "
                f"value, e.g. {examples} (first at row {int(np.flatnonzero(bad)[0])})"
            )
    emotions = []
    for row, name in enumerate(frame["emotion"].astype(str)):
        try:
            emotions.append(taxonomy.canonical(name))
        except taxonomy.UnknownEmotionError as err:
            raise DataError(f"{source} row {row}, field 'emotion': {err}") from None
    return pd.DataFrame(
        {
            "id": frame["id"].astype(str).to_numpy(),
            "emotion": emotions,
            "ethnicity": ethnicity.to_numpy(),
            "ethnicity_group": ethnicity.map(GROUP_OF).to_numpy(),
            "age": age.astype(int).to_numpy(),
            "gender": gender.to_numpy(),
        }
    )


def metadata(hub_set: HubSet) -> pd.DataFrame:
    """Demographics and prompted emotion of an opened dataset (Binary or HQ schema), normalised
    by :func:`real_metadata`; only the metadata columns are read."""
    frame = hub_set.frame(["age", "ethnicity", "gender", "emotion"]).reset_index()
    return real_metadata(frame, hub_set.source)


def load_real_metadata(source: str, prefix: str = "row") -> pd.DataFrame:
    """:func:`metadata` of the dataset ``source`` (rows named ``<prefix>-000000`` ...)."""
    return metadata(open_set(source, prefix))


def _literal(cell, where: str):
    """A JSON or Python-literal string parsed (other cells as they are)."""
    if not isinstance(cell, str):
        return cell
    try:
        return json.loads(cell)
    except json.JSONDecodeError:
        try:
            return ast.literal_eval(cell)
        except (ValueError, SyntaxError, MemoryError, RecursionError):
            shown = cell if len(cell) <= 80 else cell[:77] + "..."
            raise DataError(f"{where}: neither JSON nor a Python literal: {shown!r}") from None


def parse_annotations(cell, where: str) -> np.ndarray:
    """40 weak intensities (canonical order) from one ``annotations`` cell: a dict, or a JSON /
    Python-literal string of one, mapping a category (its name, a known alias or a
    ``"Family|Emotion"`` key) to a number on 0-7; a list of such dicts is averaged. Missing
    categories count as 0; ``Extra Dimensions|...`` keys are not categories and are skipped. Any
    other form is a :class:`DataError` that shows the record."""
    cell = _literal(cell, where)
    if isinstance(cell, (list, tuple)):
        if not cell:
            raise DataError(f"{where}: empty list of annotations")
        return np.mean([parse_annotations(c, where) for c in cell], axis=0)
    if not isinstance(cell, dict):
        raise DataError(
            f"{where}: annotations must be a dict of category -> 0-7, got "
            f"{type(cell).__name__}: {str(cell)[:80]!r}"
        )
    out = np.zeros(taxonomy.N_EMOTIONS)
    for key, value in cell.items():
        if value is None:
            continue
        try:
            name, is_category = (
                taxonomy.from_family_key(key)
                if "|" in str(key)
                else (taxonomy.canonical(key), True)
            )
        except taxonomy.UnknownEmotionError as err:
            raise DataError(f"{where}: {err}; the record: {str(cell)[:120]!r}") from None
        if not is_category:
            continue
        try:
            value = float(value)
        except (TypeError, ValueError):
            raise DataError(
                f"{where}: {key!r} has a non-numeric value {value!r}; the record: "
                f"{str(cell)[:120]!r}"
            ) from None
        if not 0.0 <= value <= 7.0:
            raise DataError(f"{where}: {key!r} = {value} lies outside 0-7")
        out[taxonomy.INDEX[name]] = value
    return out


def load_hf_big(source: str = "laion/emonet-face-big") -> tuple[HubSet, np.ndarray]:
    """The Big set and its weak labels ``(n, 40)`` from the ``annotations`` column."""
    big = open_set(source, "big")
    if "annotations" not in big.data.column_names:
        raise DataError(f"{source}: no 'annotations' column (columns: {big.data.column_names})")
    cells = big.data["annotations"]
    weak = (
        np.stack(
            [
                parse_annotations(c, f"{source} row {i}, field 'annotations'")
                for i, c in enumerate(cells)
            ]
        )
        if len(cells)
        else np.zeros((0, taxonomy.N_EMOTIONS))
    )
    return big, weak


def _rater_entries(cell, where: str) -> list[tuple[str, dict]]:
    """``[(rater, {key: value}), ...]`` from a ``label`` cell: a Python-literal list of one-key
    dicts ``{rater: {key: value}}``, in order."""
    entries = _literal(cell, where)
    if not isinstance(entries, (list, tuple)):
        raise DataError(
            f"{where}: expected a list of {{rater: {{...}}}} dicts, got "
            f"{type(entries).__name__}: {str(cell)[:80]!r}"
        )
    out = []
    for k, entry in enumerate(entries):
        if not (isinstance(entry, dict) and len(entry) == 1):
            raise DataError(
                f"{where}, entry {k}: expected a one-key dict {{rater: {{...}}}}, got "
                f"{str(entry)[:80]!r}"
            )
        ((rater, values),) = entry.items()
        if not isinstance(values, dict):
            raise DataError(
                f"{where}, entry {k} ({rater}): expected a dict, got {str(values)[:80]!r}"
            )
        out.append((str(rater), values))
    return out


_ANSWERS = {
    True: True,
    False: False,
    "yes": True,
    "no": False,  # 1 and 0 equal True, False
    "true": True,
    "false": False,
}


def load_hf_binary(source: str = "laion/emonet-face-binary") -> tuple[HubSet, pd.DataFrame]:
    """The Binary set and its expert votes from ``label`` in the
    :func:`emonet.data.loaders.load_binary` schema (``image`` = row id, ``annotator``, ``value``,
    ``emotion``, ``line`` = the vote's position in the dataset, so the order asked is kept)."""
    binary = open_set(source, "binary")
    labels = binary.frame(["label"])["label"]
    rows = []
    for row, (image, cell) in enumerate(labels.items()):
        where = f"{source} row {row}, field 'label'"
        for rater, votes in _rater_entries(cell, where):
            for emotion, answer in votes.items():
                key = answer.strip().lower() if isinstance(answer, str) else answer
                if not isinstance(key, (bool, int, str)) or key not in _ANSWERS:
                    raise DataError(
                        f"{where}: {rater}'s answer on {emotion!r} is {answer!r}, not yes/no"
                    )
                try:
                    name = taxonomy.canonical(str(emotion).split("|")[-1])
                except taxonomy.UnknownEmotionError as err:
                    raise DataError(f"{where}: {err}") from None
                rows.append((image, rater, _ANSWERS[key], name))
    votes = pd.DataFrame(rows, columns=["image", "annotator", "value", "emotion"])
    votes["emotion"] = pd.Categorical(votes["emotion"], categories=taxonomy.EMOTIONS)
    votes["line"] = np.arange(len(votes)) + 1
    if votes.empty:
        raise DataError(f"{source}: no votes in the 'label' column")
    return binary, votes


def load_hf_hq(source: str = "laion/emonet-face-hq") -> HubSet:
    """The HQ set (its images and row ids)."""
    return open_set(source, "hq")


@dataclass
class ExpertRatings:
    """The experts' ratings an HQ dataset carries in ``label``: per row id ``{rater: (40,)}`` on
    0-7 (a rater listed twice for one image is averaged, as in ``hq.csv``), and the keys that
    named neither a category nor an extra dimension (``key, rows``; ignored, as in ``hq.csv``)."""

    ratings: dict[str, dict[str, np.ndarray]]
    unknown_keys: pd.DataFrame
    snapshot: snapshots.Snapshot | None


def hq_expert_ratings(source: str | HubSet = "laion/emonet-face-hq") -> ExpertRatings:
    """The expert ratings of an HQ dataset's ``label`` column (images are not read): the set as
    opened (:func:`load_hf_hq`), or its source, opened here."""
    hq = source if isinstance(source, HubSet) else open_set(source, "hq")
    source = hq.source
    labels = hq.frame(["label"])["label"]
    out, unknown = {}, {}
    for row, (image, cell) in enumerate(labels.items()):
        where = f"{source} row {row}, field 'label'"
        by_rater: dict[str, list[np.ndarray]] = {}
        for rater, values in _rater_entries(cell, where):
            vector = np.zeros(taxonomy.N_EMOTIONS)
            for key, value in values.items():
                known = loaders.rating_key(str(key))
                if known is None:
                    unknown[key] = unknown.get(key, 0) + 1
                    continue
                name, is_category = known
                if not is_category:
                    continue
                if (
                    isinstance(value, bool)
                    or not isinstance(value, (int, float))
                    or not 0 <= value <= 7
                ):
                    raise DataError(
                        f"{where}: {rater}'s rating of {key!r} is {value!r}, not a number on 0-7"
                    )
                vector[taxonomy.INDEX[name]] = value
            by_rater.setdefault(rater, []).append(vector)
        out[image] = {rater: np.mean(v, axis=0) for rater, v in by_rater.items()}
    table = pd.DataFrame(sorted(unknown.items()), columns=["key", "rows"])
    return ExpertRatings(out, table, hq.snapshot)
