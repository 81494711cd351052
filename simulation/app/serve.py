"""``statebiz app``: check the options, then run the Solara server on the app's pages.

The server runs as a child process (``python -m simulation.app.server``: Solara's app behind a
check of the ``Host`` and ``Origin`` headers, with Solara's version check and telemetry off);
it is stopped with the command (Ctrl-C, or SIGTERM to ``statebiz app``). It binds to 127.0.0.1
unless ``--host`` names another address, and then warns that the app is reachable from
other machines. It answers only requests that name the address it is bound to
(:func:`host_names`), so that a web page elsewhere cannot reach it by DNS rebinding.
"""

from __future__ import annotations

import ipaddress
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

from ..io import InputError
from ..scenario import load_scenario
from . import ENV_RESULTS, ENV_SCENARIO

LOCAL_HOST = "127.0.0.1"
MODULE = "simulation.app.server"
#: Addresses that bind every interface: any host name is then accepted (with the warning).
WILDCARD = ("0.0.0.0", "::", "")


def check_port(text: str) -> int:
    """The port as an integer in 1..65535.

    Raises:
        InputError: not an integer, or out of range.
    """
    try:
        port = int(text)
    except ValueError:
        raise InputError(f"--port: '{text}' is not allowed; expected an integer in [1, 65535]") from None
    if not 1 <= port <= 65535:
        raise InputError(f"--port: {port} is not allowed; expected an integer in [1, 65535]")
    return port


def check_host(host: str) -> str:
    """The host as given, if it resolves to an address of this machine's kind.

    Raises:
        InputError: the name does not resolve.
    """
    try:
        socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        raise InputError(f"--host: '{host}' is not allowed; expected an address or host name of this machine") from None
    return host


def check_free(host: str, port: int) -> None:
    """Raise InputError if ``host:port`` cannot be bound (in use, or not an address of this machine)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError as err:
            reason = "in use" if err.errno in (98, 48) else err.strerror
            raise InputError(
                f"--port: {host}:{port} cannot be bound ({reason}); choose another --port or --host"
            ) from None


def is_loopback(host: str) -> bool:
    """True for 127.0.0.0/8, ::1 and localhost."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def host_names(host: str) -> list[str]:
    """The host names the app answers to when bound to ``host``: the loopback names for a
    loopback address; ``host`` and this machine's names for another; any ("*") for a wildcard."""
    if host in WILDCARD:
        return ["*"]
    if is_loopback(host):
        return ["127.0.0.1", "localhost", "::1"]
    names = [host, socket.gethostname(), socket.getfqdn()]
    return list(dict.fromkeys(n.lower() for n in names if n))


def server_command(host: str, port: int) -> list[str]:
    """The child process that serves the pages."""
    return [sys.executable, "-m", MODULE, host, str(port), ",".join(host_names(host))]


def app_command(args) -> int:
    """Run ``statebiz app``: check the options, print the address, serve until stopped."""
    port = check_port(args.port)
    host = check_host(args.host)
    env = dict(os.environ)
    if args.scenario is not None:
        load_scenario(args.scenario)  # a bad file is a one-line error here, before anything starts
        env[ENV_SCENARIO] = str(Path(args.scenario).resolve())
    env[ENV_RESULTS] = str(Path(args.results).resolve())
    try:
        import mesa.visualization  # noqa: F401
        import solara  # noqa: F401
    except ImportError as err:
        raise InputError(f"the app needs the 'app' extra ({err.name} is missing): pip install -e '.[app]'") from None
    check_free(host, port)
    if not is_loopback(host):
        print(
            f"statebiz app: warning: binding to {host}: the app is reachable from other machines, "
            f"with no authentication, under the names {', '.join(host_names(host))}; "
            "use the default 127.0.0.1 to keep it local",
            file=sys.stderr,
        )
    shown = f"[{host}]" if ":" in host else host
    print(f"statebiz app: serving on http://{shown}:{port}/ (explorer: http://{shown}:{port}/explorer); Ctrl-C stops")
    sys.stdout.flush()
    child = subprocess.Popen(server_command(host, port), env=env, start_new_session=True)

    def stop(*_):
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, stop)
    try:
        return child.wait()
    except KeyboardInterrupt:
        return 0
    finally:
        signal.signal(signal.SIGTERM, previous)
        if child.poll() is None:
            os.killpg(child.pid, signal.SIGTERM)
            try:
                child.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(child.pid, signal.SIGKILL)
                child.wait()
