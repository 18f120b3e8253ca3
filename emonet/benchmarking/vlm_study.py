"""What chapter 06 shows of the authors' VLM protocols: the parts each prompt is made of, the
rules a reply must obey, how many categories each readout leaves above 0, and the readouts of
simulated VLMs joined from their annotation and evaluation runs."""

from __future__ import annotations

import json
import re

import numpy as np
import pandas as pd

from emonet.benchmarking.annotate import SUFFIX
from emonet.data import loaders, taxonomy
from emonet.data.protocols import MultiShot, ZeroShot

#: A section heading of the multi-shot template: a bold line ending in a colon, or the bold
#: critical-constraint line.
_HEADING = re.compile(r"^\*\*(?:[^*]+:|>>>[^*]+<<<)\*\*\s*$", re.M)


def prompt_anatomy(zero: ZeroShot, multi: MultiShot, file_name: str = "image.png") -> pd.DataFrame:
    """The parts of each prompt, in order: ``protocol, part, characters, share`` (of the
    protocol's first prompt; the zero-shot retry text, appended from the second attempt on, is a
    last row with its own length and no share)."""
    empty = zero.prompt_text.format(instructions="", options="", example_output="", file_name="")
    rows = [
        ("zero-shot", "request around the slots (PROMPT_TEXT)", len(empty)),
        ("zero-shot", "expert guideline (INSTRUCTIONS, HTML)", len(zero.instructions)),
        (
            "zero-shot",
            "options: 40 labels with their words, 7 families (OPTIONS as JSON)",
            len(json.dumps(zero.options)),
        ),
        ("zero-shot", f"example output ({len(zero.keys)} keys)", len(zero.example_output)),
        ("zero-shot", "file name", len(file_name)),
    ]
    starts = [m.start() for m in _HEADING.finditer(multi.template)]
    bounds = [0, *starts, len(multi.template)]
    examples = len(re.findall(r"^\*Example \d+", multi.template, re.M))
    for start, end in zip(bounds[:-1], bounds[1:]):
        part = multi.template[start:end]
        if not part.strip():
            continue
        heading = part.split("\n", 1)[0].strip("* :") if start else "opening"
        if "EXAMPLES" in heading:
            heading += f" ({examples} worked examples, the closing request)"
        rows.append(("multi-shot", heading, end - start))
    table = pd.DataFrame(rows, columns=["protocol", "part", "characters"])
    table["share"] = table["characters"] / table.groupby("protocol")["characters"].transform("sum")
    retry = pd.DataFrame(
        [
            (
                "zero-shot",
                "retry text (ADDITIONAL_PROMPT, attempts 2-20)",
                len(zero.additional_prompt),
                np.nan,
            )
        ],
        columns=table.columns,
    )
    return pd.concat([table, retry], ignore_index=True)


def protocol_rules(zero: ZeroShot, multi: MultiShot) -> pd.DataFrame:
    """One row per protocol: what it asks, the reply's form, the rule on non-zero categories,
    the scales, attempts and the reply length of the authors' request (tokens)."""
    extra = "; ".join(f"{name} {spec['scale']}" for name, spec in multi.extra_dimensions.items())
    return pd.DataFrame(
        [
            {
                "protocol": "zero-shot",
                "asks": f"the {len(zero.keys)} categories of its example output",
                "reply": "JSON: {'value': {'Family|Emotion': rating}}",
                "non-zero rule": f"exactly {len(zero.keys)} entries, none 0 (keys and values are not "
                "checked)",
                "scale": "1-7 (0 is omitted)",
                "attempts": zero.max_attempts,
                "reply tokens": zero.max_tokens,
            },
            {
                "protocol": "multi-shot",
                "asks": f"all {len(multi.emotions)} emotions and "
                f"{len(multi.extra_dimensions)} extra dimensions, each with a reasoning",
                "reply": "JSON: {'emotions': {...}, 'extra_dimensions': {...}}",
                "non-zero rule": f"at most {multi.max_nonzero} of {len(multi.emotions)} above 0",
                "scale": f"integers 0-7; {extra}",
                "attempts": multi.max_attempts,
                "reply tokens": multi.max_tokens,
            },
        ]
    )


def nonzero_counts(experts, rows: pd.DataFrame) -> pd.DataFrame:
    """Categories rated above 0 per rated image: each expert of the panel ``experts`` (who
    "experts"), and each annotator of ``rows`` (the ratings of :func:`emonet.data.loaders.
    load_hq`; who: its name). Columns ``who, image, nonzero``."""
    parts = []
    for a in np.flatnonzero(experts.human):
        rated = experts.rated[a]
        parts.append(
            pd.DataFrame(
                {
                    "who": "experts",
                    "image": np.array(experts.images)[rated],
                    "nonzero": (experts.ratings[a][rated] > 0).sum(axis=1),
                }
            )
        )
    values = rows[list(taxonomy.EMOTIONS)].to_numpy(float)
    parts.append(
        pd.DataFrame(
            {
                "who": rows["annotator"].to_numpy(),
                "image": rows["image"].to_numpy(),
                "nonzero": (values > 0).sum(axis=1),
            }
        )
    )
    return pd.concat(parts, ignore_index=True)


def combine_hq(paths) -> pd.DataFrame:
    """The rows of several hq.csv-format files as one table (as read: strings)."""
    frames = [pd.read_csv(p, dtype=str, keep_default_na=False) for p in paths]
    return pd.concat(frames, ignore_index=True)[list(loaders.HQ_COLUMNS)]


def readout_table(
    summary: pd.DataFrame, annotation: pd.DataFrame, perceivers: dict[str, str]
) -> pd.DataFrame:
    """One row per simulated VLM and readout: ``perceiver, readout`` and, from its annotation
    run (``annotation``: :func:`emonet.benchmarking.annotate.summary_table` rows of every
    perceiver), ``images, accepted, failed, mean_attempts, mean_nonzero``; from the evaluation
    (``summary``: :func:`emonet.benchmarking.evaluate.summary_table`), ``mean_kappa, mean_rho,
    rho_ci_low, rho_ci_high, could_be, could_be_p``. ``perceivers``: label -> annotator prefix."""
    names = {
        (label, readout): f"{prefix} {suffix}"
        for label, prefix in perceivers.items()
        for readout, suffix in SUFFIX.items()
    }
    ran = annotation.set_index("annotator").reindex(list(names.values()))
    evaluated = summary.set_index("annotator").reindex(list(names.values()))  # NaN: no rows
    table = pd.DataFrame(list(names), columns=["perceiver", "readout"])
    for column in ("images", "accepted", "failed", "mean_attempts", "mean_nonzero"):
        table[column] = ran[column].to_numpy()
    for column in ("mean_kappa", "mean_rho", "rho_ci_low", "rho_ci_high", "could_be", "could_be_p"):
        table[column] = evaluated[column].to_numpy()
    return table


def readout_sentences(readouts: pd.DataFrame) -> str:
    """What :func:`readout_table` shows, in words: per simulated VLM its mean rho and kappa under
    each readout; then what the multi-shot rule cost and how often zero-shot asked again."""
    sentences = []
    for perceiver, rows in readouts.groupby("perceiver", sort=False):
        r = rows.set_index("readout")
        swing = r["mean_rho"].max() - r["mean_rho"].min()
        sentences.append(
            f"The VLM seeing {perceiver} reaches a mean rho of "
            f"{r.loc['zero-shot', 'mean_rho']:.3f} zero-shot, "
            f"{r.loc['multi-shot', 'mean_rho']:.3f} multi-shot and "
            f"{r.loc['logits', 'mean_rho']:.3f} from its rating probabilities (mean kappa "
            f"{r.loc['zero-shot', 'mean_kappa']:.3f}, {r.loc['multi-shot', 'mean_kappa']:.3f} "
            f"and {r.loc['logits', 'mean_kappa']:.3f}): the readout alone moves rho by "
            f"{swing:.3f}."
        )
    multi = readouts[readouts["readout"] == "multi-shot"]
    zero = readouts[readouts["readout"] == "zero-shot"]
    sentences.append(
        f"With one attempt, the {int(multi['failed'].sum())} of {int(multi['images'].sum())} "
        "multi-shot replies that broke the rule are lost (counted as failed; their images have "
        f"no row), while zero-shot asked again: {zero['mean_attempts'].mean():.2f} attempts per "
        f"image, {int(zero['failed'].sum())} images without an accepted reply."
    )
    return " ".join(sentences)


def demo_sentence(
    summary: pd.DataFrame, prompt_tokens: pd.Series, n_images: int, max_new_tokens: int | None
) -> str:
    """What a transformer VLM's annotation run (:func:`emonet.benchmarking.annotate.
    summary_table`) did, in words; ``prompt_tokens``: the longest prompt per ``(readout,
    retry)``."""
    s = summary.set_index("readout")
    cap = (
        f"replies capped at {max_new_tokens} tokens"
        if max_new_tokens
        else "replies as long as the authors allowed"
    )
    parts = [
        f"On {n_images} image(s), {cap}: the zero-shot prompt is "
        f"{prompt_tokens[('zero-shot', False)]:,} tokens with the image "
        f"({prompt_tokens.get(('zero-shot', True), 0):,} with the retry text), the "
        f"multi-shot prompt {prompt_tokens[('multi-shot', False)]:,}."
    ]
    for readout, label in (("zero-shot", "Zero-shot"), ("multi-shot", "Multi-shot")):
        r = s.loc[readout]
        parts.append(
            f"{label}: {r['accepted']} accepted, {r['failed']} failed and "
            f"{r['unusable']} unusable after {r['attempts']} attempts in all."
        )
    if not s.loc[["zero-shot", "multi-shot"], "accepted"].any():
        parts.append("No reply was accepted; each one is counted with its reason, none is dropped.")
    r = s.loc["logits"]
    parts.append(
        f"The rating probabilities give every image an expected rating; the model put "
        f"{r['rating_mass']:.2%} of its next-token probability on the 8 rating "
        "tokens."
    )
    return " ".join(parts)
