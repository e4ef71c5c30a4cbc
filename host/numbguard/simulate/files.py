"""Simulated sessions on disk: an interchange CSV plus a JSON sidecar with the labels.

For a session `NAME` in a folder: `NAME.csv` (the CSV interchange format, written by
`numbguard.io.interchange`) and `NAME.labels.json`:

    {"scenario": ..., "description": ..., "seed": ..., "duration_s": ...,
     "sample_rate_hz": ..., "labels": [{"kind", "foot", "onset_s", "end_s"[, "advice"]}, ...]}

`advice`, when present, is the suggestion an alert should lead with for that condition.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from numbguard.errors import BadFile, UnreadableFile
from numbguard.io.interchange import write_interchange
from numbguard.pads import FOOT_IDS
from numbguard.simulate.field import build_field_scenario
from numbguard.simulate.field_simulator import FieldSimulator
from numbguard.simulate.generator import SessionSimulator
from numbguard.simulate.scenarios import Label, build_scenario
from numbguard.types import PressureChunk

LABELS_SUFFIX = ".labels.json"


@dataclass(frozen=True)
class SessionFiles:
    csv_path: Path
    labels_path: Path


def labels_path_for(csv_path: Path) -> Path:
    """Where the labels of a session CSV live."""
    return csv_path.with_name(csv_path.stem + LABELS_SUFFIX)


def write_session(
    name: str,
    out_dir: Path,
    *,
    seed: int = 0,
    duration_s: float | None = None,
    sample_rate_hz: float = 100.0,
) -> SessionFiles:
    """Simulate scenario `name` and write it (CSV and labels) into `out_dir`."""
    scenario = build_scenario(name) if duration_s is None else build_scenario(name, duration_s)
    simulator = SessionSimulator(scenario, seed=seed, sample_rate_hz=sample_rate_hz)
    return _write(
        out_dir, name, simulator.chunks(10.0), scenario.description, seed, scenario.duration_s,
        sample_rate_hz, scenario.labels,
    )  # fmt: skip


def write_field_session(
    name: str, out_dir: Path, *, seed: int = 0, sample_rate_hz: float = 100.0
) -> SessionFiles:
    """Simulate field scenario `name` (`numbguard.simulate.field`) and write it into `out_dir`."""
    scenario = build_field_scenario(name)
    simulator = FieldSimulator(scenario, seed=seed, sample_rate_hz=sample_rate_hz)
    return _write(
        out_dir, name, simulator.chunks(10.0), scenario.description, seed, scenario.duration_s,
        sample_rate_hz, scenario.labels,
    )  # fmt: skip


def _write(
    out_dir: Path,
    name: str,
    chunks: Iterable[PressureChunk],
    description: str,
    seed: int,
    duration_s: float,
    sample_rate_hz: float,
    labels: tuple[Label, ...],
) -> SessionFiles:
    out_dir.mkdir(parents=True, exist_ok=True)
    csv_path = out_dir / f"{name}.csv"
    write_interchange(csv_path, chunks, metadata={"scenario": name, "seed": str(seed)})
    sidecar = {
        "scenario": name,
        "description": description,
        "seed": seed,
        "duration_s": duration_s,
        "sample_rate_hz": sample_rate_hz,
        "labels": [label.to_json() for label in labels],
    }
    labels_path = labels_path_for(csv_path)
    labels_path.write_text(json.dumps(sidecar, indent=2) + "\n", encoding="utf-8")
    return SessionFiles(csv_path, labels_path)


def _label(item: Any, path: Path, number: int) -> Label:
    try:
        foot = item["foot"]
        if foot not in FOOT_IDS:
            raise ValueError(foot)
        advice = item.get("advice", "")
        if not isinstance(advice, str):
            raise ValueError(advice)
        return Label(str(item["kind"]), foot, float(item["onset_s"]), float(item["end_s"]), advice)
    except (KeyError, TypeError, ValueError, OverflowError) as error:
        raise BadFile(
            f"bad label {number}",
            path=path,
            expected=(
                '{"kind": str, "foot": "left"|"right", "onset_s": s, "end_s": s'
                ', optional "advice": str}'
            ),
            got=f"{item!r} ({error!r})",
        ) from None


def read_labels(labels_path: Path) -> tuple[Label, ...]:
    """The labels of a session sidecar; a malformed file raises `BadFile`."""
    try:
        data = json.loads(labels_path.read_text(encoding="utf-8"))
    except OSError as error:
        raise UnreadableFile(
            labels_path, str(error), expected="a readable file", message="cannot read labels"
        ) from None
    except json.JSONDecodeError as error:
        raise BadFile(
            "labels are not JSON", path=labels_path, line=error.lineno, column=error.colno,
            expected="a JSON object", got=error.msg,
        ) from None  # fmt: skip
    if not isinstance(data, dict) or not isinstance(data.get("labels"), list):
        raise BadFile(
            "bad labels file",
            path=labels_path,
            expected='an object with a "labels" list',
            got=repr(data)[:80],
        )
    return tuple(_label(item, labels_path, i + 1) for i, item in enumerate(data["labels"]))
