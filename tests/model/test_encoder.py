"""The image encoder (:mod:`emonet.model.encoder`): embeddings cached and deterministic, clear
errors, a hub checkpoint at a revision, and sharding over two processes."""

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from emonet.model import encoder
from tests.helpers import TINY_ENCODER


def test_encoder_embeds_caches_and_is_deterministic(tmp_path, png_paths):
    spec = encoder.untrained(3, **TINY_ENCODER)
    enc = encoder.Encoder(spec, batch_size=4, cache_dir=tmp_path / "cache", progress=False)
    first = enc.embed(png_paths)
    assert first.shape == (6, 16) and first.dtype == np.float32
    assert len(list(enc.cache_dir.glob("shard-*.npz"))) == 2  # batches of 4 and 2
    again = encoder.Encoder(spec, batch_size=4, cache_dir=tmp_path / "cache", progress=False)
    assert again.key == enc.key
    np.testing.assert_array_equal(again.embed(png_paths[::-1]), first[::-1])  # from the cache
    fresh = encoder.Encoder(spec, batch_size=3, cache_dir=None, progress=False)
    np.testing.assert_allclose(fresh.embed(png_paths), first, rtol=1e-5, atol=1e-6)
    other = encoder.Encoder(
        encoder.untrained(4, **TINY_ENCODER), cache_dir=tmp_path / "cache", progress=False
    )
    assert other.key != enc.key and other.identity["weights"] != enc.identity["weights"]
    by_bytes = fresh.embed([Path(p).read_bytes() for p in png_paths[:2]])
    np.testing.assert_allclose(by_bytes, first[:2], rtol=1e-5, atol=1e-6)


def test_encoder_errors(tmp_path, png_paths):
    with pytest.raises(encoder.EncoderError, match="unknown encoder setting"):
        encoder.untrained(0, depth=3)
    enc = encoder.Encoder(encoder.untrained(0, **TINY_ENCODER), cache_dir=tmp_path, progress=False)
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"no image")
    with pytest.raises(encoder.EncoderError, match="cannot decode image .*bad.png"):
        enc.embed([bad])
    with pytest.raises(encoder.EncoderError, match="cannot read image"):
        enc.embed([tmp_path / "absent.png"])
    enc.embed(png_paths[:1])
    next(enc.cache_dir.glob("shard-*.npz")).write_bytes(b"broken")
    with pytest.raises(encoder.EncoderError, match="corrupt embedding cache file"):
        enc.embed(png_paths)
    with pytest.raises(encoder.EncoderError, match="cannot load encoder"):
        encoder.Encoder(encoder.hub(str(tmp_path / "no-model")), progress=False)


def test_hub_encoder_at_a_revision(tmp_path, png_paths, offline_hub):
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
    assert enc.snapshot.record()["files"] == 3 and enc.embed(png_paths[:2]).shape == (2, 16)
    with pytest.raises(encoder.EncoderError, match="cannot fetch model someone/enc from"):
        encoder.Encoder(encoder.hub("someone/enc"), progress=False)


def test_encoder_from_id():
    assert encoder.from_id("untrained", 7, "bfloat16") == encoder.untrained(7)
    assert encoder.from_id("some/siglip", 7, "bfloat16") == encoder.hub("some/siglip", "bfloat16")


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


@pytest.mark.integration
def test_embedding_sharded_over_two_processes(tmp_path, png_paths):
    """Two real processes (torchrun + accelerate, on CPU) fill one cache; both return all
    embeddings, equal to a single-process run."""
    script = tmp_path / "sharded.py"
    script.write_text(SHARDED)
    cache = tmp_path / "cache"
    cache.mkdir()
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    subprocess.run(
        [
            sys.executable,
            "-m",
            "torch.distributed.run",
            "--standalone",
            "--nproc_per_node",
            "2",
            str(script),
            str(cache),
            *png_paths,
        ],
        env=env,
        check=True,
        capture_output=True,
    )
    folder = next(p for p in cache.iterdir() if p.is_dir())
    shards = sorted(p.name[:8] for p in folder.glob("shard-*.npz"))
    assert {s[:8] for s in shards} == {"shard-0-", "shard-1-"}
    single = encoder.Encoder(
        encoder.untrained(3, **TINY_ENCODER), cache_dir=None, progress=False
    ).embed(png_paths)
    for rank in (0, 1):
        np.testing.assert_allclose(np.load(cache / f"out-{rank}.npy"), single, rtol=1e-5, atol=1e-6)
