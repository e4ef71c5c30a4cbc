"""The import contract: the product never imports the lab or the tests, and its packages
import only downward (docs/architecture.md names the layers).

Read from the source with `ast`, not by importing, so a lazy import inside a function counts
too. An upward import that has to stay a while is listed by module in `KNOWN_UPWARD` (none
is today): the test fails both when a new one appears and when a listed one is gone.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "host" / "numbguard"
LAB = ROOT / "lab" / "numbguard_lab"

# Bottom to top; a package may import its own layer's peers only where listed in PEERS.
LAYERS: tuple[tuple[str, ...], ...] = (
    ("errors",),
    ("pads", "private_files"),
    ("types",),
    ("protocol", "recording"),
    ("analysis", "io", "calibration"),
    ("simulate", "live", "report", "web"),
    ("transports",),
    ("session",),
    ("deploy", "history", "evaluate"),
    ("cli",),
    ("__main__", "__init__"),
)
# Same-layer imports that are part of the design (a peer it builds on).
PEERS: frozenset[tuple[str, str]] = frozenset()  # none today; each entry says why
# Upward imports still to be taken out (module, package imported).
KNOWN_UPWARD: frozenset[tuple[str, str]] = frozenset()  # none left; each entry says why
# The product's one lazy import of the lab, behind `numbguard demo --lab`.
LAB_IMPORT_ALLOWED = {"cli/demo.py"}


def layer_of(package: str) -> int:
    for index, layer in enumerate(LAYERS):
        if package in layer:
            return index
    raise AssertionError(f"{package} is in no layer: add it to LAYERS and docs/architecture.md")


def imports(path: Path) -> Iterator[tuple[str, bool]]:
    """(absolute module name, at module level?) for each import in `path`."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    top = {id(node) for node in tree.body}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module]
        else:
            continue
        for name in names:
            yield name, id(node) in top


def package_of(path: Path) -> str:
    relative = path.relative_to(PACKAGE)
    return relative.parts[0].removesuffix(".py") if relative.parts else ""


def test_the_product_never_imports_the_lab_or_the_tests() -> None:
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        module = path.relative_to(PACKAGE).as_posix()
        for name, at_top in imports(path):
            root = name.split(".")[0]
            if root == "tests" or (root == "numbguard_lab" and (
                    at_top or module not in LAB_IMPORT_ALLOWED)):  # fmt: skip
                found.append(f"{module}: {name}")
    assert not found, "the product imports test or lab code:\n" + "\n".join(found)


def test_the_product_resolves_no_path_into_the_tests() -> None:
    found = [
        path.relative_to(ROOT).as_posix()
        for folder in (PACKAGE, LAB)
        for path in sorted(folder.rglob("*.py"))
        if '"tests"' in path.read_text(encoding="utf-8")
        or "'tests'" in path.read_text(encoding="utf-8")
    ]
    assert not found, f"a path into tests/ is built in {found}"


def test_packages_import_only_downward() -> None:
    upward: set[tuple[str, str]] = set()
    peers_used: set[tuple[str, str]] = set()
    for path in sorted(PACKAGE.rglob("*.py")):
        source = package_of(path)
        module = path.relative_to(PACKAGE).as_posix()
        for name, _ in imports(path):
            parts = name.split(".")
            if parts[0] != "numbguard" or len(parts) < 2 or parts[1] == source:
                continue
            target = parts[1]
            if (source, target) in PEERS:
                peers_used.add((source, target))
            if layer_of(target) > layer_of(source) or (
                layer_of(target) == layer_of(source) and (source, target) not in PEERS
            ):
                upward.add((module, target))
    new = upward - KNOWN_UPWARD
    gone = KNOWN_UPWARD - upward
    assert not new, f"imports that point up or sideways: {sorted(new)}"
    assert not gone, f"fixed, strike from KNOWN_UPWARD: {sorted(gone)}"
    assert peers_used == PEERS, f"unused, strike from PEERS: {sorted(PEERS - peers_used)}"


def test_the_lab_imports_the_product_and_never_the_tests() -> None:
    found = [
        f"{path.relative_to(LAB).as_posix()}: {name}"
        for path in sorted(LAB.rglob("*.py"))
        for name, _ in imports(path)
        if name.split(".")[0] == "tests"
    ]
    assert not found, found
