"""`numbguard report SESSION`: an HTML page with plots of one session."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from numbguard.types import PressureChunk


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "session", type=Path, help="a recording (.ngrec), interchange CSV or Moticon text export"
    )
    parser.add_argument(
        "-o", "--out", type=Path, help="HTML file to write (default: SESSION with .html)"
    )


def run(args: argparse.Namespace) -> int:
    # Imported here: the report pulls in matplotlib, which `report --help` does not need.
    from numbguard.cli.progress import SessionProgress
    from numbguard.report import SessionSeries, write_report
    from numbguard.session.sources import analyse_session

    series = SessionSeries()
    with SessionProgress(f"analysing {args.session.name}") as progress:

        def keep(chunk: PressureChunk) -> None:
            series.add(chunk)
            progress.update(chunk)

        result, warning = analyse_session(args.session, on_chunk=keep, keep_steps=True)
    if warning:
        print(f"numbguard report: warning: {warning}", file=sys.stderr)
    out: Path = args.out or args.session.with_suffix(".html")
    write_report(
        out,
        result.to_json(),
        series,
        title=f"numbguard: {args.session.name}",
        source=str(args.session),
        steps={foot: steps for foot, steps in result.steps.items()},
    )
    print(out)
    return 0
