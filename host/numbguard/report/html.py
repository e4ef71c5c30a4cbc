"""Assemble the report in one HTML file: first what the runner should do (the ranked
suggestions of the session's alerts), then the evidence: summary, alert timeline and figures
(embedded PNG)."""

from __future__ import annotations

import base64
import html
import math
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from numbguard.analysis.gait import detect_steps
from numbguard.pads import FOOT_IDS, LACE_PADS, Foot
from numbguard.private_files import write_private_text
from numbguard.report import plots
from numbguard.types import FloatArray, PressureChunk, StepMetrics


@dataclass
class SessionSeries:
    """The whole pressure record of a session, per foot: times and per-pad kPa arrays."""

    t_s: dict[Foot, list[FloatArray]] = field(default_factory=dict)
    pressure_kpa: dict[Foot, dict[str, list[FloatArray]]] = field(default_factory=dict)
    sample_rate_hz: dict[Foot, float] = field(default_factory=dict)

    def add(self, chunk: PressureChunk) -> None:
        self.t_s.setdefault(chunk.foot, []).append(chunk.t_s)
        self.sample_rate_hz[chunk.foot] = chunk.sample_rate_hz
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

    def chunks(self, foot: Foot) -> list[PressureChunk]:
        """The chunks of one foot as they were added."""
        pads = self.pressure_kpa.get(foot, {})
        return [
            PressureChunk(
                foot,
                t_s,
                {pad: parts[k] for pad, parts in pads.items()},
                self.sample_rate_hz[foot],
            )
            for k, t_s in enumerate(self.t_s.get(foot, []))
        ]


def session_steps(series: SessionSeries) -> dict[str, list[StepMetrics]]:
    """Each foot's steps, by the analysis's own contact detector and step metrics."""
    return {foot: detect_steps(series.chunks(foot)) for foot in FOOT_IDS if foot in series.t_s}


_SEVERITY_RANK = {"alert": 0, "warning": 1, "info": 2}


@dataclass(frozen=True)
class Action:
    """What the runner should change for one alert kind on one foot, with when it was seen."""

    kind: str
    foot: str
    severity: str
    message: str
    suggestions: tuple[str, ...]
    spans_s: tuple[tuple[float, float], ...]  # (start, end) of each time it was raised

    @property
    def raised_s(self) -> float:
        return sum(end - start for start, end in self.spans_s)


def ranked_actions(alerts: list[dict[str, Any]], end_s: float) -> list[Action]:
    """One action per alert kind and foot that was raised, most urgent first.

    Ranked by the worst severity reached, then by how long the condition lasted, then by
    when it first appeared. The message and the ranked suggestions are the risk model's own,
    from the raise of the worst severity (the first one of that severity).
    """
    actions: list[Action] = []
    for foot in FOOT_IDS:
        raised = [a for a in alerts if a["foot"] == foot and a["severity"] != "info"]
        for kind in dict.fromkeys(str(a["kind"]) for a in raised):
            of_kind = sorted(
                (a for a in raised if a["kind"] == kind),
                key=lambda a: (_SEVERITY_RANK.get(str(a["severity"]), 3), float(a["t_s"])),
            )
            worst = of_kind[0]
            spans = tuple(
                (start, end)
                for start, end, span_kind, _ in plots.alert_spans(alerts, foot, end_s)
                if span_kind == kind
            )
            actions.append(
                Action(
                    kind,
                    foot,
                    str(worst["severity"]),
                    str(worst["message"]),
                    tuple(str(s) for s in worst.get("suggestions", [])),
                    spans,
                )
            )
    return sorted(
        actions,
        key=lambda a: (
            _SEVERITY_RANK.get(a.severity, 3),
            -a.raised_s,
            min((start for start, _ in a.spans_s), default=0.0),
        ),
    )


def _when(spans_s: tuple[tuple[float, float], ...], end_s: float) -> str:
    parts = [
        f"from {_clock(start)} to the end" if end >= end_s else f"{_clock(start)}–{_clock(end)}"
        for start, end in spans_s
    ]
    return "seen " + ", ".join(parts) + " (session time)" if parts else ""


def _actions_section(actions: list[Action], end_s: float) -> str:
    if not actions:
        return (
            "<p class='none'>No alerts in this session: numbguard saw no pressure pattern to "
            "change. Keep your shoes and lacing as they are.</p>"
        )
    items = "".join(
        f"<li class='action'><p><span class='{html.escape(a.severity)}'>"
        f"{html.escape(a.message)}</span> <span class='when'>{html.escape(_when(a.spans_s, end_s))}"
        "</span></p><ol class='suggestions'>"
        + "".join(f"<li>{html.escape(text)}</li>" for text in a.suggestions)
        + "</ol></li>"
        for a in actions
    )
    intro = "Most urgent first. " if len(actions) > 1 else ""
    return (
        f"<p>{intro}Under each alert, the changes to try, the first one first.</p>"
        f"<ol class='actions'>{items}</ol>"
    )


def _clock(t_s: float) -> str:
    """Session time as a runner reads a watch: m:ss, or h:mm:ss from an hour on."""
    hours, rest = divmod(round(max(t_s, 0.0)), 3600)
    minutes, seconds = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{seconds:02d}" if hours else f"{minutes}:{seconds:02d}"


def _number(value: Any, unit: str, digits: int = 0) -> str:
    if isinstance(value, int | float) and math.isfinite(value):
        return f"{value:.{digits}f} {unit}"
    return "–"


def _evidence(evidence: dict[str, Any]) -> str:
    if not evidence:
        return ""
    return (
        "<span class='evidence'>"
        + " ".join(
            # Break opportunities after "_" and "=", never inside a number, on a phone.
            f"<span>{html.escape(str(k)).replace('_', '_<wbr>')}=<wbr>{html.escape(str(v))}</span>"
            for k, v in evidence.items()
        )
        + "</span>"
    )


def _image(title: str, png: bytes) -> str:
    data = base64.b64encode(png).decode()
    return (
        f"<figure><img alt='{html.escape(title)}' src='data:image/png;base64,{data}'>"
        f"<figcaption>{html.escape(title)}</figcaption></figure>"
    )


STYLE = """
body { font-family: system-ui, sans-serif; margin: 2em auto; padding: 0 1em; max-width: 1100px;
       color: #222; line-height: 1.4; }
h1 { margin-bottom: 0.2em; overflow-wrap: anywhere; } .sub { color: #666; margin-top: 0; }
table { border-collapse: collapse; margin: 1em 0; }
td, th { border-bottom: 1px solid #ddd; padding: 4px 10px; text-align: left; vertical-align: top; }
figure { margin: 1.5em 0; } img { max-width: 100%; height: auto; }
figcaption { color: #666; font-size: 0.9em; }
.alert { color: #b30000; font-weight: bold; } .warning { color: #b36b00; } .info { color: #3182bd; }
.none { color: #2b8a3e; font-weight: bold; }
#what-to-do { border-left: 4px solid #b30000; padding: 0.1em 1em; background: #fdf6f4; }
#what-to-do.calm { border-left-color: #2b8a3e; background: #f3faf4; }
.actions > li { margin-bottom: 0.8em; } .actions p { margin: 0.2em 0; }
.suggestions li:first-child { font-weight: bold; }
.when, .evidence { color: #666; font-size: 0.9em; } .evidence { display: block; }
.evidence span { display: inline-block; margin-right: 0.8em; }
/* A phone shrinks an 11-inch figure until its labels cannot be read: keep the figures wide
   enough to read and let them scroll sideways. */
@media (max-width: 700px) {
  body { margin-top: 1em; }
  figure { overflow-x: auto; } figure img { max-width: none; width: 720px; }
  td, th { padding: 4px 6px; }
}
"""


def write_report(
    path: str | os.PathLike[str],
    result: dict[str, Any],
    series: SessionSeries,
    *,
    title: str = "numbguard session report",
    source: str = "",
    steps: Mapping[str, list[StepMetrics]] | None = None,
) -> Path:
    """Write the report for one analysed session and return its path.

    `result` is the analysis result as `numbguard analyze --json` prints it; `series` holds
    the session's calibrated pressures; `steps` each foot's steps if the analysis kept them
    (else they are found again in `series`).
    """
    arrays = series.arrays()
    alerts: list[dict[str, Any]] = list(result.get("alerts", []))
    feet_result: dict[str, Any] = result.get("feet", {})
    contacts: dict[str, list[tuple[float, float]]] = {
        foot: [(float(on), float(off)) for on, off in feet_result.get(foot, {}).get("contacts", [])]
        for foot in FOOT_IDS
    }
    steps = dict(steps) if steps is not None else session_steps(series)
    mean_peak_kpa: dict[str, dict[str, float]] = {}
    for foot, foot_steps in steps.items():
        means = mean_peak_kpa[foot] = {}
        for pad in arrays[foot][1]:
            # Lace pads: the level in swing, the pressure that stays on the top of the foot.
            per_step = [
                (s.dorsal_swing_kpa if pad in LACE_PADS else s.peak_kpa).get(pad)
                for s in foot_steps
            ]
            values = [v for v in per_step if v is not None]
            if values:
                means[pad] = float(np.mean(values))
    span_s = plots.session_span_s(arrays)
    end_s = max((float(t_s[-1]) for t_s, _ in arrays.values() if len(t_s)), default=0.0)

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
            f"<tr><td>{_clock(float(a['t_s']))}</td>"
            f"<td class='{html.escape(a['severity'])}'>{html.escape(a['kind'])} "
            f"({html.escape(a['severity'])})</td><td>{html.escape(a['message'])}"
            + _evidence(a.get("evidence", {}))
            + "</td></tr>"
            for a in sorted(alerts, key=lambda a: float(a["t_s"]))
        )
        alert_table = (
            f"<table><tr><th>time</th><th>alert</th><th>what was seen</th></tr>{alert_rows}</table>"
        )
    else:
        alert_table = "<p class='none'>No alerts in this session.</p>"

    actions = ranked_actions(alerts, end_s)
    calm = "" if actions else " class='calm'"
    contact_figures = [
        _image("Cadence and contact time", plots.cadence_and_contact(contacts, span_s)),
        _image(
            "Foot map: mean step peak per pad (lace pads: mean swing pressure)",
            plots.foot_map(mean_peak_kpa),
        ),
    ]
    if plots.draws_steps(arrays):
        # Per step already: the separate per-step figure would show the same points again.
        figures = [
            _image(
                "Pressure per pad, one point per step: solid, the step's peak; dashed, the "
                "level in the swing before it (shaded: alert spans). Sessions over "
                f"{plots.RAW_TRACE_MAX_S / 60:g} min are drawn per step: their traces would "
                "merge into a solid block.",
                plots.pressure_over_time(arrays, alerts, steps),
            ),
            *contact_figures,
        ]
    else:
        figures = [
            _image(
                "Pressure per pad over time (shaded: alert spans)",
                plots.pressure_over_time(arrays, alerts, steps),
            ),
            _image(
                "Per-step peak pressure and lace pressure in swing",
                plots.per_step(steps, span_s),
            ),
            *contact_figures,
        ]
    page = (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        f"<title>{html.escape(title)}</title><style>{STYLE}</style></head><body>"
        f"<h1>{html.escape(title)}</h1><p class='sub'>{html.escape(source)}</p>"
        f"<section id='what-to-do'{calm}><h2>What to do</h2>"
        f"{_actions_section(actions, end_s)}"
        "<p class='sub'>numbguard points out shoe and loading patterns linked to numb feet; "
        "it does not diagnose. Symptoms that persist need a foot specialist.</p></section>"
        "<section id='evidence'><h2>The evidence</h2>"
        f"<h3>Session</h3><table>{summary}</table>"
        f"<h3>Alerts over time</h3>{alert_table}"
        f"<h3>Plots</h3>{''.join(figures)}</section>"
        "</body></html>"
    )
    return write_private_text(path, page)
