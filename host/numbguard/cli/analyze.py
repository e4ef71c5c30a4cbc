"""`numbguard analyze PATH`: contacts, gait summary and numbness-risk alerts of one session."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from numbguard.analysis.pipeline import SessionResult


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("path", type=Path, help="session file")
    parser.add_argument("--json", action="store_true", help="print one JSON object")


def summary(result: SessionResult) -> str:
    """The human-readable report."""
    from numbguard.analysis.risk import is_clearing

    rate = f"{result.sample_rate_hz:g} Hz" if result.sample_rate_hz else "no samples"
    cadence = f"{result.cadence_spm:g} steps/min" if result.cadence_spm else "no cadence"
    lines = [f"{result.duration_s:.1f} s at {rate}, {cadence}"]
    for foot, feet in result.feet.items():
        data = feet.to_json()
        stride, contact = data["stride_s_median"], data["contact_s_median"]
        line = f"  {foot}: {data['steps']} steps"
        if stride is not None:
            line += f", stride {stride:.3f} s"
        if contact is not None:
            line += f", contact {contact:.3f} s"
        lines.append(line + f"; pads: {', '.join(data['pads'])}")
        if data["cannot_assess"]:
            lines.append(f"    cannot assess: {', '.join(data['cannot_assess'])}")
    raised = [a for a in result.alerts if not is_clearing(a)]
    lines.append(f"{len(raised)} alert(s)" if raised else "no alerts")
    for alert in result.alerts:
        lines.append(f"  {alert.t_s:8.1f} s  {alert.message}")
        evidence = ", ".join(f"{k}={v}" for k, v in alert.evidence.items() if k != "state")
        lines.append(f"             ({evidence})")
        lines.extend(f"             - {text}" for text in alert.suggestions[:3])
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    from numbguard.cli.progress import SessionProgress
    from numbguard.session.sources import analyse_session

    with SessionProgress(f"analysing {args.path.name}") as progress:
        result, warning = analyse_session(args.path, on_chunk=progress.update)
    if warning:
        print(f"numbguard analyze: {warning}", file=sys.stderr)
    if args.json:
        # dumps, not dump: one call into the C encoder (dump encodes piece by piece in Python).
        sys.stdout.write(json.dumps(result.to_json()) + "\n")
    else:
        print(summary(result))
    return 0
