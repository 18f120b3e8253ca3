"""The images' roles in training (:mod:`emonet.model.roles`): sources all or none, counts and vote
item roles, no image both trained on and in the panel, and the full profile's published schemas."""

import numpy as np
import pandas as pd
import pytest

from emonet.build.notebooks import notebook_defaults
from emonet.generation import images, prompts
from emonet.hq import simulation
from emonet.model import chapter, roles, training
from emonet.model.training import TrainingDataError
from emonet.paths import NOTEBOOK_DIR
from tests.helpers import GUIDE

NOTEBOOK = NOTEBOOK_DIR / "05_training.py"


def test_load_roles_needs_all_sources_or_none(tmp_path):
    with pytest.raises(TrainingDataError, match=r"\['hq_images'\] are null"):
        roles.load_roles("big.parquet", "binary.parquet", None, tmp_path, 0, {}, {})
    with pytest.raises(TrainingDataError, match="chapter 02's offline faces"):
        roles.load_roles(None, None, None, tmp_path, 0, {}, {})


def votes_frame():
    rows = [
        ("a", "Anger", True, 0, "target"),
        ("a", "Anger", True, 1, "target"),
        ("a", "Anger", False, 2, "target"),
        ("a", "Pride", False, 3, "contrast"),
        ("b", "Fear", False, 4, "target"),
        ("b", "Awe", True, 5, "contrast"),
    ]
    return pd.DataFrame(rows, columns=["image", "emotion", "value", "line", "role"])


def test_role_counts_paths_and_vote_item_roles():
    data = roles.Roles(
        {
            "big": np.arange(10).astype(str),
            "binary": np.array(["a", "b"]),
            "hq": np.array(["h1", "h2", "h3"]),
        },
        {"big": [], "binary": [], "hq": b"lazy"},
        np.zeros((10, 40)),
        votes_frame(),
    )
    big, votes, _ = roles.stages(
        data, {"big": np.zeros((10, 4)), "binary": np.zeros((2, 4))}, 0.2, 0.3, seed=0
    )
    counts = roles.role_counts(data, big, votes)
    assert counts["images"].tolist() == [10, 2, 3]
    assert counts["validation images"].tolist() == [2, 1, 0]
    assert counts["test images"].tolist() == [3, 1, 0]
    assert counts["use"].iloc[-1] == "held out (chapters 04 and 06)"
    assert data.paths("hq") == ["h1", "h2", "h3"] and data.paths("big") == []
    recorded = roles.vote_item_roles(data.votes).set_index(["image", "emotion"])["role"]
    assert len(recorded) == 4 and recorded[("b", "Awe")] == "contrast"
    assert recorded[("a", "Anger")] == "target"
    rebuilt = roles.vote_item_roles(data.votes.drop(columns="role"))
    assert len(rebuilt) == 4 and "role" in rebuilt


def test_the_panels_images_and_the_training_images_are_disjoint(tmp_path):
    """No leakage: the simulated panel of chapter 04 rates the HQ-role faces, and chapter 05
    trains on the Big and Binary roles of the same manifest; the two share no image, and a run
    whose roles share an id stops."""
    design = prompts.design(120, GUIDE, seed=3)
    manifest = images.generate(
        design, images.OfflineFaces(size=32, batch_size=40), tmp_path, progress=False
    )
    params = chapter.TrainingParams.from_namespace(notebook_defaults(NOTEBOOK))
    _, panel_ids = simulation.hq_role_truth(manifest, seed=params.seed)  # chapter 04's panel
    data = roles.local_roles(manifest, tmp_path, params.seed, params.weak, params.panel)
    trained = set(data.ids["big"]) | set(data.ids["binary"])
    assert panel_ids and trained and not set(panel_ids) & trained
    assert set(panel_ids) == set(data.ids["hq"])
    roles.check_disjoint(data)
    leaky = roles.Roles(
        {**data.ids, "binary": np.append(data.ids["binary"], panel_ids[0])},
        data.images,
        data.weak,
        data.votes,
        data.truth,
    )
    with pytest.raises(TrainingDataError, match="in both the binary and the hq role"):
        roles.check_disjoint(leaky)


def test_full_roles_from_the_published_schemas(replica_data):
    """Chapter 05's real-data path on the replicas of the three datasets (local folders in the
    published schemas): rows named by position, Big's weak labels, Binary's votes."""
    data = roles.full_roles(*(str(replica_data.root / n) for n in ("big", "binary", "hq")))
    assert [len(data.ids[r]) for r in ("big", "binary", "hq")] == [48, 40, 40]
    assert data.ids["big"][0] == "big-000000" and data.images["big"][0].startswith(b"\x89PNG")
    assert data.weak.shape == (48, 40) and data.truth is None and data.sources == ()
    target, weight = training.vote_targets(data.votes, data.ids["binary"], 6.0)
    assert weight.sum() == len(data.votes) and target.max() <= 6.0
