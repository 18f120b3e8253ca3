"""The authors' acceptance rules on scripted replies: zero-shot (fences, JSON, 25 entries, no 0;
then what hq.csv can hold) and multi-shot (every rule of their validate_annotation)."""

import json

import pytest

from emonet.benchmarking import replies, vlm_study
from emonet.data import taxonomy


def zs_reply(zero, values=None, drop=0, **changes) -> dict:
    """A zero-shot reply over the example's 25 keys (rated 3), ``drop`` keys fewer."""
    value = dict.fromkeys(zero.keys[: len(zero.keys) - drop], 3)
    value.update(changes.get("value", {}))
    return {"key": ["folder", "model", "a.png"], "value": values or value}


def ms_reply(multi, ratings=None, extra=None) -> dict:
    """A multi-shot reply: the given emotion ratings (others 0), extra dimensions at 0."""
    ratings = ratings or {"Amusement": 6, "Elation": 4}
    return {
        "emotions": {e: {"rating": ratings.get(e, 0), "reasoning": "r"} for e in multi.emotions},
        "extra_dimensions": {
            d: {"rating": (extra or {}).get(d, 0), "reasoning": "r"} for d in multi.extra_dimensions
        },
    }


def test_zero_shot_accepts_25_nonzero_entries_and_strips_a_fence(zero):
    text = json.dumps(zs_reply(zero))
    for reply in (text, f"```json\n{text}\n```", f"  \n```\n{text}\n```  "):
        verdict = replies.check_zero_shot(reply, zero)
        assert verdict.status == replies.ACCEPTED and verdict.nonzero == 25
        assert set(verdict.annotations) == {taxonomy.family_key(c) for c in zero.categories}


@pytest.mark.parametrize(
    "reply, code",
    [
        ('{"value": {"Positive High-Energy Emotions|Amusement": 3', "not-json"),
        ("I cannot rate faces.", "not-json"),
        ("", "not-json"),
        ("[1, 2, 3]", "not-an-object"),
        ('{"value": [1, 2]}', "no-value-dict"),
    ],
)
def test_zero_shot_rejects_what_does_not_parse(zero, reply, code):
    verdict = replies.check_zero_shot(reply, zero)
    assert (verdict.status, verdict.code) == (replies.REJECTED, code)


def test_zero_shot_rejects_24_or_26_entries_and_a_zero(zero):
    short = replies.check_zero_shot(json.dumps(zs_reply(zero, drop=1)), zero)
    assert (short.status, short.code) == (replies.REJECTED, "wrong-count")
    assert "24 entries, not 25" in short.reason
    long = zs_reply(zero, value={"Positive High-Energy Emotions|Amusement": 2})
    assert replies.check_zero_shot(json.dumps(long), zero).code == "wrong-count"
    zero_value = zs_reply(zero, value={zero.keys[0]: 0})
    verdict = replies.check_zero_shot(json.dumps(zero_value), zero)
    assert (verdict.status, verdict.code) == (replies.REJECTED, "zero-value")
    assert replies.check_zero_shot('{"key": []}', zero).code == "wrong-count"  # no value: 0


def test_zero_shot_checks_no_keys_or_range_but_hq_csv_needs_them(zero):
    """The authors' loop accepts any 25 non-zero entries; one that hq.csv cannot hold is
    unusable (counted, never asked again), not rejected."""
    out_of_range = zs_reply(zero, value={zero.keys[0]: 9})
    verdict = replies.check_zero_shot(json.dumps(out_of_range), zero)
    assert (verdict.status, verdict.code) == (replies.UNUSABLE, "bad-value")
    assert "9, not a number on 0-7" in verdict.reason
    value = zs_reply(zero)["value"]
    value.pop(zero.keys[0])
    value["Positive|Gladness"] = 2
    verdict = replies.check_zero_shot(json.dumps({"value": value}), zero)
    assert (verdict.status, verdict.code) == (replies.UNUSABLE, "unknown-key")
    text = json.dumps(zs_reply(zero, value={zero.keys[1]: "high"}))
    assert replies.check_zero_shot(text, zero).code == "bad-value"
    floats = zs_reply(zero, value={zero.keys[1]: 2.5})
    assert replies.check_zero_shot(json.dumps(floats), zero).status == replies.ACCEPTED


def test_multi_shot_accepts_at_most_5_nonzero_and_integer_floats(multi):
    reply = ms_reply(
        multi,
        {"Amusement": 7, "Elation": 5.0, "Awe": 1, "Pride": 2, "Relief": 3},
        {"Valence": -3, "Arousal": 7, "Emotional Vulnerability": 5},
    )
    verdict = replies.check_multi_shot(json.dumps(reply), multi)
    assert verdict.status == replies.ACCEPTED and verdict.nonzero == 5
    assert verdict.annotations["Positive High-Energy Emotions|Elation"] == 5
    assert verdict.annotations["Extra Dimensions|Valence"] == -3
    assert len(verdict.annotations) == 44
    wrapped = json.dumps({"content": reply})  # the authors' extract_content unwraps it
    assert replies.check_multi_shot(wrapped, multi).status == replies.ACCEPTED


@pytest.mark.parametrize(
    "change, code",
    [
        (
            lambda r: (
                r["emotions"]["Awe"].update(rating=1)
                or [r["emotions"][e].update(rating=2) for e in ("Pride", "Relief", "Fear", "Anger")]
            ),
            "too-many-nonzero",
        ),
        (lambda r: r["emotions"]["Awe"].update(rating=8), "rating-out-of-range"),
        (lambda r: r["emotions"]["Awe"].update(rating=-1), "rating-out-of-range"),
        (lambda r: r["emotions"]["Awe"].update(rating=2.5), "rating-not-integer"),
        (lambda r: r["emotions"]["Awe"].update(rating="3"), "rating-not-integer"),
        (lambda r: r["emotions"]["Awe"].update(rating=True), "rating-not-integer"),
        (lambda r: r["extra_dimensions"]["Valence"].update(rating=4), "rating-out-of-range"),
        (
            lambda r: r["extra_dimensions"]["Emotional Vulnerability"].update(rating=6),
            "rating-out-of-range",
        ),
        (lambda r: r["emotions"].pop("Awe"), "missing-emotions"),
        (
            lambda r: r["emotions"].update(Gladness={"rating": 0, "reasoning": ""}),
            "unknown-emotions",
        ),
        (lambda r: r["extra_dimensions"].pop("Dominance"), "missing-dimensions"),
        (lambda r: r["emotions"]["Awe"].pop("reasoning"), "missing-reasoning"),
        (lambda r: r["emotions"]["Awe"].pop("rating"), "missing-rating"),
        (lambda r: r.update(key="x"), "top-level-keys"),
    ],
)
def test_multi_shot_rejects_every_broken_rule(multi, change, code):
    reply = ms_reply(multi)
    change(reply)
    verdict = replies.check_multi_shot(json.dumps(reply), multi)
    assert (verdict.status, verdict.code) == (replies.REJECTED, code), verdict


def test_multi_shot_lists_every_problem_and_strips_no_fence(multi):
    reply = ms_reply(multi, dict.fromkeys(taxonomy.EMOTIONS[:6], 1))
    reply["emotions"]["Awe"]["rating"] = 9
    verdict = replies.check_multi_shot(json.dumps(reply), multi)
    assert verdict.code == "rating-out-of-range" and "6 emotions rated above 0" in verdict.reason
    fenced = f"```json\n{json.dumps(ms_reply(multi))}\n```"
    assert replies.check_multi_shot(fenced, multi).code == "not-json"
    assert replies.check_multi_shot("[]", multi).code == "no-content"


def test_the_prompt_anatomy_adds_up(zero, multi):
    parts = vlm_study.prompt_anatomy(zero, multi)
    first = parts[(parts["protocol"] == "zero-shot") & parts["share"].notna()]
    assert first["characters"].sum() == len(zero.prompt("image.png"))
    assert parts["characters"].iloc[-1] == len(zero.additional_prompt)
    ms = parts[parts["protocol"] == "multi-shot"]
    assert 0 <= len(multi.prompt()) - ms["characters"].sum() <= 1  # a leading newline
    assert ms["part"].str.contains(r"EXAMPLES.*\(5 worked examples").any()
    rules = vlm_study.protocol_rules(zero, multi).set_index("protocol")
    assert rules.loc["zero-shot", "attempts"] == 20 and rules.loc["multi-shot", "attempts"] == 1
