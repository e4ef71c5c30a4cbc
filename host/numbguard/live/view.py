"""The terminal live view (rich): pad pressure bars for both feet, gait, link health, alerts."""

from __future__ import annotations

import time
from types import TracebackType
from typing import Final

from rich.console import Console, Group, RenderableType
from rich.live import Live
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from numbguard.analysis.pipeline import SessionResult
from numbguard.live.sink import FrameNews, SessionSink
from numbguard.live.state import FootLiveState, LiveState
from numbguard.pads import FOOT_IDS, LACE_PADS

# Bar full scale: plantar pads to the top of running forefoot peaks (brief: 600-730 kPa with
# discrete transducers), lace pads far lower (dorsal pressure is tens of kPa).
PLANTAR_FULL_SCALE_KPA = 700.0
LACE_FULL_SCALE_KPA = 100.0
BAR_WIDTH = 24
VIEW_PERIOD_S: Final = 0.25  # wall time between redraws while frames come in
SEVERITY_STYLE = {"info": "cyan", "warning": "yellow", "alert": "bold red"}


def _bar(value_kpa: float, full_scale_kpa: float) -> Text:
    fraction = max(0.0, min(1.0, value_kpa / full_scale_kpa))
    filled = round(fraction * BAR_WIDTH)
    style = "red" if fraction > 0.8 else "yellow" if fraction > 0.5 else "green"
    return Text("█" * filled, style=style) + Text("·" * (BAR_WIDTH - filled), style="dim")


def _foot_panel(foot: str, state: FootLiveState) -> Panel:
    table = Table.grid(padding=(0, 1))
    table.add_column(justify="right")
    table.add_column()
    table.add_column(justify="right")
    for pad in state.pads:
        value = state.pressure_kpa.get(pad, float("nan"))
        full_scale = LACE_FULL_SCALE_KPA if pad in LACE_PADS else PLANTAR_FULL_SCALE_KPA
        shown = "  -- kPa" if value != value else f"{value:5.0f} kPa"
        style = "strike dim" if pad in state.faults else ""
        bar = _bar(0.0 if value != value else value, full_scale)
        table.add_row(Text(pad, style=style), bar, shown)
    link = "[green]connected[/]" if state.connected else "[red]not connected[/]"
    battery = "--" if state.battery_pct is None else f"{state.battery_pct}%"
    contact = "--" if state.contact_s is None else f"{state.contact_s * 1000:.0f} ms"
    footer = Text.from_markup(
        f"{link} {state.link}  battery {battery}  contact {contact}\n"
        f"frames {state.frames_received}  missing {state.frames_missing}  "
        f"recovered {state.frames_recovered}"
        + (f"\n[yellow]restarted: {state.previous_reset}[/]" if state.previous_reset else "")
    )
    return Panel(Group(table, footer), title=f"{foot} foot", border_style="blue")


def render(state: LiveState) -> RenderableType:
    """The whole screen for one moment of the session."""
    feet = Table.grid(expand=True)
    feet.add_column()
    feet.add_column()
    feet.add_row(*(_foot_panel(foot, state.feet[foot]) for foot in FOOT_IDS))
    cadence = "--" if state.cadence_spm is None else f"{state.cadence_spm:.0f} steps/min"
    minutes, seconds = divmod(int(state.t_s), 60)
    header = Text.from_markup(f"[bold]numbguard[/]  {minutes:02d}:{seconds:02d}  cadence {cadence}")
    alerts = Table(show_header=False, box=None, expand=True)
    if not state.active_alerts:
        alerts.add_row(Text("no alerts", style="green"))
    for alert in sorted(state.active_alerts.values(), key=lambda a: a.t_s):
        top = alert.suggestions[0] if alert.suggestions else ""
        alerts.add_row(
            Text(f"{alert.foot} {alert.kind}", style=SEVERITY_STYLE[alert.severity]),
            Text(f"{alert.message}\n→ {top}"),
        )
    return Group(header, feet, Panel(alerts, title="alerts", border_style="magenta"))


class LiveView(SessionSink):
    """A terminal view of `state`, redrawn a few times a second while frames come in and
    once more at the end. Sits after `state` among the runner's sinks."""

    def __init__(
        self,
        state: LiveState,
        console: Console | None = None,
        refresh_per_second: float = 4.0,
        period_s: float = VIEW_PERIOD_S,
    ) -> None:
        self.state = state
        self.console = console or Console(stderr=True)
        self.period_s = period_s
        self._drawn_s = -period_s  # monotonic time of the last redraw
        self._live = Live(
            console=self.console, refresh_per_second=refresh_per_second, transient=False
        )

    def frame(self, news: FrameNews) -> None:
        if time.monotonic() - self._drawn_s >= self.period_s:
            self.update()

    def finish(self, result: SessionResult) -> None:
        self.update()

    def update(self) -> None:
        self._drawn_s = time.monotonic()
        self._live.update(render(self.state))

    def __enter__(self) -> LiveView:
        self._live.__enter__()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._live.__exit__(exc_type, exc, tb)
