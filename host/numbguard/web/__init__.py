"""The live run in a browser: a page served from the host, fed by the session's event stream."""

from numbguard.web.server import WebServer, is_loopback
from numbguard.web.token import token_path, web_token

__all__ = ["WebServer", "is_loopback", "token_path", "web_token"]
