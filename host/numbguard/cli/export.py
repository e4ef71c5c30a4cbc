"""`numbguard export SESSION`: pressures as interchange CSV, or a tidy per-step table."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from pathlib import Path

from numbguard.analysis.types import PressureChunk
from numbguard.cli.progress import SessionProgress
from numbguard.session.export import write_csv, write_steps
from numbguard.session.sources import session_chunks

NAME = "export"
HELP = "export a session (recording, CSV or Moticon export) as interchange CSV or a per-step table"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "session", type=Path, help="a recording (.ngrec), interchange CSV or Moticon text export"
    )
    what = parser.add_mutually_exclusive_group(required=True)
    what.add_argument(
        "--csv", type=Path, metavar="OUT", help="write the pad pressures (kPa) as interchange CSV"
    )
    what.add_argument(
        "--steps",
        type=Path,
        metavar="OUT",
        help="write one row per step: timing, peaks, dorsal pressure",
    )


def _with_progress(
    chunks: Iterator[PressureChunk], progress: SessionProgress
) -> Iterator[PressureChunk]:
    for chunk in chunks:
        progress.update(chunk)
        yield chunk


def run(args: argparse.Namespace) -> int:
    with (
        SessionProgress(f"exporting {args.session.name}") as progress,
        session_chunks(args.session) as chunks,
    ):
        if args.csv is not None:
            rows = write_csv(args.csv, _with_progress(chunks, progress), source=args.session.name)
            print(f"{args.csv}: {rows} rows", file=sys.stderr)
        else:
            steps = write_steps(args.steps, _with_progress(chunks, progress))
            print(f"{args.steps}: {steps} steps", file=sys.stderr)
    return 0
