"""Validating loaders of the upstream files.

Loaders return tidy tables with canonical emotion names (:mod:`emonet.data.taxonomy`) and raise
:class:`emonet.data.registry.DataError` naming the file, line and field of the first problems; no
row is ever dropped silently.
"""

from __future__ import annotations

import ast
import functools
import json
import math
import os
from pathlib import Path

import numpy as np
import pandas as pd

from emonet.data import taxonomy
from emonet.data.registry import RAW_URL, DataError, fetch, locate_supplied
from emonet.data.taxonomy import BASIC_EMOTIONS


def _fail(path, problem: str, line: int | None = None, field: str | None = None) -> DataError:
    where = str(path)
    if line is not None:
        where += f": line {line}"
    if field is not None:
        where += f", field {field!r}"
    return DataError(f"{where}: {problem}")


def _report_rows(
    path, mask: np.ndarray, lines: np.ndarray, field: str, problem: str, values=None, limit: int = 5
) -> None:
    """Raise for the rows where ``mask`` is True, naming the count and the first ``limit`` lines."""
    bad = np.flatnonzero(mask)
    if bad.size == 0:
        return
    shown = ", ".join(
        f"line {lines[i]}" + ("" if values is None else f" ({values[i]!r})") for i in bad[:limit]
    )
    more = f" and {bad.size - limit} more" if bad.size > limit else ""
    raise DataError(f"{path}: field {field!r}: {problem} in {bad.size} row(s): {shown}{more}")


def _read_csv(path: Path, columns: tuple[str, ...]) -> pd.DataFrame:
    """Read a CSV as strings; check it is non-empty and has exactly ``columns``."""
    if path.stat().st_size == 0:
        raise _fail(path, "empty file (0 bytes)")
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""])
    except pd.errors.EmptyDataError:
        raise _fail(path, "empty file (no header)") from None
    except pd.errors.ParserError as err:
        raise _fail(path, f"malformed CSV ({err}); truncated or corrupt file?") from None
    missing = [c for c in columns if c not in frame.columns]
    extra = [c for c in frame.columns if c not in columns]
    if missing or extra:
        parts = []
        if missing:
            parts.append(f"missing column(s) {missing}")
        if extra:
            parts.append(f"unexpected column(s) {extra}")
        raise _fail(path, "; ".join(parts) + f"; expected exactly {list(columns)}", line=1)
    if frame.empty:
        raise _fail(path, "no data rows after the header")
    # Empty fields and the fields missing from a cut-off row are both NaN here.
    lines = np.arange(len(frame)) + 2  # header is line 1
    for col in columns:
        _report_rows(
            path,
            frame[col].isna().to_numpy(),
            lines,
            col,
            "empty or missing value (truncated row?)",
        )
    return frame[list(columns)]


_BOOLEANS = {"True": True, "False": False, "true": True, "false": False}


def _boolean_column(path: Path, values: pd.Series, field: str) -> pd.Series:
    """``True``/``False`` strings as booleans; raise naming the rows that are neither."""
    lines = np.arange(len(values)) + 2
    _report_rows(
        path,
        ~values.isin(_BOOLEANS).to_numpy(),
        lines,
        field,
        "not a boolean (expected True or False)",
        values.to_numpy(),
    )
    return values.map(_BOOLEANS).astype(bool)


def _canonical_column(path: Path, values: pd.Series, field: str) -> pd.Series:
    """Map names to canonical categories (aliases allowed); raise on unknown names."""
    known = set(taxonomy.EMOTIONS) | set(taxonomy.ALIASES)
    lines = np.arange(len(values)) + 2
    _report_rows(
        path,
        ~values.isin(known).to_numpy(),
        lines,
        field,
        "unknown emotion name",
        values.to_numpy(),
    )
    return values.replace(taxonomy.ALIASES)


BINARY_COLUMNS = ("path", "annotator", "value", "emotion")


def load_binary(path: str | os.PathLike | None = None) -> pd.DataFrame:
    """Binary-set expert labels as a tidy table, one row per (image, annotator, emotion).

    Columns: ``image`` (str, 5-digit id), ``annotator`` (str), ``value`` (bool: emotion present),
    ``emotion`` (canonical name; the upstream ``Hopelessness`` becomes ``Helplessness``),
    ``line`` (line number in the file). Raises :class:`DataError` on malformed input.
    """
    path = Path(path) if path is not None else fetch("binary.csv")
    frame = _read_csv(path, BINARY_COLUMNS)
    lines = np.arange(len(frame)) + 2
    value = _boolean_column(path, frame["value"], "value")
    emotion = _canonical_column(path, frame["emotion"], "emotion")
    out = pd.DataFrame(
        {
            "image": frame["path"],
            "annotator": frame["annotator"],
            "value": value,
            "emotion": pd.Categorical(emotion, categories=taxonomy.EMOTIONS),
            "line": lines,
        }
    )
    dup = out.duplicated(["image", "annotator", "emotion"], keep="first").to_numpy()
    _report_rows(
        path,
        dup,
        lines,
        "path/annotator/emotion",
        "duplicate label (same image, annotator and emotion as an earlier row)",
        (out["image"] + "/" + out["annotator"]).to_numpy(),
    )
    return out


HQ_COLUMNS = ("image", "annotator", "human", "annotations")


#: Annotators whose name contains this hold scores on 0-1 that the authors multiply by 7.
HUME_MARK = "Hume Face"


HUME_FACTOR = 7.0


#: Ratings of the 40 categories by human experts lie on this scale.
RATING_RANGE = (0.0, 7.0)


def load_hq(path: str | os.PathLike | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """HQ-set ratings (``hq.csv`` schema): one row per (image, annotator), validated.

    The file has the columns ``image, annotator, human, annotations``; ``annotations`` is a
    Python-literal dict ``{"<Family>|<Emotion>": rating}`` read with :func:`ast.literal_eval`. A
    category missing from the dict counts as 0 (the authors' rule); ``Extra Dimensions|`` keys are
    kept apart; every value of an annotator whose name contains ``Hume Face`` is multiplied by 7.

    Where the real file may differ from these assumptions, the loader follows the authors'
    analysis and reports instead of rejecting: rows that repeat an (image, annotator) pair are
    averaged (per category, after the rules above), and keys that name neither a category nor an
    extra dimension are ignored; both are listed in ``ratings.attrs`` (:func:`hq_checks`).

    Returns ``(ratings, extra)``. ``ratings``: columns ``image``, ``annotator``, ``human`` (bool),
    ``line`` (first line in the file), ``n_missing`` (categories absent from the dict(s), set to
    0) and the 40 categories in canonical order (float, 0-7 scale); ``attrs["duplicates"]``
    (``image, annotator, rows, lines, max_difference``) and ``attrs["unknown_keys"]`` (``key,
    rows, first_line``). ``extra``: one row per extra dimension given, columns ``image,
    annotator, dimension, value, line`` (duplicates averaged likewise).

    Raises :class:`DataError` naming file, line and field for: missing or extra columns, empty or
    truncated rows, booleans other than True/False, an annotator flagged both human and not,
    malformed or non-dict annotations, non-string keys, a category given twice in one dict,
    non-numeric or non-finite values, human ratings outside 0-7 and Hume scores outside 0-1
    (before the x7).
    """
    path = Path(path) if path is not None else fetch("hq.csv")
    frame = _read_csv(path, HQ_COLUMNS)
    lines = np.arange(len(frame)) + 2
    human = _boolean_column(path, frame["human"], "human").to_numpy()
    flags = (
        pd.DataFrame({"annotator": frame["annotator"], "human": human})
        .groupby("annotator")["human"]
        .nunique()
    )
    mixed = frame["annotator"].isin(flags.index[flags > 1]).to_numpy()
    _report_rows(
        path,
        mixed,
        lines,
        "human",
        "annotator flagged both human and not human",
        frame["annotator"].to_numpy(),
    )

    values = np.zeros((len(frame), taxonomy.N_EMOTIONS))
    given = np.zeros((len(frame), taxonomy.N_EMOTIONS), dtype=bool)
    extra_rows, unknown = [], {}
    hume = frame["annotator"].str.contains(HUME_MARK, regex=False).to_numpy()
    image_of, annotator_of = frame["image"].tolist(), frame["annotator"].tolist()
    for row, (text, line) in enumerate(zip(frame["annotations"].tolist(), lines)):
        row_values, row_given = [0.0] * taxonomy.N_EMOTIONS, [False] * taxonomy.N_EMOTIONS
        for key, value in _annotation_dict(path, text, line).items():
            known = rating_key(key)
            if known is None:
                count, first = unknown.get(key, (0, line))
                unknown[key] = (count + 1, first)
                continue
            name, is_category = known
            if hume[row]:
                if not 0.0 <= value <= 1.0:
                    raise _fail(
                        path,
                        f"Hume score {value!r} for {key!r} outside 0-1 (the "
                        f"authors multiply it by {HUME_FACTOR:g})",
                        line=line,
                        field="annotations",
                    )
                value *= HUME_FACTOR
            if not is_category:
                extra_rows.append((image_of[row], annotator_of[row], name, value, line))
                continue
            col = taxonomy.INDEX[name]
            if row_given[col]:
                raise _fail(
                    path,
                    f"category {name!r} given twice (key {key!r})",
                    line=line,
                    field="annotations",
                )
            row_given[col] = True
            row_values[col] = value
        values[row], given[row] = row_values, row_given
    low, high = RATING_RANGE
    bad = human[:, None] & ((values < low) | (values > high))
    if bad.any():
        r, c = np.argwhere(bad)[0]
        first = f"{taxonomy.EMOTIONS[c]} = {float(values[r, c])!r}"
        raise _fail(
            path,
            f"{int(bad.any(axis=1).sum())} human row(s) with ratings outside "
            f"{low:g}-{high:g}, first: {first}",
            line=int(lines[r]),
            field="annotations",
        )
    ratings = pd.DataFrame(values, columns=list(taxonomy.EMOTIONS))
    ratings.insert(0, "image", frame["image"].to_numpy())
    ratings.insert(1, "annotator", frame["annotator"].to_numpy())
    ratings.insert(2, "human", human)
    ratings.insert(3, "line", lines)
    ratings.insert(4, "n_missing", (~given).sum(axis=1))
    extra = pd.DataFrame(extra_rows, columns=["image", "annotator", "dimension", "value", "line"])
    ratings, extra, duplicates = _average_duplicates(ratings, extra)
    ratings.attrs["duplicates"] = duplicates
    ratings.attrs["unknown_keys"] = pd.DataFrame(
        [(k, n, first) for k, (n, first) in unknown.items()], columns=["key", "rows", "first_line"]
    )
    return ratings, extra


@functools.lru_cache(maxsize=4096)  # a file repeats the same few dozen keys on every row
def rating_key(key: str) -> tuple[str, bool] | None:
    """``(name, is_category)`` of an annotation key ``"<Family>|<Emotion>"`` (a category, aliases
    allowed) or ``"Extra Dimensions|<dimension>"``; None for a key that names neither."""
    try:
        return taxonomy.from_family_key(key)
    except taxonomy.UnknownEmotionError:
        return None


def _average_duplicates(
    ratings: pd.DataFrame, extra: pd.DataFrame
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Average the rows that repeat an (image, annotator) pair, as the authors' analysis does;
    return the averaged tables and one row per repeated pair (``image, annotator, rows, lines,
    max_difference``: the largest spread of a category over the pair's rows)."""
    pair = ["image", "annotator"]
    repeated = ratings.duplicated(pair, keep=False)
    emotions = list(taxonomy.EMOTIONS)
    groups = ratings[repeated].groupby(pair, sort=False)
    duplicates = (
        pd.DataFrame(
            {
                "rows": groups.size(),
                "lines": groups["line"].agg(lambda s: ", ".join(map(str, s))),
                "max_difference": groups[emotions].agg(lambda s: s.max() - s.min()).max(axis=1),
            }
        ).reset_index()
        if repeated.any()
        else pd.DataFrame(columns=[*pair, "rows", "lines", "max_difference"])
    )
    if not repeated.any():
        return ratings, extra, duplicates
    merged = ratings.groupby(pair, sort=False).agg(
        {"human": "first", "line": "min", "n_missing": "sum", **dict.fromkeys(emotions, "mean")}
    )
    merged = merged.reset_index()
    extra = (
        extra.groupby([*pair, "dimension"], sort=False)
        .agg(value=("value", "mean"), line=("line", "min"))
        .reset_index()
        if len(extra)
        else extra
    )
    return merged, extra, duplicates


def hq_checks(ratings: pd.DataFrame) -> pd.DataFrame:
    """What :func:`load_hq` did with a file's irregular rows: one row per check (``check,
    count, detail``): repeated (image, annotator) pairs averaged, unknown keys ignored,
    category keys absent (read as 0)."""
    duplicates, unknown = ratings.attrs["duplicates"], ratings.attrs["unknown_keys"]
    shown = "; ".join(
        f"{r.image} / {r.annotator} (lines {r.lines})" for r in duplicates.head(3).itertuples()
    )
    keys = "; ".join(
        f"{r.key!r} ({r.rows} rows, first line {r.first_line})"
        for r in unknown.head(3).itertuples()
    )
    return pd.DataFrame(
        [
            (
                "(image, annotator) pairs given in several rows: averaged",
                len(duplicates),
                shown or "none",
            ),
            (
                "rows merged into those pairs",
                int(duplicates["rows"].sum()) if len(duplicates) else 0,
                f"largest difference within a pair: {duplicates['max_difference'].max():.3g}"
                if len(duplicates)
                else "none",
            ),
            ("distinct unknown keys: ignored", len(unknown), keys or "none"),
            (
                "category keys absent from the dicts: read as 0",
                int(ratings["n_missing"].sum()),
                "the authors' rule",
            ),
        ],
        columns=["check", "count", "detail"],
    )


def _reject_constant(name: str):
    raise ValueError(f"{name} is not a Python literal")


def _as_json(text: str) -> dict | None:
    """The common form of an ``annotations`` field, ``{'key': number, ...}``, parsed as JSON
    (about 8x faster than :func:`ast.literal_eval`): with no backslash and no double quote,
    swapping the quotes gives a JSON text exactly when it is a Python literal of the same
    value, except for JSON's own ``NaN``/``Infinity``/``true``/``false``/``null``, which are
    refused. None (let :func:`ast.literal_eval` read it and say what is wrong) for anything
    else: other quoting, escapes, other constants, or not a dict of finite numbers."""
    if "\\" in text or '"' in text:
        return None
    try:
        parsed = json.loads(text.replace("'", '"'), parse_constant=_reject_constant)
    except ValueError:
        return None
    if not isinstance(parsed, dict):
        return None
    out = {}
    for key, value in parsed.items():
        if type(value) not in (int, float) or not math.isfinite(value):
            return None
        out[key] = float(value)
    return out


def _annotation_dict(path: Path, text: str, line: int) -> dict[str, float]:
    """One ``annotations`` field as ``{key: float}``; raise naming the line on any problem."""
    fast = _as_json(text)
    if fast is not None:
        return fast
    try:
        parsed = ast.literal_eval(text)
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        shown = text if len(text) <= 60 else text[:57] + "..."
        raise _fail(
            path,
            f"malformed annotations, not a Python literal (truncated?): {shown!r}",
            line=line,
            field="annotations",
        ) from None
    if not isinstance(parsed, dict):
        raise _fail(
            path,
            f"expected a dict of ratings, got {type(parsed).__name__}",
            line=line,
            field="annotations",
        )
    out = {}
    for key, value in parsed.items():
        if not isinstance(key, str):
            raise _fail(path, f"key {key!r} is not a string", line=line, field="annotations")
        if (
            isinstance(value, bool)
            or not isinstance(value, (int, float))
            or not math.isfinite(value)
        ):
            raise _fail(
                path,
                f"rating of {key!r} is {value!r}, expected a finite number",
                line=line,
                field="annotations",
            )
        out[key] = float(value)
    return out


def load_guide(path: str | os.PathLike | None = None) -> pd.DataFrame:
    """Descriptor words of ``guide.json`` as a tidy table in canonical order.

    Columns: ``emotion``, ``family``, ``position`` (0-based within the category), ``word``
    (as written upstream; repeated words are kept and reported by the taxonomy chapter).
    The file's categories and families must match :mod:`emonet.data.taxonomy` exactly.
    """
    path = Path(path) if path is not None else fetch("guide.json")
    raw = _read_json(path)
    options = raw.get("options") if isinstance(raw, dict) else None
    if not isinstance(options, dict):
        raise _fail(path, "expected an object with an 'options' object", field="options")
    for key in ("labels", "buttons"):
        if not isinstance(options.get(key), dict):
            raise _fail(path, f"expected an object of {key}", field=f"options.{key}")
    labels, buttons = options["labels"], options["buttons"]
    _same_names(path, "options.labels", list(labels), taxonomy.EMOTIONS)
    _same_names(path, "options.buttons", list(buttons), tuple(taxonomy.FAMILIES))
    for family, members in buttons.items():
        if sorted(members) != sorted(taxonomy.FAMILIES[family]):
            raise _fail(
                path,
                f"members {members} differ from the taxonomy's {list(taxonomy.FAMILIES[family])}",
                field=f"options.buttons.{family}",
            )
    rows = []
    for emotion in taxonomy.EMOTIONS:
        words = labels[emotion]
        if (
            not isinstance(words, list)
            or not words
            or not all(isinstance(w, str) and w.strip() for w in words)
        ):
            raise _fail(
                path,
                "expected a non-empty list of non-empty strings",
                field=f"options.labels.{emotion}",
            )
        rows += [(emotion, taxonomy.FAMILY_OF[emotion], i, w) for i, w in enumerate(words)]
    return pd.DataFrame(rows, columns=["emotion", "family", "position", "word"])


def _same_names(path, field: str, got: list[str], want: tuple[str, ...]) -> None:
    unknown = [n for n in got if n not in want]
    missing = [n for n in want if n not in got]
    if unknown or missing:
        raise _fail(path, f"unknown name(s) {unknown}, missing name(s) {missing}", field=field)


def _read_json(path: Path):
    text = _read_text(path)
    try:
        return json.loads(text)
    except json.JSONDecodeError as err:
        raise _fail(
            path,
            f"invalid JSON ({err.msg} at column {err.colno}); truncated file?",
            line=err.lineno,
        ) from None


def _read_text(path: Path) -> str:
    if path.stat().st_size == 0:
        raise _fail(path, "empty file (0 bytes)")
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as err:
        raise _fail(path, f"not UTF-8 text ({err.reason} at byte {err.start})") from None


def load_basic_mappings(path: str | os.PathLike | None = None) -> dict:
    """The authors' 40-category -> basic-emotion mappings.

    Returns ``{"ferd": Series, "affectnet": Series, "affectnet_label_index": {int: label}}``;
    each Series is indexed by canonical emotion (canonical order) with basic labels as values.
    """
    path = Path(path) if path is not None else fetch("basic_emotion_mappings.json")
    raw = _read_json(path)
    if not isinstance(raw, dict):
        raise _fail(path, "expected a JSON object")
    _same_names(path, "(top level)", list(raw), ("ferd", "affectnet", "affectnet_label_index"))
    out: dict = {}
    for dataset in ("ferd", "affectnet"):
        mapping = raw[dataset]
        heads = [taxonomy.head_name(e) for e in taxonomy.EMOTIONS]
        _same_names(path, dataset, list(mapping), tuple(heads))
        for head, label in mapping.items():
            if label not in BASIC_EMOTIONS:
                raise _fail(
                    path,
                    f"{label!r} is not a basic emotion {list(BASIC_EMOTIONS)}",
                    field=f"{dataset}.{head}",
                )
        out[dataset] = pd.Series(
            [mapping[h] for h in heads],
            index=pd.Index(taxonomy.EMOTIONS, name="emotion"),
            name=f"{dataset}_label",
        )
    index = raw["affectnet_label_index"]
    if sorted(index.values()) != sorted(BASIC_EMOTIONS) or sorted(index) != [
        str(i) for i in range(len(BASIC_EMOTIONS))
    ]:
        raise _fail(
            path,
            "expected the labels 0..7 mapped one-to-one onto the 8 basic emotions",
            field="affectnet_label_index",
        )
    out["affectnet_label_index"] = {int(k): v for k, v in index.items()}
    return out


#: File-name suffixes of FERD images -> basic label (``Surprised`` means ``surprise``).
FERD_SUFFIX = {
    "Anger": "anger",
    "Contempt": "contempt",
    "Disgust": "disgust",
    "Fear": "fear",
    "Happy": "happy",
    "Neutral": "neutral",
    "Sad": "sad",
    "Surprised": "surprise",
}


SCORE_FIELDS = ("raw", "mean_subtracted", "softmax")


def load_model_outputs(
    path: str | os.PathLike | None = None, gold_from=FERD_SUFFIX
) -> pd.DataFrame:
    """Released-model head outputs (``ferd.jsonl`` schema) as a tidy long table.

    One row per (image, head). Columns: ``image``, ``gold`` (basic label from the file-name
    suffix), ``emotion`` (category or extra dimension), ``is_category``, ``raw``,
    ``mean_subtracted``, ``softmax`` (NaN for the 4 extra heads), ``line``.
    """
    path = Path(path) if path is not None else fetch("ferd.jsonl")

    def gold_of(obj: dict, lineno: int) -> tuple[str, str]:
        if set(obj) != {"image_path", "results"}:
            raise _fail(
                path, f"expected keys ['image_path', 'results'], got {sorted(obj)}", line=lineno
            )
        image = obj["image_path"]
        suffix = Path(str(image)).stem.rsplit("_", 1)[-1]
        if suffix not in gold_from:
            raise _fail(
                path,
                f"cannot read the gold label from {image!r}: suffix {suffix!r} is "
                f"not one of {sorted(gold_from)}",
                line=lineno,
                field="image_path",
            )
        return image, gold_from[suffix]

    rows = _model_records(path, gold_of, {})
    if not rows:
        raise _fail(path, "no records")
    return pd.DataFrame(rows, columns=MODEL_OUTPUT_COLUMNS)


MODEL_OUTPUT_COLUMNS = ["image", "gold", "emotion", "is_category", *SCORE_FIELDS, "line"]


def _model_records(path: Path, gold_of, seen: dict) -> list[tuple]:
    """Rows ``(image, gold, emotion, is_category, raw, mean_subtracted, softmax, line)`` of one
    ``ferd.jsonl``-schema file; ``gold_of(obj, lineno) -> (image, gold)`` reads the record's
    identity; ``seen`` (image -> "file line N") catches duplicates across files."""
    text = _read_text(path)
    heads = {taxonomy.head_name(e) for e in (*taxonomy.EMOTIONS, *taxonomy.EXTRA_DIMENSIONS)}
    rows = []
    for lineno, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            raise _fail(path, "blank line", line=lineno)
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as err:
            raise _fail(
                path,
                f"invalid JSON ({err.msg} at column {err.colno}); truncated file?",
                line=lineno,
            ) from None
        if not isinstance(obj, dict):
            raise _fail(path, f"expected a JSON object, got {type(obj).__name__}", line=lineno)
        image, gold = gold_of(obj, lineno)
        if image in seen:
            raise _fail(
                path,
                f"duplicate image {image!r} (first in {seen[image]})",
                line=lineno,
                field="image_path",
            )
        seen[image] = f"{path.name} line {lineno}"
        results = obj["results"]
        if not isinstance(results, dict):
            raise _fail(path, "expected an object of head outputs", line=lineno, field="results")
        _same_heads(path, lineno, results, heads)
        for head, scores in results.items():
            emotion = taxonomy.from_head_name(head)
            is_cat = emotion in taxonomy.INDEX
            values = [
                _score(path, lineno, head, scores, f, nullable=not is_cat) for f in SCORE_FIELDS
            ]
            rows.append((image, gold, emotion, is_cat, *values, lineno))
    return rows


#: The AffectNet result parts upstream (``eval/results/``; the authors concatenate them in this
#: order with ``merge.sh``) and the number of records the authors' notebook reports for them.
AFFECTNET_PARTS = ("affectnet1.jsonl", "affectnet2.jsonl", "affectnet3.jsonl", "affectnet4.jsonl")


AFFECTNET_RECORDS = 31002


def load_affectnet_outputs(
    paths=None,
    label_index: dict[int, str] | None = None,
    expected_records: int | None = AFFECTNET_RECORDS,
) -> pd.DataFrame:
    """Released-model outputs on AffectNet: the parts concatenated in order, as a tidy table.

    Records have the ``ferd.jsonl`` schema with an integer ``label`` (AffectNet class) instead of a
    file-name suffix; ``image_path`` is optional (else the id is ``<file>:<line>``); other keys
    are ignored and counted in ``frame.attrs["ignored_fields"]``. ``label_index``: AffectNet label
    -> basic emotion (default: ``affectnet_label_index`` of the mappings file); labels outside it
    keep ``gold`` NaN (the authors count such images wrong). Columns as
    :func:`load_model_outputs` plus ``label`` and ``file``. ``expected_records``: the total must
    match (None: no check).
    """
    paths = (
        [Path(p) for p in paths]
        if paths is not None
        else [locate_supplied(n, RAW_URL.format(path=f"eval/results/{n}")) for n in AFFECTNET_PARTS]
    )
    if label_index is None:
        label_index = load_basic_mappings()["affectnet_label_index"]
    ignored: dict[str, int] = {}
    seen: dict = {}
    frames = []
    for path in paths:
        labels: dict = {}

        def gold_of(obj: dict, lineno: int, path=path, labels=labels) -> tuple[str, object]:
            missing = [k for k in ("label", "results") if k not in obj]
            if missing:
                raise _fail(path, f"missing key(s) {missing}", line=lineno)
            for key in set(obj) - {"label", "results", "image_path"}:
                ignored[key] = ignored.get(key, 0) + 1
            label = obj["label"]
            if isinstance(label, str) and label.strip().lstrip("-").isdigit():
                label = int(label)
            if isinstance(label, bool) or not isinstance(label, int):
                raise _fail(
                    path,
                    f"expected an integer AffectNet label, got {label!r}",
                    line=lineno,
                    field="label",
                )
            image = str(obj.get("image_path", f"{path.name}:{lineno}"))
            labels[image] = label
            return image, label_index.get(label)

        rows = _model_records(path, gold_of, seen)
        if not rows:
            raise _fail(path, "no records")
        frame = pd.DataFrame(rows, columns=MODEL_OUTPUT_COLUMNS)
        frame["label"] = frame["image"].map(labels)
        frame["file"] = path.name
        frames.append(frame)
    out = pd.concat(frames, ignore_index=True)
    n = out["image"].nunique()
    if expected_records is not None and n != expected_records:
        raise DataError(
            f"{', '.join(p.name for p in paths)}: {n} records, expected "
            f"{expected_records} (the authors' count); incomplete or wrong files?"
        )
    out.attrs["ignored_fields"] = ignored
    return out


def _same_heads(path, lineno, results: dict, heads: set[str]) -> None:
    unknown, missing = sorted(set(results) - heads), sorted(heads - set(results))
    if unknown or missing:
        raise _fail(
            path,
            f"unknown head(s) {unknown}, missing head(s) {missing}",
            line=lineno,
            field="results",
        )


def _score(path, lineno, head, scores, field, nullable: bool) -> float:
    if not isinstance(scores, dict) or field not in scores:
        raise _fail(path, f"missing {field!r}", line=lineno, field=f"results.{head}")
    value = scores[field]
    if value is None and nullable and field == "softmax":
        return math.nan
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise _fail(
            path,
            f"expected a finite number, got {value!r}",
            line=lineno,
            field=f"results.{head}.{field}",
        )
    if field == "softmax" and not 0.0 <= value <= 1.0:
        raise _fail(
            path, f"softmax {value!r} outside [0, 1]", line=lineno, field=f"results.{head}.{field}"
        )
    return float(value)
