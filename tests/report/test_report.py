"""The HTML report: content from the analysis result, plots embedded, renders in Chromium."""

from __future__ import annotations

import base64
import re
import subprocess
from pathlib import Path
from typing import Any

import matplotlib.image
import matplotlib.pyplot as plt
import numpy as np
import pytest

from numbguard.pads import PAD_IDS
from numbguard.report import SessionSeries, write_report
from numbguard.report.html import ranked_actions, session_steps
from numbguard.report.plots import (
    RAW_TRACE_MAX_S,
    alert_spans,
    draws_steps,
    envelope,
    pressure_figure,
)
from numbguard.types import PressureChunk
from tests.required_tools import require_tool

RATE_HZ = 100.0


def _running_session(duration_s: float = 60.0) -> tuple[SessionSeries, dict[str, Any]]:
    """Both feet running at 170 steps/min with a left lace pressure rising after 30 s."""
    t_s = np.arange(0.0, duration_s, 1.0 / RATE_HZ)
    series = SessionSeries()
    contacts: dict[str, list[list[float]]] = {}
    stride_s = 120.0 / 170.0
    for foot, offset_s in (("left", 0.0), ("right", stride_s / 2)):
        phase = ((t_s - offset_s) % stride_s) / stride_s
        stance = phase < 0.35
        load = np.where(stance, np.sin(np.pi * phase / 0.35), 0.0)
        lace = 8.0 + (25.0 * (t_s > 30.0) if foot == "left" else 0.0)
        pressures = {
            "heel": 250.0 * load,
            "ball_medial": 180.0 * load,
            "ball_center": 310.0 * load,
            "ball_lateral": 150.0 * load,
            "lace_lower": lace + 5.0 * load,
            "lace_upper": lace + 10.0 * load,
        }
        for start in range(0, len(t_s), 500):
            window = slice(start, start + 500)
            series.add(
                PressureChunk(
                    foot, t_s[window], {p: v[window] for p, v in pressures.items()}, RATE_HZ
                )  # type: ignore[arg-type]
            )
        onsets = np.arange(offset_s, duration_s - stride_s, stride_s)
        contacts[foot] = [[float(on), float(on + 0.35 * stride_s)] for on in onsets]
    result = {
        "duration_s": duration_s,
        "sample_rate_hz": RATE_HZ,
        "cadence_spm": 170.0,
        "feet": {
            foot: {
                "pads": [
                    "heel",
                    "ball_medial",
                    "ball_center",
                    "ball_lateral",
                    "lace_lower",
                    "lace_upper",
                ],
                "contacts": contacts[foot],
                "stride_s_median": stride_s,
                "contact_s_median": 0.35 * stride_s,
            }
            for foot in ("left", "right")
        },
        "alerts": [
            {
                "t_s": 44.0,
                "foot": "left",
                "kind": "tight_lacing",
                "severity": "alert",
                "pads": ["lace_upper"],
                "message": "Sustained pressure under the upper laces <check>",
                "suggestions": [
                    "Loosen the laces over the pressure point",
                    "Check the tongue lies flat",
                ],
                "evidence": {"lace_upper_swing_kpa": 33.0},
            },
            {
                "t_s": 55.0,
                "foot": "left",
                "kind": "tight_lacing",
                "severity": "info",
                "pads": ["lace_upper"],
                "message": "Lace pressure back to normal",
                "suggestions": [],
                "evidence": {},
            },
        ],
    }
    return series, result


def test_report_holds_summary_alerts_suggestions_and_four_plots(tmp_path: Path) -> None:
    series, result = _running_session()
    page = write_report(
        tmp_path / "report.html", result, series, source="sim://tight_lacing"
    ).read_text()
    assert "170 steps/min" in page
    assert "sim://tight_lacing" in page
    assert "tight_lacing" in page and "Loosen the laces over the pressure point" in page
    assert "&lt;check&gt;" in page  # text from the session is escaped, never markup
    images = re.findall(r"data:image/png;base64,([A-Za-z0-9+/=]+)", page)
    assert len(images) == 4
    for image in images:
        assert base64.b64decode(image).startswith(b"\x89PNG")


def test_alert_spans_pair_raise_and_clear_and_stay_open_to_the_end() -> None:
    alerts = [
        {"t_s": 10.0, "foot": "left", "kind": "a", "severity": "warning"},
        {"t_s": 12.0, "foot": "left", "kind": "a", "severity": "alert"},
        {"t_s": 20.0, "foot": "left", "kind": "a", "severity": "info"},
        {"t_s": 30.0, "foot": "left", "kind": "b", "severity": "alert"},
        {"t_s": 31.0, "foot": "right", "kind": "a", "severity": "alert"},
    ]
    assert alert_spans(alerts, "left", 99.0) == [
        (10.0, 20.0, "a", "warning"),
        (30.0, 99.0, "b", "alert"),
    ]


def test_envelope_keeps_peaks_of_long_series() -> None:
    t_s = np.arange(1_000_000) / RATE_HZ
    values = np.zeros_like(t_s)
    values[123_457] = 700.0
    t_plot, v_plot = envelope(t_s, values, max_points=2000)
    assert len(t_plot) <= 2000
    assert v_plot.max() == 700.0


def _steady_feet(samples: dict[str, int]) -> dict[str, tuple[np.ndarray, dict[str, np.ndarray]]]:
    """Per foot, `samples` samples at 100 Hz from 0.012 s (as the demo's feet start)."""
    arrays = {}
    for foot, n in samples.items():
        t_s = 0.012 + np.arange(n) / RATE_HZ
        load = np.clip(np.sin(2 * np.pi * t_s / 0.7), 0.0, None) * 300.0
        arrays[foot] = (t_s, {"heel": load, "lace_upper": 8.0 + 0.0 * t_s})
    return arrays


@pytest.mark.parametrize("right_samples", [11_950, 12_000, 8_001, 3_999])
def test_pressure_plot_draws_each_foot_to_its_last_sample(right_samples: int) -> None:
    # The 120 s demo (5 % radio loss) ends with 11 950 right-foot samples and 12 000 left.
    # Reducing a line to equal bins of whole samples kept 10 000 right samples: the right
    # panel stopped at 100 s while the left one reached 120 s.
    arrays = _steady_feet({"left": 12_000, "right": right_samples})
    figure = pressure_figure(arrays, [], {})
    try:
        for axis, foot in zip(figure.get_axes(), ("left", "right"), strict=True):
            assert axis.get_ylabel().startswith(foot)
            t_s = arrays[foot][0]
            for line in axis.get_lines():
                x = np.asarray(line.get_xdata(), dtype=float)
                assert x.min() == t_s[0] and x.max() == t_s[-1], (foot, line.get_label())
    finally:
        plt.close(figure)


def test_a_long_session_is_drawn_as_per_step_envelopes_with_the_alert_spans() -> None:
    series, result = _running_session(duration_s=1200.0)
    arrays = series.arrays()
    steps = session_steps(series)
    assert RAW_TRACE_MAX_S < 1200.0 and draws_steps(arrays)
    figure = pressure_figure(arrays, result["alerts"], steps)
    try:
        axes = figure.get_axes()
        assert [a.get_ylabel() for a in axes] == [
            "left sole\n(kPa)", "left laces\n(kPa)", "right sole\n(kPa)", "right laces\n(kPa)"
        ]  # fmt: skip
        for axis, foot in zip(axes, ("left", "left", "right", "right"), strict=True):
            onsets = [step.t_on_s for step in steps[foot]]
            assert len(onsets) > 1600  # 170 steps/min for 20 min, per foot
            lines = axis.get_lines()
            assert lines and {line.get_gid() for line in lines} <= {"step_peak", "swing_level"}
            for line in lines:  # one point per step, at its onset: no per-sample trace
                assert list(line.get_xdata()) == onsets
            spans = [
                (patch.get_x(), patch.get_x() + patch.get_width())
                for patch in axis.patches
                if str(patch.get_gid()).startswith("alert_span:tight_lacing:alert")
            ]
            assert spans == ([(44.0, 55.0)] if foot == "left" else [])
        # The evidence of the tight lacing: the left upper lace level in swing rises at 30 s.
        swing = next(
            line for line in axes[1].get_lines()
            if line.get_gid() == "swing_level" and line.get_color() == "C5"
        )  # fmt: skip
        x, y = np.asarray(swing.get_xdata()), np.asarray(swing.get_ydata())
        assert np.nanmedian(y[x < 29]) == pytest.approx(8.0, abs=0.5)
        assert np.nanmedian(y[x > 31]) == pytest.approx(33.0, abs=0.5)
    finally:
        plt.close(figure)


def test_a_short_session_keeps_the_per_sample_traces() -> None:
    series, result = _running_session(duration_s=60.0)
    arrays = series.arrays()
    assert not draws_steps(arrays)
    figure = pressure_figure(arrays, result["alerts"], session_steps(series))
    try:
        for axis in figure.get_axes():
            lines = axis.get_lines()
            assert [line.get_label() for line in lines] == list(PAD_IDS)
            # The trace (a min/max envelope of it), not one point per step (~85).
            assert all(len(line.get_xdata()) > 1000 for line in lines)
    finally:
        plt.close(figure)


def _first_section(page: str) -> str:
    body = page[page.index("<body>") :]
    sections = re.findall(r"<section id='([a-z-]+)'", body)
    assert sections[:2] == ["what-to-do", "evidence"]
    # Only the title and the source come before it.
    before = body[: body.index("<section")]
    assert re.sub(r"<h1>.*?</h1>|<p class='sub'>.*?</p>", "", before) == "<body>"
    return body[body.index("<section id='what-to-do'") : body.index("<section id='evidence'")]


def test_the_report_opens_with_what_to_do_most_urgent_first(tmp_path: Path) -> None:
    series, result = _running_session()
    # A warning that lasts longer and came first still ranks below an alert.
    result["alerts"].insert(0, {
        "t_s": 10.0, "foot": "right", "kind": "forefoot_overload", "severity": "warning",
        "pads": ["ball_center"], "message": "Watch: right foot: high load under the ball",
        "suggestions": ["Shorten your stride and raise your cadence.", "Land more softly."],
        "evidence": {},
    })  # fmt: skip
    page = write_report(tmp_path / "report.html", result, series).read_text()
    first = _first_section(page)
    texts = [
        "Sustained pressure under the upper laces &lt;check&gt;",
        "Loosen the laces over the pressure point",
        "Check the tongue lies flat",
        "Watch: right foot: high load under the ball",
        "Shorten your stride and raise your cadence.",
        "Land more softly.",
    ]
    positions = [first.index(text) for text in texts]
    assert positions == sorted(positions)
    assert "seen 0:44–0:55 (session time)" in first
    assert "from 0:10 to the end" in first
    actions = ranked_actions(result["alerts"], 60.0)
    assert [(a.kind, a.foot, a.severity) for a in actions] == [
        ("tight_lacing", "left", "alert"),
        ("forefoot_overload", "right", "warning"),
    ]


def test_without_alerts_the_report_says_so_first(tmp_path: Path) -> None:
    series, result = _running_session()
    result["alerts"] = []
    page = write_report(tmp_path / "report.html", result, series).read_text()
    first = _first_section(page)
    assert "No alerts in this session" in first and "<ol" not in first


def test_report_renders_in_headless_chromium(tmp_path: Path) -> None:
    chromium = require_tool("chromium", "the report rendering check (Debian package chromium)")
    series, result = _running_session()
    report = write_report(tmp_path / "report.html", result, series)
    screenshot = tmp_path / "report.png"
    subprocess.run(
        [
            chromium,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            f"--user-data-dir={tmp_path / 'profile'}",
            "--window-size=1200,2400",
            f"--screenshot={screenshot}",
            report.as_uri(),
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )
    pixels = matplotlib.image.imread(screenshot)
    assert pixels.shape[0] == 2400 and pixels.shape[1] == 1200
    rgb = pixels[..., :3]
    not_white = (rgb < 0.95).any(axis=-1)
    # Text, tables and plots cover a real part of the page; a blank or broken page would not.
    assert not_white.mean() > 0.03
    # The plots are in colour (pad lines, alert span, foot map), not only black text.
    saturation = rgb.max(axis=-1) - rgb.min(axis=-1)
    assert (saturation > 0.3).mean() > 0.002
