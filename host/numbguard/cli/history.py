"""`numbguard history [DIR ...]`: the indexed sessions, filtered by tag and date."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from numbguard.errors import BadValue
from numbguard.history.paths import index_path, sessions_dir

if TYPE_CHECKING:
    from numbguard.history.index import IndexedSession


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "folders",
        nargs="*",
        type=Path,
        metavar="DIR",
        help="folders of recordings to index too (default: the sessions folder, "
        "$NUMBGUARD_SESSIONS_DIR or ~/.local/share/numbguard/sessions)",
    )
    parser.add_argument("--shoe", help="only sessions with this shoe tag")
    parser.add_argument("--lacing", help="only sessions with this lacing tag")
    parser.add_argument(
        "--since", metavar="DATE", help="only sessions from DATE (YYYY-MM-DD[THH:MM])"
    )
    parser.add_argument(
        "--until", metavar="DATE", help="only sessions up to DATE, that day included"
    )
    parser.add_argument("--json", action="store_true", help="one JSON object per session")


def parse_date(text: str, *, end: bool = False) -> float:
    """A local date or date-time as Unix seconds; a bare date as its end ends at midnight after."""
    try:
        if len(text) == 10:
            day = date.fromisoformat(text)
            moment = datetime.combine(day + timedelta(days=1) if end else day, datetime.min.time())
        else:
            moment = datetime.fromisoformat(text)
    except ValueError:
        raise BadValue(
            "bad date", expected="YYYY-MM-DD or YYYY-MM-DDTHH:MM", got=repr(text), name="date"
        ) from None
    return moment.timestamp()


def _number(value: float | None, digits: int = 0) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


def table(rows: list[IndexedSession]) -> str:
    header = ("start", "min", "shoe", "lacing", "spm", "lace L/R kPa", "forefoot L/R kPa",
              "alerts/h", "session")  # fmt: skip
    lines = [header]
    for row in rows:
        lines.append((
            datetime.fromtimestamp(row.start_unix_s).strftime("%Y-%m-%d %H:%M"),
            _number(row.duration_s / 60.0, 1),
            row.shoe or "–",
            row.lacing or "–",
            _number(row.cadence_spm),
            f"{_number(row.lace_kpa_left, 1)}/{_number(row.lace_kpa_right, 1)}",
            f"{_number(row.forefoot_peak_kpa_left)}/{_number(row.forefoot_peak_kpa_right)}",
            _number(row.alerts_per_h, 1),
            Path(row.path).name,
        ))  # fmt: skip
    widths = [max(len(line[k]) for line in lines) for k in range(len(header))]
    return "\n".join("  ".join(cell.ljust(w) for cell, w in zip(line, widths, strict=True)).rstrip()
                     for line in lines)  # fmt: skip


def run(args: argparse.Namespace) -> int:
    from numbguard.history.index import SessionIndex  # numpy: not for --help

    folders = list(args.folders) or [p for p in (sessions_dir(),) if p.is_dir()]
    since = parse_date(args.since) if args.since else None
    until = parse_date(args.until, end=True) if args.until else None
    with SessionIndex(index_path()) as index:
        for warning in index.refresh(folders):
            print(f"numbguard history: warning: {warning}", file=sys.stderr)
        rows = index.sessions(shoe=args.shoe, lacing=args.lacing, since_unix_s=since,
                              until_unix_s=until)  # fmt: skip
    if args.json:
        for row in rows:
            print(json.dumps(row.to_json(), sort_keys=True))
    elif rows:
        print(table(rows))
    else:
        print("no sessions match" if any((args.shoe, args.lacing, since, until))
              else "no sessions indexed yet: give a folder of recordings")  # fmt: skip
    return 0
