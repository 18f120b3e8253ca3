"""Command line: ``emonet run``, ``emonet book``, ``emonet data``, ``emonet notebooks``.

Run ``emonet --help`` (or ``python -m emonet --help``) for the commands and their options.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from emonet import __version__, data
from emonet.artifacts import PROFILES
from emonet.pipeline import BOOK_DIR, Pipeline, PipelineError, build_book, parse_overrides


def _pipeline(args) -> Pipeline:
    return Pipeline(args.profile, book_dir=Path(args.book_dir),
                    artifacts_dir=Path(args.artifacts_dir) if args.artifacts_dir else None,
                    overrides=parse_overrides(args.set))


def cmd_run(args) -> int:
    start = time.perf_counter()
    steps = _pipeline(args).run(force=args.force, only=args.only, dry_run=args.dry_run)
    ran = sum(s.status == "ran" for s in steps)
    print(f"{ran} notebook(s) executed, {len(steps) - ran} not, "
          f"in {time.perf_counter() - start:.1f} s")
    return 0


def cmd_book(args) -> int:
    start = time.perf_counter()
    if not args.no_run:
        _pipeline(args).run(force=args.force)
    print("building the book with Jupyter Book (warnings fail the build) ...")
    index = build_book(Path(args.book_dir), all_pages=args.all or args.force)
    print(f"done in {time.perf_counter() - start:.1f} s\nThe book is at {index.resolve()}\n"
          f"  open it with:  python -m webbrowser file://{index.resolve()}")
    return 0


def cmd_data(args) -> int:
    names = args.names or list(data.REGISTRY)
    for name in names:
        if args.action == "list":
            entry = data.REGISTRY[name]
            print(f"{name:30s} {entry.url or '(mirror only)'}\n{'':30s} {entry.description}")
            continue
        try:
            path = data.fetch(name, download=args.action == "fetch")
            print(f"ok       {name:30s} {path}")
        except data.DataError as err:
            if args.names:  # asked for by name: an error; listing all: report and go on
                raise
            print(f"missing  {name:30s} {err}")
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
        p.add_argument("--book-dir", default=str(BOOK_DIR), help="book source folder")
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

    dat = sub.add_parser("data", help="the upstream data files: list, check, fetch")
    dat.add_argument("action", choices=("list", "check", "fetch"),
                     help="list the registry; check = verify what is local; fetch = also download")
    dat.add_argument("names", nargs="*", help="file names (default: all)")
    dat.set_defaults(func=cmd_data)
    return top


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        return args.func(args)
    except (PipelineError, data.DataError) as err:
        print(f"emonet {args.command}: error: {err}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"emonet {args.command}: interrupted", file=sys.stderr)
        return 130
