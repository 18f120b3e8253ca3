"""The rehearsal profile is the full profile with its sources pointed at the replicas and its
sizes made small; the replicas are rebuilt when the code that builds them changes."""

import json

import yaml

from emonet.paths import PARAMS_DIR
from emonet.rehearsal import build as rehearsal

#: Parameters in which the rehearsal may differ from the full profile: where the data come from,
#: and how much is computed.
SOURCES = {
    "model_id",
    "real_source",
    "panel_source",
    "released_heads",
    "hq_images",
    "big_source",
    "binary_source",
    "encoder_id",
    "affectnet_expected_records",
}
SIZES = {
    "n_images",
    "image_size",
    "generation_batch_size",
    "steps",
    "n_bootstrap",
    "sim_images",
    "sim_replications",
    "n_permutations",
    "embed_batch_size",
    "batch_size",
    "max_epochs_pretrain",
    "max_epochs_finetune",
    "patience",
    "n_neutral",
    "vlm_demo_images",
    "vlm_max_new_tokens",
}
#: ... and what a CPU needs: the text-to-image model in float32 (bfloat16 on a GPU).
DEVICE = {"dtype"}


def sections(profile: str) -> dict:
    return yaml.safe_load((PARAMS_DIR / f"{profile}.yaml").read_text())


def test_the_rehearsal_is_the_full_profile_on_replicas_and_smaller():
    full, rehearsal_params = sections("full"), sections("rehearsal")
    differ = {
        key
        for section, values in full.items()
        for key, value in (values or {}).items()
        if rehearsal_params[section][key] != value
    }
    assert differ <= SOURCES | SIZES | DEVICE, differ - SOURCES - SIZES - DEVICE
    hub_ids = {
        value
        for values in rehearsal_params.values()
        for key, value in (values or {}).items()
        if key in SOURCES and isinstance(value, str) and "/" in value
    }
    assert hub_ids == {rehearsal.replica_source(real) for real in rehearsal.REPLICAS}
    assert {
        v["panel_source"] for k, v in rehearsal_params.items() if v and "panel_source" in v
    } == {rehearsal.HQ_CSV}


def test_replicas_are_built_once_and_again_when_their_builder_changes(tmp_path, monkeypatch):
    built = []
    monkeypatch.setattr(
        rehearsal,
        "build",
        lambda root, log=print: built.append(root) or {"builder": "new", "files": {}},
    )
    monkeypatch.setattr(rehearsal, "builder_fingerprint", lambda: "new")
    (tmp_path / rehearsal.MANIFEST).write_text(json.dumps({"builder": "new", "files": {"a": "1"}}))
    assert rehearsal.ensure(tmp_path)["files"] == {"a": "1"} and not built
    (tmp_path / rehearsal.MANIFEST).write_text(json.dumps({"builder": "old", "files": {}}))
    rehearsal.ensure(tmp_path)
    assert built == [tmp_path]
    env = rehearsal.environment(tmp_path)
    assert env["HF_HUB_OFFLINE"] == "1" and env["HF_HUB_CACHE"] == str(tmp_path / "hub")
    assert env["EMONET_CACHE_DIR"] == str(tmp_path / rehearsal.SUPPLIED)
