"""The live page's server: what an event costs the session, and how late it reaches a page.

Run by hand: ``python benchmarks/web_page.py [--clients 1 5 20] [--events 500]``. A real
`WebServer` (uvicorn, Starlette) on a free loopback port in this process, N websocket clients
(the `websockets` library) reading as fast as they can, a demo-sized `state` event (both feet,
six pads, one alert) every 10 ms with an `alert` event every tenth:

- emit: the session's time in `WebServer.emit` per event (JSON once, into each client's queue);
- alert latency: from `emit("alert")` to the message in each client's hands (p50, p99, max);
- states dropped: states a client never got because a newer one replaced it first.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from typing import Any

import numpy as np
import websockets

from numbguard.web.server import WebServer

PADS = ("heel", "ball_medial", "ball_center", "ball_lateral", "lace_lower", "lace_upper")
ALERT: dict[str, Any] = {
    "foot": "left", "kind": "tight_lacing", "severity": "alert", "pads": ["lace_upper"],
    "message": "Act now: left foot, lace upper: sustained lace pressure on the top of the foot.",
    "suggestions": ["Loosen the laces over the pressure point."], "evidence": {},
}  # fmt: skip


def state(i: int) -> dict[str, Any]:
    foot = {"connected": True, "link": "sim:left", "battery_pct": 87, "pads": list(PADS),
            "pressure_kpa": {pad: 100.0 + i % 300 for pad in PADS}, "contact_s": 0.2,
            "faults": [], "frames_received": i, "frames_missing": 0, "frames_recovered": 0,
            "previous_reset": None}  # fmt: skip
    alert = {key: ALERT[key] for key in ("foot", "kind", "severity", "pads", "message")}
    return {"cadence_spm": 170.0, "alerts": [{**alert, "t_s": 36.0, "suggestion": "Loosen"}],
            "feet": {"left": foot, "right": foot}}  # fmt: skip


async def run(clients: int, events: int) -> dict[str, float]:
    latencies_s: list[float] = []
    sent_at: dict[int, float] = {}
    emit_s: list[float] = []
    async with WebServer(port=0) as server:

        async def page() -> None:
            async with websockets.connect(f"ws://127.0.0.1:{server.port}/ws") as socket:
                async for raw in socket:
                    message = json.loads(raw)
                    if message["event"] == "alert":
                        latencies_s.append(time.perf_counter() - sent_at[message["n"]])
                    if message["event"] == "summary":
                        return

        readers = [asyncio.create_task(page()) for _ in range(clients)]
        while len(server.clients) < clients:
            await asyncio.sleep(0.01)
        queues = list(server.clients)
        for i in range(events):
            start = time.perf_counter()
            if i % 10 == 0:
                sent_at[i] = start
                server.emit("alert", float(i), n=i, **ALERT)
            else:
                server.emit("state", float(i), **state(i))
            emit_s.append(time.perf_counter() - start)
            await asyncio.sleep(0.01)
        server.emit("summary", float(events), result={})
        await asyncio.gather(*readers)
    lat_ms = np.array(latencies_s) * 1e3
    return {
        "emit_us": float(np.median(emit_s) * 1e6),
        "p50_ms": float(np.percentile(lat_ms, 50)),
        "p99_ms": float(np.percentile(lat_ms, 99)),
        "max_ms": float(lat_ms.max()),
        "dropped": sum(queue.dropped_states for queue in queues) / clients,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, nargs="+", default=[1, 5, 20])
    parser.add_argument("--events", type=int, default=500)
    args = parser.parse_args()
    header = ("pages", "emit per event (median)", "alert latency p50", "p99", "max",
              "states dropped per page")  # fmt: skip
    print("| " + " | ".join(header) + " |\n" + "|---" * len(header) + "|")
    for clients in args.clients:
        r = asyncio.run(run(clients, args.events))
        cells = (str(clients), f"{r['emit_us']:.0f} µs", f"{r['p50_ms']:.1f} ms",
                 f"{r['p99_ms']:.1f} ms", f"{r['max_ms']:.1f} ms",
                 f"{r['dropped']:.0f} of {args.events * 9 // 10}")  # fmt: skip
        print("| " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
