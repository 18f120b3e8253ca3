"""Command line: ``emonet run``, ``emonet book``, ``emonet data``, ``emonet notebooks``,
``emonet generate``, ``emonet predict``, ``emonet annotate``, ``emonet evaluate``.

Run ``emonet --help`` (or ``python -m emonet --help``) for the commands and their options.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from emonet import __version__
from emonet.build.lock import LockedError
from emonet.build.notebooks import PipelineError
from emonet.build.params import parse_overrides
from emonet.build.pipeline import Pipeline, PipelineInterrupted
from emonet.data import loaders, registry, taxonomy
from emonet.generation import images, prompts
from emonet.io import UnsafePathError, atomic_path
from emonet.paths import BOOK_DIR, PROFILES


def _prepare_profile(profile: str) -> dict[str, str]:
    """Set up what ``profile`` reads beyond its parameters, for every command that takes a
    profile: the rehearsal reads replicas of the full profile's artifacts (built first when
    missing, :mod:`emonet.rehearsal.build`; the environment points there). Returns the
    pipeline's further fingerprint inputs."""
    if profile != "rehearsal":
        return {}
    from emonet.rehearsal import build as rehearsal

    return rehearsal.prepare()


def _pipeline(args) -> Pipeline:
    """The pipeline the options name. The rehearsal profile (:func:`_prepare_profile`) builds
    its own book beside the artifacts, so the published book in ``book/`` stays as it is."""
    book_dir, sources = args.book_dir or BOOK_DIR, None
    inputs = _prepare_profile(args.profile)
    if args.profile == "rehearsal" and args.book_dir is None:
        from emonet.rehearsal import build as rehearsal

        book_dir, sources = rehearsal.book_dir(), BOOK_DIR
    return Pipeline(
        args.profile,
        book_dir=Path(book_dir),
        sources=sources,
        artifacts_dir=Path(args.artifacts_dir) if args.artifacts_dir else None,
        overrides=parse_overrides(args.set),
        inputs=inputs,
    )


def cmd_run(args) -> int:
    start = time.perf_counter()
    steps = _pipeline(args).run(force=args.force, only=args.only, dry_run=args.dry_run)
    ran = sum(s.status == "ran" for s in steps)
    print(
        f"{ran} notebook(s) executed, {len(steps) - ran} not, "
        f"in {time.perf_counter() - start:.1f} s"
    )
    stale = [s.stem for s in steps if s.status == "stale"]
    if stale:
        print(f"stale, not run: {', '.join(stale)} (run `emonet run` to bring them up to date)")
    return 0


def cmd_book(args) -> int:
    start = time.perf_counter()
    index = _pipeline(args).build(force=args.force, all_pages=args.all, run=not args.no_run)
    print(
        f"done in {time.perf_counter() - start:.1f} s\nThe book is at {index.resolve()}\n"
        f"  open it with:  python -m webbrowser file://{index.resolve()}"
    )
    return 0


#: ``emonet data check`` states that make it exit non-zero.
BAD_STATES = ("truncated", "corrupt")


def cmd_data(args) -> int:
    names = args.names or list(registry.REGISTRY)
    unknown = [n for n in names if n not in registry.REGISTRY]
    if unknown:
        raise registry.DataError(
            f"unknown data file(s) {unknown}; known: {', '.join(registry.REGISTRY)}"
        )
    if args.action == "list":
        for name in names:
            entry = registry.REGISTRY[name]
            source = entry.url or (
                f"converted from {entry.source_url}" if entry.source_url else "(mirror only)"
            )
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
        unusable = state in BAD_STATES or (
            state == "missing" and (bool(args.names) or registry.REGISTRY[name].source_url is None)
        )
        failed += unusable
        shown = f"{state} ({detail})" if detail else state
        print(f"{shown:60s} {name:30s} {path or ''}".rstrip())
    if failed:
        print(f"{failed} file(s) not usable", file=sys.stderr)
    return 1 if failed else 0


def cmd_generate(args) -> int:
    design = prompts.design(
        args.n,
        loaders.load_guide(),
        seed=args.seed,
        emotions=args.emotions,
        templates=args.templates,
    )
    if args.backend == "offline":
        options = {
            "size": args.size or 128,
            "batch_size": args.batch_size or 32,
            "intensity": tuple(args.intensity),
        }
    else:
        if not args.model_id:
            raise images.GenerationError(
                "--backend diffusers needs --model-id (a hub id or a local folder)"
            )
        options = {
            "model_id": args.model_id,
            "dtype": args.dtype,
            "device": args.device,
            "batch_size": args.batch_size or 4,
            "steps": args.steps,
            "guidance_scale": args.guidance_scale,
            "negative_prompt": args.negative_prompt,
            "height": args.size,
            "width": args.size,
        }
    out = Path(args.out)
    if args.accelerate:
        options.pop("device", None)
        manifest = images.generate_sharded(
            design, args.backend, out, cpu=args.cpu, replace=args.replace, **options
        )
    else:
        manifest = images.generate(
            design, images.make_backend(args.backend, **options), out, replace=args.replace
        )
    speed = images.timing(manifest).iloc[0]
    print(
        f"{len(manifest)} image(s) in {out / 'images'}, manifest {images.manifest_path(out)}"
        f"\n{speed['images_per_s']} images/s ({speed['seconds']} s of generation time)"
    )
    kept = images.read_manifest(images.manifest_path(out), everything=True)
    n_kept = int((~kept["requested"]).sum())
    if args.prune:
        images.prune(out)
    elif n_kept:
        print(
            f"{n_kept} image(s) of earlier requests are kept in {out / 'images'} "
            "(--prune removes them)"
        )
    return 0


def cmd_predict(args) -> int:
    from emonet.model import figures as model_figures
    from emonet.model import heads, scoring

    if args.top < 1:
        raise heads.CheckpointError(f"--top must be at least 1, got {args.top}")
    checkpoint = heads.load_checkpoint(args.checkpoint)
    result = scoring.score_images(
        args.images, checkpoint, device=args.device, batch_size=args.batch_size
    )
    label = checkpoint.encoder.get("kind") == "untrained"
    if label:
        print(
            "note: this checkpoint was trained on the untrained stand-in encoder (local "
            "profile); its scores are not emotion readings",
            file=sys.stderr,
        )
    for name, row in result["softmax"].iterrows():
        print(name)
        for emotion, prob in scoring.top_emotions(row, args.top).items():
            print(
                f"  {emotion:45s} softmax {prob:.3f}  raw {result['raw'].loc[name, emotion]:6.2f}"
                f"  mean-subtracted {result['mean_subtracted'].loc[name, emotion]:+6.2f}"
            )
    if args.plot:
        title = f"Top {args.top} emotions ({Path(args.checkpoint).name}" + (
            ", untrained encoder)" if label else ")"
        )
        fig = model_figures.top_emotion_bars(result["softmax"], args.top, title)
        with atomic_path(Path(args.plot)) as tmp:
            fig.savefig(tmp, dpi=120, bbox_inches="tight", format="png")
        print(f"bar chart written to {args.plot}")
    return 0


def _image_set(paths: list[str]):
    """The images to annotate: files and folders, or one manifest of ``emonet generate``."""
    from emonet.benchmarking.annotate import ImageSet

    if len(paths) == 1 and paths[0].endswith(".parquet"):
        manifest = Path(paths[0])
        return ImageSet.from_manifest(manifest.parent, images.read_manifest(manifest))
    return ImageSet.from_paths(paths)


def cmd_annotate(args) -> int:
    from emonet.benchmarking import annotate, vlm

    pictures = _image_set(args.images)
    name = args.name or Path(args.model.rstrip("/")).name
    options = {"model_name": name, "readouts": args.readouts, "seed": args.seed}

    def backend(device):
        return vlm.TransformersVLM(
            args.model,
            device=device,
            dtype=args.dtype,
            batch_size=args.batch_size,
            max_new_tokens=args.max_new_tokens,
            temperature=args.temperature,
            threads=args.threads,
        )

    if args.accelerate:
        summary = annotate.annotate_sharded(pictures, backend, args.out, cpu=args.cpu, **options)
    else:
        summary = annotate.annotate(pictures, backend(args.device), args.out, **options)
    for row in summary.itertuples():
        print(
            f"{row.annotator}: {row.accepted} of {row.images} image(s) accepted, "
            f"{row.failed} failed, {row.unusable} unusable; {row.attempts} attempt(s)"
        )
    out = Path(args.out)
    print(
        f"hq.csv rows: {out / 'hq.csv'}\nevery attempt: {out}/attempts*.jsonl; why replies "
        f"were turned down: {out / 'annotate_reasons.csv'}\nnext: emonet evaluate --scores "
        f"{out / 'hq.csv'} --out DIR"
    )
    return 0


def cmd_evaluate(args) -> int:
    from emonet.benchmarking import evaluate
    from emonet.build.params import load_params
    from emonet.hq import panel
    from emonet.paths import default_artifacts_dir

    if args.panel:
        panel_path, label = Path(args.panel), None
    else:
        _prepare_profile(args.profile)
        source = load_params(args.profile)["04_hq_panel"]["panel_source"]
        root = (
            Path(args.artifacts_dir) if args.artifacts_dir else default_artifacts_dir(args.profile)
        )
        try:
            panel_path = panel.hq_path(source, root)
        except (FileNotFoundError, registry.DataError) as err:
            raise evaluate.ScoresError(
                f"the {args.profile} profile's panel: {err}; or give --panel HQ.csv"
            ) from None
        label = panel.source_label(source) + (
            " (a stand-in for the paper's hq.csv)" if source == "simulated" else ""
        )
    result = evaluate.evaluate(
        args.scores,
        args.out,
        panel_path,
        name=args.name,
        scale=args.scale,
        n_boot=args.n_bootstrap,
        seed=args.seed,
        keep_outside=args.keep_outside_scale,
        max_unknown=args.max_unknown,
        panel_label=label,
    )
    summary = result.summary
    experts = summary[summary["human"]]
    print(
        f"panel: {label or panel_path} ({len(experts)} experts: mean kappa "
        f"{experts['mean_kappa'].min():.3f} to {experts['mean_kappa'].max():.3f}, mean rho "
        f"{experts['mean_rho'].min():.3f} to {experts['mean_rho'].max():.3f})"
    )
    for row in summary[summary["added"]].itertuples():
        print(
            f"{row.annotator} ({row.group}, {row.n_images} images): mean kappa "
            f"{row.mean_kappa:.3f}, mean rho {row.mean_rho:.3f}, could be an annotator: "
            f"{'yes' if row.could_be else 'no'} (p = {row.could_be_p:.3g})"
        )
    for row in result.coverage[result.coverage["unknown_ids"] > 0].itertuples():
        print(
            f"note: {row.unknown_ids} image id(s) of {row.annotator} are not in the panel and "
            f"were left out, e.g. {row.unknown_examples}"
        )
    print(f"tables in {result.out}; report: {result.report}")
    return 0


def cmd_notebooks(args) -> int:
    _pipeline(args).run(dry_run=True)
    return 0


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(
        prog="emonet",
        description="The EmoNet-Face compendium: run its notebooks, build its book, check its "
        "data, and generate, score, annotate or evaluate images and models.",
    )
    top.add_argument("--version", action="version", version=f"emonet {__version__}")
    sub = top.add_subparsers(dest="command", required=True)

    def pipeline_options(p):
        p.add_argument(
            "--profile",
            choices=PROFILES,
            default="local",
            help="parameter profile (default: local, offline and small)",
        )
        p.add_argument(
            "--set",
            metavar="KEY=VALUE",
            action="append",
            default=[],
            help="override a notebook parameter (repeatable), e.g. --set seed=1",
        )
        p.add_argument(
            "--book-dir",
            default=None,
            help="book source folder, where the executed notebooks and the HTML go "
            "(default: book/; the rehearsal profile: a copy of book/'s sources in "
            "artifacts/rehearsal-book)",
        )
        p.add_argument(
            "--artifacts-dir", default=None, help="artifacts folder (default: artifacts/<profile>)"
        )

    run = sub.add_parser("run", help="execute the notebooks in order with papermill")
    pipeline_options(run)
    run.add_argument("--force", action="store_true", help="re-run even unchanged notebooks")
    run.add_argument(
        "--only", nargs="+", metavar="STEM", help="re-run these notebooks (and those after them)"
    )
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

    gen = sub.add_parser(
        "generate",
        help="generate a balanced set of face images with a manifest",
        description="Generate images for a balanced prompt design into "
        "OUT/images with a resumable manifest OUT/manifest.parquet (rerun to "
        "resume). The design is prefix-stable: --n 40 after --n 20 adds 20 "
        "images, --n 20 after --n 40 keeps the other 20 (--prune removes them); "
        "nothing is overwritten without --replace. Several GPUs: accelerate "
        "launch --num_processes N -m emonet generate --accelerate ...",
    )
    gen.add_argument("--n", type=int, required=True, help="number of images")
    gen.add_argument("--out", required=True, help="output folder (images/ and manifest.parquet)")
    gen.add_argument(
        "--backend",
        choices=("offline", "diffusers"),
        default="offline",
        help="offline: the drawn faces with ground truth (default); diffusers: any "
        "diffusers text-to-image model",
    )
    gen.add_argument(
        "--model-id",
        help="diffusers model: hub id (e.g. black-forest-labs/FLUX.1-dev) or local folder",
    )
    gen.add_argument("--seed", type=int, default=42, help="design and image seeds (default: 42)")
    gen.add_argument(
        "--emotions",
        nargs="+",
        metavar="EMOTION",
        help="restrict to these categories (default: all 40)",
    )
    gen.add_argument(
        "--templates",
        nargs="+",
        metavar="NAME",
        choices=list(prompts.TEMPLATES),
        help="prompt templates to use (default: all)",
    )
    gen.add_argument("--size", type=int, help="image size in pixels (offline default: 128)")
    gen.add_argument(
        "--batch-size", type=int, help="images per batch (default: 32 offline, 4 diffusers)"
    )
    gen.add_argument(
        "--intensity",
        type=float,
        nargs=2,
        default=(0.6, 1.0),
        metavar=("LOW", "HIGH"),
        help="offline: expression intensity range (default: 0.6 1.0)",
    )
    gen.add_argument(
        "--dtype",
        choices=("float32", "float16", "bfloat16"),
        default="float32",
        help="diffusers: weights dtype (default: float32)",
    )
    gen.add_argument("--device", help="diffusers: torch device (default: cuda when available)")
    gen.add_argument("--steps", type=int, help="diffusers: inference steps")
    gen.add_argument("--guidance-scale", type=float, help="diffusers: guidance scale")
    gen.add_argument("--negative-prompt", help="diffusers: negative prompt")
    gen.add_argument(
        "--accelerate",
        action="store_true",
        help="one process per GPU under accelerate launch; shard manifests merged",
    )
    gen.add_argument("--cpu", action="store_true", help="with --accelerate: CPU processes")
    gen.add_argument(
        "--replace",
        action="store_true",
        help="regenerate requested images whose existing file does not match the "
        "request (other settings or model, modified file); without it the run stops "
        "and overwrites nothing",
    )
    gen.add_argument(
        "--prune",
        action="store_true",
        help="after generating, remove the images of earlier requests that this one "
        "does not name (listed before they are removed)",
    )
    gen.set_defaults(func=cmd_generate)

    pred = sub.add_parser(
        "predict",
        help="top emotions of images under a trained checkpoint",
        description="Score images with a checkpoint of chapter 05 (heads + "
        "the encoder recorded in its metadata) and print each image's top "
        "emotions (softmax over the 40 mean-subtracted scores). Research use "
        "only; see the book's ethics page.",
    )
    pred.add_argument("images", nargs="+", metavar="IMAGE", help="image files")
    pred.add_argument(
        "--checkpoint",
        required=True,
        help="heads checkpoint (.safetensors with its .json beside it)",
    )
    pred.add_argument("--top", type=int, default=5, help="emotions to show per image (5)")
    pred.add_argument("--plot", metavar="OUT.png", help="also write a bar chart")
    pred.add_argument("--device", help="torch device (default: cuda when available)")
    pred.add_argument("--batch-size", type=int, default=32, help="images per encoder batch")
    pred.set_defaults(func=cmd_predict)

    ann = sub.add_parser(
        "annotate",
        help="annotate images with a VLM under the authors' two protocols",
        description="Ask a chat vision-language model (any model transformers loads for "
        "image-text-to-text, hub id or folder) about each image under the authors' zero-shot "
        "and multi-shot prompts, and read its rating probabilities; write hq.csv rows "
        "(annotators '<NAME> ZS', '<NAME> MS', '<NAME> logits MS'), every attempt and a "
        "summary to OUT. Rerun to resume. Several GPUs: accelerate launch --num_processes N -m "
        "emonet annotate --accelerate ...",
    )
    ann.add_argument(
        "images",
        nargs="+",
        metavar="IMAGE",
        help="image files or folders (ids: file names without suffix), or one "
        "manifest.parquet of emonet generate",
    )
    ann.add_argument("--model", required=True, help="hub id or local folder of the VLM")
    ann.add_argument("--out", required=True, help="output folder")
    ann.add_argument(
        "--name", help="annotator name before the suffix (default: the model's last path part)"
    )
    ann.add_argument(
        "--readouts",
        nargs="+",
        choices=("zero-shot", "multi-shot", "logits"),
        default=["zero-shot", "multi-shot", "logits"],
        help="what to run (default: all three)",
    )
    ann.add_argument("--batch-size", type=int, default=4, help="images per batch (4)")
    ann.add_argument(
        "--dtype",
        choices=("float32", "float16", "bfloat16"),
        default="float32",
        help="weights dtype (float32)",
    )
    ann.add_argument("--device", help="torch device (default: cuda when available)")
    ann.add_argument(
        "--max-new-tokens",
        type=int,
        help="cap on the reply length (default: the authors', 1000 zero-shot and 2000 multi-shot)",
    )
    ann.add_argument(
        "--temperature",
        type=float,
        default=1.0,
        help="sampling temperature (default 1.0, the APIs' default; 0: greedy, "
        "which repeats a rejected reply on every retry)",
    )
    ann.add_argument("--seed", type=int, default=42, help="sampling seeds (default: 42)")
    ann.add_argument("--threads", type=int, help="CPU threads for torch (default: torch's)")
    ann.add_argument(
        "--accelerate",
        action="store_true",
        help="one process per GPU under accelerate launch; logs merged at the end",
    )
    ann.add_argument("--cpu", action="store_true", help="with --accelerate: CPU processes")
    ann.set_defaults(func=cmd_annotate)

    ev = sub.add_parser(
        "evaluate",
        help="any model's scores through the paper's HQ analysis",
        description="Join a model's scores to the expert panel as one more annotator and run "
        "the paper's HQ agreement suite; write summary.csv (mean_kappa, mean_rho, could_be per "
        "annotator), per-emotion tables, figures and one self-contained report.html to OUT. "
        "SCORES: a CSV with a column 'image' and the 40 category columns, or an hq.csv-format "
        "file (e.g. from emonet annotate).",
    )
    ev.add_argument("--scores", required=True, help="score file")
    ev.add_argument("--out", required=True, help="output folder")
    ev.add_argument("--panel", help="hq.csv-format expert panel (default: the profile's panel)")
    ev.add_argument(
        "--profile",
        choices=PROFILES,
        default="local",
        help="whose panel without --panel (default: local, the simulated one)",
    )
    ev.add_argument(
        "--artifacts-dir",
        default=None,
        help="artifacts folder of the profile (default: artifacts/<profile>)",
    )
    ev.add_argument(
        "--name",
        help="annotator name of a score table (default: 'My model'); "
        "renames the one model of an hq.csv-format file",
    )
    ev.add_argument(
        "--scale",
        choices=("0-7", "0-1"),
        default="0-7",
        help="scale of a score table (0-1 is multiplied by 7, as for Hume)",
    )
    ev.add_argument(
        "--keep-outside-scale",
        action="store_true",
        help="keep scores outside the scale as stored (e.g. a regression's slightly "
        "negative outputs: Spearman uses them, kappa drops them as the authors' "
        "levels do) and count them, instead of stopping",
    )
    ev.add_argument(
        "--max-unknown",
        type=float,
        default=0.05,
        help="share of image ids unknown to the panel that is left out (counted) "
        "before the file is refused (0.05)",
    )
    ev.add_argument("--n-bootstrap", type=int, default=1000, help="bootstrap resamples (1000)")
    ev.add_argument("--seed", type=int, default=42, help="bootstrap seed (42)")
    ev.set_defaults(func=cmd_evaluate)

    dat = sub.add_parser("data", help="the upstream data files: list, check, fetch")
    dat.add_argument(
        "action",
        choices=("list", "check", "fetch"),
        help="list the registry; check = verify what is local; fetch = also download",
    )
    dat.add_argument("names", nargs="*", help="file names (default: all)")
    dat.set_defaults(func=cmd_data)
    return top


def _user_errors() -> tuple:
    """Errors that are reported as one line (bad input), not as a traceback. The heads module
    (and torch) is imported only by the commands that need it."""
    errors = [
        PipelineError,
        LockedError,
        UnsafePathError,
        registry.DataError,
        images.GenerationError,
        prompts.DesignError,
        taxonomy.UnknownEmotionError,
    ]
    for module, name in (
        ("emonet.model.heads", "CheckpointError"),
        ("emonet.model.encoder", "EncoderError"),
        ("emonet.benchmarking.annotate", "AnnotationError"),
        ("emonet.benchmarking.evaluate", "ScoresError"),
    ):
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
