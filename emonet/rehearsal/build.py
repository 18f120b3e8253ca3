"""Build the replicas and point a run at them.

:func:`build` writes every replica into one folder (default :func:`default_root`):

* ``hub/``: a Hugging Face hub cache (:mod:`emonet.rehearsal.hubcache`) holding the three
  datasets, the released heads, the SigLIP2 checkpoint and the diffusers pipeline under the
  replica ids of :data:`REPLICAS`, each at the commit :data:`REVISION` and nowhere else;
* ``supplied/``: files a user supplies, where the code looks for them (the cache folder): the
  AffectNet result parts and ``hq-replica.csv``, the ``hq.csv`` replica (named as
  ``panel_source``);
* ``replicas.json``: the builder's fingerprint, what was planted, and the SHA-256 of every file.

:func:`environment` is what a run needs to read them exactly as the full profile reads the real
ones (``HF_HUB_CACHE``, ``HF_HUB_OFFLINE=1``, ``EMONET_CACHE_DIR``); :func:`ensure` builds the
replicas when they are missing or were built by other code. The rehearsal profile
(``notebooks/params/rehearsal.yaml``) names the replica ids at :data:`REVISION`.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
from pathlib import Path

from emonet.build import import_graph
from emonet.build.lock import artifacts_lock
from emonet.data import snapshots
from emonet.data.checksums import sha256_bytes, sha256_of
from emonet.paths import PROJECT_ROOT, default_artifacts_dir
from emonet.rehearsal import datasets, hubcache, models

#: Real hub artefact -> its replica's id and type.
REPLICAS = {
    "laion/emonet-face-hq": ("emonet-replica/emonet-face-hq", "dataset"),
    "laion/emonet-face-binary": ("emonet-replica/emonet-face-binary", "dataset"),
    "laion/emonet-face-big": ("emonet-replica/emonet-face-big", "dataset"),
    "laion/Empathic-Insight-Face-Large": ("emonet-replica/Empathic-Insight-Face-Large", "model"),
    "google/siglip2-so400m-patch16-384": ("emonet-replica/siglip2-so400m-patch16-384", "model"),
    "black-forest-labs/FLUX.1-dev": ("emonet-replica/tiny-flux", "model"),
}

#: The one commit every replica repository is stored at (a fixed name; the content is tracked by
#: ``replicas.json``).
REVISION = hashlib.sha1(b"emonet rehearsal replicas, format 1").hexdigest()

#: The folder of the supplied files inside the replica folder, and the hq.csv replica's name.
SUPPLIED = "supplied"
HQ_CSV = "hq-replica.csv"
MANIFEST = "replicas.json"


def replica_source(real: str) -> str:
    """The source a profile names for the replica of ``real``: ``<replica id>@<REVISION>``."""
    return f"{REPLICAS[real][0]}@{REVISION}"


def default_root() -> Path:
    """``replicas/`` beside the profiles' artifacts folders (``artifacts/replicas``)."""
    return default_artifacts_dir("rehearsal").parent / "replicas"


def builder_fingerprint() -> str:
    """Fingerprint of the code that builds the replicas (this module and everything it imports
    from the package), so replicas made by other code are rebuilt."""
    files = import_graph.closure({"emonet.rehearsal.build"}, PROJECT_ROOT)
    return import_graph.package_fingerprint(files, PROJECT_ROOT)


def build(root: Path | None = None, seed: int = 42, log=print) -> dict:
    """Build every replica into ``root`` (replacing it whole, atomically) and return the
    manifest written as ``replicas.json``."""
    root = Path(root or default_root())
    partial = root.with_name(root.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    work, hub = partial / "work", partial / "hub"
    work.mkdir(parents=True)
    start = time.perf_counter()
    log(f"building the replicas in {root} ...")
    faces = datasets.render_faces(seed)
    n_affectnet = datasets.write_affectnet(partial / SUPPLIED, seed)
    planted = datasets.write_hq(faces["hq"], work / "hq", partial / SUPPLIED / HQ_CSV, seed)
    datasets.write_binary(faces["binary"], work / "binary", seed)
    datasets.write_big(faces["big"], work / "big", seed)
    with snapshots.quiet_loading():
        models.write_siglip(work / "siglip", seed)
        models.write_released_heads(work / "heads", seed)
        models.write_tiny_flux(work / "flux", seed, models.prompt_words())
    for real, folder in (
        ("laion/emonet-face-hq", "hq"),
        ("laion/emonet-face-binary", "binary"),
        ("laion/emonet-face-big", "big"),
        ("laion/Empathic-Insight-Face-Large", "heads"),
        ("google/siglip2-so400m-patch16-384", "siglip"),
        ("black-forest-labs/FLUX.1-dev", "flux"),
    ):
        replica, kind = REPLICAS[real]
        hubcache.put(hub, replica, kind, work / folder, REVISION)
    shutil.rmtree(work)
    files = {
        p.relative_to(partial).as_posix(): sha256_of(p)
        for p in sorted(partial.rglob("*"))
        if p.is_file() and not p.is_symlink()
    }
    manifest = {
        "builder": builder_fingerprint(),
        "seed": seed,
        "revision": REVISION,
        "sizes": {**datasets.SIZES, "affectnet": n_affectnet},
        "planted": {k: v for k, v in planted.items() if k != "expert_second"},
        "files": files,
        "seconds": round(time.perf_counter() - start, 1),
    }
    (partial / MANIFEST).write_text(json.dumps(manifest, indent=1, sort_keys=True))
    shutil.rmtree(root, ignore_errors=True)
    os.replace(partial, root)
    log(f"replicas built in {manifest['seconds']} s")
    return manifest


def ensure(root: Path | None = None, log=print) -> dict:
    """The replicas' manifest, building them first when ``root`` has none or they were built by
    other code (:func:`builder_fingerprint`); one process at a time (a second one stops with
    :class:`emonet.build.lock.LockedError`)."""
    root = Path(root or default_root())
    with artifacts_lock(root.with_name(root.name + ".lock"), "building the replicas", log):
        try:
            manifest = json.loads((root / MANIFEST).read_text())
        except (OSError, ValueError):
            manifest = None
        if manifest is None or manifest.get("builder") != builder_fingerprint():
            manifest = build(root, log=log)
    return manifest


def digest(manifest: dict) -> str:
    """One checksum of everything the replicas hold (for the pipeline's fingerprints)."""
    return sha256_bytes(json.dumps(manifest["files"], sort_keys=True).encode())


def environment(root: Path | None = None) -> dict[str, str]:
    """The environment under which a run reads the replicas as the full profile reads the real
    artefacts: the hub cache, offline, and the cache folder holding the supplied files."""
    root = Path(root or default_root()).resolve()
    return {
        "HF_HUB_CACHE": str(root / "hub"),
        "HF_HUB_OFFLINE": "1",
        "HF_DATASETS_CACHE": str(root / "datasets-cache"),
        "EMONET_CACHE_DIR": str(root / SUPPLIED),
    }


def book_dir() -> Path:
    """Where ``emonet book --profile rehearsal`` builds its book, beside the artifacts (the
    published book in ``book/`` stays the local or full one)."""
    return default_artifacts_dir("rehearsal").parent / "rehearsal-book"


def prepare(root: Path | None = None, log=print) -> dict[str, str]:
    """Make a run read the replicas: build them when needed (:func:`ensure`), set
    :func:`environment` in this process (the notebooks' kernels inherit it) and return the
    inputs for the pipeline's fingerprints (the replicas' :func:`digest`)."""
    manifest = ensure(root, log=log)
    os.environ.update(environment(root))
    return {"replicas": digest(manifest)}
