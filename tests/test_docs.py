"""The guides and the README show only what exists: real commands, real options, real paths.

Every command line they show that runs `numbguard` must name a command of
`numbguard.cli.build_parser()` and only option strings that command's parser has (a value
given to an option with choices must be one of them). A line in a fenced code block is a
command to copy and run, so it must also parse as a whole: required options present, values
of the right type, no stray arguments. Every repository path a guide names in backticks must
exist: from the repository root, or (as the developer's guide writes them) as the tail of a
path inside the package `host/numbguard/`.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import re
import shlex
from dataclasses import dataclass
from pathlib import Path

import pytest

from numbguard.cli import COMMANDS, build_parser

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "host" / "numbguard"
GUIDES = sorted((ROOT / "docs" / "guides").glob("*.md"))
COMMAND_DOCS = [*GUIDES, ROOT / "README.md"]
SEPARATORS = {"&&", "||", "|", ";", "&"}
REDIRECTS = {">", ">>", "<", "2>", "&>"}
INLINE_CODE = re.compile(r"`([^`\n]+)`")
FENCE = re.compile(r"^\s*(```|~~~)")
PLACEHOLDER_CHARS = set("<>{}[]*$=:")
PATH_END = re.compile(r"(/|\.[A-Za-z0-9]+)$")


@dataclass(frozen=True)
class Shown:
    """A command line as a document shows it."""

    line: int
    text: str
    fenced: bool


def split_document(text: str) -> tuple[list[tuple[int, str]], list[tuple[int, str]]]:
    """(lines inside fenced code blocks, lines outside), each with its 1-based number."""
    fenced: list[tuple[int, str]] = []
    prose: list[tuple[int, str]] = []
    inside = False
    for number, line in enumerate(text.splitlines(), start=1):
        if FENCE.match(line):
            inside = not inside
        elif inside:
            fenced.append((number, line))
        else:
            prose.append((number, line))
    return fenced, prose


def shown_commands(text: str) -> list[Shown]:
    """Every line of a fenced block and every inline code span that runs `numbguard`."""
    fenced, prose = split_document(text)
    found = [Shown(number, line.strip(), True) for number, line in fenced]
    found += [
        Shown(number, span.strip(), False)
        for number, line in prose
        for span in INLINE_CODE.findall(line)
    ]
    return sorted((shown for shown in found if numbguard_argvs(shown.text)),
                  key=lambda shown: shown.line)  # fmt: skip


def numbguard_argvs(text: str) -> list[list[str]]:
    """The arguments of each `numbguard` run in a shell line (pipes, `&&`, redirections and
    comments understood; a path ending in /numbguard counts, e.g. .venv/bin/numbguard)."""
    lexer = shlex.shlex(text, posix=True, punctuation_chars=True)
    lexer.whitespace_split = True
    try:
        tokens = list(lexer)
    except ValueError:  # unbalanced quotes: prose, not a command line
        return []
    segments: list[list[str]] = [[]]
    skip_next = False
    for token in tokens:
        if skip_next:
            skip_next = False
        elif token in SEPARATORS:
            segments.append([])
        elif token in REDIRECTS:
            skip_next = True
        else:
            segments[-1].append(token)
    return [
        segment[1:]
        for segment in segments
        if segment and (segment[0] == "numbguard" or segment[0].endswith("/numbguard"))
    ]


def subparsers(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    raise AssertionError("numbguard's parser has no subcommands")


def command_problems(args: list[str], parser: argparse.ArgumentParser, fenced: bool) -> list[str]:
    """What is wrong with `numbguard ARGS` as the CLI stands (empty when nothing)."""
    if not args:
        return []
    if args[0].startswith("-"):
        known = set(parser._option_string_actions)
        return [f"unknown option {args[0]}"] if args[0] not in known else []
    commands = subparsers(parser)
    sub = commands.get(args[0])
    if sub is None:
        return [f"unknown command {args[0]!r} (commands: {', '.join(commands)})"]
    problems = []
    for index, token in enumerate(args[1:], start=1):
        if not token.startswith("-") or token == "-":
            continue
        option, _, value = token.partition("=")
        action = sub._option_string_actions.get(option)
        if action is None:
            problems.append(f"{args[0]}: unknown option {option}")
            continue
        if not value and action.nargs != 0 and index + 1 < len(args):
            value = args[index + 1]
        placeholder = value.isupper()  # e.g. `--foot FOOT` in prose
        if action.choices is not None and value and not placeholder and value not in action.choices:
            problems.append(f"{args[0]} {option}: {value!r} is not one of {list(action.choices)}")
    if fenced and not problems:
        problems += parse_problems(args, parser)
    return problems


def parse_problems(args: list[str], parser: argparse.ArgumentParser) -> list[str]:
    """argparse's own complaint about `args`, if it has one."""
    errors = io.StringIO()
    try:
        with contextlib.redirect_stderr(errors), contextlib.redirect_stdout(io.StringIO()):
            parser.parse_args(args)
    except SystemExit as stop:
        if stop.code not in (0, None):
            return [errors.getvalue().strip().splitlines()[-1]]
    return []


def document_problems(text: str, parser: argparse.ArgumentParser) -> list[str]:
    return [
        f"line {shown.line}: `{shown.text}`: {problem}"
        for shown in shown_commands(text)
        for args in numbguard_argvs(shown.text)
        for problem in command_problems(args, parser, shown.fenced)
    ]


def mentioned_paths(text: str) -> list[tuple[int, str]]:
    """Repository paths in inline code: two parts or more, a file extension or a closing slash,
    and no URL, absolute or home path, shell variable or placeholder."""
    _, prose = split_document(text)
    found = []
    for number, line in prose:
        for span in INLINE_CODE.findall(line):
            if (
                "/" in span.rstrip("/")  # `holdout/` alone is a folder's name, not a path
                and not any(ch.isspace() for ch in span)
                and not span.startswith(("/", "~", ".."))
                and not PLACEHOLDER_CHARS & set(span)
                and PATH_END.search(span)
            ):
                found.append((number, span))
    return found


def path_exists(span: str, root: Path = ROOT) -> bool:
    if (root / span).exists():
        return True
    tail = span.rstrip("/")
    package = root / "host" / "numbguard"
    return any(
        path.as_posix().endswith("/" + tail) and (span == tail or path.is_dir())
        for path in package.rglob(Path(tail).name)
    )


@pytest.fixture(scope="module")
def parser() -> argparse.ArgumentParser:
    return build_parser()


@pytest.mark.parametrize("doc", COMMAND_DOCS, ids=lambda path: path.name)
def test_every_numbguard_command_line_shown_is_real(
    doc: Path, parser: argparse.ArgumentParser
) -> None:
    problems = document_problems(doc.read_text(encoding="utf-8"), parser)
    assert not problems, f"{doc.relative_to(ROOT)}:\n" + "\n".join(problems)


def test_the_documents_show_every_command(parser: argparse.ArgumentParser) -> None:
    shown = {
        args[0]
        for doc in COMMAND_DOCS
        for line in shown_commands(doc.read_text(encoding="utf-8"))
        for args in numbguard_argvs(line.text)
        if args
    }
    assert set(COMMANDS) <= shown, f"not shown in any guide or the README: {set(COMMANDS) - shown}"


def test_the_builders_guide_shows_flash_and_calibrate_with_options() -> None:
    lines = shown_commands((ROOT / "docs" / "guides" / "builder.md").read_text(encoding="utf-8"))
    fenced = [args for line in lines if line.fenced for args in numbguard_argvs(line.text)]
    for command, option in [("flash", "--micropython"), ("flash", "--foot"),
                            ("calibrate", "--loads"), ("calibrate", "--puck-g")]:  # fmt: skip
        assert any(args[0] == command and option in args for args in fenced), (command, option)


def test_the_check_finds_wrong_commands_options_and_values(
    parser: argparse.ArgumentParser,
) -> None:
    text = "\n".join(
        [
            "Flash with `numbguard flash --fot left` or `numbguard flsh`.",
            "```sh",
            "numbguard flash --port /dev/ttyUSB0          # --foot is required",
            "numbguard calibrate serial:///dev/ttyUSB0 --foot middle",
            "numbguard scan && numbguard run --speek > out.txt",
            "numbguard calibrate serial:///dev/ttyUSB0 --pads heel --hold-s 3   # fine",
            "```",
        ]
    )
    problems = document_problems(text, parser)
    assert len(problems) == 5, problems
    assert "line 1" in problems[0] and "unknown option --fot" in problems[0]
    assert "unknown command 'flsh'" in problems[1]
    assert "line 3" in problems[2] and "--foot" in problems[2]
    assert "'middle' is not one of ['left', 'right']" in problems[3]
    assert "run: unknown option --speek" in problems[4]


def test_shell_lines_are_split_into_numbguard_runs() -> None:
    assert numbguard_argvs(".venv/bin/pip install -q . && .venv/bin/numbguard demo") == [["demo"]]
    assert numbguard_argvs("numbguard run ble://?pair=1 # remembers them") == [
        ["run", "ble://?pair=1"]
    ]
    assert numbguard_argvs("numbguard replay a.ngrec --json > run1.jsonl") == [
        ["replay", "a.ngrec", "--json"]
    ]
    assert numbguard_argvs("cmp run1.jsonl run2.jsonl") == []


@pytest.mark.parametrize("doc", GUIDES, ids=lambda path: path.name)
def test_every_repository_path_a_guide_names_exists(doc: Path) -> None:
    paths = mentioned_paths(doc.read_text(encoding="utf-8"))
    missing = [f"line {number}: `{span}`" for number, span in paths if not path_exists(span)]
    assert not missing, f"{doc.relative_to(ROOT)} names paths that do not exist:\n" + "\n".join(
        missing
    )


def test_the_path_check_tells_real_paths_from_missing_ones() -> None:
    text = (
        "See `hardware/bom.csv`, `hardware/templates/`, `risk/rule.py`, `hardware/bom.cvs`, "
        "`tests/nowhere/`, `holdout/`, `left/right`, `serial:///dev/ttyUSB0`, `~/.local/x.json`, "
        "`analysis/risk/<kind>.py` and `config.json`.\n```\ncat docs/none.md\n```\n"
    )
    spans = [span for _, span in mentioned_paths(text)]
    assert spans == ["hardware/bom.csv", "hardware/templates/", "risk/rule.py",
                     "hardware/bom.cvs", "tests/nowhere/"]  # fmt: skip
    assert [path_exists(span) for span in spans] == [True, True, True, False, False]
