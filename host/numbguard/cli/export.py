"""`numbguard export SESSION`: pressures as interchange CSV, a tidy per-step table, or a FIT
activity file (steps, cadence, lace and forefoot pressure, alerts) for sports platforms."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from numbguard.errors import BadValue

if TYPE_CHECKING:
    from numbguard.cli.progress import SessionProgress
    from numbguard.types import PressureChunk


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
    what.add_argument(
        "--fit",
        type=Path,
        metavar="OUT",
        help="write a FIT activity file: one record per step (cadence, contact time, lace"
        " pressure, forefoot peak) and the alerts as events",
    )
    parser.add_argument(
        "--start",
        metavar="ISO8601",
        help="--fit: the session's wall-clock start, e.g. 2026-05-01T07:30:00+02:00 (default:"
        " a recording's own start time, a Moticon export's start in this computer's time zone,"
        " a CSV file's modification time)",
    )


def parse_start_unix_s(text: str) -> float:
    """An ISO 8601 date and time as Unix seconds; without a zone, this computer's local time."""
    try:
        return datetime.fromisoformat(text).timestamp()
    except ValueError:
        raise BadValue(
            "bad start time", expected="ISO 8601 such as 2026-05-01T07:30:00+02:00",
            got=repr(text), where="--start", name="--start",
        ) from None  # fmt: skip


def _with_progress(
    chunks: Iterator[PressureChunk], progress: SessionProgress
) -> Iterator[PressureChunk]:
    for chunk in chunks:
        progress.update(chunk)
        yield chunk


def run(args: argparse.Namespace) -> int:
    if args.start is not None and args.fit is None:
        raise BadValue(
            "--start goes with --fit", expected="--fit OUT", got="--start alone", name="--start"
        )
    if args.fit is not None:
        return _run_fit(args)
    from numbguard.cli.progress import SessionProgress
    from numbguard.session.export import CSV_EXPORT_CHUNK_S, write_csv, write_steps
    from numbguard.session.sources import session_chunks

    with (
        SessionProgress(f"exporting {args.session.name}") as progress,
        session_chunks(
            args.session, CSV_EXPORT_CHUNK_S if args.csv is not None else None
        ) as chunks,
    ):
        if args.csv is not None:
            rows = write_csv(args.csv, _with_progress(chunks, progress), source=args.session.name)
            print(f"{args.csv}: {rows} rows", file=sys.stderr)
        else:
            steps = write_steps(args.steps, _with_progress(chunks, progress))
            print(f"{args.steps}: {steps} steps", file=sys.stderr)
    return 0


def _run_fit(args: argparse.Namespace) -> int:
    from numbguard.cli.progress import SessionProgress
    from numbguard.session.fit_export import write_fit

    start_unix_s = None if args.start is None else parse_start_unix_s(args.start)
    with SessionProgress(f"exporting {args.session.name}") as progress:
        session = write_fit(
            args.fit, args.session, start_unix_s=start_unix_s, on_chunk=progress.update
        )
    if session.warning:
        print(f"numbguard export: warning: {session.warning}", file=sys.stderr)
    if session.start_source == "file-mtime":
        print(
            f"numbguard export: {args.session.name} has no start time: the FIT file starts at"
            " its modification time (give --start to set it)",
            file=sys.stderr,
        )
    print(f"{args.fit}: {len(session.steps)} steps, {len(session.alerts)} alert events",
          file=sys.stderr)  # fmt: skip
    return 0
