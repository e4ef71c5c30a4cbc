"""What goes onto the board: the firmware's files, its version, and the insole's config file.

The firmware's own sources say what they are: `insole.py` holds ``FW_VERSION`` (what status
page 0 reports after boot) and `config.py` holds ``CONFIG_PATH``, the JSON file it loads at
boot. The config written here merges the foot and name into what the board already has, so
a re-flash keeps the insole's calibration, tare and rate.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import numbguard
from numbguard.errors import BadFile, BadValue, UnreadableFile
from numbguard.pads import FOOT_IDS, Foot
from numbguard.protocol.constants import NAME_MAX_BYTES

_VERSION = re.compile(r"^FW_VERSION\s*=\s*\(\s*(\d+)\s*,\s*(\d+)\s*,\s*(\d+)\s*\)", re.M)
_CONFIG_PATH = re.compile(r"^CONFIG_PATH\s*=\s*[\"']([^\"']+)[\"']", re.M)
ENTRY_MODULE: Final = "main.py"


def default_firmware_dir() -> Path:
    """The firmware this package flashes: its own copy in an installed wheel (setup.py puts
    it there), else `firmware/` of the source checkout it runs from."""
    package = Path(numbguard.__file__).resolve().parent
    for directory in (package / "firmware", package.parents[1] / "firmware"):
        if (directory / ENTRY_MODULE).is_file():
            return directory
    raise UnreadableFile(
        package / "firmware" / ENTRY_MODULE,
        "neither; give the firmware folder with --firmware-dir",
        expected="this file (an installed wheel) or a checkout",
        message="this numbguard has no firmware to flash",
    )  # fmt: skip


def _source_value(
    firmware_dir: Path, module: str, pattern: re.Pattern[str], what: str
) -> tuple[str, ...]:
    path = firmware_dir / module
    try:
        text = path.read_text()
    except OSError as error:
        raise UnreadableFile(
            firmware_dir, str(error), expected="a firmware directory",
            message=f"cannot read the firmware's {module}",
        ) from error  # fmt: skip
    match = pattern.search(text)
    if match is None:
        raise BadFile(f"no {what} in {module}", path=path, expected=pattern.pattern, got="none")
    return match.groups()


@dataclass(frozen=True)
class FirmwareBundle:
    firmware_dir: Path
    files: dict[str, Path]  # name on the board -> local file
    version: tuple[int, int, int]
    config_name: str

    @property
    def version_text(self) -> str:
        return ".".join(str(part) for part in self.version)


def load_bundle(firmware_dir: Path | None = None) -> FirmwareBundle:
    directory = firmware_dir if firmware_dir is not None else default_firmware_dir()
    files = {path.name: path for path in sorted(directory.glob("*.py"))}
    if ENTRY_MODULE not in files:
        raise BadFile(
            "not a firmware directory", path=directory, expected=f"a directory with {ENTRY_MODULE}",
            got=", ".join(files) or "no .py files",
        )  # fmt: skip
    major, minor, patch = (int(v) for v in _source_value(directory, "insole.py", _VERSION,
                                                          "FW_VERSION"))  # fmt: skip
    (config_name,) = _source_value(directory, "config.py", _CONFIG_PATH, "CONFIG_PATH")
    return FirmwareBundle(directory, files, (major, minor, patch), config_name)


def check_foot(foot: str) -> Foot:
    if foot not in FOOT_IDS:
        raise BadValue("unknown foot", name="foot", expected="left or right", got=repr(foot))
    return foot


def check_name(name: str) -> str:
    """The insole's name as the firmware accepts it: 1-11 printable ASCII characters."""
    if not 1 <= len(name) <= NAME_MAX_BYTES or not all(" " <= ch <= "~" for ch in name):
        raise BadValue(
            "bad insole name",
            name="name",
            expected=f"1-{NAME_MAX_BYTES} printable ASCII characters",
            got=repr(name),
        )
    return name


def config_text(existing: str | None, foot: Foot, name: str) -> str:
    """The config file with `foot` and `name` set and every other field of `existing` kept.

    A missing or unreadable existing file starts from nothing: the firmware fills in its
    defaults for absent fields.
    """
    values: dict[str, Any] = {}
    if existing:
        try:
            parsed = json.loads(existing)
        except ValueError:
            parsed = None
        if isinstance(parsed, dict):
            values = parsed
    values["foot"] = foot
    values["name"] = check_name(name)
    return json.dumps(values, sort_keys=True)
