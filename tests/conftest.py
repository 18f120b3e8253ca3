"""Shared fixtures: the offline mirror of the authors' files, isolated caches, a local HTTP server,
the rehearsal's dataset replicas, an offline hub cache, PNG files and a tiny build of the chapters
before the evaluation (chapters 06 and 07 run on it); and, for the test process, one thread for
torch and BLAS and statsmodels' Holm correction without its garbage collection."""

from __future__ import annotations

import os

# One thread for torch's and BLAS's kernels in the test process, set before either is loaded
# (they read it when they load, at collection): the tests' tensors are tiny, where a second thread
# costs more in handing work over than it saves (training a head stack ran 4-10x slower with two
# threads on a busy 2-core box), and a fixed thread count keeps float reductions in one order
# run to run. A variable the user set stays as it is.
THREAD_VARIABLES = [
    name
    for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
    if name not in os.environ
]
for _name in THREAD_VARIABLES:
    os.environ[_name] = "1"

import functools  # noqa: E402
import http.server  # noqa: E402
import threading  # noqa: E402
from pathlib import Path  # noqa: E402
from unittest import mock  # noqa: E402

import pytest  # noqa: E402

from emonet.paths import PROJECT_ROOT  # noqa: E402

MIRROR = Path(os.environ.get("EMONET_DATA_DIR") or PROJECT_ROOT.parent / "shared/data/emonet-face")


@pytest.fixture(scope="session")
def mirror() -> Path:
    """The offline mirror folder; required in CI, skipped elsewhere when absent."""
    if not (MIRROR / "guide.json").exists():
        if os.environ.get("CI"):
            pytest.fail(f"offline data mirror not found at {MIRROR} (set EMONET_DATA_DIR)")
        pytest.skip(f"offline data mirror not found at {MIRROR}")
    return MIRROR


@pytest.fixture(autouse=True, scope="session")
def one_thread_in_this_process_only():
    """The subprocesses the tests start (the pipeline's kernels building the book, the command
    line) get the machine's threads again: the variables go once torch and numpy have read them."""
    for name in THREAD_VARIABLES:
        os.environ.pop(name, None)
    yield


@pytest.fixture(autouse=True, scope="session")
def holm_without_full_collections():
    """statsmodels' ``multipletests`` runs ``gc.collect()`` on every Holm call: a full collection
    of the whole test process (torch, pandas, hypothesis loaded), 0.2-1 s each, so a test that
    fits a few dozen regressions (e.g. the fairness calibration) spends minutes collecting
    garbage. Inside the tests the package's calls skip that collection; the values are the
    same (it frees memory, nothing else)."""
    from statsmodels.stats import multitest

    real = multitest.multipletests

    @functools.wraps(real)
    def multipletests(*args, **kwargs):
        with mock.patch("gc.collect", return_value=0):
            return real(*args, **kwargs)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(multitest, "multipletests", multipletests)
        yield


@pytest.fixture(autouse=True)
def isolated_data_env(monkeypatch, tmp_path_factory):
    """Each test gets an empty download cache and the mirror (when present) as data folder."""
    monkeypatch.setenv("EMONET_CACHE_DIR", str(tmp_path_factory.mktemp("cache")))
    if (MIRROR / "guide.json").exists():
        monkeypatch.setenv("EMONET_DATA_DIR", str(MIRROR))
    else:
        monkeypatch.delenv("EMONET_DATA_DIR", raising=False)


@pytest.fixture
def png_paths(tmp_path) -> list[str]:
    """Six PNG files of seeded random pixels (32 x 32) in ``tmp_path``, as strings."""
    from tests.helpers import png

    paths = []
    for i in range(6):
        path = tmp_path / f"img{i}.png"
        path.write_bytes(png(i))
        paths.append(str(path))
    return paths


@pytest.fixture
def http_folder(tmp_path):
    """Serve a fresh folder on 127.0.0.1; yields ``(folder, base_url)``."""
    folder = tmp_path / "served"
    folder.mkdir()
    handler = functools.partial(QuietHandler, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield folder, f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):  # keep test output clean
        pass


@pytest.fixture(scope="session")
def replica_data(tmp_path_factory):
    """The rehearsal's dataset replicas in the published schemas (:mod:`emonet.rehearsal.datasets`,
    small faces): local dataset folders ``hq``, ``binary``, ``big``, the ``hq.csv`` replica, and
    the three datasets in a hub cache (``hub``) at the replicas' commit; ``source(name)`` is the
    pinned hub id of one of them. Needs the mirror (the taxonomy's words)."""
    from types import SimpleNamespace

    from emonet.rehearsal import datasets as replicas
    from emonet.rehearsal import hubcache
    from emonet.rehearsal.build import REVISION

    if not (MIRROR / "guide.json").exists():
        pytest.skip(f"offline data mirror not found at {MIRROR}")
    root = tmp_path_factory.mktemp("replicas")
    with pytest.MonkeyPatch.context() as env:
        env.setenv("EMONET_DATA_DIR", str(MIRROR))
        env.setenv("EMONET_CACHE_DIR", str(root / "cache"))
        faces = replicas.render_faces(42, size=32)
        planted = replicas.write_hq(faces["hq"], root / "hq", root / "hq.csv", 42)
        replicas.write_binary(faces["binary"], root / "binary", 42)
        replicas.write_big(faces["big"], root / "big", 42)
    for name in ("hq", "binary", "big"):
        hubcache.put(
            root / "hub", f"emonet-replica/emonet-face-{name}", "dataset", root / name, REVISION
        )
    return SimpleNamespace(
        root=root,
        hub=root / "hub",
        faces=faces,
        planted=planted,
        revision=REVISION,
        source=lambda name: f"emonet-replica/emonet-face-{name}@{REVISION}",
    )


@pytest.fixture
def offline_hub(monkeypatch, tmp_path):
    """Point huggingface_hub (offline) and datasets at a hub cache of the test's choosing: returns
    a function ``use(cache)``."""
    import datasets
    from huggingface_hub import constants

    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    monkeypatch.setattr(datasets.config, "HF_DATASETS_CACHE", tmp_path / "datasets-cache")

    def use(cache):
        monkeypatch.setattr(constants, "HF_HUB_CACHE", str(cache))

    return use


@pytest.fixture(scope="session")
def tiny_build(tmp_path_factory):
    """What chapters 02, 04 and 05 leave behind, tiny (60 offline faces, a simulated panel, a
    model on a tiny untrained encoder, the released heads' files), and the HQ panel and images in
    the full profile's formats: ``root`` (the artifacts folder), ``hq_csv``, ``hq_images`` (the
    HQ dataset as parquet: no file names, the experts' ratings in ``label``)."""
    from types import SimpleNamespace

    import numpy as np
    from datasets import Dataset, Features, Image, Value

    from emonet.data import taxonomy
    from emonet.generation import images, prompts
    from emonet.hq import panel, simulation
    from emonet.model import encoder, heads, released, scoring
    from emonet.rehearsal import datasets as replicas
    from tests.helpers import GUIDE, TINY_ENCODER

    root = tmp_path_factory.mktemp("artifacts")
    design = prompts.design(60, GUIDE, seed=3)
    manifest = images.generate(
        design, images.OfflineFaces(size=32, batch_size=60), root, progress=False
    )
    experts = simulation.simulate_panel(
        images.truth_matrix(manifest), manifest["id"], simulation.RaterModel(per_image=4), seed=1
    )
    panel.write_hq_csv(experts, root / panel.SIMULATED_FILE)
    spec = encoder.untrained(3, **TINY_ENCODER)
    checkpoint = heads.Checkpoint(
        heads.Heads("small", TINY_ENCODER["hidden_size"], seed=0),
        spec.to_dict(),
        np.zeros(taxonomy.N_EMOTIONS),
    )
    heads.save_checkpoint(checkpoint, root / scoring.CHECKPOINT_PATH)
    embeddings = np.random.default_rng(0).normal(size=(len(manifest), TINY_ENCODER["hidden_size"]))
    scoring.write_predictions(
        root / scoring.HQ_PREDICTIONS_PATH,
        manifest["id"],
        manifest["path"],
        checkpoint.scores(embeddings),
    )
    released.save_released(
        heads.Heads("small", TINY_ENCODER["hidden_size"], seed=2), root / "released"
    )
    hq_csv = panel.write_hq_csv(experts, root / "hq.csv")
    hq_images = root / "hq.parquet"
    Dataset.from_dict(
        {
            "path": [
                {"bytes": (root / p).read_bytes(), "path": "tmp.png"} for p in manifest["path"]
            ],
            **{
                c: manifest[c].astype(str).tolist()
                for c in ("prompt", "age", "ethnicity", "gender", "emotion")
            },
            "label": [
                replicas._expert_label(
                    [
                        (experts.annotators[a], experts.ratings[a, i])
                        for a in np.flatnonzero(experts.human & experts.rated[:, i])
                    ]
                )
                for i in range(len(manifest))
            ],
        },
        features=Features(
            {
                "path": Image(),
                **{
                    c: Value("string")
                    for c in ("prompt", "age", "ethnicity", "gender", "emotion", "label")
                },
            }
        ),
    ).to_parquet(str(hq_images))
    return SimpleNamespace(root=root, hq_csv=hq_csv, hq_images=hq_images)


@pytest.fixture
def dataset_predictions(tiny_build):
    """Chapter 05's predictions as the full profile writes them: the HQ dataset's row ids (its
    rows in the manifest's order here); the local ids are restored afterwards."""
    import pandas as pd

    from emonet.data import hub
    from emonet.model import scoring

    path = tiny_build.root / scoring.HQ_PREDICTIONS_PATH
    table = pd.read_parquet(path)
    table.assign(id=hub.row_ids("hq", len(table))).to_parquet(path)
    yield
    table.to_parquet(path)


@pytest.fixture
def real_panel(tiny_build, monkeypatch):
    """``registry.fetch("hq.csv")`` gives the tiny panel in the real format (no download)."""
    from emonet.data import registry

    fetch = registry.fetch
    monkeypatch.setattr(
        registry,
        "fetch",
        lambda name, **kw: tiny_build.hq_csv if name == "hq.csv" else fetch(name, **kw),
    )
    monkeypatch.setenv("HF_DATASETS_CACHE", str(tiny_build.root / "hf"))
