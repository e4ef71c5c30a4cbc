"""Assemble the report: summary, figures (embedded PNG) and alerts in one HTML file."""

from __future__ import annotations

import base64
import html
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from numbguard.analysis.types import FloatArray, PressureChunk
from numbguard.pads import FOOT_IDS, LACE_PADS
from numbguard.report import plots


@dataclass
class SessionSeries:
    """The whole pressure record of a session, per foot: times and per-pad kPa arrays."""

    t_s: dict[str, list[FloatArray]] = field(default_factory=dict)
    pressure_kpa: dict[str, dict[str, list[FloatArray]]] = field(default_factory=dict)

    def add(self, chunk: PressureChunk) -> None:
        self.t_s.setdefault(chunk.foot, []).append(chunk.t_s)
        pads = self.pressure_kpa.setdefault(chunk.foot, {})
        for pad, values in chunk.pressure_kpa.items():
            pads.setdefault(pad, []).append(values)

    def arrays(self) -> dict[str, tuple[FloatArray, dict[str, FloatArray]]]:
        return {
            foot: (
                np.concatenate(self.t_s[foot]),
                {pad: np.concatenate(parts) for pad, parts in self.pressure_kpa[foot].items()},
            )
            for foot in FOOT_IDS
            if foot in self.t_s
        }


def steps_from_contacts(
    t_s: FloatArray, pressures: dict[str, FloatArray], contacts: list[tuple[float, float]]
) -> list[dict[str, Any]]:
    """Per-step peak (plantar pads, over the contact) and lace pressure in the swing before it."""
    steps: list[dict[str, Any]] = []
    previous_off_s: float | None = None
    for t_on_s, t_off_s in contacts:
        stance = (t_s >= t_on_s) & (t_s <= t_off_s)
        swing = (t_s > previous_off_s) & (t_s < t_on_s) if previous_off_s is not None else None
        peak_kpa: dict[str, float] = {}
        dorsal_swing_kpa: dict[str, float] = {}
        for pad, values in pressures.items():
            if pad in LACE_PADS:
                if swing is not None and swing.any() and np.isfinite(values[swing]).any():
                    dorsal_swing_kpa[pad] = float(np.nanmedian(values[swing]))
            elif stance.any() and np.isfinite(values[stance]).any():
                peak_kpa[pad] = float(np.nanmax(values[stance]))
        steps.append({"t_on_s": t_on_s, "peak_kpa": peak_kpa, "dorsal_swing_kpa": dorsal_swing_kpa})
        previous_off_s = t_off_s
    return steps


def _clock(t_s: float) -> str:
    minutes, seconds = divmod(max(t_s, 0.0), 60.0)
    return f"{int(minutes):02d}:{seconds:04.1f}"


def _number(value: Any, unit: str, digits: int = 0) -> str:
    if isinstance(value, int | float) and math.isfinite(value):
        return f"{value:.{digits}f} {unit}"
    return "–"


def _image(title: str, png: bytes) -> str:
    data = base64.b64encode(png).decode()
    return (
        f"<figure><img alt='{html.escape(title)}' src='data:image/png;base64,{data}'>"
        f"<figcaption>{html.escape(title)}</figcaption></figure>"
    )


STYLE = """
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 1100px; color: #222; }
h1 { margin-bottom: 0.2em; } .sub { color: #666; margin-top: 0; }
table { border-collapse: collapse; margin: 1em 0; }
td, th { border-bottom: 1px solid #ddd; padding: 4px 10px; text-align: left; vertical-align: top; }
figure { margin: 1.5em 0; } img { max-width: 100%; } figcaption { color: #666; font-size: 0.9em; }
.alert { color: #b30000; font-weight: bold; } .warning { color: #b36b00; } .info { color: #3182bd; }
.none { color: #2b8a3e; }
"""


def write_report(
    path: str | os.PathLike[str],
    result: dict[str, Any],
    series: SessionSeries,
    *,
    title: str = "numbguard session report",
    source: str = "",
) -> Path:
    """Write the report for one analysed session and return its path.

    `result` is the analysis result as `numbguard analyze --json` prints it; `series` holds
    the session's calibrated pressures.
    """
    arrays = series.arrays()
    alerts: list[dict[str, Any]] = list(result.get("alerts", []))
    feet_result: dict[str, Any] = result.get("feet", {})
    contacts: dict[str, list[tuple[float, float]]] = {
        foot: [(float(on), float(off)) for on, off in feet_result.get(foot, {}).get("contacts", [])]
        for foot in FOOT_IDS
    }
    steps = {
        foot: steps_from_contacts(arrays[foot][0], arrays[foot][1], contacts[foot])
        for foot in arrays
    }
    mean_peak_kpa = {
        foot: {
            pad: float(np.mean([s["peak_kpa"][pad] for s in foot_steps if pad in s["peak_kpa"]]))
            for pad in arrays[foot][1]
            if pad not in LACE_PADS and any(pad in s["peak_kpa"] for s in foot_steps)
        }
        for foot, foot_steps in steps.items()
    }
    for foot, foot_steps in steps.items():
        for pad in LACE_PADS:
            swing = [s["dorsal_swing_kpa"][pad] for s in foot_steps if pad in s["dorsal_swing_kpa"]]
            if swing:
                mean_peak_kpa[foot][pad] = float(np.mean(swing))

    summary_rows = [
        ("duration", _clock(float(result.get("duration_s", 0.0)))),
        ("cadence", _number(result.get("cadence_spm"), "steps/min")),
    ]
    for foot in FOOT_IDS:
        foot_result = feet_result.get(foot)
        if not foot_result:
            continue
        summary_rows.append(
            (
                f"{foot} foot",
                f"{len(foot_result.get('contacts', []))} steps, stride "
                f"{_number(foot_result.get('stride_s_median'), 's', 2)}, contact "
                f"{_number(foot_result.get('contact_s_median'), 's', 3)}, pads: "
                + ", ".join(foot_result.get("pads", [])),
            )
        )
    summary = "".join(
        f"<tr><th>{html.escape(name)}</th><td>{html.escape(value)}</td></tr>"
        for name, value in summary_rows
    )

    if alerts:
        alert_rows = "".join(
            f"<tr><td>{_clock(float(a['t_s']))}</td><td>{html.escape(a['foot'])}</td>"
            f"<td class='{html.escape(a['severity'])}'>{html.escape(a['kind'])} "
            f"({html.escape(a['severity'])})</td><td>{html.escape(a['message'])}<ol>"
            + "".join(f"<li>{html.escape(s)}</li>" for s in a.get("suggestions", []))
            + "</ol></td></tr>"
            for a in sorted(alerts, key=lambda a: float(a["t_s"]))
        )
        alert_table = (
            "<table><tr><th>time</th><th>foot</th><th>kind</th><th>what and what to change"
            f"</th></tr>{alert_rows}</table>"
        )
    else:
        alert_table = "<p class='none'>No alerts in this session.</p>"

    figures = [
        _image(
            "Pressure per pad over time (shaded: alert spans)",
            plots.pressure_over_time(arrays, alerts),
        ),
        _image("Per-step peak pressure and lace pressure in swing", plots.per_step(steps)),
        _image("Cadence and contact time", plots.cadence_and_contact(contacts)),
        _image(
            "Foot map: mean step peak per pad (lace pads: mean swing pressure)",
            plots.foot_map(mean_peak_kpa),
        ),
    ]
    page = (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>{html.escape(title)}</title><style>{STYLE}</style></head><body>"
        f"<h1>{html.escape(title)}</h1><p class='sub'>{html.escape(source)}</p>"
        f"<h2>Summary</h2><table>{summary}</table>"
        f"<h2>Alerts</h2>{alert_table}"
        f"<h2>Plots</h2>{''.join(figures)}"
        "<p class='sub'>numbguard points out shoe and loading patterns linked to numb feet; "
        "it does not diagnose. Symptoms that persist need a foot specialist.</p>"
        "</body></html>"
    )
    out = Path(path)
    out.write_text(page, encoding="utf-8")
    return out
