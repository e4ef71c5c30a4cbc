"""The report's figures (matplotlib, no display needed), each returned as PNG bytes."""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any, Final

import matplotlib

matplotlib.use("Agg")  # no display on a server or in CI

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure
from matplotlib.patches import Circle, Ellipse
from matplotlib.ticker import FuncFormatter, MultipleLocator

from numbguard.pads import FOOT_IDS, LACE_PADS, PAD_IDS
from numbguard.types import FloatArray, StepMetrics

# Most points one plotted line keeps; longer series are reduced to a min/max envelope per bin
# so a 4 h session plots as fast as a 1 min one and peaks stay visible.
MAX_POINTS_PER_LINE = 4000
# Sessions up to this long show every pad's trace; longer ones show per-step envelopes (each
# step's peak and the swing level before it). The plot is about 850 px wide: at 170 steps/min a
# 3-minute run gives each stride about 3 px, enough to tell the steps and the floor between
# them apart; at 5 minutes a stride is 2 px and the trace is a solid block that hides the swing
# level, the evidence of tight lacing.
RAW_TRACE_MAX_S: Final = 180.0
# Past this, time axes count minutes.
MINUTES_AXIS_FROM_S: Final = 600.0
PAD_COLORS = {pad: f"C{index}" for index, pad in enumerate(PAD_IDS)}
SEVERITY_COLORS = {"info": "#9ecae1", "warning": "#fdae6b", "alert": "#e6550d"}

# Pad centres on a right-foot insole outline in unit coordinates (x medial->lateral mirrored
# for the left foot, y heel->toe); lace pads sit on the tongue, drawn beside the sole.
PAD_MAP_XY = {
    "heel": (0.5, 0.12),
    "ball_medial": (0.3, 0.7),
    "ball_center": (0.5, 0.74),
    "ball_lateral": (0.7, 0.68),
    "lace_lower": (1.35, 0.62),
    "lace_upper": (1.35, 0.4),
}


def _at_least(axis: Any, span: float) -> None:
    """Widen a y axis to `span` around its data so steady values do not show noise as range."""
    low, high = axis.get_ylim()
    if high - low < span:
        middle = (high + low) / 2
        axis.set_ylim(middle - span / 2, middle + span / 2)


def _png(figure: Figure) -> bytes:
    for axis in figure.get_axes():
        axis.ticklabel_format(axis="y", useOffset=False, style="plain")
        if axis.get_legend_handles_labels()[0]:
            # Beside the plot, never over the data.
            legend = axis.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=7,
                                 frameon=False, markerscale=3)  # fmt: skip
            for line in legend.get_lines():
                line.set_linewidth(2.0)  # thin plot lines make colours hard to tell apart
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=90, bbox_inches="tight")
    plt.close(figure)
    return buffer.getvalue()


def figure_png(figure: Figure) -> bytes:
    """Any figure as PNG bytes in the report's style (legend beside the plot, plain numbers on
    the y axis), for other pages built like the report; the figure is closed."""
    return _png(figure)


def envelope(
    t_s: FloatArray, values: FloatArray, max_points: int = MAX_POINTS_PER_LINE
) -> tuple[FloatArray, FloatArray]:
    """Reduce a series to at most `max_points` points: each bin's lowest and highest sample at
    their own times, in time order, plus the first and the last sample.

    Every sample falls in a bin (the last bin may be shorter), so the reduced line spans the
    whole series: bins of equal length would have to drop the samples after the last whole
    bin, up to `max_points / 2` of them.
    """
    n = len(t_s)
    if n <= max_points:
        return t_s, values
    n_bins = max((max_points - 2) // 2, 1)
    bin_size = -(-n // n_bins)  # ceil
    rows = -(-n // bin_size)
    padded = np.full(rows * bin_size, np.nan)
    padded[:n] = values
    bins = padded.reshape(rows, bin_size)
    missing = np.isnan(bins)
    # A bin without any sample gives its first index, which holds NaN: a gap in the line.
    lowest = np.where(missing, np.inf, bins).argmin(axis=1)
    highest = np.where(missing, -np.inf, bins).argmax(axis=1)
    starts = np.arange(rows) * bin_size
    pairs = np.column_stack(
        [starts + np.minimum(lowest, highest), starts + np.maximum(lowest, highest)]
    ).ravel()
    index = np.unique(np.concatenate([[0], pairs, [n - 1]]))
    return t_s[index], values[index]


def alert_spans(
    alerts: Sequence[dict[str, Any]], foot: str, end_s: float
) -> list[tuple[float, float, str, str]]:
    """(start, end, kind, severity) for each raised alert of a foot, ended by its `info` clear."""
    open_spans: dict[str, tuple[float, str]] = {}
    spans: list[tuple[float, float, str, str]] = []
    for alert in sorted(alerts, key=lambda a: float(a["t_s"])):
        if alert["foot"] != foot:
            continue
        kind = str(alert["kind"])
        if alert["severity"] == "info":
            if kind in open_spans:
                start, severity = open_spans.pop(kind)
                spans.append((start, float(alert["t_s"]), kind, severity))
        elif kind not in open_spans:
            open_spans[kind] = (float(alert["t_s"]), str(alert["severity"]))
    spans.extend((start, end_s, kind, severity) for kind, (start, severity) in open_spans.items())
    return spans


def session_span_s(series: dict[str, tuple[FloatArray, dict[str, FloatArray]]]) -> float:
    """From the first to the last sample of either foot."""
    starts = [float(t_s[0]) for t_s, _ in series.values() if len(t_s)]
    ends = [float(t_s[-1]) for t_s, _ in series.values() if len(t_s)]
    return max(ends) - min(starts) if starts else 0.0


def draws_steps(series: dict[str, tuple[FloatArray, dict[str, FloatArray]]]) -> bool:
    """Whether the pressure plot shows per-step envelopes rather than the traces."""
    return session_span_s(series) > RAW_TRACE_MAX_S


def pressure_over_time(
    series: dict[str, tuple[FloatArray, dict[str, FloatArray]]],
    alerts: Sequence[dict[str, Any]],
    steps: dict[str, list[StepMetrics]],
) -> bytes:
    """Pressure per pad over the session, one panel per foot, alert spans shaded."""
    return _png(pressure_figure(series, alerts, steps))


def pressure_figure(
    series: dict[str, tuple[FloatArray, dict[str, FloatArray]]],
    alerts: Sequence[dict[str, Any]],
    steps: dict[str, list[StepMetrics]],
) -> Figure:
    """The figure of `pressure_over_time`, before it becomes a PNG (its lines hold the data).

    A short session shows each pad's trace, one panel per foot. A long one (`draws_steps`)
    shows two panels per foot, sole pads and lace pads on their own scales: per pad, each
    step's peak (solid) and the median pressure in the swing before it (dashed), one point
    per step.
    """
    feet = [foot for foot in FOOT_IDS if foot in series]
    per_step = draws_steps(series)
    rows = [(foot, part) for foot in feet for part in (("sole", "laces") if per_step else ("",))]
    heights = [3.0 if part in ("", "sole") else 1.8 for _, part in rows]
    figure, axes = plt.subplots(
        len(rows), 1, figsize=(11, sum(heights) + 0.4), sharex=True, squeeze=False,
        gridspec_kw={"height_ratios": heights},
    )  # fmt: skip
    # The same part of both feet on one scale, so the feet compare at a glance.
    first_of_part: dict[str, Any] = {}
    for axis, (foot, part) in zip(axes[:, 0], rows, strict=True):
        if part in first_of_part:
            axis.sharey(first_of_part[part])
        first_of_part.setdefault(part, axis)
        t_s, pressures = series[foot]
        end_s = float(t_s[-1]) if len(t_s) else 0.0
        for start, end, kind, severity in alert_spans(alerts, foot, end_s):
            axis.axvspan(
                start, end, color=SEVERITY_COLORS[severity], alpha=0.35, lw=0,
                gid=f"alert_span:{kind}:{severity}",
            )  # fmt: skip
            if part != "laces":
                axis.text(start, 1.0, f" {kind}", transform=axis.get_xaxis_transform(),
                          va="top", fontsize=8)  # fmt: skip
        if per_step:
            pads = [p for p in PAD_IDS if p in pressures and (p in LACE_PADS) == (part == "laces")]
            _step_envelopes(axis, pads, steps.get(foot, []))
            axis.set_ylabel(f"{foot} {part}\n(kPa)")
        else:
            for pad, values in pressures.items():
                t_plot, v_plot = envelope(t_s, values)
                axis.plot(t_plot, v_plot, lw=0.7, color=PAD_COLORS[pad], label=pad)
            axis.set_ylabel(f"{foot}\npressure (kPa)")
        axis.grid(alpha=0.3)
    _time_axis(axes[-1, 0], session_span_s(series))
    return figure


def _step_envelopes(axis: Any, pads: list[str], steps: list[StepMetrics]) -> None:
    """Per pad: each step's peak (solid) and the swing level before it (dashed)."""
    t_on = np.array([step.t_on_s for step in steps])
    for pad in pads:
        peaks = np.array([step.peak_kpa.get(pad, np.nan) for step in steps], dtype=float)
        swing = np.array(
            [step.dorsal_swing_kpa.get(pad, step.forefoot_swing_kpa.get(pad, np.nan))
             for step in steps],
            dtype=float,
        )  # fmt: skip
        label = pad  # one legend entry per pad; the caption tells solid from dashed
        if np.isfinite(peaks).any():
            axis.plot(t_on, peaks, lw=0.6, color=PAD_COLORS[pad], label=label, gid="step_peak")
            label = f"_{pad}"
        if np.isfinite(swing).any():
            axis.plot(t_on, swing, lw=0.9, ls="--", color=PAD_COLORS[pad], label=label,
                      gid="swing_level")  # fmt: skip


def _time_axis(axis: Any, span_s: float) -> None:
    """Label a shared time axis in seconds, or in minutes for a long session."""
    if span_s <= MINUTES_AXIS_FROM_S:
        axis.set_xlabel("time (s)")
        return
    step_s = next((s for s in (120, 300, 600, 900, 1800, 3600) if span_s / s <= 12), 7200)
    axis.xaxis.set_major_locator(MultipleLocator(step_s))
    axis.xaxis.set_major_formatter(FuncFormatter(lambda x, _: f"{x / 60:g}"))
    axis.set_xlabel("time (min)")


def per_step(steps: dict[str, list[StepMetrics]], span_s: float) -> bytes:
    """Per-step peak pressure (plantar pads) and dorsal pressure in swing (lace pads), a
    column per foot on shared scales."""
    figure, axes = plt.subplots(2, 2, figsize=(11, 5.5), sharex=True, sharey="row")
    for column, foot in enumerate(FOOT_IDS):
        peak_axis, dorsal_axis = axes[0, column], axes[1, column]
        peak_axis.set_title(f"{foot} foot", fontsize=10)
        foot_steps = steps.get(foot, [])
        t_on = np.array([step.t_on_s for step in foot_steps])
        for pad in PAD_IDS:
            if pad in LACE_PADS:
                values = [step.dorsal_swing_kpa.get(pad, np.nan) for step in foot_steps]
                axis = dorsal_axis
            else:
                values = [step.peak_kpa.get(pad, np.nan) for step in foot_steps]
                axis = peak_axis
            points = np.array(values, dtype=float)
            if np.isfinite(points).any():
                # Labels only once (the right column): the legend is beside the plot.
                label = pad if column == len(FOOT_IDS) - 1 else f"_{pad}"
                axis.plot(t_on, points, ".", ms=2, color=PAD_COLORS[pad], label=label)
        for axis in (peak_axis, dorsal_axis):
            axis.grid(alpha=0.3)
        _time_axis(dorsal_axis, span_s)
    axes[0, 0].set_ylabel("step peak (kPa)")
    axes[1, 0].set_ylabel("lace pressure\nin swing (kPa)")
    return _png(figure)


def cadence_and_contact(contacts: dict[str, list[tuple[float, float]]], span_s: float) -> bytes:
    """Cadence (from stride times, both feet) and contact time per step over the session."""
    figure, (cadence_axis, contact_axis) = plt.subplots(2, 1, figsize=(11, 5), sharex=True)
    for foot, color in zip(FOOT_IDS, ("tab:blue", "tab:orange"), strict=True):
        foot_contacts = contacts.get(foot, [])
        if len(foot_contacts) < 2:
            continue
        on = np.array([c[0] for c in foot_contacts])
        off = np.array([c[1] for c in foot_contacts])
        stride_s = np.diff(on)
        # One stride of one foot is two steps.
        cadence_axis.plot(on[1:], 120.0 / stride_s, ".", ms=3, color=color, label=foot)
        contact_axis.plot(on, (off - on) * 1000.0, ".", ms=3, color=color, label=foot)
    _at_least(cadence_axis, 20.0)
    _at_least(contact_axis, 50.0)
    cadence_axis.set_ylabel("cadence (steps/min)")
    contact_axis.set_ylabel("contact time (ms)")
    _time_axis(contact_axis, span_s)
    for axis in (cadence_axis, contact_axis):
        axis.grid(alpha=0.3)
    return _png(figure)


def foot_map(mean_peak_kpa: dict[str, dict[str, float]]) -> bytes:
    """Both insoles with each pad coloured by its mean step peak pressure."""
    figure, axes = plt.subplots(1, 2, figsize=(8, 5))
    all_values = [v for pads in mean_peak_kpa.values() for v in pads.values() if np.isfinite(v)]
    vmax = max(all_values, default=1.0) or 1.0
    colormap = plt.get_cmap("inferno_r")
    for axis, foot in zip(axes, FOOT_IDS, strict=True):
        axis.add_patch(Ellipse((0.5, 0.45), 0.75, 1.05, fill=False, lw=1.5))
        axis.add_patch(Ellipse((1.35, 0.5), 0.35, 0.6, fill=False, lw=1, ls="--"))
        axis.text(1.35, 0.83, "tongue", ha="center", fontsize=8)
        pads = mean_peak_kpa.get(foot, {})
        for pad, (x, y) in PAD_MAP_XY.items():
            if foot == "left" and pad not in LACE_PADS:
                x = 1.0 - x  # mirror: medial is on the right of a left sole seen from above
            value = pads.get(pad)
            if value is None:
                axis.add_patch(Circle((x, y), 0.07, fill=False, ls=":", color="grey"))
                continue
            axis.add_patch(Circle((x, y), 0.07, color=colormap(value / vmax)))
            axis.text(x, y - 0.12, f"{value:.0f}", ha="center", fontsize=8)
        axis.set_xlim(0, 1.6)
        axis.set_ylim(-0.15, 1.05)
        axis.set_aspect("equal")
        axis.axis("off")
        axis.set_title(f"{foot}: mean step peak (kPa)")
    return _png(figure)
