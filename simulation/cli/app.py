"""``statebiz app``: its flags; the server itself is :mod:`simulation.app.serve`."""

from __future__ import annotations


def add_app(sub) -> None:
    """Add ``app`` to the ``statebiz`` subcommands."""
    from ..app.serve import LOCAL_HOST

    app = sub.add_parser("app", help="serve the interactive app (model page and sweep explorer) in the browser")
    app.add_argument("--port", default="8765", help="port to serve on (default 8765)")
    app.add_argument(
        "--host",
        default=LOCAL_HOST,
        help="address to bind to (default 127.0.0.1: this machine only; any other address warns)",
    )
    app.add_argument(
        "--scenario", default=None, help="a scenario TOML file offered on the model page besides the built-in cases"
    )
    app.add_argument(
        "--results", default="results", help="directory whose sweeps the explorer opens (default results/)"
    )


def app_command(args) -> int:
    """Run ``statebiz app`` (:func:`simulation.app.serve.app_command`)."""
    from ..app.serve import app_command as serve

    return serve(args)
