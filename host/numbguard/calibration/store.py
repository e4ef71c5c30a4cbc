"""The JSON file that holds one insole's calibration constants.

```json
{
  "format": "numbguard-insole-calibration",
  "version": 1,
  "foot": "left",
  "insole_id": 305419896,
  "pads": {
    "ball_center": {"sensor": "A201-25", "divider_ohms": 100000, "gain": 2.22,
                    "exponent": 1.0, "area_mm2": 63.62, "rated_kpa": 1745,
                    "tare_counts": 14, "saturation_counts": 3040},
    "lace_upper": {"gain": 0.0031, "exponent": 1.16, "tare_counts": 40}
  }
}
```

`foot` and `insole_id` may be null. The pads present are the keys of `pads`. A pad's missing
fields take the default of its position (numbguard.calibration.parts), so a file may hold only
what was fitted. Unknown keys and out-of-range values are refused with the pad and field named.
The firmware keeps `gain` and `exponent` per pad as float32 (SET_CAL / GET_CAL); the divider,
area, limits and tare live here.
"""

from __future__ import annotations

import json
import os
from typing import Any

from numbguard.calibration.insole import InsoleCalibration
from numbguard.calibration.pad import NUMERIC_FIELDS, PadCalibration
from numbguard.calibration.parts import default_pad_calibration
from numbguard.calibration.textfile import read_text
from numbguard.errors import BadCalibration, BadFile, InputError
from numbguard.pads import PAD_IDS
from numbguard.private_files import write_private_text

FORMAT_NAME = "numbguard-insole-calibration"
FORMAT_VERSION = 1
PAD_FIELDS = ("sensor", *NUMERIC_FIELDS)
_TOP_KEYS = {"format", "version", "foot", "insole_id", "pads"}


def calibration_to_dict(calibration: InsoleCalibration) -> dict[str, Any]:
    """The JSON-ready form (also what a recording stores about its insoles)."""
    return {
        "format": FORMAT_NAME,
        "version": FORMAT_VERSION,
        "foot": calibration.foot,
        "insole_id": calibration.insole_id,
        "pads": {
            pad: {name: getattr(pad_calibration, name) for name in PAD_FIELDS}
            for pad, pad_calibration in calibration.pads.items()
        },
    }


def _pad_from_dict(pad: str, entry: object, where: str) -> PadCalibration:
    if not isinstance(entry, dict):
        raise BadCalibration(
            "pad entry is not an object",
            expected="an object of constants",
            got=type(entry).__name__,
            where=f"{where}: pads.{pad}",
            pad=pad,
        )
    unknown = sorted(set(entry) - set(PAD_FIELDS))
    if unknown:
        raise BadCalibration(
            "unknown calibration field",
            expected="any of " + ", ".join(PAD_FIELDS),
            got=", ".join(unknown),
            where=f"{where}: pads.{pad}",
            pad=pad,
        )
    default = default_pad_calibration(pad)
    values = {name: entry.get(name, getattr(default, name)) for name in PAD_FIELDS}
    try:
        return PadCalibration(pad=pad, **values)
    except InputError as error:
        raise BadCalibration(
            error.message,
            expected=error.expected,
            got=error.got,
            where=f"{where}: pads.{pad}",
            pad=pad,
        ) from None


def calibration_from_dict(data: object, where: str = "calibration") -> InsoleCalibration:
    """Read the JSON-ready form back; any flaw raises `BadCalibration` naming where it is."""
    if not isinstance(data, dict):
        raise BadCalibration(
            "not a calibration object",
            expected="a JSON object",
            got=type(data).__name__,
            where=where,
        )
    if data.get("format") != FORMAT_NAME or data.get("version") != FORMAT_VERSION:
        raise BadCalibration(
            "not a calibration file of a known version",
            expected=f'"format": "{FORMAT_NAME}", "version": {FORMAT_VERSION}',
            got=f'"format": {data.get("format")!r}, "version": {data.get("version")!r}',
            where=where,
        )
    unknown = sorted(set(data) - _TOP_KEYS)
    if unknown:
        raise BadCalibration(
            "unknown key",
            expected="any of " + ", ".join(sorted(_TOP_KEYS)),
            got=", ".join(unknown),
            where=where,
        )
    pads = data.get("pads")
    if not isinstance(pads, dict) or not pads:
        raise BadCalibration(
            "no pads", expected="a non-empty object of pads", got=repr(pads), where=where
        )
    for pad in pads:
        if pad not in PAD_IDS:
            raise BadCalibration(
                "unknown pad",
                expected="one of " + ", ".join(PAD_IDS),
                got=repr(pad),
                where=f"{where}: pads",
                pad=pad,
            )
    return InsoleCalibration(
        {pad: _pad_from_dict(pad, entry, where) for pad, entry in pads.items()},
        foot=data.get("foot"),
        insole_id=data.get("insole_id"),
    )


def calibration_to_json(calibration: InsoleCalibration) -> str:
    return json.dumps(calibration_to_dict(calibration), indent=2) + "\n"


def calibration_from_json(text: str, where: str = "calibration") -> InsoleCalibration:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise BadFile(
            "not JSON",
            path=where,
            line=error.lineno,
            column=error.colno,
            expected="a calibration JSON object",
            got=error.msg,
        ) from None
    return calibration_from_dict(data, where)


def load_calibration(path: str | os.PathLike[str]) -> InsoleCalibration:
    text = read_text(path, "calibration file", "a readable JSON file")
    return calibration_from_json(text, where=str(path))


def save_calibration(calibration: InsoleCalibration, path: str | os.PathLike[str]) -> None:
    """Write atomically: a crash leaves the old file or the new one, never half of one."""
    write_private_text(path, calibration_to_json(calibration))
