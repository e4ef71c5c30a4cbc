"""`numbguard compare A B -o OUT.html`: did a change help? Two sessions, or two tag selectors."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from numbguard.history.index import SessionIndex
from numbguard.history.paths import index_path, sessions_dir
from numbguard.history.sides import is_selector, metric_differences, select_side
from numbguard.history.steps import SUMMARY_METRICS


def add_arguments(parser: argparse.ArgumentParser) -> None:
    for name in ("a", "b"):
        parser.add_argument(
            name,
            metavar=name.upper(),
            help="a session file, or the indexed sessions with a tag: lacing=NAME, shoe=NAME "
            "or both (shoe=NAME,lacing=NAME)",
        )
    parser.add_argument("-o", "--out", type=Path, required=True, help="HTML file to write")
    parser.add_argument(
        "--dir",
        action="append",
        default=[],
        type=Path,
        metavar="DIR",
        help="a folder of recordings to index before selecting by tag (default: the sessions "
        "folder)",
    )


def run(args: argparse.Namespace) -> int:
    # matplotlib is loaded by the page only: `numbguard history` never needs it.
    from numbguard.history.page import verdict, write_comparison

    index = None
    if is_selector(args.a) or is_selector(args.b):
        index = SessionIndex(index_path())
        folders = args.dir or [p for p in (sessions_dir(),) if p.is_dir()]
        for warning in index.refresh(folders):
            print(f"numbguard compare: warning: {warning}", file=sys.stderr)
    try:
        a = select_side(args.a, index, name="A")
        b = select_side(args.b, index, name="B")
    finally:
        if index is not None:
            index.close()
    for session in (*a.sessions, *b.sessions):
        if session.warning:
            print(f"numbguard compare: warning: {session.warning}", file=sys.stderr)
    differences = metric_differences(a, b)
    out = write_comparison(args.out, a, b, differences)
    for difference in differences:
        if difference.metric in SUMMARY_METRICS:
            print(verdict(difference, a, b))
    print(out)
    return 0
