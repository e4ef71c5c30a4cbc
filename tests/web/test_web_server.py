"""The web server on its own: who gets data (token, loopback), bounded client queues, the
token file, a taken port; the page through Starlette's TestClient and through real uvicorn."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import websockets
from hypothesis import given, settings
from hypothesis import strategies as st
from starlette.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from numbguard.errors import InputError
from numbguard.web.address import DEFAULT_HOST, is_loopback
from numbguard.web.clients import ClientQueue
from numbguard.web.server import WebServer
from numbguard.web.token import web_token

TOKEN = "k" * 32
STATE: dict[str, Any] = {
    "cadence_spm": 171.0,
    "alerts": [],
    "feet": {"left": {"connected": True, "pressure_kpa": {"heel": 250.0}}},
}
ALERT: dict[str, Any] = {
    "foot": "left",
    "kind": "tight_lacing",
    "severity": "alert",
    "message": "lace pressure",
    "suggestions": ["Loosen the laces over the pressure point."],
}


def test_loopback_is_the_default_and_anything_else_needs_a_token() -> None:
    assert DEFAULT_HOST == "127.0.0.1" and WebServer().token is None
    assert all(map(is_loopback, ("127.0.0.1", "127.0.0.2", "::1", "[::1]", "localhost")))
    assert not any(map(is_loopback, ("0.0.0.0", "::", "192.168.1.5", "phone.local", "")))
    with pytest.raises(InputError, match="token"):
        WebServer("0.0.0.0")
    assert WebServer("0.0.0.0", token=TOKEN).url.endswith(f"/?token={TOKEN}")


def _served(server: WebServer, **kwargs: Any) -> TestClient:
    server.emit("state", 12.5, **STATE)
    server.emit("alert", 10.0, **ALERT)
    return TestClient(server.app, **kwargs)


def test_a_wrong_or_missing_token_gets_403_and_no_data() -> None:
    client = _served(WebServer("0.0.0.0", token=TOKEN))
    for query in ("", "?token=", "?token=wrong", f"?token={TOKEN[:-1]}", f"?token={TOKEN}x"):
        page = client.get("/" + query)
        assert page.status_code == 403, query
        assert "token" in page.text and "cadence" not in page.text and "<script" not in page.text
        with pytest.raises(WebSocketDisconnect) as refused, client.websocket_connect("/ws" + query):
            pass
        assert refused.value.code == 1008
    page = client.get(f"/?token={TOKEN}")
    assert page.status_code == 200 and "speechSynthesis" in page.text
    assert page.headers["referrer-policy"] == "no-referrer"
    with client.websocket_connect(f"/ws?token={TOKEN}") as ws:
        hello = json.loads(ws.receive_text())
    assert hello["event"] == "hello"
    assert hello["state"]["cadence_spm"] == 171.0 and hello["state"]["t_s"] == 12.5
    assert [alert["kind"] for alert in hello["history"]] == ["tight_lacing"]


def test_loopback_answers_only_requests_that_name_this_computer() -> None:
    server = WebServer()
    local = _served(server, base_url="http://127.0.0.1:8765")
    assert local.get("/").status_code == 200
    with local.websocket_connect(
        "ws://127.0.0.1:8765/ws", headers={"origin": "http://127.0.0.1:8765"}
    ) as ws:
        assert json.loads(ws.receive_text())["event"] == "hello"
    # Another site's script in the runner's browser, and a DNS-rebound name: refused.
    with pytest.raises(WebSocketDisconnect):
        local.websocket_connect(
            "ws://127.0.0.1:8765/ws", headers={"origin": "http://evil.example"}
        ).__enter__()
    assert TestClient(server.app, base_url="http://evil.example:8765").get("/").status_code == 403
    for name in ("localhost", "127.0.0.2", "[::1]"):
        assert TestClient(server.app, base_url=f"http://{name}:8765").get("/").status_code == 200


async def test_a_client_queue_keeps_the_newest_state_and_a_bounded_backlog() -> None:
    queue = ClientQueue(max_events=4)
    for i in range(1000):
        queue.put_state(f"state {i}")
    for i in range(10):
        queue.put_event(f"alert {i}")
    assert queue.pending() == 5
    assert (queue.dropped_states, queue.dropped_events) == (999, 6)
    got = [await queue.get() for _ in range(5)]
    assert got == ["alert 6", "alert 7", "alert 8", "alert 9", "state 999"]
    waiting = asyncio.create_task(queue.get())
    await asyncio.sleep(0.01)
    assert not waiting.done()  # nothing to send: it waits
    queue.put_state("state 1000")
    assert await waiting == "state 1000"
    queue.close()
    assert await queue.get() is None


async def test_a_page_that_stops_reading_costs_the_host_one_state() -> None:
    """Real uvicorn on a free port; a websocket client that reads nothing for a while."""
    async with WebServer(port=0) as server:
        uri = f"ws://127.0.0.1:{server.port}/ws"
        async with websockets.connect(uri, max_queue=1) as slow:
            while not server.clients:
                await asyncio.sleep(0.01)
            (client,) = server.clients
            big = {"feet": {"left": {"pad": "x" * 20_000}}}
            for i in range(3000):  # ~60 MB if it were all kept
                server.emit("state", float(i), n=i, **big)
                if i % 100 == 0:
                    await asyncio.sleep(0)  # let the server send what the socket takes
                assert client.pending() <= 1
            assert client.dropped_states > 2000
            newest = -1
            while newest < 2999:  # the page catches up on the newest state, not the backlog
                message = json.loads(await asyncio.wait_for(slow.recv(), 5))
                newest = message.get("n", newest)
        assert server.port != 0


async def test_stopping_the_server_closes_pages_so_they_reconnect() -> None:
    server = WebServer(port=0)
    await server.start()
    async with websockets.connect(f"ws://127.0.0.1:{server.port}/ws") as page:
        assert json.loads(await page.recv())["event"] == "hello"
        server.emit("summary", 60.0, result={"duration_s": 60.0, "cadence_spm": 170.0,
                                             "alerts": [ALERT]})  # fmt: skip
        await server.stop()
        summary = json.loads(await page.recv())
        assert summary == {"event": "summary", "t_s": 60.0, "duration_s": 60.0,
                           "cadence_spm": 170.0, "alerts": 1}  # fmt: skip
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await page.recv()
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 1001


async def test_a_taken_port_is_one_clear_error() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(InputError, match=f"web port in use.*127.0.0.1:{port} is taken"):
            await WebServer(port=port).start()


def test_the_command_with_a_taken_port_says_so_and_exits_2() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = subprocess.run(
            [sys.executable, "-m", "numbguard", "demo", "--web-port", str(port), "--no-view"],
            capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        f"numbguard demo: web port in use (expected a free port for --web-port; "
        f"got 127.0.0.1:{port} is taken by another program)"
    ]


def test_the_token_is_kept_owner_only_and_replaced_on_request(tmp_path: Path) -> None:
    path = tmp_path / "numbguard" / "web-token"
    first = web_token(path=path)
    assert len(first) >= 32 and stat.S_IMODE(path.stat().st_mode) == 0o600
    assert web_token(path=path) == first  # a phone's bookmark survives a host restart
    second = web_token(new=True, path=path)
    assert second != first and web_token(path=path) == second


def test_the_token_lives_in_the_config_folder(tmp_path: Path, monkeypatch: Any) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    token = web_token()
    assert (tmp_path / "numbguard" / "web-token").read_text().strip() == token
    assert os.stat(tmp_path / "numbguard").st_mode & 0o077 == 0


@settings(max_examples=200, deadline=None)
@given(stored=st.binary(max_size=80))
def test_any_stored_token_file_gives_a_usable_token(tmp_path_factory: Any, stored: bytes) -> None:
    path = tmp_path_factory.mktemp("token") / "web-token"
    path.write_bytes(stored)
    try:
        text = stored.decode("utf-8").strip()
    except UnicodeDecodeError:
        text = ""
    if not text.isascii():
        text = ""
    token = web_token(path=path)
    assert len(token) >= 22 and all(c.isalnum() or c in "-_" for c in token) and token.isascii()
    kept = len(text) >= 22 and all(c.isalnum() or c in "-_" for c in text)
    assert (token == text) == kept


def test_the_session_commands_load_the_web_stack_only_for_web() -> None:
    check = ("import sys, numbguard.cli.session_options; "
             "print(sorted({'starlette', 'uvicorn', 'segno'} & set(sys.modules)))")  # fmt: skip
    loaded = subprocess.run([sys.executable, "-c", check], capture_output=True, text=True,
                            check=True)  # fmt: skip
    assert loaded.stdout.strip() == "[]"
