"""The authors' released heads in chapter 06: neutral means recovered from their outputs, the head
files, and the full profile's path (HQ images -> encoder -> released heads -> the panel), run
offline on fixtures in the real formats."""

import numpy as np
import pandas as pd
import pytest
import torch

from emonet.data import hub, join, loaders, taxonomy
from emonet.hq import panel, paper_statistics
from emonet.model import encoder, heads, released
from emonet.model_vs_experts import joined
from emonet.rehearsal import hubcache
from tests.helpers import TINY_ENCODER


def test_neutral_means_from_the_authors_outputs(mirror):
    outputs = loaders.load_model_outputs()
    means = released.neutral_means(outputs)
    assert list(means.index) == list(taxonomy.EMOTIONS)
    first = outputs[outputs["is_category"]].groupby("emotion").first()
    np.testing.assert_allclose(
        means.to_numpy(),
        (first["raw"] - first["mean_subtracted"]).reindex(list(taxonomy.EMOTIONS)).to_numpy(),
        atol=1e-4,
    )
    shifted = outputs.copy()
    shifted.loc[shifted.index[0], "raw"] += 0.5
    with pytest.raises(released.ReleasedHeadsError, match="varies by 0.5 within head"):
        released.neutral_means(shifted)


def test_head_files_and_locations(tmp_path, offline_hub):
    released.save_released(heads.Heads("small", 8, seed=0), tmp_path / "heads")
    files = released.head_files(tmp_path / "heads")
    assert len(files) == 40 and set(files.columns) == {"name", "bytes", "sha256", "git_blob"}
    assert released.locate_heads(tmp_path / "heads") == (tmp_path / "heads", None)
    # a hub id at a revision: fetched from the cache and checked after download
    revision = "1" * 40
    hubcache.put(tmp_path / "hub", "someone/heads", "model", tmp_path / "heads", revision)
    offline_hub(tmp_path / "hub")
    folder, snapshot = released.locate_heads(f"someone/heads@{revision}")
    assert snapshot.commit == revision and len(snapshot.files) == 40
    assert released.load_released(folder).input_dim == 8
    with pytest.raises(released.ReleasedHeadsError, match="cannot fetch model someone/heads "):
        released.locate_heads("someone/heads")  # the cache holds no branch, only the commit
    (tmp_path / "heads" / f"{taxonomy.head_name('Pain')}.pth").unlink()
    with pytest.raises(heads.CheckpointError, match="1 of the 40 head files are missing"):
        released.head_files(tmp_path / "heads")
    with pytest.raises(released.ReleasedHeadsError, match="not a Hugging Face model id"):
        released.locate_heads(tmp_path / "nowhere" / "x.pth")
    one_file = tmp_path / "heads" / f"{taxonomy.head_name('Anger')}.pth"
    with pytest.raises(released.ReleasedHeadsError, match="is a file: give the folder"):
        released.locate_heads(one_file)


def test_full_profile_path_offline(tmp_path, replica_data):
    """HQ dataset (the replica: published schema, no file names) -> encoder -> released heads,
    placed on the panel by the content join, as chapter 06 runs it."""
    hq = hub.load_hf_hq(str(replica_data.root / "hq"))
    enc = encoder.Encoder(encoder.untrained(3, **TINY_ENCODER), progress=False)
    embeddings = enc.embed(hq.images)
    released.save_released(heads.Heads("small", enc.dim, seed=2), tmp_path / "released")
    loaded = released.load_released(tmp_path / "released")
    neutral = pd.Series(np.linspace(0, 1, 40), index=list(taxonomy.EMOTIONS))
    scores = released.score_embeddings(loaded, embeddings, neutral, hq.ids)
    np.testing.assert_allclose(
        scores["mean_subtracted"].to_numpy(),
        scores["raw"].to_numpy() - neutral.to_numpy(),
        rtol=1e-5,
    )
    np.testing.assert_allclose(scores["softmax"].sum(axis=1), 1, rtol=1e-5)
    with pytest.raises(released.ReleasedHeadsError, match="take 16-d embeddings, got 3-d"):
        released.score_embeddings(loaded, embeddings[:, :3], neutral, hq.ids)

    raw = joined.released_scores(tmp_path / "released", hq, enc, neutral)
    np.testing.assert_allclose(raw.to_numpy(), scores["raw"].to_numpy(), rtol=1e-5)
    experts = panel.read_hq(replica_data.root / "hq.csv")
    mapping, _ = join.join_by_ratings(
        hub.hq_expert_ratings(str(replica_data.root / "hq")).ratings,
        joined.expert_ratings(experts),
        "hq",
    )
    # the raw scores as stored, not clipped: Spearman ranks them as they are
    model = raw.loc[mapping.index].set_axis(mapping.values)
    with_released = experts.with_annotator(joined.RELEASED_MODEL, model, "Our Models")
    statistics = paper_statistics.compute(with_released, n_boot=50, seed=0)
    row = statistics.rho_summary.set_index("annotator").loc[joined.RELEASED_MODEL]
    assert row["group"] == "Our Models" and not row["human"]


def released_fixture(folder, shape="small", dim=12, wrap=None):
    """40 per-emotion files written by plain nn.Sequential modules (independent of Heads)."""
    torch.manual_seed(0)
    modules = []
    for emotion in taxonomy.EMOTIONS:
        module = released.ReleasedHead(shape, dim).eval()
        state = module.state_dict()
        torch.save({wrap: state} if wrap else state, folder / f"{taxonomy.head_name(emotion)}.pth")
        modules.append(module)
    torch.save(released.ReleasedHead(shape, dim).state_dict(), folder / "model_arousal_best.pth")
    return modules


@pytest.mark.parametrize("wrap", [None, "state_dict"])
def test_released_import(tmp_path, wrap):
    modules = released_fixture(tmp_path, wrap=wrap)
    assert sorted(modules[0].state_dict()) == [
        "layers.0.bias",
        "layers.0.weight",
        "layers.3.bias",
        "layers.3.weight",
        "layers.6.bias",
        "layers.6.weight",
    ]
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
