"""The authors' released heads in chapter 06: neutral means recovered from their outputs, the head
files, and the full profile's path (HQ images -> encoder -> released heads -> the panel), run
offline on fixtures in the real formats."""

import io

import numpy as np
import pandas as pd
import pytest
import torch
from PIL import Image

from emonet.data import hub, loaders, taxonomy
from emonet.evaluation import experts as evaluation_experts
from emonet.hq import panel, simulation
from emonet.hq import suite as hq_suite
from emonet.model import encoder, heads, released

TINY_ENCODER = {"image_size": 32, "patch_size": 16, "hidden_size": 16, "intermediate_size": 32,
                "num_hidden_layers": 1, "num_attention_heads": 2}


def png(seed: int) -> bytes:
    rng = np.random.default_rng(seed)
    buffer = io.BytesIO()
    Image.fromarray(rng.integers(0, 255, (32, 32, 3), dtype=np.uint8)).save(buffer, "PNG")
    return buffer.getvalue()


def test_neutral_means_from_the_authors_outputs(mirror):
    outputs = loaders.load_model_outputs()
    means = released.neutral_means(outputs)
    assert list(means.index) == list(taxonomy.EMOTIONS)
    first = outputs[outputs["is_category"]].groupby("emotion").first()
    np.testing.assert_allclose(means.to_numpy(), (first["raw"] - first["mean_subtracted"])
                               .reindex(list(taxonomy.EMOTIONS)).to_numpy(), atol=1e-4)
    shifted = outputs.copy()
    shifted.loc[shifted.index[0], "raw"] += 0.5
    with pytest.raises(released.ReleasedHeadsError, match="varies by 0.5 within head"):
        released.neutral_means(shifted)


def test_head_files_and_locations(tmp_path, monkeypatch):
    released.save_released(heads.Heads("small", 8, seed=0), tmp_path / "heads")
    files = released.head_files(tmp_path / "heads")
    assert len(files) == 40 and set(files.columns) == {"name", "bytes", "sha256", "git_blob"}
    assert released.locate_heads(tmp_path / "heads") == tmp_path / "heads"
    (tmp_path / "heads" / f"{taxonomy.head_name('Pain')}.pth").unlink()
    with pytest.raises(heads.CheckpointError, match="1 of the 40 head files are missing"):
        released.head_files(tmp_path / "heads")
    with pytest.raises(released.ReleasedHeadsError, match="not a Hugging Face model id"):
        released.locate_heads(tmp_path / "nowhere" / "x.pth")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hub"))
    with pytest.raises(released.ReleasedHeadsError, match="could not fetch the released heads"):
        released.locate_heads("laion/Empathic-Insight-Face-Large")


def test_full_profile_path_offline(tmp_path, monkeypatch):
    """HQ dataset (parquet in the hub schema) -> encoder -> released heads -> panel and suite, as
    chapter 06 runs it (:func:`emonet.evaluation.experts.released_on_panel`)."""
    monkeypatch.setenv("HF_DATASETS_CACHE", str(tmp_path / "hf"))
    ids = [f"hq/{i:05d}.png" for i in range(6)]
    pd.DataFrame({"image": [{"bytes": png(i), "path": None} for i in range(6)],
                  "path": ids}).to_parquet(tmp_path / "hq.parquet")
    images, hq_ids = hub.load_hf_hq(str(tmp_path / "hq.parquet"))
    assert list(hq_ids) == ids and len(images) == 6
    enc = encoder.Encoder(encoder.untrained(3, **TINY_ENCODER), progress=False)
    embeddings = enc.embed(images)
    torch.manual_seed(0)
    released.save_released(heads.Heads("small", enc.dim, seed=2), tmp_path / "released")
    folder = released.locate_heads(tmp_path / "released")
    loaded = released.load_released(folder)
    neutral = pd.Series(np.linspace(0, 1, 40), index=list(taxonomy.EMOTIONS))
    scores = released.score_embeddings(loaded, embeddings, neutral, hq_ids)
    np.testing.assert_allclose(scores["mean_subtracted"].to_numpy(),
                               scores["raw"].to_numpy() - neutral.to_numpy(), rtol=1e-5)
    np.testing.assert_allclose(scores["softmax"].sum(axis=1), 1, rtol=1e-5)
    with pytest.raises(released.ReleasedHeadsError, match="take 16-d embeddings, got 3-d"):
        released.score_embeddings(loaded, embeddings[:, :3], neutral, hq_ids)

    # the real hq.csv names images differently: matched by stem, then the panel's 0-7 scale
    truth = simulation.synthetic_truth(6, seed=1)
    experts = simulation.simulate_panel(truth, [f"{i:05d}" for i in range(6)],
                                        simulation.RaterModel(per_image=4), seed=1)
    panel.write_hq_csv(experts, tmp_path / "hq.csv")
    experts = panel.read_hq(tmp_path / "hq.csv")
    model = evaluation_experts.released_on_panel(folder, str(tmp_path / "hq.parquet"), enc,
                                                 neutral, experts.images)
    assert list(model.index) == list(experts.images)
    # the raw scores as stored, not clipped: Spearman ranks them as they are
    np.testing.assert_allclose(model.to_numpy(), scores["raw"].to_numpy(), rtol=1e-5)
    joined = experts.with_annotator(evaluation_experts.RELEASED_MODEL, model, "Our Models")
    suite = hq_suite.run_suite(joined, n_boot=50, seed=0)
    row = suite.rho_summary.set_index("annotator").loc[evaluation_experts.RELEASED_MODEL]
    assert row["group"] == "Our Models" and not row["human"]
