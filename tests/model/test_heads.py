"""The stacked heads (:mod:`emonet.model.heads`): shapes, batched equal to per-head modules,
standardisation, in-place gradients, bf16 compute, seeding, and the checkpoint format."""

import json

import numpy as np
import pytest
import torch

from emonet.data.checksums import sha256_of
from emonet.model import heads, released, scoring


@pytest.mark.parametrize(
    "shape,widths", [("small", (24, 128, 32, 1)), ("large", (24, 1024, 512, 256, 1))]
)
def test_heads_shapes(shape, widths):
    h = heads.Heads(shape, 24)
    assert h.widths == widths
    assert h(torch.randn(7, 24)).shape == (7, 40)
    assert [tuple(h.layer_weight(i).shape) for i in range(len(widths) - 1)] == [
        (40, a, b) for a, b in zip(widths[:-1], widths[1:])
    ]


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
    out = z @ h.weights[0].reshape(h.input_dim, -1) + h.biases[0].reshape(-1)
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


def test_heads_are_seeded_and_reject_bad_arguments():
    a, b, c = (
        heads.Heads("small", 8, seed=1),
        heads.Heads("small", 8, seed=1),
        heads.Heads("small", 8, seed=2),
    )
    assert torch.equal(a.weights[0], b.weights[0]) and not torch.equal(a.weights[0], c.weights[0])
    with pytest.raises(ValueError, match="unknown head shape"):
        heads.Heads("huge", 8)
    with pytest.raises(ValueError, match="dropout"):
        heads.Heads("small", 8, dropout=1.0)


def checkpoint(dim=10, shape="small"):
    h = (
        heads.Heads(shape, dim, seed=2)
        .standardise(np.random.default_rng(1).normal(2.0, 3.0, (30, dim)))
        .eval()
    )
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
    path = heads.save_checkpoint(
        heads.Checkpoint(plain, {"kind": "untrained"}, np.zeros(40)), tmp_path / "old.safetensors"
    )
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
