"""The comparison page: did the change help? Verdicts first, then the evidence.

One self-contained HTML file (figures embedded as PNG, drawn with matplotlib in the report's
style): per foot, the difference of the per-step medians of the lace pressure and of the
forefoot peak with their bootstrap intervals in words, the alert rates, the sessions on each
side, side-by-side per-step distributions per pad, and a table of every pad's difference.
"""

from __future__ import annotations

import base64
import html
import os
from datetime import datetime
from pathlib import Path
from typing import Final

import matplotlib.pyplot as plt
import numpy as np

from numbguard.history.compare import (
    BLOCK_ACF_BELOW,
    BLOCK_LAGS,
    CONFIDENCE,
    MIN_BLOCK_STEPS,
    RESAMPLES,
    Difference,
)
from numbguard.history.sides import Side, side_series
from numbguard.history.steps import FOREFOOT_PEAK_KPA, LACE_KPA, SUMMARY_METRICS
from numbguard.pads import FOOT_IDS, LACE_PADS, PAD_IDS
from numbguard.private_files import write_private_text
from numbguard.report.html import STYLE
from numbguard.report.plots import figure_png

SIDE_COLORS: Final = ("tab:blue", "tab:orange")
METRIC_NAMES: Final = {
    LACE_KPA: "lace pressure (higher lace pad, in swing)",
    FOREFOOT_PEAK_KPA: "forefoot peak (highest forefoot pad)",
}
PAGE_STYLE: Final = (
    STYLE
    + """
.beyond { font-weight: bold; } .noise { color: #666; }
.verdicts li { margin-bottom: 0.5em; } td.num { text-align: right; }
"""
)


def metric_name(metric: str) -> str:
    if metric in METRIC_NAMES:
        return METRIC_NAMES[metric]
    return f"{metric} ({'swing pressure' if metric in LACE_PADS else 'step peak'})"


def _kpa(value: float) -> str:
    return f"{value:.1f} kPa"


def verdict(d: Difference, a: Side, b: Side) -> str:
    """One sentence on one difference, as the runner reads it (plain text)."""
    interval = f"{CONFIDENCE:.0%} interval of B − A: {d.low:+.1f} to {d.high:+.1f} kPa"
    name = metric_name(d.metric)
    if not d.beyond_noise:
        return (
            f"{d.foot} foot, {name}: no difference beyond the noise (A {_kpa(d.median_a)}, "
            f"B {_kpa(d.median_b)}; {interval}, which includes 0)."
        )
    direction = "higher" if d.difference > 0 else "lower"
    return (
        f"{d.foot} foot, {name}: {_kpa(abs(d.difference))} {direction} with B "
        f"({b.label}) than with A ({a.label}): A {_kpa(d.median_a)}, "
        f"B {_kpa(d.median_b)}; {interval}, beyond the noise."
    )


def _rate(value: float | None) -> str:
    return "–" if value is None else f"{value:.1f} per hour"


def _alerts(side: Side) -> str:
    kinds = side.alerts_by_kind()
    listed = ", ".join(f"{kind} {count}" for kind, count in kinds.items()) or "none"
    return f"{_rate(side.alerts_per_h)} over {side.duration_s / 60:.1f} min ({listed})"


def _sessions_table(a: Side, b: Side) -> str:
    rows = []
    for side in (a, b):
        for session, tags in zip(side.sessions, side.tags, strict=True):
            when = datetime.fromtimestamp(session.start_unix_s).strftime("%Y-%m-%d %H:%M")
            tag_text = ", ".join(f"{k}={v}" for k, v in tags.items()) or "–"
            cadence = "–" if session.cadence_spm is None else f"{session.cadence_spm:.0f}"
            rows.append(
                f"<tr><td>{side.name}</td><td>{html.escape(session.path.name)}</td>"
                f"<td>{when}</td><td class='num'>{session.duration_s / 60:.1f} min</td>"
                f"<td>{html.escape(tag_text)}</td><td class='num'>{cadence}</td>"
                f"<td class='num'>{_rate(session.alerts_per_h)}</td></tr>"
            )
    return (
        "<table><tr><th>side</th><th>session</th><th>start</th><th>length</th><th>tags</th>"
        f"<th>cadence (steps/min)</th><th>alerts</th></tr>{''.join(rows)}</table>"
    )


def _differences_table(differences: list[Difference]) -> str:
    rows = "".join(
        f"<tr><td>{d.foot}</td><td>{html.escape(metric_name(d.metric))}</td>"
        f"<td class='num'>{d.median_a:.1f}</td><td class='num'>{d.median_b:.1f}</td>"
        f"<td class='num'>{d.difference:+.1f}</td><td class='num'>{d.low:+.1f} to {d.high:+.1f}"
        f"</td><td class='num'>{d.steps_a} / {d.steps_b}</td><td class='num'>{d.block_steps}</td>"
        f"<td class='{'beyond' if d.beyond_noise else 'noise'}'>"
        f"{'beyond the noise' if d.beyond_noise else 'within the noise'}</td></tr>"
        for d in differences
    )
    return (
        "<table><tr><th>foot</th><th>per step</th><th>median A (kPa)</th><th>median B (kPa)"
        f"</th><th>B − A</th><th>{CONFIDENCE:.0%} interval</th><th>steps A / B</th>"
        f"<th>block (steps)</th><th></th></tr>{rows}</table>"
    )


def distributions_png(a: Side, b: Side) -> bytes:
    """Per foot (rows) and pad (columns), box plots of A's and B's per-step values side by
    side; plantar pads show each step's peak, lace pads the swing pressure."""
    sessions = [s for side in (a, b) for s in side.sessions]
    pads = [p for p in PAD_IDS if any(p in s.values.get(f, {}) for s in sessions for f in FOOT_IDS)]
    feet = [f for f in FOOT_IDS if any(f in s.values for s in sessions)]
    size = (2.0 * len(pads) + 1.0, 3.0 * len(feet))
    figure, axes = plt.subplots(len(feet), len(pads), figsize=size, squeeze=False)
    for row, foot in enumerate(feet):
        for column, pad in enumerate(pads):
            axis = axes[row, column]
            data = []
            for side in (a, b):
                parts = side_series(side, foot, pad)
                values = np.concatenate(parts) if parts else np.array([])
                data.append(values[np.isfinite(values)])
            boxes = axis.boxplot(data, widths=0.6, patch_artist=True, flierprops={"markersize": 2})
            for patch, color in zip(boxes["boxes"], SIDE_COLORS, strict=True):
                patch.set_facecolor(color)
                patch.set_alpha(0.6)
            axis.set_xticks([1, 2], ["A", "B"])
            axis.set_title(f"{foot} {pad}", fontsize=9)
            axis.grid(alpha=0.3, axis="y")
            if column == 0:
                axis.set_ylabel("kPa per step")
    figure.tight_layout()
    return figure_png(figure)


def _image(title: str, png: bytes) -> str:
    data = base64.b64encode(png).decode()
    return (
        f"<figure><img alt='{html.escape(title)}' src='data:image/png;base64,{data}'>"
        f"<figcaption>{html.escape(title)}</figcaption></figure>"
    )


def _method(a: Side, b: Side) -> str:
    several = len(a.sessions) > 1 or len(b.sessions) > 1
    sessions_note = (
        "A side has several sessions, so each resample first draws that side's sessions with "
        "replacement: the interval includes how much sessions differ from one another."
        if several
        else "Each side is one session, so the interval shows how much a session's median "
        "moves with its own step-to-step variation; it cannot include how much two days of "
        "running differ for other reasons (weather, fatigue, pace). Compare several sessions "
        "per side (tag selectors) to include that."
    )
    return (
        "<p>Each number is a median over steps: per foot, the median over every step of a "
        "side's sessions. Whether A and B differ by more than chance is judged with a "
        f"bootstrap: the steps are resampled {RESAMPLES} times and the difference of medians "
        f"B − A recomputed each time; the middle {CONFIDENCE:.0%} of those differences is the "
        "interval. Consecutive steps are alike (the lacing and the pace change slowly), so the "
        "steps are resampled in blocks of consecutive steps, not one by one, which would "
        f"make the interval too narrow. A block is at least {MIN_BLOCK_STEPS} steps, and "
        f"{BLOCK_LAGS} times the distance, in steps, at which a step no longer resembles the "
        f"earlier one (autocorrelation under {BLOCK_ACF_BELOW}); when steps are strongly alike "
        "for a long stretch the interval is still a little narrow, so take a difference just "
        f"beyond the noise with care. {sessions_note}</p>"
        "<p>When the interval excludes 0 the difference is <b>beyond the noise</b>: it is "
        "unlikely to be chance. When it includes 0, these sessions do not "
        "show a difference; they do not prove there is none.</p>"
    )


def write_comparison(
    path: str | os.PathLike[str], a: Side, b: Side, differences: list[Difference]
) -> Path:
    """Write the comparison page of A and B (owner-only) and return its path."""
    headline = [d for d in differences if d.metric in SUMMARY_METRICS]
    verdicts = "".join(f"<li>{html.escape(verdict(d, a, b))}</li>" for d in headline) or (
        "<li>No steps to compare: neither side has steps on the same foot.</li>"
    )
    title = f"numbguard: {a.label} (A) vs {b.label} (B)"
    page = (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        f"<title>{html.escape(title)}</title><style>{PAGE_STYLE}</style></head><body>"
        f"<h1>{html.escape(title)}</h1>"
        "<section id='verdict'><h2>What changed</h2>"
        f"<ul class='verdicts'>{verdicts}</ul>"
        f"<p>Alerts: A {html.escape(_alerts(a))}; B {html.escape(_alerts(b))}.</p></section>"
        f"<section id='method'><h2>How to read this</h2>{_method(a, b)}</section>"
        f"<section id='sessions'><h2>Sessions</h2>{_sessions_table(a, b)}</section>"
        "<section id='distributions'><h2>Per-step distributions</h2>"
        + _image(
            "Per step, A (blue) beside B (orange): plantar pads, the step's peak; lace pads, "
            "the pressure in the swing before the step. Box: middle half of the steps; line: "
            "median; whiskers: 1.5 box lengths.",
            distributions_png(a, b),
        )
        + f"</section><section id='differences'><h2>Every pad</h2>"
        f"{_differences_table(differences)}</section></body></html>"
    )
    return write_private_text(path, page)
