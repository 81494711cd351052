"""The app on a laptop (issue 27): it shows a results folder's texts as text, answers only its own
host names, and opens no connection to anything but its own address.

One app is started for the three checks, with a ``sitecustomize`` on its ``PYTHONPATH`` that
records every socket connection and name lookup of its processes (Python's audit hooks), and
a results folder whose manifest names the experiment with a script. Like the browser test, it
needs chromium and the app extra: skipped without them, failed with ``STATEBIZ_REQUIRE_BROWSER=1``
(CI).
"""

from __future__ import annotations

import json
import shutil
import socket
import time
from types import SimpleNamespace

import pytest

from tests.app.test_app_browser import ARGS, CHROMIUM, _free_port, _require_browser, _small_sweep, serving_app
from tests.conftest import REPO_ROOT

#: Recorded by the app's processes: every socket connection and name lookup, one JSON line each.
SITECUSTOMIZE = """
import json, os, sys

_LOG = os.environ.get("STATEBIZ_SOCKET_LOG")
_EVENTS = ("socket.connect", "socket.getaddrinfo", "socket.gethostbyname", "socket.sendto", "socket.sendmsg")

def _record(event, args):
    if event in _EVENTS:
        what = args[1] if event in ("socket.connect", "socket.sendto") else args[0] if args else None
        if event == "socket.connect" and args[0].family == getattr(__import__("socket"), "AF_UNIX", None):
            return
        with open(_LOG, "a") as fh:
            fh.write(json.dumps({"pid": os.getpid(), "event": event, "target": repr(what)}) + "\\n")

if _LOG:
    sys.addaudithook(_record)
"""
PAYLOAD = '<img src=x onerror="window.__statebiz_injected = 1">'


def _request(port: int, host_header: str, extra: str = "", path: str = "/") -> str:
    """The status line of a raw HTTP request with the given Host header."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(f"GET {path} HTTP/1.1\r\nHost: {host_header}\r\n{extra}Connection: close\r\n\r\n".encode())
        return s.recv(4096).decode("latin-1").split("\r\n", 1)[0]


def _websocket(port: int, origin: str) -> str:
    key = "dGhlIHNhbXBsZSBub25jZQ=="
    extra = (
        f"Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
        f"Sec-WebSocket-Version: 13\r\nOrigin: {origin}\r\n"
    )
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        path = "/jupyter/api/kernels/k/channels?session_id=s"
        s.sendall(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n{extra}\r\n".encode())
        return s.recv(4096).decode("latin-1").split("\r\n", 1)[0]


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    """The app on a free port, serving a small sweep and a copy whose experiment name is a script."""
    _require_browser()
    tmp_path = tmp_path_factory.mktemp("app")
    results = _small_sweep(tmp_path)
    injected = results / "a_injected"  # sorted first: the explorer opens it
    shutil.copytree(results / "tiny_regime_map", injected)
    manifest = json.loads((injected / "manifest.json").read_text())
    manifest["experiment"]["name"] = PAYLOAD
    (injected / "manifest.json").write_text(json.dumps(manifest))
    hooks = tmp_path / "hooks"
    hooks.mkdir()
    (hooks / "sitecustomize.py").write_text(SITECUSTOMIZE)
    log = tmp_path / "sockets.jsonl"
    port = _free_port()
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(tmp_path),
        "PYTHONPATH": f"{hooks}:{REPO_ROOT}",
        "STATEBIZ_SOCKET_LOG": str(log),
    }
    with serving_app(results, port, env) as (url, proc):
        yield SimpleNamespace(url=url, port=port, log=log, tmp=tmp_path, proc=proc)


def _browse(app, *paths: str, check=None) -> None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch_persistent_context(
            str(app.tmp / f"profile{time.monotonic_ns()}"), executable_path=str(CHROMIUM), args=ARGS
        )
        try:
            page = browser.new_page()
            page.set_default_timeout(30_000)
            for path in paths:
                page.goto(app.url + path)
                if path == "explorer":
                    page.get_by_text("runs (0 failed)").wait_for()
                else:
                    page.get_by_role("button", name="Step", exact=True).wait_for()
                time.sleep(1.5)
                if check is not None:
                    check(page, path)
        finally:
            browser.close()


def test_the_app_answers_only_its_own_host_names_and_origins(app):
    """DNS rebinding: a Host header or an Origin of another name is refused (403)."""
    port = app.port
    assert " 200 " in _request(port, f"127.0.0.1:{port}") + " "
    assert " 200 " in _request(port, f"localhost:{port}") + " "
    foreigners = (f"evil.example:{port}", "evil.example", f"127.0.0.1.evil.example:{port}", f"127.0.0.1:{port + 1}")
    for foreign in foreigners:
        assert " 403 " in _request(port, foreign) + " ", foreign
    assert " 403 " in _request(port, f"127.0.0.1:{port}", f"Origin: http://evil.example:{port}\r\n") + " "
    # a websocket from another site's page is refused; from the app's own page it opens
    assert " 403 " in _websocket(port, "http://evil.example") + " "
    assert " 403 " in _websocket(port, "null") + " "
    assert " 101 " in _websocket(port, f"http://127.0.0.1:{port}") + " "


def test_the_explorer_shows_a_results_folders_texts_as_text(app):
    """Script injection: a manifest's experiment name that is HTML is shown as text, and runs nothing."""

    def check(page, path):
        page.get_by_text(PAYLOAD).first.wait_for()
        assert page.evaluate("window.__statebiz_injected") is None, "the manifest's script ran"
        assert page.locator("img[src='x']").count() == 0

    _browse(app, "explorer", check=check)


def test_the_app_opens_no_connection_but_to_its_own_address(app):
    """No version check, telemetry or CDN download: every lookup and connection of the app's
    processes, at start-up and while both pages are used, is of its own address."""
    _browse(app, "", "explorer")
    time.sleep(1.0)
    own = {repr(("127.0.0.1", app.port)), repr("127.0.0.1"), repr(None), repr("localhost")}
    entries = [json.loads(line) for line in app.log.read_text().splitlines()] if app.log.exists() else []
    outbound = [e for e in entries if e["target"] not in own]
    assert outbound == [], f"the app connected elsewhere: {outbound[:5]}"
