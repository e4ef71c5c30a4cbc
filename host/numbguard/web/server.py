"""The web server: a Starlette app under uvicorn, running in the session's own asyncio loop.

It is one more `EventSink` of the session's event stream (live/json_events.py): each event
is turned into one JSON text once and handed to every connected page's bounded queue
(clients.py); a page that reads slowly gets the newest state, never a backlog.

Who may read: on a loopback address only this computer (and the Host and Origin headers must
be this computer's, against DNS rebinding and other sites' scripts); on any other address only
a client that gives the token (`?token=`) in the URL. Anything else gets 403 and no data.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import json
import logging
import secrets
import socket
from collections import deque
from collections.abc import Iterator
from importlib.resources import files
from typing import Any, Final
from urllib.parse import quote, urlsplit

import anyio
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

from numbguard.errors import BadValue
from numbguard.web.address import DEFAULT_HOST, DEFAULT_PORT, is_loopback
from numbguard.web.clients import ClientQueue

log = logging.getLogger(__name__)

MAX_HISTORY: Final = 1000  # alerts kept for a page that connects late; a session raises tens
FORBIDDEN_TEXT: Final = (
    "403 forbidden: this page needs the address numbguard printed, with its ?token=...; "
    "the token given is missing or does not match\n"
)
PAGE_HEADERS: Final = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",  # the token is in the URL: never pass it on
    "X-Content-Type-Options": "nosniff",
}


def _lan_address() -> str:
    """This computer's address on the network the default route leads to (no packet is sent)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.1", 9))  # TEST-NET-1: routing only, nothing is sent
            return str(probe.getsockname()[0])
        except OSError:
            return socket.gethostname()


def _bind(host: str, port: int) -> socket.socket:
    try:
        family, kind, proto, _, address = socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )[0]
    except socket.gaierror as error:
        raise BadValue(
            "web host",
            expected="an address or name of this computer for --web-host",
            got=f"{host!r} ({error.strerror})",
            name="--web-host",
        ) from None
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # restart over TIME_WAIT
        sock.bind(address)
        sock.listen(16)
    except OSError as error:
        sock.close()
        if error.errno == errno.EADDRINUSE:
            taken = f"{host}:{port} is taken by another program"
            raise BadValue(
                "web port in use",
                expected="a free port for --web-port",
                got=taken,
                name="--web-port",
            ) from None
        expected = "an address of this computer for --web-host and a port you may open"
        got = f"{host}:{port}: {error.strerror}"
        raise BadValue(
            "web address", expected=expected, got=got, name="--web-host, --web-port"
        ) from None
    sock.setblocking(False)
    return sock


class _EmbeddedServer(uvicorn.Server):
    """uvicorn without its signal handlers: Ctrl-C belongs to the session that hosts it."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


class WebServer:
    """The live page and its websocket; `emit` takes the session's events."""

    def __init__(
        self, host: str = DEFAULT_HOST, port: int = DEFAULT_PORT, *, token: str | None = None
    ) -> None:
        if token is None and not is_loopback(host):
            raise BadValue(
                "web token",
                expected=f"a token to serve on {host} (not loopback)",
                got="none",
                name="--web-token",
            )
        self.host = host
        self.port = port
        self.token = token
        self.clients: set[ClientQueue] = set()
        self.history: deque[str] = deque(maxlen=MAX_HISTORY)
        self._last_state: str | None = None
        self._ended: str | None = None
        self._page = (files("numbguard.web") / "page.html").read_text(encoding="utf-8")
        self._server: _EmbeddedServer | None = None
        self._task: asyncio.Task[None] | None = None
        self.app = Starlette(
            routes=[Route("/", self._serve_page), WebSocketRoute("/ws", self._serve_socket)]
        )

    # -- the event stream -------------------------------------------------------------------

    def emit(self, event: str, t_s: float, **fields: Any) -> None:
        if event == "summary":  # the page needs the end, not the whole result
            result = fields.get("result", {})
            fields = {key: result.get(key) for key in ("duration_s", "cadence_spm")}
            fields["alerts"] = len(result.get("alerts", ()))
        try:
            message = json.dumps({"event": event, "t_s": round(t_s, 3), **fields},
                                 allow_nan=False, sort_keys=True)  # fmt: skip
        except ValueError:  # NaN: EventFanout cleans events; a raw caller did not
            log.warning("web: dropped a %s event with a NaN in it", event)
            return
        if event == "state":
            self._last_state = message
            for client in self.clients:
                client.put_state(message)
            return
        if event == "alert":
            self.history.append(message)
        elif event == "summary":
            self._ended = message
        for client in self.clients:
            client.put_event(message)

    # -- serving ----------------------------------------------------------------------------

    @property
    def url(self) -> str:
        """The address to open: this computer's LAN address when serving on every interface."""
        host = self.host
        if host in ("0.0.0.0", "::", ""):
            host = _lan_address()
        if ":" in host:
            host = f"[{host}]"
        query = "" if self.token is None else f"?token={quote(self.token)}"
        return f"http://{host}:{self.port}/{query}"

    async def start(self) -> None:
        """Bind (InputError when the port is taken) and serve until `stop`."""
        sock = _bind(self.host, self.port)
        self.port = int(sock.getsockname()[1])  # the real one when asked for port 0
        config = uvicorn.Config(
            self.app,
            log_config=None,  # leave the program's logging alone
            log_level="warning",
            access_log=False,
            lifespan="off",
            ws="websockets-sansio",
            timeout_graceful_shutdown=2,
        )
        self._server = _EmbeddedServer(config)
        self._task = asyncio.create_task(self._server.serve(sockets=[sock]))
        while not self._server.started:
            if self._task.done():
                sock.close()
                await self._task  # its error, if it has one
                raise BadValue(
                    "web server",
                    expected="it to start",
                    got="it stopped",
                    name="--web-host, --web-port",
                )
            await asyncio.sleep(0.01)

    async def stop(self) -> None:
        for client in list(self.clients):
            client.close()
        if self._server is not None and self._task is not None:
            self._server.should_exit = True
            await self._task
        self._server = self._task = None

    async def __aenter__(self) -> WebServer:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # -- access -----------------------------------------------------------------------------

    def _allowed(self, query_token: str | None, headers: Any) -> bool:
        if self.token is not None:
            given = (query_token or "").encode()
            return secrets.compare_digest(given, self.token.encode())
        # Loopback without a token: the request must name this computer, and a browser's
        # script may connect only from this page itself.
        host = urlsplit(f"//{headers.get('host', '')}").hostname or ""
        if not is_loopback(host):  # a name that resolves here is not enough: DNS rebinding
            return False
        origin = headers.get("origin")
        return origin is None or urlsplit(origin).netloc == headers.get("host")

    async def _serve_page(self, request: Request) -> Response:
        if not self._allowed(request.query_params.get("token"), request.headers):
            return PlainTextResponse(FORBIDDEN_TEXT, status_code=403, headers=PAGE_HEADERS)
        return HTMLResponse(self._page, headers=PAGE_HEADERS)

    async def _serve_socket(self, websocket: WebSocket) -> None:
        if not self._allowed(websocket.query_params.get("token"), websocket.headers):
            await websocket.close(code=1008)  # before accept: the client gets HTTP 403
            return
        await websocket.accept()
        client = ClientQueue()
        hello = {
            "event": "hello",
            "history": [json.loads(message) for message in self.history],
            "state": None if self._last_state is None else json.loads(self._last_state),
            "ended": None if self._ended is None else json.loads(self._ended),
        }
        client.put_event(json.dumps(hello, sort_keys=True))
        self.clients.add(client)
        try:
            async with anyio.create_task_group() as group:
                # Whichever ends first (the server stops, the page goes) ends the other.
                group.start_soon(self._pump, websocket, client, group.cancel_scope)
                group.start_soon(self._listen, websocket, group.cancel_scope)
        finally:
            self.clients.discard(client)

    @staticmethod
    async def _pump(websocket: WebSocket, client: ClientQueue, scope: anyio.CancelScope) -> None:
        with contextlib.suppress(WebSocketDisconnect, OSError):
            while (message := await client.get()) is not None:
                await websocket.send_text(message)
            await websocket.close(code=1001)  # going away: the page reconnects
        scope.cancel()

    @staticmethod
    async def _listen(websocket: WebSocket, scope: anyio.CancelScope) -> None:
        """Reads (and ignores) what the page sends, to notice when it goes."""
        with contextlib.suppress(WebSocketDisconnect, OSError):
            while True:
                await websocket.receive_text()
        scope.cancel()
