"""Options and steps shared by the commands that tag and index sessions: run, demo, tag."""

from __future__ import annotations

import argparse
import os
import sys
from typing import TYPE_CHECKING

from numbguard.errors import BadValue, NumbguardError
from numbguard.history.paths import index_path

if TYPE_CHECKING:
    from numbguard.history.steps import SessionSteps


def add_tag_arguments(parser: argparse.ArgumentParser, *, clearing: bool = False) -> None:
    clear = " (an empty value clears it)" if clearing else ""
    group = parser.add_argument_group("tags (for `numbguard history` and `compare`)")
    group.add_argument("--shoe", metavar="NAME", help=f"the shoe worn{clear}")
    group.add_argument("--lacing", metavar="NAME", help=f"how the shoes were laced{clear}")
    group.add_argument("--note", metavar="TEXT", help=f"anything else worth knowing{clear}")


def tags_from(args: argparse.Namespace) -> dict[str, str]:
    """The tags given on the command line (options left out are not in it)."""
    given = {"shoe": args.shoe, "lacing": args.lacing, "note": args.note}
    return {name: value for name, value in given.items() if value is not None}


def tags_for_recording(args: argparse.Namespace, *, recording: bool) -> dict[str, str]:
    """The tags given, refused when there is no recording to keep them in."""
    tags = tags_from(args)
    if tags and not recording:
        raise BadValue(
            "tags need a recording",
            expected="a recorded session (without --no-record; demo: with --record PATH)",
            got="--" + ", --".join(tags) + " with nothing recorded",
            name="tags",
        )
    return tags


def index_session(path: str | os.PathLike[str], steps: SessionSteps | None = None) -> None:
    """Put a session in the index, from the `steps` collected while it ran if given (else its
    file is analysed); a failure is a warning, never the session's failure."""
    from numbguard.history.index import SessionIndex, row_for  # numpy: not for --help
    from numbguard.history.tags import read_tags

    try:
        with SessionIndex(index_path()) as index:
            if steps is None:
                index.add(path)
            else:
                index.put(row_for(steps, read_tags(path)))
    except NumbguardError as error:
        print(f"numbguard: warning: {path} is not in the session index: {error}", file=sys.stderr)
