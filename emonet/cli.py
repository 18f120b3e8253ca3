"""Command line: ``emonet run``, ``emonet book``, ``emonet data``, ``emonet notebooks``,
``emonet generate``, ``emonet predict``.

Run ``emonet --help`` (or ``python -m emonet --help``) for the commands and their options.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from emonet import __version__
from emonet.book.artifacts import PROFILES, UnsafePathError, atomic_path
from emonet.book.lock import LockedError
from emonet.book.notebooks import BOOK_DIR, PipelineError
from emonet.book.params import parse_overrides
from emonet.book.pipeline import Pipeline, PipelineInterrupted
from emonet.data import loaders, registry, taxonomy
from emonet.generation import images, prompts


def _pipeline(args) -> Pipeline:
    """The pipeline the options name. The rehearsal profile reads replicas of the full profile's
    artifacts (built first when missing, :mod:`emonet.rehearsal.build`) and builds its own book
    beside the artifacts, so the published book in ``book/`` stays as it is."""
    book_dir, sources, inputs = args.book_dir or BOOK_DIR, None, {}
    if args.profile == "rehearsal":
        from emonet.rehearsal import build as rehearsal

        inputs = rehearsal.prepare()
        if args.book_dir is None:
            book_dir, sources = rehearsal.book_dir(), BOOK_DIR
    return Pipeline(args.profile, book_dir=Path(book_dir), sources=sources,
                    artifacts_dir=Path(args.artifacts_dir) if args.artifacts_dir else None,
                    overrides=parse_overrides(args.set), inputs=inputs)


def cmd_run(args) -> int:
    start = time.perf_counter()
    steps = _pipeline(args).run(force=args.force, only=args.only, dry_run=args.dry_run)
    ran = sum(s.status == "ran" for s in steps)
    print(f"{ran} notebook(s) executed, {len(steps) - ran} not, "
          f"in {time.perf_counter() - start:.1f} s")
    stale = [s.stem for s in steps if s.status == "stale"]
    if stale:
        print(f"stale, not run: {', '.join(stale)} (run `emonet run` to bring them up to date)")
    return 0


def cmd_book(args) -> int:
    start = time.perf_counter()
    index = _pipeline(args).build(force=args.force, all_pages=args.all, run=not args.no_run)
    print(f"done in {time.perf_counter() - start:.1f} s\nThe book is at {index.resolve()}\n"
          f"  open it with:  python -m webbrowser file://{index.resolve()}")
    return 0


#: ``emonet data check`` states that make it exit non-zero.
BAD_STATES = ("truncated", "corrupt")


def cmd_data(args) -> int:
    names = args.names or list(registry.REGISTRY)
    unknown = [n for n in names if n not in registry.REGISTRY]
    if unknown:
        raise registry.DataError(f"unknown data file(s) {unknown}; known: "
                                 f"{', '.join(registry.REGISTRY)}")
    if args.action == "list":
        for name in names:
            entry = registry.REGISTRY[name]
            source = entry.url or (f"converted from {entry.source_url}" if entry.source_url
                                   else "(mirror only)")
            print(f"{name:30s} {source}\n{'':30s} {entry.description}")
        return 0
    if args.action == "fetch":
        for name in names:
            print(f"ok         {name:30s} {registry.fetch(name)}")
        return 0
    mirror = registry.mirror_dir()  # raises when EMONET_DATA_DIR names no folder
    print(f"mirror: {mirror or 'EMONET_DATA_DIR is not set'}; cache: {registry.cache_dir()}")
    failed = 0
    for name in names:
        state, path, detail = registry.status(name)
        unusable = state in BAD_STATES or (state == "missing" and (
            bool(args.names) or registry.REGISTRY[name].source_url is None))
        failed += unusable
        shown = f"{state} ({detail})" if detail else state
        print(f"{shown:60s} {name:30s} {path or ''}".rstrip())
    if failed:
        print(f"{failed} file(s) not usable", file=sys.stderr)
    return 1 if failed else 0


def cmd_generate(args) -> int:
    design = prompts.design(args.n, loaders.load_guide(), seed=args.seed, emotions=args.emotions,
                            templates=args.templates)
    if args.backend == "offline":
        options = {"size": args.size or 128, "batch_size": args.batch_size or 32,
                   "intensity": tuple(args.intensity)}
    else:
        if not args.model_id:
            raise images.GenerationError("--backend diffusers needs --model-id (a hub id or a "
                                           "local folder)")
        options = {"model_id": args.model_id, "dtype": args.dtype, "device": args.device,
                   "batch_size": args.batch_size or 4, "steps": args.steps,
                   "guidance_scale": args.guidance_scale, "negative_prompt": args.negative_prompt,
                   "height": args.size, "width": args.size}
    out = Path(args.out)
    if args.accelerate:
        options.pop("device", None)
        manifest = images.generate_sharded(design, args.backend, out, cpu=args.cpu,
                                           replace=args.replace, **options)
    else:
        manifest = images.generate(design, images.make_backend(args.backend, **options), out,
                                   replace=args.replace)
    speed = images.timing(manifest).iloc[0]
    print(f"{len(manifest)} image(s) in {out / 'images'}, manifest {images.manifest_path(out)}"
          f"\n{speed['images_per_s']} images/s ({speed['seconds']} s of generation time)")
    kept = images.read_manifest(images.manifest_path(out), everything=True)
    n_kept = int((~kept["requested"]).sum())
    if args.prune:
        images.prune(out)
    elif n_kept:
        print(f"{n_kept} image(s) of earlier requests are kept in {out / 'images'} "
              "(--prune removes them)")
    return 0


def cmd_predict(args) -> int:
    from emonet.model import figures as model_figures
    from emonet.model import heads, scoring

    if args.top < 1:
        raise heads.CheckpointError(f"--top must be at least 1, got {args.top}")
    checkpoint = heads.load_checkpoint(args.checkpoint)
    result = scoring.score_images(args.images, checkpoint, device=args.device,
                                  batch_size=args.batch_size)
    label = checkpoint.encoder.get("kind") == "untrained"
    if label:
        print("note: this checkpoint was trained on the untrained stand-in encoder (local "
              "profile); its scores are not emotion readings", file=sys.stderr)
    for name, row in result["softmax"].iterrows():
        print(name)
        for emotion, prob in scoring.top_emotions(row, args.top).items():
            print(f"  {emotion:45s} softmax {prob:.3f}  raw {result['raw'].loc[name, emotion]:6.2f}"
                  f"  mean-subtracted {result['mean_subtracted'].loc[name, emotion]:+6.2f}")
    if args.plot:

        title = f"Top {args.top} emotions ({Path(args.checkpoint).name}" + \
            (", untrained encoder)" if label else ")")
        fig = model_figures.top_emotion_bars(result["softmax"], args.top, title)
        with atomic_path(Path(args.plot)) as tmp:
            fig.savefig(tmp, dpi=120, bbox_inches="tight", format="png")
        print(f"bar chart written to {args.plot}")
    return 0


def cmd_notebooks(args) -> int:
    _pipeline(args).run(dry_run=True)
    return 0


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="emonet", description=__doc__.splitlines()[0])
    top.add_argument("--version", action="version", version=f"emonet {__version__}")
    sub = top.add_subparsers(dest="command", required=True)

    def pipeline_options(p):
        p.add_argument("--profile", choices=PROFILES, default="local",
                       help="parameter profile (default: local, offline and small)")
        p.add_argument("--set", metavar="KEY=VALUE", action="append", default=[],
                       help="override a notebook parameter (repeatable), e.g. --set seed=1")
        p.add_argument("--book-dir", default=None,
                       help="book source folder, where the executed notebooks and the HTML go "
                       "(default: book/; the rehearsal profile: a copy of book/'s sources in "
                       "artifacts/rehearsal-book)")
        p.add_argument("--artifacts-dir", default=None,
                       help="artifacts folder (default: artifacts/<profile>)")

    run = sub.add_parser("run", help="execute the notebooks in order with papermill")
    pipeline_options(run)
    run.add_argument("--force", action="store_true", help="re-run even unchanged notebooks")
    run.add_argument("--only", nargs="+", metavar="STEM",
                     help="re-run these notebooks (and those after them)")
    run.add_argument("--dry-run", action="store_true", help="only say what would run")
    run.set_defaults(func=cmd_run)

    book = sub.add_parser("book", help="run the notebooks, then build the HTML book")
    pipeline_options(book)
    book.add_argument("--force", action="store_true", help="re-run every notebook, rebuild all")
    book.add_argument("--no-run", action="store_true", help="build from the executed notebooks")
    book.add_argument("--all", action="store_true", help="rebuild every page")
    book.set_defaults(func=cmd_book)

    nbs = sub.add_parser("notebooks", help="list the notebooks and whether they would run")
    pipeline_options(nbs)
    nbs.set_defaults(func=cmd_notebooks)

    gen = sub.add_parser("generate", help="generate a balanced set of face images with a manifest",
                         description="Generate images for a balanced prompt design into "
                         "OUT/images with a resumable manifest OUT/manifest.parquet (rerun to "
                         "resume). The design is prefix-stable: --n 40 after --n 20 adds 20 "
                         "images, --n 20 after --n 40 keeps the other 20 (--prune removes them); "
                         "nothing is overwritten without --replace. Several GPUs: accelerate "
                         "launch --num_processes N -m emonet generate --accelerate ...")
    gen.add_argument("--n", type=int, required=True, help="number of images")
    gen.add_argument("--out", required=True, help="output folder (images/ and manifest.parquet)")
    gen.add_argument("--backend", choices=("offline", "diffusers"), default="offline",
                     help="offline: the drawn faces with ground truth (default); diffusers: any "
                     "diffusers text-to-image model")
    gen.add_argument("--model-id", help="diffusers model: hub id (e.g. "
                     "black-forest-labs/FLUX.1-dev) or local folder")
    gen.add_argument("--seed", type=int, default=42, help="design and image seeds (default: 42)")
    gen.add_argument("--emotions", nargs="+", metavar="EMOTION",
                     help="restrict to these categories (default: all 40)")
    gen.add_argument("--templates", nargs="+", metavar="NAME", choices=list(prompts.TEMPLATES),
                     help="prompt templates to use (default: all)")
    gen.add_argument("--size", type=int, help="image size in pixels (offline default: 128)")
    gen.add_argument("--batch-size", type=int, help="images per batch (default: 32 offline, 4 "
                     "diffusers)")
    gen.add_argument("--intensity", type=float, nargs=2, default=(0.6, 1.0),
                     metavar=("LOW", "HIGH"),
                     help="offline: expression intensity range (default: 0.6 1.0)")
    gen.add_argument("--dtype", choices=("float32", "float16", "bfloat16"), default="float32",
                     help="diffusers: weights dtype (default: float32)")
    gen.add_argument("--device", help="diffusers: torch device (default: cuda when available)")
    gen.add_argument("--steps", type=int, help="diffusers: inference steps")
    gen.add_argument("--guidance-scale", type=float, help="diffusers: guidance scale")
    gen.add_argument("--negative-prompt", help="diffusers: negative prompt")
    gen.add_argument("--accelerate", action="store_true",
                     help="one process per GPU under accelerate launch; shard manifests merged")
    gen.add_argument("--cpu", action="store_true", help="with --accelerate: CPU processes")
    gen.add_argument("--replace", action="store_true",
                     help="regenerate requested images whose existing file does not match the "
                     "request (other settings or model, modified file); without it the run stops "
                     "and overwrites nothing")
    gen.add_argument("--prune", action="store_true",
                     help="after generating, remove the images of earlier requests that this one "
                     "does not name (listed before they are removed)")
    gen.set_defaults(func=cmd_generate)

    pred = sub.add_parser("predict", help="top emotions of images under a trained checkpoint",
                          description="Score images with a checkpoint of chapter 05 (heads + "
                          "the encoder recorded in its metadata) and print each image's top "
                          "emotions (softmax over the 40 mean-subtracted scores). Research use "
                          "only; see the book's ethics page.")
    pred.add_argument("images", nargs="+", metavar="IMAGE", help="image files")
    pred.add_argument("--checkpoint", required=True,
                      help="heads checkpoint (.safetensors with its .json beside it)")
    pred.add_argument("--top", type=int, default=5, help="emotions to show per image (5)")
    pred.add_argument("--plot", metavar="OUT.png", help="also write a bar chart")
    pred.add_argument("--device", help="torch device (default: cuda when available)")
    pred.add_argument("--batch-size", type=int, default=32, help="images per encoder batch")
    pred.set_defaults(func=cmd_predict)

    dat = sub.add_parser("data", help="the upstream data files: list, check, fetch")
    dat.add_argument("action", choices=("list", "check", "fetch"),
                     help="list the registry; check = verify what is local; fetch = also download")
    dat.add_argument("names", nargs="*", help="file names (default: all)")
    dat.set_defaults(func=cmd_data)
    return top


def _user_errors() -> tuple:
    """Errors that are reported as one line (bad input), not as a traceback. The heads module
    (and torch) is imported only by the commands that need it."""
    errors = [PipelineError, LockedError, UnsafePathError, registry.DataError,
              images.GenerationError,
              prompts.DesignError, taxonomy.UnknownEmotionError]
    for module, name in (("emonet.model.heads", "CheckpointError"),
                         ("emonet.model.encoder", "EncoderError")):
        if module in sys.modules:
            errors.append(getattr(sys.modules[module], name))
    return tuple(errors)


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        return args.func(args)
    except PipelineInterrupted as err:
        print(f"emonet {args.command}: {err}", file=sys.stderr)
        return 130
    except _user_errors() as err:
        print(f"emonet {args.command}: error: {err}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"emonet {args.command}: interrupted", file=sys.stderr)
        return 130
