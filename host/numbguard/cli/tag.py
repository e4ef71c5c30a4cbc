"""`numbguard tag SESSION`: add or change a session's tags after the run (in a sidecar)."""

from __future__ import annotations

import argparse
from pathlib import Path

from numbguard.cli.tag_options import add_tag_arguments, index_session, tags_from
from numbguard.history.tags import read_tags, sidecar_path, write_tags


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("session", type=Path, help="a recording (.ngrec), CSV or Moticon export")
    add_tag_arguments(parser, clearing=True)


def run(args: argparse.Namespace) -> int:
    tags = tags_from(args)
    if tags:
        now = write_tags(args.session, tags)
        print(f"tags written to {sidecar_path(args.session)}")
        index_session(args.session)
    else:
        now = read_tags(args.session)
    print(", ".join(f"{name}={value}" for name, value in now.items()) or "no tags")
    return 0
