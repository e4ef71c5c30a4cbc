"""`numbguard demo --lab`: both insoles' real firmware over the virtual radio, end to end."""

from __future__ import annotations

import json
import subprocess
import sys


def _demo(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "numbguard", "demo", "--lab", *args],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip


def test_demo_lab_streams_both_firmware_insoles_and_raises_the_lacing_alert(
    micropython_bin: str,
) -> None:
    done = _demo("--json", "--duration-s", "30", "--speed", "5")
    assert done.returncode == 0, done.stderr
    events = [json.loads(line) for line in done.stdout.splitlines()]
    alerts = [e for e in events if e["event"] == "alert"]
    assert [(a["foot"], a["kind"]) for a in alerts] == [("left", "tight_lacing")]
    summary = events[-1]
    assert summary["event"] == "summary"
    feet = summary["result"]["feet"]
    assert set(feet) == {"left", "right"} and all(f["steps"] > 10 for f in feet.values())


def test_demo_lab_refuses_a_speed_the_firmware_clock_cannot_run_at() -> None:
    done = _demo("--speed", "500", "--no-view")
    assert done.returncode != 0
    assert "--speed from 1 to 100 with --lab" in done.stderr and "500" in done.stderr
    assert "Traceback" not in done.stderr
