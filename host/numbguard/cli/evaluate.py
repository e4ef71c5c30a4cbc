"""`numbguard evaluate DIR`: score the analysis on labelled sessions, per alert kind."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from numbguard.cli.log_options import add_log_arguments
from numbguard.evaluate import DEFAULT_GRACE_S


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("folder", type=Path, help="folder of NAME.csv + NAME.labels.json")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument(
        "--grace-s",
        type=float,
        default=DEFAULT_GRACE_S,
        help=f"an alert up to this long after a label's end still matches it ({DEFAULT_GRACE_S:g})",
    )
    parser.add_argument(
        "--jobs",
        type=int,
        default=None,
        metavar="N",
        help="analyse N files at once, one process each (default: one per CPU)",
    )
    add_log_arguments(parser)


def _progress(done: int, total: int, name: str) -> None:
    text = f"evaluate: {done}/{total} {name}".ljust(60)
    end = "\n" if done == total else "\r"
    print(text, end=end, file=sys.stderr, flush=True)


def run(args: argparse.Namespace) -> int:
    from numbguard.evaluate import evaluate_folder, format_table  # numpy: not for --help

    evaluation = evaluate_folder(
        args.folder, grace_s=args.grace_s, progress=_progress, jobs=args.jobs
    )
    if args.json:
        json.dump(evaluation.to_json(), sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        from numbguard.evaluate.scoring import format_headline

        print(format_table(evaluation))
        print()
        print(format_headline(evaluation))
    return 0
