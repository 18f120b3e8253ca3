"""The annotation runner with a scripted fake model (retries, what is recorded, hq.csv rows,
resume, a torn log, settings), the simulated perceiver, and a tiny random VLM built from a config
(transformers end to end: batched generation, the KV-cache rating readout, sampling seeds)."""

import json
import os
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from emonet.benchmarking import annotate, vlm
from emonet.benchmarking.annotate import AnnotationError, ImageSet
from emonet.data import loaders, taxonomy
from emonet.hq import panel
from emonet.paths import PROJECT_ROOT


class ScriptedVLM:
    """A fake model: ``script[(image, attempt)]`` is its reply (the last attempt given repeats);
    rating probabilities are a point mass on ``ratings[image]``. Records every call."""

    name, settings, batch_size = "scripted", {"v": 1}, 2

    def __init__(self, script: dict, ratings: dict | None = None):
        self.script, self.ratings, self.calls = script, ratings or {}, []

    def generate(self, images, positions, prompts, seeds, max_new_tokens):
        self.calls.append(([images.ids[i] for i in positions], prompts, seeds, max_new_tokens))
        out = []
        for i in positions:
            image = images.ids[i]
            attempt = sum(image in ids for ids, *_ in self.calls)
            known = [a for (img, a) in self.script if img == image and a <= attempt]
            out.append(vlm.Generated(self.script[(image, max(known))], 10, 5))
        return out

    def rating_probabilities(self, images, positions, prompt, prefix, suffixes):
        self.calls.append(([images.ids[i] for i in positions], [prompt], [], 0))
        probs = np.zeros((len(positions), len(suffixes), 8))
        for row, i in enumerate(positions):
            probs[row, :, self.ratings.get(images.ids[i], 0)] = 1.0
        return probs, np.full((len(positions), len(suffixes)), 0.5)


def zs(zero, n=25, first=3) -> str:
    value = dict.fromkeys(zero.keys[:n], 3)
    value[zero.keys[0]] = first
    return json.dumps({"key": [], "value": value})


def ms(multi, nonzero=2) -> str:
    return json.dumps(
        {
            "emotions": {
                e: {"rating": int(k < nonzero), "reasoning": ""}
                for k, e in enumerate(multi.emotions)
            },
            "extra_dimensions": {d: {"rating": 0, "reasoning": ""} for d in multi.extra_dimensions},
        }
    )


@pytest.fixture
def script(zero, multi):
    """a: malformed, then fenced and right; b: 24 keys forever; c: accepted but a 9 (unusable);
    d: a 0 then right. Multi-shot: a right, b 6 non-zero, c in a code fence, d right."""
    return {
        ("a", 1): '{"value": {',
        ("a", 2): f"```json\n{zs(zero)}\n```",
        ("b", 1): zs(zero, n=24),
        ("c", 1): zs(zero, first=9),
        ("d", 1): zs(zero, first=0),
        ("d", 2): zs(zero),
    }


def ms_script(multi):
    return {
        ("a", 1): ms(multi),
        ("b", 1): ms(multi, 6),
        ("c", 1): f"```\n{ms(multi)}\n```",
        ("d", 1): ms(multi, 0),
    }


def images4():
    return ImageSet.of_ids(["a", "b", "c", "d"])


def run(backend, out, readouts, **kw):
    return annotate.annotate(
        images4(),
        backend,
        out,
        model_name="Fake",
        readouts=readouts,
        progress=False,
        log=lambda _: None,
        **kw,
    )


def test_zero_shot_retries_until_accepted_or_20_attempts(tmp_path, zero, script):
    fake = ScriptedVLM(script)
    summary = run(fake, tmp_path, ["zero-shot"]).set_index("annotator").loc["Fake ZS"]
    results = {r["image"]: r for r in annotate.read_log(tmp_path / "results.jsonl")}
    assert {k: (r["status"], r["attempts"]) for k, r in results.items()} == {
        "a": ("accepted", 2),
        "b": ("failed", 20),
        "c": ("unusable", 1),
        "d": ("accepted", 2),
    }
    assert results["b"]["code"] == "wrong-count" and results["c"]["code"] == "bad-value"
    assert summary[["images", "accepted", "failed", "unusable", "attempts"]].tolist() == [
        4,
        2,
        1,
        1,
        25,
    ]
    assert summary["accepted_after_retry"] == 2 and summary["mean_nonzero"] == 25
    # the retry text is appended from the second attempt on; batches of 2, retries batched
    first_ids, first_prompts, _, max_tokens = fake.calls[0]
    assert first_ids == ["a", "b"] and first_prompts[0] == zero.prompt("a.png")
    assert fake.calls[1][1][0] == zero.prompt("a.png", retry=True) and max_tokens == 1000
    attempts = annotate.read_log(tmp_path / "attempts.jsonl")
    assert len(attempts) == 25 and [a["attempt"] for a in attempts if a["image"] == "b"] == list(
        range(1, 21)
    )
    assert attempts[0]["reply"] == '{"value": {' and attempts[0]["code"] == "not-json"
    reasons = pd.read_csv(tmp_path / "annotate_reasons.csv").set_index("code")["attempts"]
    assert reasons.to_dict() == {"bad-value": 1, "not-json": 1, "wrong-count": 20, "zero-value": 1}


def test_rows_are_hq_csv_with_the_group_suffix(tmp_path, zero, multi, script):
    run(ScriptedVLM(script), tmp_path, ["zero-shot"])
    run(ScriptedVLM(ms_script(multi), ratings={"a": 7, "b": 2}), tmp_path, ["multi-shot", "logits"])
    ratings, extra = loaders.load_hq(tmp_path / "hq.csv")
    got = set(zip(ratings["annotator"], ratings["image"]))
    assert got == {
        ("Fake ZS", "a"),
        ("Fake ZS", "d"),
        ("Fake MS", "a"),
        ("Fake MS", "d"),
        *(("Fake logits MS", i) for i in "abcd"),
    }
    assert not ratings["human"].any() and len(extra) == 2 * 4  # the MS rows' 4 dimensions
    groups = {name: panel.annotator_group(name, False) for name in ratings["annotator"]}
    assert groups == {
        "Fake ZS": "VLMs Zero-Shot",
        "Fake MS": "VLMs Multi-Shot",
        "Fake logits MS": "VLMs Multi-Shot",
    }
    logits = ratings[ratings["annotator"] == "Fake logits MS"].set_index("image")
    assert (logits.loc["a", list(taxonomy.EMOTIONS)] == 7).all()
    results = {
        (r["annotator"], r["image"]): r for r in annotate.read_log(tmp_path / "results.jsonl")
    }
    assert results[("Fake MS", "b")]["code"] == "too-many-nonzero"
    assert results[("Fake MS", "c")]["code"] == "not-json"  # the authors strip no fence
    assert results[("Fake logits MS", "a")]["rating_mass"] == 0.5
    assert np.array(results[("Fake logits MS", "b")]["probabilities"]).shape == (40, 8)


def test_a_rerun_resumes_and_a_torn_log_is_repaired(tmp_path, script):
    run(ScriptedVLM(script), tmp_path, ["zero-shot"])
    before = (tmp_path / "hq.csv").read_bytes()
    again = ScriptedVLM(script)
    run(again, tmp_path, ["zero-shot"])
    assert again.calls == [] and (tmp_path / "hq.csv").read_bytes() == before
    # a killed run: the results of the last batch lost, half a line written
    results = (tmp_path / "results.jsonl").read_text().splitlines(keepends=True)
    kept = [r for r in results if json.loads(r)["image"] in "ab"]
    (tmp_path / "results.jsonl").write_text("".join(kept) + results[-1][:30])
    notes = []
    annotate.annotate(
        images4(),
        ScriptedVLM(script),
        tmp_path,
        model_name="Fake",
        readouts=["zero-shot"],
        progress=False,
        log=notes.append,
    )
    assert "dropped a torn last line" in notes[0]
    summary = annotate.summary_table(tmp_path).set_index("annotator").loc["Fake ZS"]
    assert summary["images"] == 4 and summary["duplicate_results"] == 0
    assert summary["interrupted_attempts"] == 3  # c's and d's attempts of the lost batch
    assert (tmp_path / "hq.csv").read_bytes() == before


def test_settings_must_match_and_the_seeds_do_not_depend_on_batches(tmp_path, script):
    run(ScriptedVLM(script), tmp_path, ["zero-shot"])
    other = ScriptedVLM(script)
    other.settings = {"v": 2}
    with pytest.raises(AnnotationError, match="other settings"):
        run(other, tmp_path, ["zero-shot"])
    with pytest.raises(AnnotationError, match="other settings"):
        run(ScriptedVLM(script), tmp_path, ["zero-shot"], seed=7)
    seeds = {}
    for size in (1, 3):
        fake = ScriptedVLM(script)
        fake.batch_size = size
        run(fake, tmp_path / f"b{size}", ["zero-shot"])
        seeds[size] = sorted(s for _, _, batch, _ in fake.calls for s in batch)
    assert seeds[1] == seeds[3] and len(set(seeds[1])) == 25


def test_bad_input_is_one_clear_error(tmp_path, script):
    with pytest.raises(AnnotationError, match="unknown readout"):
        run(ScriptedVLM(script), tmp_path, ["few-shot"])
    with pytest.raises(AnnotationError, match="occurs twice"):
        ImageSet.of_ids(["a", "a"])
    (tmp_path / "x.png").write_bytes(b"not a png")
    (tmp_path / "x.jpg").write_bytes(b"not a jpg")
    with pytest.raises(AnnotationError, match="'x' occurs twice"):
        ImageSet.from_paths([tmp_path])
    with pytest.raises(AnnotationError, match="not a readable image"):
        ImageSet.from_paths([tmp_path / "x.png"]).open(0)
    with pytest.raises(AnnotationError, match="no such file"):
        ImageSet.from_paths([tmp_path / "missing"])
    (tmp_path / "log.jsonl").write_text('{"a": 1}\nnot json\n')
    with pytest.raises(AnnotationError, match="line 2: not a JSON record"):
        annotate.read_log(tmp_path / "log.jsonl")


def test_the_simulated_perceiver_answers_the_protocols(tmp_path, multi):
    rng = np.random.default_rng(0)
    perception = pd.DataFrame(
        rng.uniform(0, 7, (6, 40)),
        index=[f"i{k}" for k in range(6)],
        columns=list(taxonomy.EMOTIONS),
    )
    perceiver = vlm.PerceiverVLM(perception, rating_sd=0.5, slip_rate=0.3)
    summary = annotate.annotate(
        ImageSet.of_ids(perception.index), perceiver, tmp_path, model_name="Sim", progress=False
    ).set_index("annotator")
    assert summary.loc["Sim ZS", "accepted"] == 6 and summary.loc["Sim ZS", "mean_nonzero"] == 25
    assert summary.loc["Sim ZS", "accepted_after_retry"] > 0  # its slips were asked again
    assert summary.loc["Sim MS", "failed"] == 6 - summary.loc["Sim MS", "accepted"] > 0
    ratings, _ = loaders.load_hq(tmp_path / "hq.csv")
    ms_rows = ratings[ratings["annotator"] == "Sim MS"][list(taxonomy.EMOTIONS)].to_numpy()
    assert ((ms_rows > 0).sum(1) <= multi.max_nonzero).all()
    logits = ratings[ratings["annotator"] == "Sim logits MS"].set_index("image")
    x = perception.loc[logits.index].to_numpy()
    k = np.arange(8)
    w = np.exp(-((k - x[..., None]) ** 2) / (2 * 0.5**2))
    assert np.allclose(
        logits[list(taxonomy.EMOTIONS)].to_numpy(), (w * k).sum(-1) / w.sum(-1), atol=1e-4
    )


# ------------------------------------------------------------------ a tiny random VLM


@pytest.fixture(scope="module")
def tiny(tmp_path_factory, mirror):
    """A tiny random LLaVA-architecture VLM built locally, 3 small images, one torch thread
    (the CPU is shared)."""
    import torch
    from PIL import Image

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    with pytest.MonkeyPatch.context() as env:
        env.setenv("EMONET_DATA_DIR", str(mirror))
        folder = vlm.build_tiny_vlm(tmp_path_factory.mktemp("tiny") / "model")
    pictures = tmp_path_factory.mktemp("pictures")
    rng = np.random.default_rng(0)
    for k in range(3):
        Image.fromarray(rng.integers(0, 255, (48, 40, 3), dtype=np.uint8)).save(
            pictures / f"face{k}.png"
        )
    yield folder, ImageSet.from_paths([pictures])
    torch.set_num_threads(threads)


def test_a_tiny_vlm_runs_every_readout_and_records_its_invalid_replies(tmp_path, tiny):
    folder, pictures = tiny
    backend = vlm.TransformersVLM(str(folder), batch_size=3, max_new_tokens=6, quiet=True)
    assert (folder / "model.safetensors").exists()
    summary = annotate.annotate(
        pictures, backend, tmp_path, model_name="Tiny", progress=False
    ).set_index("annotator")
    # random weights never write valid JSON: every reply is counted, none dropped
    assert summary.loc["Tiny ZS", ["images", "failed", "attempts"]].tolist() == [3, 3, 60]
    assert summary.loc["Tiny MS", ["images", "failed", "attempts"]].tolist() == [3, 3, 3]
    assert summary.loc["Tiny logits MS", "accepted"] == 3
    assert 0 < summary.loc["Tiny logits MS", "rating_mass"] < 1
    attempts = annotate.read_log(tmp_path / "attempts.jsonl")
    assert {a["new_tokens"] for a in attempts} <= set(range(1, 7))
    assert all(a["prompt_tokens"] > 1000 for a in attempts)  # the protocols' long prompts
    ratings, _ = loaders.load_hq(tmp_path / "hq.csv")
    assert set(ratings["annotator"]) == {"Tiny logits MS"}
    assert ratings[list(taxonomy.EMOTIONS)].to_numpy().min() > 0


def test_the_kv_cache_readout_equals_full_forward_passes(tiny):
    import torch

    folder, pictures = tiny
    backend = vlm.TransformersVLM(str(folder), quiet=True)
    ids, tail = backend.rating_tokens()
    assert len(set(ids)) == 8 and tail == ""  # byte-level BPE: the space is in the token
    prompt, prefix = "Rate the face.", '{"emotions": {"'
    suffixes = [f'{e}": {{"rating":' for e in ("Awe", "Jealousy & Envy")]
    probs, mass = backend.rating_probabilities(pictures, [0, 1], prompt, prefix, suffixes)
    assert np.allclose(probs.sum(-1), 1) and ((mass > 0) & (mass < 1)).all()
    for row in (0, 1):
        for k, suffix in enumerate(suffixes):
            text = backend._text(prompt) + prefix + suffix + tail
            inputs = backend._inputs(pictures, [row], [text])
            with torch.inference_mode():
                logits = backend.model(**inputs).logits[0, -1].float()
            p = torch.softmax(logits, -1)[ids].numpy()
            assert np.allclose(probs[row, k], p / p.sum(), atol=1e-5)


def test_a_sampled_reply_does_not_depend_on_its_batch(tiny):
    folder, pictures = tiny
    backend = vlm.TransformersVLM(str(folder), batch_size=3, max_new_tokens=5, quiet=True)
    prompts, seeds = ["Describe the face."] * 3, [11, 12, 13]
    together = backend.generate(pictures, [0, 1, 2], prompts, seeds, 100)
    alone = [
        backend.generate(pictures, [i], prompts[:1], [s], 100)[0] for i, s in zip(range(3), seeds)
    ]
    assert [g.text for g in together] == [g.text for g in alone]
    assert together[0].text != backend.generate(pictures, [0], prompts[:1], [99], 100)[0].text


def test_a_model_that_cannot_be_loaded_is_one_clear_error(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(AnnotationError, match="cannot load 'no-such/model'"):
        vlm.TransformersVLM("no-such/model")
    with pytest.raises(AnnotationError, match="unknown dtype"):
        vlm.TransformersVLM("no-such/model", dtype="int8")


SHARDED = """
import sys
import numpy as np
import pandas as pd
from emonet.data import taxonomy
from emonet.benchmarking import annotate, vlm

perception = pd.DataFrame(np.random.default_rng(1).uniform(0, 7, (10, 40)),
                          index=[f"i{k}" for k in range(10)], columns=list(taxonomy.EMOTIONS))
annotate.annotate_sharded(annotate.ImageSet.of_ids(perception.index),
                          lambda device: vlm.PerceiverVLM(perception, slip_rate=0.3,
                                                          batch_size=3),
                          sys.argv[1], cpu=True, model_name="Sim")
"""


@pytest.mark.integration
def test_accelerate_sharding_with_two_processes(tmp_path, mirror):
    """Two real processes (torchrun + accelerate, on CPU): disjoint slices in their own logs,
    one hq.csv equal to a single-process run's."""
    script = tmp_path / "sharded.py"
    script.write_text(SHARDED)
    env = {
        **os.environ,
        "PYTHONPATH": str(PROJECT_ROOT),
        "OMP_NUM_THREADS": "1",
        "EMONET_DATA_DIR": str(mirror),
    }
    subprocess.run(
        [
            sys.executable,
            "-m",
            "torch.distributed.run",
            "--standalone",
            "--nproc_per_node",
            "2",
            str(script),
            str(tmp_path / "out"),
        ],
        env=env,
        check=True,
        capture_output=True,
    )
    shards = [
        {r["image"] for r in annotate.read_log(tmp_path / "out" / f"results-{i}-of-2.jsonl")}
        for i in range(2)
    ]
    assert not shards[0] & shards[1] and len(shards[0] | shards[1]) == 10
    perception = pd.DataFrame(
        np.random.default_rng(1).uniform(0, 7, (10, 40)),
        index=[f"i{k}" for k in range(10)],
        columns=list(taxonomy.EMOTIONS),
    )
    annotate.annotate(
        ImageSet.of_ids(perception.index),
        vlm.PerceiverVLM(perception, slip_rate=0.3, batch_size=3),
        tmp_path / "single",
        model_name="Sim",
        progress=False,
    )
    assert (tmp_path / "out" / "hq.csv").read_bytes() == (
        tmp_path / "single" / "hq.csv"
    ).read_bytes()
