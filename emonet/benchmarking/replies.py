"""A VLM's replies under the authors' two protocols: accepted or rejected as their notebooks do,
and turned into an ``hq.csv`` annotations dict.

**Zero-shot** (their retry loop): a reply that starts with a code fence loses its first line and
a closing fence line; it must then parse as JSON (an object), and its ``value`` must be a dict of
exactly 25 entries none of which equals 0. Otherwise the image is asked again with the retry text
appended, up to 20 attempts. Their loop checks neither the keys nor the range of the values.

**Multi-shot** (their ``validate_annotation``): the reply must parse as JSON as it stands (their
parser strips no code fence); a ``content`` key is unwrapped as their ``extract_content`` does;
the top-level keys must be exactly ``emotions`` and ``extra_dimensions``; each of the 40 emotions
and 4 extra dimensions needs a ``rating`` (an integer; a float with an integer value counts) and
a string ``reasoning``; emotions rate 0-7 with at most 5 above 0, each extra dimension stays on
its scale. Every problem is listed; one attempt. One deliberate difference: a JSON ``true`` is
not a rating here (Python's ``isinstance(True, int)`` lets their check take it for 1).

A reply the protocol accepts must also fit ``hq.csv``: every zero-shot key one of the 40
categories as ``"Family|Emotion"`` (the family part is not checked, as in the loader), every
value a finite number on 0-7. An accepted reply that does not is ``unusable``: the authors'
loop would have stopped there, so it is not asked again; it is counted with its reason and
written to no row.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field

from emonet.data import taxonomy
from emonet.data.loaders import RATING_RANGE
from emonet.data.protocols import MultiShot, ZeroShot

#: The three outcomes of a reply.
ACCEPTED, REJECTED, UNUSABLE = "accepted", "rejected", "unusable"

#: The 0-7 rating scale of the 40 emotions as integers.
RATING_RANGE_INT = (int(RATING_RANGE[0]), int(RATING_RANGE[1]))


@dataclass(frozen=True)
class Verdict:
    """What became of one reply: ``status`` (accepted, rejected, unusable), ``code`` (a short
    name of the first problem, "" when accepted), ``reason`` (every problem, in words) and the
    ``annotations`` an accepted reply gives (``"Family|Emotion"`` key -> value; extra
    dimensions under ``"Extra Dimensions|..."``)."""

    status: str
    code: str = ""
    reason: str = ""
    annotations: dict = field(default_factory=dict)

    @property
    def nonzero(self) -> int:
        """Categories of the 40 rated above 0."""
        return sum(
            1
            for key, value in self.annotations.items()
            if taxonomy.from_family_key(key)[1] and value != 0
        )


def _problems(problems: list[tuple[str, str]], status: str = REJECTED, limit: int = 3) -> Verdict:
    """A verdict from ``(code, message)`` problems: the first code, the first ``limit``
    messages."""
    shown = "; ".join(message for _, message in problems[:limit])
    if len(problems) > limit:
        shown += f"; and {len(problems) - limit} more"
    return Verdict(status, problems[0][0], shown)


def _strip_fence(text: str) -> str:
    """The authors' zero-shot fence stripping: a leading fence line and a closing one go."""
    if not text.startswith("```"):
        return text
    lines = text.split("\n")
    if lines[0].startswith("```"):
        lines = lines[1:]
    if lines and lines[-1].strip() == "```":
        lines = lines[:-1]
    return "\n".join(lines)


def _json(text: str) -> tuple[object, str]:
    """``(parsed, "")`` or ``(None, why it is not JSON)``."""
    try:
        return json.loads(text), ""
    except json.JSONDecodeError as err:
        return None, f"not JSON ({err.msg} at line {err.lineno} column {err.colno})"


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def check_zero_shot(text: str, protocol: ZeroShot) -> Verdict:
    """One zero-shot reply (``protocol`` gives the count the example output fixes, 25)."""
    parsed, error = _json(_strip_fence(text.strip()))
    if error:
        return Verdict(REJECTED, "not-json", error)
    if not isinstance(parsed, dict):
        return Verdict(REJECTED, "not-an-object", f"a JSON {type(parsed).__name__}, not an object")
    value = parsed.get("value", {})
    if not isinstance(value, dict):
        return Verdict(
            REJECTED, "no-value-dict", f"'value' is a {type(value).__name__}, not a dict"
        )
    wanted = len(protocol.categories)
    if len(value) != wanted:
        return Verdict(REJECTED, "wrong-count", f"'value' has {len(value)} entries, not {wanted}")
    zeros = [key for key, v in value.items() if v == 0]
    if zeros:
        return Verdict(
            REJECTED, "zero-value", f"'value' rates {len(zeros)} key(s) 0, e.g. {zeros[0]!r}"
        )
    return _usable(value)


def _usable(values: dict) -> Verdict:
    """An accepted reply's ratings as hq.csv annotations, or ``unusable`` with the reasons."""
    problems, out, seen = [], {}, {}
    low, high = RATING_RANGE
    for key, value in values.items():
        try:
            name, is_category = taxonomy.from_family_key(key)
        except taxonomy.UnknownEmotionError as err:
            problems.append(("unknown-key", str(err)))
            continue
        if not is_category:
            problems.append(
                ("unknown-key", f"{key!r} is an extra dimension, not one of the 40 categories")
            )
            continue
        if name in seen:
            problems.append(("duplicate-key", f"{key!r} names {name!r} again (as {seen[name]!r})"))
            continue
        seen[name] = key
        if not _is_number(value) or not low <= value <= high:
            problems.append(
                ("bad-value", f"{key!r} is {value!r}, not a number on {low:g}-{high:g}")
            )
            continue
        out[taxonomy.family_key(name)] = value
    if problems:
        return _problems(problems, UNUSABLE)
    return Verdict(ACCEPTED, annotations=out)


def scale_bounds(text: str) -> tuple[int, int]:
    """A scale as the authors write it, ``"0-7"`` or ``"-3 to +3"``, as ``(low, high)``."""
    low, high = text.split(" to ") if " to " in text else text.split("-")
    return int(low), int(high)


def _rating(value) -> int | None:
    """An integer rating as the authors accept it (a float with an integer value counts)."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    return None


def _dimension(group: str, name: str, inner, scale: tuple[int, int], problems: list) -> int | None:
    """One ``{"rating", "reasoning"}`` entry: its rating, or None with the problems noted."""
    if not isinstance(inner, dict):
        problems.append(("not-a-dict", f"{group} {name!r} is not a dict"))
        return None
    if "reasoning" not in inner:
        problems.append(("missing-reasoning", f"{group} {name!r} has no 'reasoning'"))
    elif not isinstance(inner["reasoning"], str):
        problems.append(("reasoning-not-text", f"{group} {name!r}: 'reasoning' is not a string"))
    if "rating" not in inner:
        problems.append(("missing-rating", f"{group} {name!r} has no 'rating'"))
        return None
    rating = _rating(inner["rating"])
    if rating is None:
        problems.append(
            (
                "rating-not-integer",
                f"{group} {name!r}: rating {inner['rating']!r} is not an integer",
            )
        )
        return None
    if not scale[0] <= rating <= scale[1]:
        problems.append(
            (
                "rating-out-of-range",
                f"{group} {name!r}: rating {rating} outside {scale[0]}..{scale[1]}",
            )
        )
        return None
    return rating


def _content(parsed):
    """The authors' ``extract_content``, applied twice as their worker does: a ``content`` key
    is unwrapped; a JSON string is parsed again."""
    for _ in range(2):
        if isinstance(parsed, str):
            parsed, error = _json(parsed)
            if error:
                return None
        if isinstance(parsed, dict):
            parsed = parsed.get("content", parsed)
    return parsed


def _keys(group: str, code: str, found, required, problems: list) -> None:
    """Note the names of ``required`` that ``found`` lacks and the names it has beyond them."""
    missing, extra = sorted(set(required) - set(found)), sorted(set(found) - set(required))
    if missing:
        problems.append((f"missing-{code}", f"{len(missing)} {group} missing, e.g. {missing[:3]}"))
    if extra:
        problems.append((f"unknown-{code}", f"{len(extra)} unknown {group}, e.g. {extra[:3]}"))


def check_multi_shot(text: str, protocol: MultiShot) -> Verdict:
    """One multi-shot reply, every problem listed as the authors' ``validate_annotation``
    lists them."""
    parsed, error = _json(text)
    if error:
        return Verdict(REJECTED, "not-json", error)
    data = _content(parsed)
    if not isinstance(data, dict) or not data:
        return Verdict(REJECTED, "no-content", "no JSON object with content")
    problems = []
    if set(data) != {"emotions", "extra_dimensions"}:
        problems.append(
            (
                "top-level-keys",
                f"top-level keys {sorted(data)}, expected ['emotions', 'extra_dimensions']",
            )
        )
    emotions = data.get("emotions") if isinstance(data.get("emotions"), dict) else {}
    extra = data.get("extra_dimensions") if isinstance(data.get("extra_dimensions"), dict) else {}
    _keys("emotions", "emotions", emotions, protocol.emotions, problems)
    ratings = {}
    for name in protocol.emotions:
        if name in emotions:
            ratings[name] = _dimension("emotion", name, emotions[name], RATING_RANGE_INT, problems)
    nonzero = sum(1 for r in ratings.values() if r)
    if nonzero > protocol.max_nonzero:
        problems.append(
            (
                "too-many-nonzero",
                f"{nonzero} emotions rated above 0, at most {protocol.max_nonzero} allowed",
            )
        )
    _keys("extra dimensions", "dimensions", extra, protocol.extra_dimensions, problems)
    dims = {}
    for name, spec in protocol.extra_dimensions.items():
        if name in extra:
            dims[name] = _dimension(
                "extra dimension", name, extra[name], scale_bounds(spec["scale"]), problems
            )
    if problems:
        return _problems(problems)
    annotations = {taxonomy.family_key(name): rating for name, rating in ratings.items()}
    annotations.update({taxonomy.family_key(name): rating for name, rating in dims.items()})
    return Verdict(ACCEPTED, annotations=annotations)
