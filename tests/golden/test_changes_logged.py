"""Every change of a golden output since tests/golden/CHANGES.md exists has its reason logged.

`unlogged_changes` looks at the git history from the commit that added CHANGES.md to HEAD,
merges included (a merge counts with what it brings in over its first parent, so a conflict
resolution counts too), plus what is changed but not yet committed. Every `tests/golden/NAME.json`
changed or added there needs a line `- NAME: why` added to CHANGES.md in the same range.
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
GOLDEN = "tests/golden"
CHANGES = f"{GOLDEN}/CHANGES.md"
_LOGGED = re.compile(r"^\+- ([A-Za-z0-9_.-]+):", re.MULTILINE)


def _git(repo: Path, *args: str) -> str:
    result = subprocess.run(
        ["git", "-C", str(repo), *args], capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        raise RuntimeError(f"git {' '.join(args)}: expected success, got {result.stderr.strip()}")
    return result.stdout


def _golden_names(paths: str) -> set[str]:
    names = set()
    for line in paths.splitlines():
        path = Path(line.strip())
        if path.parent == Path(GOLDEN) and path.suffix == ".json":
            names.add(path.stem)
    return names


def unlogged_changes(repo: Path) -> list[str]:
    """Golden outputs changed since CHANGES.md was added without a `- NAME:` line for them."""
    added_in = _git(repo, "log", "--diff-filter=A", "--format=%H", "--", CHANGES).split()
    if not added_in:
        raise RuntimeError(f"{CHANGES}: expected it in the git history, got no commit adding it")
    base = added_in[-1]  # the oldest, if it was ever deleted and added again
    committed = _git(
        repo,
        "log",
        "--diff-merges=first-parent",
        "--format=",
        "--name-only",
        f"{base}..HEAD",
        "--",
        GOLDEN,
    )
    uncommitted = _git(repo, "diff", "--name-only", "HEAD", "--", GOLDEN)
    untracked = _git(repo, "ls-files", "--others", "--exclude-standard", "--", GOLDEN)
    changed = _golden_names(committed + uncommitted + untracked)
    logged = set(_LOGGED.findall(_git(repo, "diff", base, "--", CHANGES)))
    return sorted(changed - logged)


def test_every_golden_change_since_the_log_began_is_logged() -> None:
    if not (REPO_ROOT / ".git").exists():
        pytest.fail(
            f"{REPO_ROOT} is not a git checkout: the golden log is checked against the history "
            "(run the tests in a clone)",
            pytrace=False,
        )
    # A shallow clone starts at a grafted commit that seems to add every file, CHANGES.md
    # included: the check then covers the commits it holds and what is not yet committed.
    missing = unlogged_changes(REPO_ROOT)
    assert not missing, (
        f"golden outputs changed without a reason in {CHANGES}: {', '.join(missing)}; "
        "add a line `- NAME: why` for each"
    )


# --- the checker itself, on a throwaway repository ---


class Repo:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.env = {
            **os.environ,
            "GIT_AUTHOR_NAME": "t",
            "GIT_AUTHOR_EMAIL": "t@example.invalid",
            "GIT_COMMITTER_NAME": "t",
            "GIT_COMMITTER_EMAIL": "t@example.invalid",
            "GIT_CONFIG_GLOBAL": os.devnull,
            "GIT_CONFIG_NOSYSTEM": "1",
        }
        self.git("init", "-q", "-b", "main")
        (path / GOLDEN).mkdir(parents=True)

    def git(self, *args: str) -> None:
        subprocess.run(["git", *args], cwd=self.path, env=self.env, check=True, capture_output=True)

    def write(self, relative: str, text: str) -> None:
        (self.path / relative).write_text(text)

    def append(self, relative: str, text: str) -> None:
        with (self.path / relative).open("a") as file:
            file.write(text)

    def commit(self, message: str, *paths: str) -> None:
        self.git("add", *paths)
        self.git("commit", "-q", "-m", message)


@pytest.fixture
def repo(tmp_path: Path) -> Repo:
    r = Repo(tmp_path)
    r.write(f"{GOLDEN}/a.json", "1\n")
    r.write(f"{GOLDEN}/b.json", "1\n")
    r.commit("golden outputs", GOLDEN)
    r.write(f"{GOLDEN}/a.json", "2\n")  # changed before the log began: not checked
    r.commit("a changes", GOLDEN)
    r.write(CHANGES, "# Why the golden outputs changed\n\n- a: an entry from before\n")
    r.commit("the log", CHANGES)
    return r


def test_no_change_since_the_log_began_passes(repo: Repo) -> None:
    assert unlogged_changes(repo.path) == []


def test_a_change_without_a_line_fails_and_with_one_passes(repo: Repo) -> None:
    repo.write(f"{GOLDEN}/a.json", "3\n")
    repo.commit("a again", GOLDEN)
    assert unlogged_changes(repo.path) == ["a"]  # the old line for a does not count
    repo.append(CHANGES, "- b: not the one that changed\n")
    repo.commit("log b", CHANGES)
    assert unlogged_changes(repo.path) == ["a"]
    repo.append(CHANGES, "- a: the rule now waits for steady running\n")
    repo.commit("log a", CHANGES)
    assert unlogged_changes(repo.path) == []


def test_uncommitted_and_new_golden_files_count(repo: Repo) -> None:
    repo.write(f"{GOLDEN}/b.json", "2\n")
    repo.write(f"{GOLDEN}/c.json", "1\n")
    repo.write(f"{GOLDEN}/notes.txt", "not a golden output\n")
    assert unlogged_changes(repo.path) == ["b", "c"]
    repo.append(CHANGES, "- b: why\n- c: a new scenario\n")
    assert unlogged_changes(repo.path) == []


def test_a_change_made_in_a_merge_counts(repo: Repo) -> None:
    repo.git("checkout", "-q", "-b", "side")
    repo.write("other.txt", "x\n")
    repo.commit("side work", "other.txt")
    repo.git("checkout", "-q", "main")
    repo.write("more.txt", "y\n")
    repo.commit("main work", "more.txt")
    repo.git("merge", "-q", "--no-ff", "--no-commit", "side")
    repo.write(f"{GOLDEN}/b.json", "merged\n")  # changed only in the merge commit
    repo.commit("merge side", GOLDEN)
    assert unlogged_changes(repo.path) == ["b"]


def test_a_change_on_a_merged_branch_counts(repo: Repo) -> None:
    repo.git("checkout", "-q", "-b", "side")
    repo.write(f"{GOLDEN}/b.json", "side\n")
    repo.commit("side changes b", GOLDEN)
    repo.git("checkout", "-q", "main")
    repo.git("merge", "-q", "--no-ff", "-m", "merge", "side")
    assert unlogged_changes(repo.path) == ["b"]


def test_without_the_log_in_history_the_checker_says_so(tmp_path: Path) -> None:
    r = Repo(tmp_path)
    r.write("x.txt", "x\n")
    r.commit("start", "x.txt")
    with pytest.raises(RuntimeError, match="expected it in the git history"):
        unlogged_changes(tmp_path)
