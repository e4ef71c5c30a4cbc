"""The live run in a browser: a page served from the host, fed by the session's event stream.

Nothing is imported here, so the commands that only offer `--web` do not load the web stack
(Starlette, uvicorn) unless it is asked for: `web.address` is the cheap part they need.
"""
