"""The app's server process (``python -m simulation.app.server HOST PORT NAMES``; ``statebiz app``
starts it): Solara's Starlette app served by uvicorn behind :class:`HostGuard`, with no
outbound connection.

- **Host and Origin.** A page of another site must not reach the app through the browser of
  its user: neither by DNS rebinding (a name of the attacker's that resolves to this
  machine: the ``Host`` header is then the attacker's name) nor by a websocket it opens to
  this address (its ``Origin`` is the other site). Requests whose ``Host`` is not one of
  NAMES (on the bound port), or whose ``Origin`` is not one of them, get 403.
- **No outbound connection.** ``solara run`` asks PyPI for a newer Solara at start-up, and
  Solara sends usage telemetry (Mixpanel) unless told not to, and its server fetches front-end
  files it does not bundle from a CDN (jsdelivr). This process never calls the version check,
  turns telemetry off (``SOLARA_TELEMETRY_MIXPANEL_ENABLE=False``) and gives Solara a CDN
  address no client opens (``SOLARA_ASSETS_CDN``, :data:`OFFLINE_CDN`), before Solara's
  settings are read.
"""

from __future__ import annotations

import os
import sys
from urllib.parse import urlsplit

MODULE = "simulation.app.pages"
#: Where Solara's server would fetch front-end files it does not bundle (jsdelivr by default): an
#: address no HTTP client opens, so such a file is a 404 (the app's pages use none) and never a download.
OFFLINE_CDN = "offline-no-cdn://statebiz/"
#: NAMES that accept any host name: the app was bound to every address (``--host 0.0.0.0``).
ANY = "*"


def host_port(value: str) -> tuple[str, int | None]:
    """The host name (lower case, IPv6 without brackets) and the port of a ``Host`` header or the
    network location of an ``Origin``; ``("", None)`` if it is not one."""
    try:
        parts = urlsplit("//" + value.strip())
        return (parts.hostname or "").lower(), parts.port
    except ValueError:
        return "", None


class HostGuard:
    """ASGI middleware: a request (HTTP or websocket) whose ``Host`` header does not name this
    app (one of ``names`` on ``port``), or whose ``Origin`` is another site, gets 403."""

    def __init__(self, app, names: list[str], port: int):
        self.app = app
        self.names = {n.strip("[]").lower() for n in names}
        self.port = port

    def allowed(self, value: str | None, default_port: int | None) -> bool:
        """True if ``value`` (a ``Host`` header or an origin's location) names this app."""
        if value is None:
            return False
        name, port = host_port(value)
        if not name:
            return False
        if ANY not in self.names and name not in self.names:
            return False
        return (port or default_port) == self.port

    async def __call__(self, scope, receive, send):
        """Pass an allowed request to the app; answer any other with 403 (a websocket: closed before it opens)."""
        if scope["type"] not in ("http", "websocket"):
            return await self.app(scope, receive, send)
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        ok = self.allowed(headers.get("host"), 80)
        origin = headers.get("origin")
        if ok and origin is not None:
            parts = urlsplit(origin)
            default = {"http": 80, "https": 443}.get(parts.scheme)
            ok = parts.scheme in ("http", "https") and self.allowed(parts.netloc, default)
        if ok:
            return await self.app(scope, receive, send)
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008})  # refused before the handshake: HTTP 403
            return None
        body = b"statebiz app: this host name or origin is not allowed (DNS rebinding protection)\n"
        await send(
            {
                "type": "http.response.start",
                "status": 403,
                "headers": [
                    (b"content-type", b"text/plain; charset=utf-8"),
                    (b"content-length", str(len(body)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})
        return None


def main(argv: list[str]) -> int:
    """Serve the app on ``HOST PORT`` for the comma-separated host ``NAMES``; returns when stopped."""
    host, port, names = argv[0], int(argv[1]), argv[2].split(",")
    os.environ["SOLARA_APP"] = MODULE
    os.environ["SERVER_NAME"] = host
    os.environ["SERVER_PORT"] = str(port)
    os.environ["SOLARA_TELEMETRY_MIXPANEL_ENABLE"] = "False"  # read when Solara's settings are first imported
    os.environ["SOLARA_ASSETS_CDN"] = OFFLINE_CDN
    import uvicorn
    from solara.server import settings

    settings.telemetry.mixpanel_enable = False
    settings.main.mode = "production"
    from solara.server.starlette import app

    uvicorn.run(
        HostGuard(app, names, port),
        host=host,
        port=port,
        log_level="warning",
        access_log=False,
        loop="asyncio",
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
