"""Generation: manifest, determinism, resume after interruption, sharding, tiny diffusers."""

import hashlib
import json
import os
import signal
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from emonet.data import taxonomy
from emonet.generation import images, prompts
from emonet.generation.images import GenerationError
from emonet.io import UnsafePathError
from emonet.paths import PROJECT_ROOT
from tests.helpers import GUIDE, tiny_pipeline


@pytest.fixture(scope="module")
def design():
    return prompts.design(24, GUIDE, seed=9)


def small_backend(**kw):
    return images.OfflineFaces(size=32, batch_size=5, **kw)


def test_manifest_rows_files_and_truth(tmp_path, design):
    manifest = images.generate(design, small_backend(), tmp_path, progress=False)
    assert list(manifest.columns) == list(images.MANIFEST_COLUMNS)
    assert list(manifest["id"]) == list(design["id"])
    on_disk = pd.read_parquet(tmp_path / "manifest.parquet")
    pd.testing.assert_frame_equal(on_disk, manifest)
    for row in manifest.itertuples():
        blob = (tmp_path / row.path).read_bytes()
        assert hashlib.sha256(blob).hexdigest() == row.sha256
    truth = images.truth_matrix(manifest)
    assert truth.shape == (24, 40) and np.isfinite(truth).all()
    settings = json.loads(manifest.loc[0, "settings"])
    assert settings["intensity"] == [0.6, 1.0] and settings["size"] == 32
    assert len(settings["renderer"]) == 12


def test_same_seed_same_bytes(tmp_path, design):
    a = images.generate(design, small_backend(), tmp_path / "a", progress=False)
    b = images.generate(design, small_backend(), tmp_path / "b", progress=False)
    assert list(a["sha256"]) == list(b["sha256"])
    assert (tmp_path / "a" / a.path[3]).read_bytes() == (tmp_path / "b" / b.path[3]).read_bytes()


class Interrupting(images.OfflineFaces):
    """Counts rendered images; raises (like a kill) when asked to render batch ``fail_at``."""

    def __init__(self, fail_at=None):
        super().__init__(size=32, batch_size=5)
        self.fail_at, self.batches, self.rendered = fail_at, 0, []

    def generate(self, rows):
        if self.batches == self.fail_at:
            raise KeyboardInterrupt
        self.batches += 1
        self.rendered += list(rows["id"])
        return super().generate(rows)


def test_resume_after_interruption(tmp_path, design):
    first = Interrupting(fail_at=2)
    with pytest.raises(KeyboardInterrupt):
        images.generate(design, first, tmp_path, progress=False)
    partial = pd.read_parquet(tmp_path / "manifest.parquet")
    assert list(partial["id"]) == first.rendered and len(partial) == 10
    second = Interrupting()
    manifest = images.generate(design, second, tmp_path, progress=False)
    assert sorted(second.rendered) == sorted(design["id"][10:])
    assert manifest["id"].is_unique and list(manifest["id"]) == list(design["id"])
    clean = images.generate(design, small_backend(), tmp_path / "clean", progress=False)
    assert list(manifest["sha256"]) == list(clean["sha256"])
    third = Interrupting()
    images.generate(design, third, tmp_path, progress=False)
    assert third.rendered == []


def test_the_manifest_kept_up_batch_by_batch_is_the_table_of_all_records(tmp_path, design):
    """The manifest, extended by each batch's records, is the table built from every record at
    once (same rows, order and column types), and a resumed run writes the clean run's."""
    clean = images.generate(design, small_backend(), tmp_path / "clean", progress=False)
    records = clean.drop(columns="requested").to_dict("records")
    at_once = pd.DataFrame.from_records(records, columns=list(images.MANIFEST_COLUMNS))
    pd.testing.assert_frame_equal(clean, at_once.assign(requested=True))
    with pytest.raises(KeyboardInterrupt):
        images.generate(design, Interrupting(fail_at=2), tmp_path / "resumed", progress=False)
    resumed = images.generate(design, Interrupting(), tmp_path / "resumed", progress=False)
    on_disk = pd.read_parquet(tmp_path / "resumed" / "manifest.parquet")
    for frame in (resumed, on_disk):
        pd.testing.assert_frame_equal(frame.drop(columns="seconds"), clean.drop(columns="seconds"))
    (tmp_path / "resumed" / clean["path"][3]).write_bytes(b"modified")  # redrawn last, listed 4th
    replaced = images.generate(
        design, small_backend(), tmp_path / "resumed", progress=False, replace=True
    )
    pd.testing.assert_frame_equal(replaced.drop(columns="seconds"), clean.drop(columns="seconds"))


def test_faces_drawn_in_worker_processes_are_the_same_files(tmp_path, design):
    """Two worker processes draw and encode the faces: the same files and manifest (timing
    aside) as one process drawing them in turn."""
    one = images.generate(design, small_backend(), tmp_path / "one", progress=False)
    two = images.generate(design, small_backend(workers=2), tmp_path / "two", progress=False)
    pd.testing.assert_frame_equal(two.drop(columns="seconds"), one.drop(columns="seconds"))
    for rel in one["path"]:
        assert (tmp_path / "two" / rel).read_bytes() == (tmp_path / "one" / rel).read_bytes()
    with pytest.raises(GenerationError, match="workers must be at least 1"):
        images.OfflineFaces(workers=0)


def test_a_modified_image_is_replaced_only_when_asked(tmp_path, design):
    images.generate(design, small_backend(), tmp_path, progress=False)
    changed = tmp_path / "images" / f"{design['id'][3]}.png"
    changed.write_bytes(b"someone else's image")
    with pytest.raises(
        GenerationError,
        match=r"1 requested image\(s\) .* exist but do not match"
        r".*modified or corrupt.*Nothing was overwritten",
    ):
        images.generate(design, Interrupting(), tmp_path, progress=False)
    assert changed.read_bytes() == b"someone else's image"
    again = Interrupting()
    images.generate(design, again, tmp_path, progress=False, replace=True)
    assert again.rendered == [design["id"][3]]


def test_changed_settings_regenerate_only_with_replace(tmp_path, design):
    images.generate(design, small_backend(), tmp_path, progress=False)
    before = {p.name: p.read_bytes() for p in (tmp_path / "images").iterdir()}
    again = Interrupting()
    again.size = 40
    with pytest.raises(GenerationError, match="settings"):
        images.generate(design, again, tmp_path, progress=False)
    assert {p.name: p.read_bytes() for p in (tmp_path / "images").iterdir()} == before
    manifest = images.generate(design, again, tmp_path, progress=False, replace=True)
    assert len(again.rendered) == len(design) and set(manifest["width"]) == {40}


def test_smaller_request_keeps_the_other_images_until_pruned(tmp_path, design):
    images.generate(design, small_backend(), tmp_path, progress=False)
    files = sorted(p.name for p in (tmp_path / "images").iterdir())
    again = Interrupting()
    manifest = images.generate(design.head(10), again, tmp_path, progress=False)
    assert again.rendered == [] and list(manifest["id"]) == list(design["id"][:10])
    assert sorted(p.name for p in (tmp_path / "images").iterdir()) == files  # nothing deleted
    path = images.manifest_path(tmp_path)
    assert list(images.read_manifest(path)["id"]) == list(design["id"][:10])
    everything = images.read_manifest(path, everything=True)
    assert len(everything) == len(design) and (~everything["requested"]).sum() == len(design) - 10
    # a larger request again reuses the kept images: nothing is drawn twice
    third = Interrupting()
    images.generate(design, third, tmp_path, progress=False)
    assert third.rendered == []
    images.generate(design.head(10), third, tmp_path, progress=False)
    said = []
    assert images.prune(tmp_path, dry_run=True, log=said.append) and len(
        list((tmp_path / "images").iterdir())
    ) == len(design)
    removed = images.prune(tmp_path, log=said.append)
    assert len(removed) == len(design) - 10 and f"removing {len(design) - 10} image(s)" in said[-1]
    assert sorted(p.name for p in (tmp_path / "images").iterdir()) == sorted(
        f"{i}.png" for i in design["id"][:10]
    )
    assert len(images.read_manifest(path, everything=True)) == 10


@pytest.mark.parametrize("path", ["../../victim.txt", "/etc/passwd", "images/../../x.png"])
def test_a_manifest_path_outside_the_folder_stops_the_run(tmp_path, design, path):
    images.generate(design, small_backend(), tmp_path / "out", progress=False)
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me")
    frame = pd.read_parquet(tmp_path / "out" / "manifest.parquet")
    frame.loc[2, "path"] = path
    frame.to_parquet(tmp_path / "out" / "manifest.parquet", index=False)
    with pytest.raises(
        UnsafePathError,
        match=rf"manifest.parquet row 2 .*{design['id'][2]}.* "
        "points outside",
    ):
        images.generate(design.head(5), small_backend(), tmp_path / "out", progress=False)
    with pytest.raises(UnsafePathError):
        images.prune(tmp_path / "out")
    assert victim.read_text() == "keep me"


def test_a_bad_manifest_or_output_folder_is_one_clear_error(tmp_path, design):
    (tmp_path / "manifest.parquet").write_text("not parquet")
    with pytest.raises(GenerationError, match="manifest.parquet is not a readable parquet"):
        images.generate(design, small_backend(), tmp_path, progress=False)
    pd.DataFrame({"id": ["a"]}).to_parquet(tmp_path / "manifest.parquet")
    with pytest.raises(GenerationError, match=r"lacks manifest column\(s\) \['prompt'"):
        images.generate(design, small_backend(), tmp_path, progress=False)
    (tmp_path / "file").write_text("x")
    with pytest.raises(GenerationError, match="is a file, not a folder"):
        images.generate(design, small_backend(), tmp_path / "file", progress=False)


#: A run of 40 images in batches of 4; given a batch number ``stop``, it prints "ready" when it
#: is asked for that batch (so ``stop`` batches are on disk and in the manifest) and waits there,
#: reading its stdin, until the test kills it: the kill lands at a known point, not at a moment.
SCRIPT = """
import sys
from emonet.generation import images, prompts
from tests.helpers import GUIDE

class StopsAtBatch(images.OfflineFaces):
    def __init__(self, stop, **kwargs):
        super().__init__(**kwargs)
        self.stop, self.batches = stop, 0

    def generate(self, rows):
        if self.batches == self.stop:
            print("ready", flush=True)
            sys.stdin.read()
        self.batches += 1
        return super().generate(rows)

design = prompts.design(40, GUIDE, seed=9)
stop = int(sys.argv[2]) if len(sys.argv) > 2 else None
images.generate(design, StopsAtBatch(stop, size=32, batch_size=4), sys.argv[1], progress=False)
"""


def test_resume_after_kill(tmp_path):
    """A real SIGKILL in the middle of a run (while it renders its fourth batch); the rerun
    completes it, nothing duplicated."""
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT)}
    proc = subprocess.Popen(
        [sys.executable, "-c", SCRIPT, str(tmp_path), "3"],
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        if "ready\n" not in iter(proc.stdout.readline, ""):  # blocks until it waits at batch 3
            pytest.fail("the run ended before its fourth batch")
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.kill()
        proc.communicate()
    assert proc.returncode == -signal.SIGKILL
    design = prompts.design(40, GUIDE, seed=9)
    killed = pd.read_parquet(tmp_path / "manifest.parquet")
    assert list(killed["id"]) == list(design["id"][:12])  # the three batches done, no more
    assert len(list((tmp_path / "images").iterdir())) == 12
    subprocess.run([sys.executable, "-c", SCRIPT, str(tmp_path)], env=env, check=True)
    done = pd.read_parquet(tmp_path / "manifest.parquet")
    assert len(done) == 40 and done["id"].is_unique
    assert (done.set_index("id").loc[killed["id"], "sha256"] == killed["sha256"].to_numpy()).all()
    assert sorted(p.name for p in (tmp_path / "images").iterdir()) == sorted(
        f"{i}.png" for i in done["id"]
    )


def test_shards_are_disjoint_and_merge(tmp_path, design):
    parts = [
        images.generate(design, small_backend(), tmp_path, shard=(i, 3), progress=False)
        for i in range(3)
    ]
    ids = [set(p["id"]) for p in parts]
    assert sum(map(len, ids)) == len(design) and set.union(*ids) == set(design["id"])
    merged = images.merge_manifests(tmp_path, design, 3)
    single = images.generate(design, small_backend(), tmp_path / "single", progress=False)
    assert list(merged["sha256"]) == list(single["sha256"])
    (tmp_path / "manifest-2-of-3.parquet").unlink()
    with pytest.raises(GenerationError, match="missing from the shard manifests"):
        images.merge_manifests(tmp_path, design, 3)


@pytest.mark.parametrize("shard", [(3, 3), (0, 0), (-1, 2)])
def test_bad_shard(tmp_path, design, shard):
    with pytest.raises(GenerationError, match="shard"):
        images.generate(design, small_backend(), tmp_path, shard=shard, progress=False)


def test_bad_backend_arguments():
    with pytest.raises(GenerationError, match="unknown backend"):
        images.make_backend("midjourney")
    with pytest.raises(GenerationError, match="at least 16"):
        images.make_backend("offline", size=0)


# --------------------------------------------------------------------------- diffusers


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory):
    pytest.importorskip("diffusers")
    return str(tiny_pipeline(tmp_path_factory.mktemp("tiny")))


def test_tiny_diffusers_end_to_end(tmp_path, tiny_model, design, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    options = {
        "model_id": tiny_model,
        "batch_size": 4,
        "steps": 2,
        "guidance_scale": 3.0,
        "negative_prompt": "blurry",
        "height": 16,
        "width": 16,
    }
    rows = design.head(6)
    manifest = images.generate(
        rows, images.make_backend("diffusers", **options), tmp_path / "a", progress=False
    )
    assert list(manifest["id"]) == list(rows["id"]) and set(manifest["width"]) == {16}
    assert manifest["backend"].eq("diffusers").all() and manifest["model_id"].eq(tiny_model).all()
    assert np.isnan(images.truth_matrix(manifest)).all()
    settings = json.loads(manifest.loc[0, "settings"])
    assert settings["negative_prompt"] == "blurry" and settings["num_inference_steps"] == 2
    # per-image seeds: the same rows in other batches give the same bytes
    again = images.generate(
        rows.iloc[::-1],
        images.make_backend("diffusers", **{**options, "batch_size": 5}),
        tmp_path / "b",
        progress=False,
    )
    assert dict(zip(again["id"], again["sha256"])) == dict(zip(manifest["id"], manifest["sha256"]))


def test_unknown_model_offline_is_a_clear_error(monkeypatch):
    pytest.importorskip("diffusers")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(GenerationError, match="cannot fetch model nobody/no-such-model from"):
        images.make_backend("diffusers", model_id="nobody/no-such-model")
    with pytest.raises(GenerationError, match="dtype"):
        images.make_backend("diffusers", model_id="x", dtype="float8")


def test_a_hub_model_at_a_revision_is_fetched_checked_and_recorded(
    tmp_path, design, mirror, offline_hub, monkeypatch
):
    """The rehearsal's tiny FLUX pipeline in a hub cache at one commit: diffusers' own download
    with the revision passed through, every file checked, the commit in the image settings."""
    from emonet.rehearsal import hubcache, models

    revision = "2" * 40
    models.write_tiny_flux(tmp_path / "flux", 0, models.prompt_words())
    hubcache.put(tmp_path / "hub", "someone/tiny-flux", "model", tmp_path / "flux", revision)
    offline_hub(tmp_path / "hub")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    backend = images.make_backend(
        "diffusers",
        model_id=f"someone/tiny-flux@{revision}",
        batch_size=2,
        steps=1,
        guidance_scale=3.5,
        height=16,
        width=16,
    )
    assert (
        backend.snapshot.commit == revision
        and backend.label == f"diffusers: someone/tiny-flux@{revision[:12]}"
    )
    manifest = images.generate(design.head(2), backend, tmp_path / "out", progress=False)
    assert json.loads(manifest.loc[0, "settings"])["commit"] == revision
    with pytest.raises(GenerationError, match="cannot fetch model someone/tiny-flux from"):
        images.make_backend("diffusers", model_id="someone/tiny-flux")


SHARDED = """
import sys
from emonet.generation import images, prompts
from tests.helpers import GUIDE

design = prompts.design(30, GUIDE, seed=9)
images.generate_sharded(design, "offline", sys.argv[1], cpu=True, size=32, batch_size=4)
"""


@pytest.mark.integration
def test_accelerate_sharding_with_two_processes(tmp_path):
    """Two real processes (torchrun + accelerate, on CPU): disjoint slices, one merged manifest
    equal to a single-process run."""
    script = tmp_path / "sharded.py"
    script.write_text(SHARDED)
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT), "OMP_NUM_THREADS": "1"}
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
    shards = [pd.read_parquet(tmp_path / "out" / f"manifest-{i}-of-2.parquet") for i in range(2)]
    assert not set(shards[0]["id"]) & set(shards[1]["id"])
    merged = pd.read_parquet(tmp_path / "out" / "manifest.parquet")
    single = images.generate(
        prompts.design(30, GUIDE, seed=9),
        images.OfflineFaces(size=32, batch_size=4),
        tmp_path / "single",
        progress=False,
    )
    assert list(merged["id"]) == list(single["id"])
    assert list(merged["sha256"]) == list(single["sha256"])


def test_prompted_truth():
    truth = np.zeros((2, taxonomy.N_EMOTIONS))
    truth[0, taxonomy.INDEX["Anger"]] = 6.0  # peaks on its prompt
    truth[1, [taxonomy.INDEX["Fear"], taxonomy.INDEX["Awe"]]] = [2.0, 5.0]  # peaks elsewhere
    manifest = pd.DataFrame(truth, columns=list(images.TRUTH_COLUMNS)).assign(
        emotion=["Anger", "Fear"]
    )
    assert images.has_truth(manifest)
    assert images.prompted_truth(manifest) == (0.5, 4.0)
    manifest.loc[1, images.TRUTH_COLUMNS[0]] = np.nan
    assert not images.has_truth(manifest)
