"""Heads (shapes, batched == per-head, released-format import, checkpoints), encoder cache and
sharding, weak labels, vote targets, the Binary panel on graded truth, tiny end-to-end training,
the full-profile loaders on parquet fixtures, and ``emonet predict``."""

import io
import json
import os
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
import torch
from PIL import Image

from emonet import cli
from emonet.binary import protocol
from emonet.data import taxonomy
from emonet.data.checksums import sha256_of
from emonet.model import (
    ablation,
    encoder,
    heads,
    released,
    roles,
    scoring,
    standins,
    training,
)
from emonet.model import metrics as model_metrics

TINY_ENCODER = {"image_size": 32, "patch_size": 16, "hidden_size": 16, "intermediate_size": 32,
                "num_hidden_layers": 1, "num_attention_heads": 2}


def png(seed: int, size: int = 32) -> bytes:
    rng = np.random.default_rng(seed)
    buffer = io.BytesIO()
    Image.fromarray(rng.integers(0, 255, (size, size, 3), dtype=np.uint8)).save(buffer, "PNG")
    return buffer.getvalue()


@pytest.fixture
def images(tmp_path):
    paths = []
    for i in range(6):
        path = tmp_path / f"img{i}.png"
        path.write_bytes(png(i))
        paths.append(str(path))
    return paths


# --------------------------------------------------------------------------- heads

@pytest.mark.parametrize("shape,widths", [("small", (24, 128, 32, 1)),
                                          ("large", (24, 1024, 512, 256, 1))])
def test_heads_shapes(shape, widths):
    h = heads.Heads(shape, 24)
    assert h.widths == widths
    assert h(torch.randn(7, 24)).shape == (7, 40)
    assert [tuple(h.layer_weight(i).shape) for i in range(len(widths) - 1)] == \
        [(40, a, b) for a, b in zip(widths[:-1], widths[1:])]


@pytest.mark.parametrize("shape", ["small", "large"])
def test_batched_equals_per_head_sequentials(shape):
    h = heads.Heads(shape, 20, seed=3).eval()
    x = torch.randn(9, 20)
    out = h(x)
    for i in (0, 17, 39):
        single = released.ReleasedHead(shape, 20).eval()
        single.load_state_dict(h.sequential_state(i))
        torch.testing.assert_close(out[:, i], single(x)[:, 0], rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("shape", ["small", "large"])
def test_standardisation_is_applied_and_folded_into_the_released_layout(shape):
    rng = np.random.default_rng(0)
    x = (rng.normal(3.0, 0.2, (50, 20)) * rng.uniform(0.1, 5, 20)).astype(np.float32)
    h = heads.Heads(shape, 20, seed=3).eval()
    assert not h.standardised
    h.standardise(x[:40])
    assert h.standardised
    z = torch.as_tensor(x)
    np.testing.assert_allclose(h.input_mean.numpy(), x[:40].mean(0), rtol=1e-5)
    plain = heads.Heads(shape, 20, seed=3).eval()
    expected = plain((z - z[:40].mean(0)) / z[:40].std(0))
    torch.testing.assert_close(h(z), expected, rtol=1e-5, atol=1e-5)
    for i in (0, 39):  # the exported per-head layout folds the standardisation in
        single = released.ReleasedHead(shape, 20).eval()
        single.load_state_dict(h.sequential_state(i))
        torch.testing.assert_close(single(z)[:, 0], expected[:, i], rtol=1e-4, atol=1e-4)
    with pytest.raises(ValueError, match="standardise needs"):
        h.standardise(x[:, :5])


def reference_forward(h: heads.Heads, x: torch.Tensor) -> torch.Tensor:
    """The stacked heads with plain autograd ops (no in-place gradient, no dropout)."""
    z = (x - h.input_mean) / h.input_scale
    out = (z @ h.weights[0].reshape(h.input_dim, -1) + h.biases[0].reshape(-1))
    out = out.reshape(len(x), h.n_heads, -1).transpose(0, 1)
    for w, b in zip(h.weights[1:], h.biases[1:]):
        out = torch.relu(out) @ w + b[:, None, :]
    return out[..., 0].T


@pytest.mark.parametrize("shape", ["small", "large"])
def test_in_place_weight_gradients_equal_autograd(shape):
    torch.manual_seed(0)
    h = heads.Heads(shape, 12, dropout=0.0, seed=4).standardise(torch.randn(30, 12) * 3 + 1)
    x, y = torch.randn(9, 12, requires_grad=True), torch.randn(9, 40)
    ((reference_forward(h, x) - y) ** 2).mean().backward()
    expected = [p.grad.clone() for p in h.parameters()] + [x.grad.clone()]
    h.zero_grad(set_to_none=False)
    x.grad = None
    ((h(x) - y) ** 2).mean().backward()
    for got, want in zip([p.grad for p in h.parameters()] + [x.grad], expected):
        torch.testing.assert_close(got, want, rtol=1e-4, atol=1e-6)
    ((h(x) - y) ** 2).mean().backward()  # a second backward accumulates, as autograd's does
    torch.testing.assert_close(h.weights[0].grad, 2 * expected[0], rtol=1e-4, atol=1e-6)


def test_bf16_compute_stays_close_to_fp32_and_follows_the_weights():
    torch.manual_seed(0)
    h = heads.Heads("large", 64, dropout=0.0, seed=1)
    x, y = torch.randn(32, 64), torch.rand(32, 40) * 7
    with torch.no_grad():
        exact, half = h(x), h(x, torch.bfloat16)
    assert half.dtype == torch.float32
    assert float((half - exact).abs().max()) < 0.01 * float(exact.abs().max()) + 1e-3
    ((h(x) - y) ** 2).mean().backward()
    grad32 = [p.grad.clone() for p in h.parameters()]
    h.zero_grad(set_to_none=False)
    ((h(x, torch.bfloat16) - y) ** 2).mean().backward()
    # bf16 rounding through three layers: about 7% relative error on the first layer's
    # gradient, as torch.autocast gives on the same module (8%), less on later layers
    for g16, g32 in zip([p.grad for p in h.parameters()], grad32):
        assert float((g16 - g32).norm() / g32.norm()) < 0.12
    opt = torch.optim.AdamW(h.parameters(), lr=1e-2, fused=True)
    opt.step()  # the bf16 weight copies must follow the update
    fresh = heads.Heads("large", 64, dropout=0.0, seed=1)
    fresh.load_state_dict(h.state_dict())
    with torch.no_grad():
        moved = h(x, torch.bfloat16)
        torch.testing.assert_close(moved, fresh(x, torch.bfloat16))
    assert not torch.allclose(moved, half)


def test_fused_adamw_matches_the_default_adamw():
    """The recipe's fused optimiser takes the same steps as torch's default AdamW."""
    x, y = torch.randn(16, 10), torch.rand(16, 40) * 7
    trained = []
    for fused in (False, True):
        h = heads.Heads("small", 10, dropout=0.0, seed=2)
        opt = torch.optim.AdamW(h.parameters(), lr=1e-3, weight_decay=0.05, fused=fused)
        for _ in range(5):
            opt.zero_grad(set_to_none=False)
            ((h(x) - y) ** 2).mean().backward()
            opt.step()
        trained.append(h)
    for a, b in zip(*(t.parameters() for t in trained)):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-6)


def test_heads_are_seeded_and_reject_bad_arguments():
    a, b, c = heads.Heads("small", 8, seed=1), heads.Heads("small", 8, seed=1), \
        heads.Heads("small", 8, seed=2)
    assert torch.equal(a.weights[0], b.weights[0]) and not torch.equal(a.weights[0], c.weights[0])
    with pytest.raises(ValueError, match="unknown head shape"):
        heads.Heads("huge", 8)
    with pytest.raises(ValueError, match="dropout"):
        heads.Heads("small", 8, dropout=1.0)


def released_fixture(folder, shape="small", dim=12, wrap=None):
    """40 per-emotion files written by plain nn.Sequential modules (independent of Heads)."""
    torch.manual_seed(0)
    modules = []
    for emotion in taxonomy.EMOTIONS:
        module = released.ReleasedHead(shape, dim).eval()
        state = module.state_dict()
        torch.save({wrap: state} if wrap else state,
                   folder / f"{taxonomy.head_name(emotion)}.pth")
        modules.append(module)
    torch.save(released.ReleasedHead(shape, dim).state_dict(), folder / "model_arousal_best.pth")
    return modules


@pytest.mark.parametrize("wrap", [None, "state_dict"])
def test_released_import(tmp_path, wrap):
    modules = released_fixture(tmp_path, wrap=wrap)
    assert sorted(modules[0].state_dict()) == ["layers.0.bias", "layers.0.weight",
                                               "layers.3.bias", "layers.3.weight",
                                               "layers.6.bias", "layers.6.weight"]
    h = released.load_released(tmp_path).eval()
    assert (h.shape, h.input_dim) == ("small", 12)
    x = torch.randn(5, 12)
    expected = torch.cat([m(x) for m in modules], dim=1)
    torch.testing.assert_close(h(x), expected, rtol=1e-5, atol=1e-5)


def test_released_import_errors(tmp_path):
    released_fixture(tmp_path)
    jealousy = tmp_path / "model_jealousy_&_envy_best.pth"
    torch.save(released.ReleasedHead("large", 12).state_dict(), jealousy)
    with pytest.raises(heads.CheckpointError, match="jealousy.*differ"):
        released.load_released(tmp_path)
    jealousy.write_bytes(b"not a torch file")
    with pytest.raises(heads.CheckpointError, match="weights-only torch file"):
        released.load_released(tmp_path)
    torch.save({"fc.weight": torch.zeros(2, 2)}, jealousy)
    with pytest.raises(heads.CheckpointError, match="nn.Sequential under 'layers'"):
        released.load_released(tmp_path)
    jealousy.unlink()
    with pytest.raises(heads.CheckpointError, match="1 of the 40 head files are missing"):
        released.load_released(tmp_path)


def test_released_round_trip(tmp_path):
    h = heads.Heads("large", 10, seed=5).eval()
    released.save_released(h, tmp_path)
    back = released.load_released(tmp_path).eval()
    x = torch.randn(3, 10)
    assert torch.equal(h(x), back(x))


def checkpoint(dim=10, shape="small"):
    h = heads.Heads(shape, dim, seed=2).standardise(
        np.random.default_rng(1).normal(2.0, 3.0, (30, dim))).eval()
    return heads.Checkpoint(h, {"kind": "untrained"}, np.linspace(0, 1, 40), {"recipe": "both"})


def test_checkpoint_round_trip_and_scores(tmp_path):
    ck = checkpoint()
    path = heads.save_checkpoint(ck, tmp_path / "m.safetensors")
    meta = json.loads(heads.metadata_path(path).read_text())
    assert meta["shape"] == "small" and meta["input_dim"] == 10 and len(meta["neutral_means"]) == 40
    back = heads.load_checkpoint(path)
    x = np.random.default_rng(0).normal(size=(4, 10)).astype(np.float32)
    a, b = ck.scores(x), back.scores(x)
    for field in scoring.FIELDS:
        np.testing.assert_allclose(a[field], b[field], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(a["mean_subtracted"], a["raw"] - np.linspace(0, 1, 40), atol=1e-6)
    np.testing.assert_allclose(a["softmax"].sum(axis=1), 1.0, rtol=1e-6)
    assert back.training == {"recipe": "both"} and meta["input_standardised"]
    assert torch.equal(back.heads.input_scale, ck.heads.input_scale)


def test_first_format_checkpoints_still_load(tmp_path):
    """A checkpoint of format emonet-heads/1 (no standardisation tensors) loads with the identity
    standardisation it was trained with."""
    from safetensors.torch import load_file, save_file

    plain = heads.Heads("small", 10, seed=2).eval()
    path = heads.save_checkpoint(heads.Checkpoint(plain, {"kind": "untrained"}, np.zeros(40)),
                                 tmp_path / "old.safetensors")
    tensors = {k: v for k, v in load_file(str(path)).items() if not k.startswith("input.")}
    save_file(tensors, str(path))
    meta = json.loads(heads.metadata_path(path).read_text())
    meta.update(format="emonet-heads/1", weights_sha256=sha256_of(path))
    del meta["input_standardised"]
    heads.metadata_path(path).write_text(json.dumps(meta))
    back = heads.load_checkpoint(path)
    assert not back.heads.standardised
    x = np.random.default_rng(0).normal(size=(3, 10)).astype(np.float32)
    np.testing.assert_allclose(heads.predict(back.heads, x), heads.predict(plain, x), rtol=1e-6)
    meta["format"] = "emonet-heads/2"  # the new format without its standardisation tensors
    heads.metadata_path(path).write_text(json.dumps(meta))
    with pytest.raises(heads.CheckpointError, match="do not match a small head stack"):
        heads.load_checkpoint(path)
    meta["format"] = "emonet-heads/9"
    heads.metadata_path(path).write_text(json.dumps(meta))
    with pytest.raises(heads.CheckpointError, match="format 'emonet-heads/9'"):
        heads.load_checkpoint(path)


def test_corrupt_or_mismatched_checkpoint(tmp_path):
    path = heads.save_checkpoint(checkpoint(), tmp_path / "m.safetensors")
    meta_file = heads.metadata_path(path)
    blob = bytearray(path.read_bytes())
    blob[-3] ^= 0xFF
    path.write_bytes(bytes(blob))
    with pytest.raises(heads.CheckpointError, match="does not match.*corrupt"):
        heads.load_checkpoint(path)
    # a valid file of another shape under metadata that claims small heads
    other = heads.save_checkpoint(checkpoint(shape="large"), tmp_path / "l.safetensors")
    meta = json.loads(meta_file.read_text())
    meta["weights_sha256"] = json.loads(heads.metadata_path(other).read_text())["weights_sha256"]
    path.write_bytes(other.read_bytes())
    meta_file.write_text(json.dumps(meta))
    with pytest.raises(heads.CheckpointError, match="do not match a small head stack"):
        heads.load_checkpoint(path)
    meta_file.write_text("{")
    with pytest.raises(heads.CheckpointError, match="not valid JSON"):
        heads.load_checkpoint(path)
    meta_file.unlink()
    with pytest.raises(heads.CheckpointError, match="is missing"):
        heads.load_checkpoint(path)
    with pytest.raises(heads.CheckpointError, match="input dim 10"):
        heads.predict(checkpoint().heads, np.zeros((2, 11)))


# --------------------------------------------------------------------------- encoder

def test_encoder_embeds_caches_and_is_deterministic(tmp_path, images):
    spec = encoder.untrained(3, **TINY_ENCODER)
    enc = encoder.Encoder(spec, batch_size=4, cache_dir=tmp_path / "cache", progress=False)
    first = enc.embed(images)
    assert first.shape == (6, 16) and first.dtype == np.float32
    assert len(list(enc.cache_dir.glob("shard-*.npz"))) == 2  # batches of 4 and 2
    again = encoder.Encoder(spec, batch_size=4, cache_dir=tmp_path / "cache", progress=False)
    assert again.key == enc.key
    np.testing.assert_array_equal(again.embed(images[::-1]), first[::-1])  # from the cache
    fresh = encoder.Encoder(spec, batch_size=3, cache_dir=None, progress=False)
    np.testing.assert_allclose(fresh.embed(images), first, rtol=1e-5, atol=1e-6)
    other = encoder.Encoder(encoder.untrained(4, **TINY_ENCODER), cache_dir=tmp_path / "cache",
                            progress=False)
    assert other.key != enc.key and other.identity["weights"] != enc.identity["weights"]
    by_bytes = fresh.embed([open(p, "rb").read() for p in images[:2]])
    np.testing.assert_allclose(by_bytes, first[:2], rtol=1e-5, atol=1e-6)


def test_encoder_errors(tmp_path, images):
    with pytest.raises(encoder.EncoderError, match="unknown encoder setting"):
        encoder.untrained(0, depth=3)
    enc = encoder.Encoder(encoder.untrained(0, **TINY_ENCODER), cache_dir=tmp_path,
                          progress=False)
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"no image")
    with pytest.raises(encoder.EncoderError, match="cannot decode image .*bad.png"):
        enc.embed([bad])
    with pytest.raises(encoder.EncoderError, match="cannot read image"):
        enc.embed([tmp_path / "absent.png"])
    enc.embed(images[:1])
    next(enc.cache_dir.glob("shard-*.npz")).write_bytes(b"broken")
    with pytest.raises(encoder.EncoderError, match="corrupt embedding cache file"):
        enc.embed(images)
    with pytest.raises(encoder.EncoderError, match="cannot load encoder"):
        encoder.Encoder(encoder.hub(str(tmp_path / "no-model")), progress=False)


def test_hub_encoder_at_a_revision(tmp_path, images, offline_hub):
    """A SigLIP checkpoint in a hub cache at one commit: fetched with the revision passed
    through, its files checked, the commit as its weights fingerprint and in its label."""
    from transformers import SiglipModel
    from transformers.models.siglip import SiglipImageProcessorPil

    from emonet.rehearsal import hubcache

    revision = "3" * 40
    SiglipModel(encoder.untrained_config(**TINY_ENCODER)).save_pretrained(tmp_path / "enc")
    SiglipImageProcessorPil(size={"height": 32, "width": 32}).save_pretrained(tmp_path / "enc")
    hubcache.put(tmp_path / "hub", "someone/enc", "model", tmp_path / "enc", revision)
    offline_hub(tmp_path / "hub")
    enc = encoder.Encoder(encoder.hub(f"someone/enc@{revision}"), progress=False)
    assert enc.identity["weights"] == revision and enc.spec.label == f"someone/enc@{revision[:12]}"
    assert enc.snapshot.record()["files"] == 3 and enc.embed(images[:2]).shape == (2, 16)
    with pytest.raises(encoder.EncoderError, match="cannot fetch model someone/enc from"):
        encoder.Encoder(encoder.hub("someone/enc"), progress=False)


SHARDED = """
import sys
import numpy as np
from emonet.model import encoder
paths = sys.argv[2:]
spec = encoder.untrained(3, image_size=32, patch_size=16, hidden_size=16, intermediate_size=32,
                         num_hidden_layers=1, num_attention_heads=2)
out = encoder.embed_sharded(paths, spec, sys.argv[1], cpu=True, batch_size=2)
np.save(sys.argv[1] + f"/out-{__import__('os').environ['RANK']}.npy", out)
"""


def test_embedding_sharded_over_two_processes(tmp_path, images):
    """Two real processes (torchrun + accelerate, on CPU) fill one cache; both return all
    embeddings, equal to a single-process run."""
    script = tmp_path / "sharded.py"
    script.write_text(SHARDED)
    cache = tmp_path / "cache"
    cache.mkdir()
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    subprocess.run([sys.executable, "-m", "torch.distributed.run", "--standalone",
                    "--nproc_per_node", "2", str(script), str(cache), *images],
                   env=env, check=True, capture_output=True)
    folder = next(p for p in cache.iterdir() if p.is_dir())
    shards = sorted(p.name[:8] for p in folder.glob("shard-*.npz"))
    assert {s[:8] for s in shards} == {"shard-0-", "shard-1-"}
    single = encoder.Encoder(encoder.untrained(3, **TINY_ENCODER), cache_dir=None,
                             progress=False).embed(images)
    for rank in (0, 1):
        np.testing.assert_allclose(np.load(cache / f"out-{rank}.npy"), single, rtol=1e-5,
                                   atol=1e-6)


# --------------------------------------------------------------------------- data and recipe

def test_weak_labels_are_noisy_integer_truth():
    truth = np.random.default_rng(0).uniform(0, 7, (500, 40))
    weak = standins.weak_labels(truth, np.random.default_rng(1))
    assert set(np.unique(weak)) <= set(range(8)) and not (weak == np.rint(truth)).all()
    assert np.corrcoef(weak.ravel(), truth.ravel())[0, 1] > 0.8
    exact = standins.weak_labels(truth, np.random.default_rng(1), noise_sd=0, bias_sd=0,
                                 scale_sd=0, floor=0)
    np.testing.assert_array_equal(exact, np.rint(truth))


def test_panel_on_intensity_follows_the_protocol():
    n = 2000
    rng = np.random.default_rng(0)
    intensity = np.zeros((n, 40))
    target = rng.integers(40, size=n)
    intensity[np.arange(n), target] = 7.0
    ids = [f"i{k}" for k in range(n)]
    sim = protocol.simulate_on_intensity(ids, intensity, target, [0, 0, 0], [1, 1, 1],
                                       threshold=3.5, slope=3.0, rng=rng)
    asked = sim[sim["asked"]]
    items = protocol.items(asked)
    assert set(items["pattern"]) <= set(protocol.PROTOCOL_PATTERNS)
    target_rows = asked[asked["role"] == "target"]
    by_image = dict(zip(ids, target))
    assert (target_rows["emotion"].cat.codes.to_numpy() ==
            target_rows["image"].map(by_image).to_numpy()).all()
    assert target_rows["value"].mean() > 0.95  # truth 7 vs threshold 3.5: nearly always yes
    assert asked.loc[asked["role"] == "contrast", "value"].mean() < 0.05
    contrast = sim[(sim["role"] == "contrast")]["emotion"].cat.codes.to_numpy()[::3]
    assert (contrast != target).all()
    with pytest.raises(ValueError, match="intensity must be"):
        protocol.simulate_on_intensity(ids[:3], intensity, target[:3], [0, 0, 0], [1, 1, 1])


def test_vote_targets_are_yes_share_times_yes_value():
    labels = pd.DataFrame({"image": ["a", "a", "a", "a", "b", "b"],
                           "value": [True, True, False, False, False, True],
                           "emotion": ["Anger", "Anger", "Anger", "Fear", "Pain", "Pride"],
                           "line": range(2, 8)})
    labels["emotion"] = pd.Categorical(labels["emotion"], categories=taxonomy.EMOTIONS)
    target, weight = training.vote_targets(labels, ["b", "c", "a"], 6.0)
    anger, fear = taxonomy.INDEX["Anger"], taxonomy.INDEX["Fear"]
    assert target[2, anger] == pytest.approx(4.0) and weight[2, anger] == 3
    assert target[2, fear] == 0 and weight[2, fear] == 1
    assert weight[1].sum() == 0 and weight.sum() == 6
    assert target[0, taxonomy.INDEX["Pride"]] == 6.0
    with pytest.raises(training.TrainingDataError, match="not among the images"):
        training.vote_targets(labels, ["a"], 6.0)


def test_split_is_seeded_order_free_and_disjoint():
    ids = np.array([f"x{i}" for i in range(50)])
    val, test = training.split_ids(ids, 0.2, 7, test_fraction=0.3)
    assert val.sum() == 10 and test.sum() == 15 and not (val & test).any()
    again = training.split_ids(ids[::-1], 0.2, 7, test_fraction=0.3)
    np.testing.assert_array_equal(again[0], val[::-1])
    np.testing.assert_array_equal(again[1], test[::-1])
    assert not np.array_equal(training.split_ids(ids, 0.2, 8, 0.3)[0], val)
    only_val, none = training.split_ids(ids, 0.2, 7)
    assert only_val.sum() == 10 and not none.any()
    with pytest.raises(ValueError, match="test_fraction"):
        training.split_ids(ids, 0.5, 7, test_fraction=0.5)


def test_the_ablation_scores_the_test_images_alone():
    """The ablation's metrics come from images that neither training nor early stopping saw:
    recomputed from the test rows alone, they equal the table's; without test rows it refuses."""
    big, votes, truth = synthetic_stages()
    n = len(truth)
    ids = np.array([f"b{i:03d}" for i in range(n)])
    big = training.Stage(big.x, big.target, big.weight, big.val, np.arange(n) % 5 == 2)
    asked = np.argmax(votes.weight, axis=1)
    rows = [(ids[i], taxonomy.EMOTIONS[asked[i]], truth[i, asked[i]] > 3.5, i) for i in range(n)]
    labels = pd.DataFrame(rows, columns=["image", "emotion", "value", "line"])
    votes = training.Stage(votes.x, votes.target, votes.weight, votes.val, np.arange(n) % 5 == 3)
    assert not (big.test & big.val).any() and not (big.test & big.train).any()
    data = roles.Roles({"big": ids, "binary": ids, "hq": np.array([])}, {}, big.target, labels,
                       {"big": truth, "binary": truth})
    settings = training.Settings(shape="small", dropout=0.0, batch_size=32,
                                 max_epochs_pretrain=3, max_epochs_finetune=2, patience=5)
    results, table, _ = ablation.ablation(data, big, votes, settings, unanchored=False)
    pre = table.set_index("recipe").loc["pretrain"]
    weak = model_metrics.per_emotion_metrics(heads.predict(results["pretrain"].heads,
                                                           big.x[big.test]), big.target[big.test])
    assert pre["weak_spearman"] == pytest.approx(np.nanmean(weak["spearman"]))
    test_labels = labels[labels["image"].isin(ids[votes.test])]
    assert pre["vote_auc"] == pytest.approx(model_metrics.vote_auc(
        heads.predict(results["pretrain"].heads, votes.x[votes.test]), test_labels,
        ids[votes.test]))
    with pytest.raises(ValueError, match="needs test images"):
        ablation.ablation(data, training.Stage(big.x, big.target, big.weight, big.val), votes,
                          settings)


def synthetic_stages(n=160, dim=8, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, dim)).astype(np.float32)
    truth = np.clip(3.5 + x @ rng.normal(size=(dim, 40)) * 0.8, 0, 7)
    big = training.Stage(x, truth, np.ones_like(truth), np.arange(n) % 5 == 0)
    weight = np.zeros_like(truth)
    weight[np.arange(n), rng.integers(40, size=n)] = 2
    votes = training.Stage(x, truth, weight, np.arange(n) % 5 == 1)
    return big, votes, truth


def test_training_learns_and_is_deterministic():
    big, votes, truth = synthetic_stages()
    settings = training.Settings(shape="small", dropout=0.0, batch_size=32,
                                 max_epochs_pretrain=40, max_epochs_finetune=5, patience=40)
    first = training.train("both", 8, big, votes, settings)
    second = training.train("both", 8, big, votes, settings)
    for a, b in zip(first.heads.parameters(), second.heads.parameters()):
        assert torch.equal(a, b)
    hist = first.history
    assert list(hist["stage"].unique()) == ["pretrain", "finetune"]
    pre = hist[hist["stage"] == "pretrain"]
    assert pre["val_loss"].iloc[-1] < 0.5 * pre["val_loss"].iloc[0]
    metrics = model_metrics.per_emotion_metrics(heads.predict(first.heads, big.x), truth)
    assert metrics["spearman"].mean() > 0.8 and list(metrics["emotion"]) == list(taxonomy.EMOTIONS)
    with pytest.raises(training.TrainingDataError, match="needs Binary"):
        training.train("finetune", 8, big, None, settings)


def test_early_stopping_keeps_the_best_epoch():
    big, votes, _ = synthetic_stages()
    noisy = training.Stage(big.x, np.random.default_rng(3).uniform(0, 7, big.target.shape),
                           big.weight, big.val)  # nothing to learn: validation gets worse
    settings = training.Settings(shape="small", max_epochs_pretrain=100, patience=3,
                                 lr_pretrain=1e-2)
    result = training.train("pretrain", 8, noisy, None, settings)
    hist = result.history
    assert len(hist) < 100 and hist["best"].sum() == 1
    best = hist.loc[hist["best"], "val_loss"].item()
    assert best == hist["val_loss"].min()
    x, y, w = noisy.part(val=True)
    with torch.no_grad():
        kept = float(training.weighted_mse(result.heads.eval()(x), y, w))
    assert kept == pytest.approx(best, rel=1e-5)


def test_recipe_pieces_standardise_anchor_and_reuse_pretraining():
    big, votes, _ = synthetic_stages()
    big = training.Stage(big.x * 4 + 2, big.target, big.weight, big.val)
    votes = training.Stage(big.x, votes.target, votes.weight, votes.val)
    settings = training.Settings(shape="small", dropout=0.0, batch_size=32, lr_finetune=1e-2,
                                 max_epochs_pretrain=6, max_epochs_finetune=4, patience=10)
    pre = training.train("pretrain", 8, big, None, settings)
    np.testing.assert_allclose(pre.heads.input_mean.numpy(), big.x[~big.val].mean(0), rtol=1e-5)
    # "both" is the fine-tuning of the pretrain result: the same weights either way
    both = training.train("both", 8, big, votes, settings)
    again = training.finetune(pre, votes, settings)
    for a, b in zip(both.heads.parameters(), again.heads.parameters()):
        assert torch.equal(a, b)
    assert list(both.history["stage"].unique()) == ["pretrain", "finetune"]
    assert both.seconds > again.extra["finetune_seconds"] and pre.heads is not again.heads
    # anchoring: unasked training cells get the pre-trained prediction, validation is untouched
    stage = training.anchored(votes, pre.heads, 0.5)
    prior = heads.predict(pre.heads, votes.x)
    asked, val = votes.weight > 0, votes.val[:, None]
    np.testing.assert_allclose(stage.target[~asked & ~val], prior[~asked & ~val], rtol=1e-6)
    assert (stage.weight[~asked & ~val] == 0.5).all()
    np.testing.assert_array_equal(stage.weight[asked | val], votes.weight[asked | val])
    assert training.anchored(votes, pre.heads, 0.0) is votes
    with pytest.raises(ValueError, match="continues a 'pretrain' result"):
        training.finetune(both, votes, settings)
    with pytest.raises(ValueError, match="unknown precision"):
        training.Settings(precision="float8")


def test_a_stage_that_cannot_improve_keeps_the_starting_weights():
    big, _, _ = synthetic_stages()
    settings = training.Settings(shape="small", dropout=0.0, max_epochs_pretrain=3, patience=5)
    h = heads.Heads("small", 8, dropout=0.0, seed=1)
    start = [p.detach().clone() for p in h.parameters()]
    history = training._fit(h, big, 0.0, settings, 3, "pretrain", 0)  # lr 0: nothing moves
    assert history["epoch"].tolist() == [0, 1, 2, 3] and history["best"].tolist()[0]
    assert np.isnan(history["train_loss"].iloc[0])
    for a, b in zip(h.parameters(), start):
        assert torch.equal(a, b)


def test_bf16_training_matches_fp32_training():
    """The bf16 path learns what the fp32 path learns (same data, seed and epochs)."""
    big, votes, truth = synthetic_stages()
    runs = {}
    for precision in ("float32", "bfloat16"):
        settings = training.Settings(shape="small", dropout=0.0, batch_size=32, patience=40,
                                     max_epochs_pretrain=30, precision=precision)
        result = training.train("pretrain", 8, big, None, settings)
        runs[precision] = heads.predict(result.heads, big.x[big.val])
    rho = [model_metrics.per_emotion_metrics(r, truth[big.val])["spearman"].mean()
           for r in runs.values()]
    assert abs(rho[0] - rho[1]) < 0.02 and min(rho) > 0.8
    assert np.abs(runs["float32"] - runs["bfloat16"]).mean() < 0.1


def test_auc_standard_error_and_ablation_summary():
    # Hanley & McNeil at AUC 0.5: (0.25 + (n-1)(1/3 - 1/4) * 2) / n^2
    n = 50
    assert model_metrics.auc_standard_error(0.5, n, n) == pytest.approx(
        np.sqrt((0.25 + (n - 1) * (1 / 3 - 0.25) * 2) / n ** 2))
    table = pd.DataFrame({"recipe": ["pretrain", "finetune", "both", ablation.UNANCHORED],
                          "vote_auc": [0.69, 0.55, 0.75, 0.68],
                          "vote_auc_se": [0.03, 0.03, 0.03, 0.03],
                          "truth_spearman": [0.2, 0.03, 0.2, 0.14],
                          "truth_mae": [0.65, 1.6, 0.66, 1.3]})
    text = ablation.ablation_summary(table)
    assert "raised the vote AUC from 0.690 to 0.750" in text and "error 1.30" in text
    table.loc[2, "vote_auc"] = 0.70
    assert "to 0.700, within one standard error" in ablation.ablation_summary(table)
    table.loc[2, "vote_auc"] = 0.60
    assert "lowered the vote AUC" in ablation.ablation_summary(table)
    no_truth = ablation.ablation_summary(table.drop(columns=["truth_spearman", "truth_mae"]))
    assert "ground truth" not in no_truth and "0.550" in no_truth


def test_vote_auc():
    labels = pd.DataFrame({"image": ["a", "b", "c"], "value": [True, False, True],
                           "emotion": pd.Categorical(["Anger"] * 3, categories=taxonomy.EMOTIONS),
                           "line": [2, 3, 4]})
    pred = np.zeros((3, 40))
    pred[:, taxonomy.INDEX["Anger"]] = [3.0, 1.0, 2.0]
    assert model_metrics.vote_auc(pred, labels, ["a", "b", "c"]) == 1.0
    pred[:, taxonomy.INDEX["Anger"]] = [0.0, 1.0, 2.0]
    assert model_metrics.vote_auc(pred, labels, ["a", "b", "c"]) == 0.5


def test_neutral_faces_are_png_and_seeded():
    a, b = standins.neutral_faces(3, size=32, seed=1), standins.neutral_faces(3, size=32, seed=1)
    assert a == b and all(f.startswith(b"\x89PNG") for f in a)


# --------------------------------------------------------------------------- full profile

def test_full_roles_from_the_published_schemas(replica_data):
    """Chapter 05's real-data path on the replicas of the three datasets (local folders in the
    published schemas): rows named by position, Big's weak labels, Binary's votes."""
    data = roles.full_roles(*(str(replica_data.root / n) for n in ("big", "binary", "hq")))
    assert [len(data.ids[r]) for r in ("big", "binary", "hq")] == [48, 40, 40]
    assert data.ids["big"][0] == "big-000000" and data.images["big"][0].startswith(b"\x89PNG")
    assert data.weak.shape == (48, 40) and data.truth is None and data.sources == ()
    target, weight = training.vote_targets(data.votes, data.ids["binary"], 6.0)
    assert weight.sum() == len(data.votes) and target.max() <= 6.0


# --------------------------------------------------------------------------- scoring and CLI

def trained_checkpoint(tmp_path, images):
    enc = encoder.Encoder(encoder.untrained(3, **TINY_ENCODER), progress=False)
    fitted = heads.Heads("small", enc.dim, seed=1).standardise(enc.embed(images)).eval()
    model = heads.Checkpoint(fitted, enc.identity, np.zeros(40), {"recipe": "both"})
    return heads.save_checkpoint(model, tmp_path / "models" / "m.safetensors"), enc


def test_score_images_and_predictions_table(tmp_path, images):
    path, enc = trained_checkpoint(tmp_path, images)
    result = scoring.score_images(images, path)
    assert list(result) == list(scoring.FIELDS)
    assert result["raw"].shape == (6, 40) and list(result["raw"].columns) == \
        list(taxonomy.EMOTIONS)
    embedded = enc.embed(images)
    expected = heads.load_checkpoint(path).scores(embedded)
    np.testing.assert_allclose(result["softmax"].to_numpy(), expected["softmax"], rtol=1e-5)
    # the stored standardisation is applied: the same heads on standardised embeddings
    z = (embedded - embedded.mean(0)) / embedded.std(0, ddof=1)
    np.testing.assert_allclose(result["raw"].to_numpy(),
                               heads.predict(heads.Heads("small", enc.dim, seed=1), z),
                               rtol=1e-4, atol=1e-5)
    table_path = tmp_path / "predictions" / "hq.parquet"
    scoring.write_predictions(table_path, [f"id{i}" for i in range(6)], images, expected)
    back = scoring.load_predictions(tmp_path, "mean_subtracted")
    assert list(back.index) == [f"id{i}" for i in range(6)]
    np.testing.assert_allclose(back.to_numpy(), expected["mean_subtracted"], rtol=1e-6)
    with pytest.raises(ValueError, match="unknown field"):
        scoring.load_predictions(table_path, "logits")


def test_checkpoint_refuses_another_encoder(tmp_path, images):
    path, _ = trained_checkpoint(tmp_path, images)
    meta = json.loads(heads.metadata_path(path).read_text())
    meta["encoder"]["weights"] = "0" * 16
    heads.metadata_path(path).write_text(json.dumps(meta))
    with pytest.raises(encoder.EncoderError, match="weights .* differs"):
        scoring.score_images(images, path)


def test_cli_predict(tmp_path, images, capsys):
    path, _ = trained_checkpoint(tmp_path, images)
    plot = tmp_path / "bars.png"
    assert cli.main(["predict", *images[:2], "--checkpoint", str(path), "--top", "3",
                     "--plot", str(plot)]) == 0
    out = capsys.readouterr()
    assert out.out.count("softmax") == 6 and images[0] in out.out
    assert "untrained stand-in encoder" in out.err
    assert plot.read_bytes().startswith(b"\x89PNG")
    assert cli.main(["predict", images[0], "--checkpoint", str(tmp_path / "none.safetensors")]) \
        == 1
    assert "is missing" in capsys.readouterr().err
