"""The ``statebiz`` command: a table of subcommands, each added and run by one module of this
package. I/O lives here, at the edge; the model does none."""

from __future__ import annotations

import signal
import sys
from collections.abc import Callable

from .. import machine
from ..io import USER_ERRNOS, InputError, ResultExistsError
from ..scenario import ScenarioError
from . import app, calibrate, compare, experiments, scenario, studies
from .common import EXIT_BAD_INPUT, OneLineParser, one_line

#: Every subcommand, in the order ``statebiz --help`` lists them: name -> (add its parser to the
#: subparsers, run it with the parsed arguments and return the exit code).
COMMANDS: dict[str, tuple[Callable, Callable]] = {
    "run": (scenario.add_run, scenario.run_command),
    "params": (scenario.add_params, scenario.params_command),
    "sweep": (experiments.add_sweep, experiments.sweep_command),
    "analyze": (experiments.add_analyze, experiments.analyze_command),
    "discover": (experiments.add_discover, experiments.discover_command),
    "dynamics": (studies.add_dynamics, studies.dynamics_command),
    "survey": (scenario.add_survey, scenario.survey_command),
    "calibrate": (calibrate.add_calibrate, calibrate.calibrate_command),
    "sensitivity": (calibrate.add_sensitivity, calibrate.sensitivity_command),
    "compare": (compare.add_compare, compare.compare_command),
    "app": (app.add_app, app.app_command),
    "table1": (studies.add_table1, studies.table1_command),
    "reachability": (studies.add_reachability, studies.reachability_command),
    "validate": (studies.add_validate, studies.validate_command),
    "identify": (studies.add_identify, studies.identify_command),
}


def build_parser() -> OneLineParser:
    """The ``statebiz`` argument parser with every subcommand of :data:`COMMANDS`."""
    parser = OneLineParser(prog="statebiz", description="Akimats and firms in Kazakhstan: an agent-based model.")
    parser.add_argument(
        "--portable",
        action="store_true",
        help="portable mode: results bit-identical on every x86-64-v3 machine (numpy capped at x86-64-v3, numba "
        "generic; about 10%% slower); the same as STATEBIZ_PORTABLE=1, which workers inherit",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    for add, _ in COMMANDS.values():
        add(sub)
    return parser


class Terminated(KeyboardInterrupt):
    """SIGTERM or SIGHUP: handled like Ctrl-C (workers stopped, a sweep left resumable)."""


def _on_signal(signum, frame) -> None:
    raise Terminated(signal.Signals(signum).name)


def install_signal_handlers() -> None:
    """Turn SIGTERM and SIGHUP into :class:`Terminated` (a KeyboardInterrupt) in the main thread,
    so every command cleans up as on Ctrl-C: workers stopped, staged files removed, locks released."""
    import threading

    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGTERM, signal.SIGHUP):
            signal.signal(sig, _on_signal)


def _rerun_portable(argv: list[str], in_process: bool) -> int:
    """Run the command again with the portable mode's environment, which numpy reads only at its
    import (already done here): the process is replaced, or, when called from Python, a child runs it."""
    import os
    import subprocess

    env = os.environ | machine.portable_environment()
    command = [sys.executable, "-m", "simulation", *argv]
    if in_process:
        return subprocess.run(command, env=env).returncode
    sys.stdout.flush()
    sys.stderr.flush()
    os.execve(sys.executable, command, env)
    return 0  # not reached


def main(argv: list[str] | None = None) -> int:
    """Run the ``statebiz`` command; returns the exit code (2 for bad input, with a one-line error)."""
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as err:  # argparse: usage errors exit 2 with its own message
        return int(err.code or 0) if isinstance(err.code, int) else 2
    if args.portable and not machine.portable_requested():
        return _rerun_portable(sys.argv[1:] if argv is None else list(argv), in_process=argv is not None)
    problem = machine.check_portable_in_effect()
    if problem:
        print(f"statebiz: warning: {problem}", file=sys.stderr)
    install_signal_handlers()
    problem = _environment_problem(args, sys.argv[1:] if argv is None else argv)
    if problem:
        print(f"statebiz: error: {problem}", file=sys.stderr)
        return EXIT_BAD_INPUT
    try:
        return COMMANDS[args.command][1](args)
    except (ScenarioError, InputError, ResultExistsError, NotADirectoryError) as err:
        print(f"statebiz: error: {one_line(err)}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except OSError as err:
        if err.errno not in USER_ERRNOS:
            raise
        where = f"{err.filename}: " if err.filename else ""
        print(f"statebiz: error: {where}{err.strerror or err}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt as err:
        why = "terminated" if isinstance(err, Terminated) else "interrupted"
        print(f"statebiz: {why}; nothing was written", file=sys.stderr)
        return 130


def _environment_problem(args, argv: list[str]) -> str | None:
    """What makes the command unable to run in this environment, in one line, or None: a working
    directory that was removed, an option that is not valid UTF-8, a bad ``STATEBIZ_*`` variable."""
    import os

    from ..runs.evaluator import read_no_worker_seconds

    try:
        os.getcwd()
    except OSError:
        return "the working directory no longer exists (it was removed or moved); cd to an existing directory"
    for name, value in sorted(vars(args).items()):
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, str):
                try:
                    item.encode("utf-8")
                except UnicodeEncodeError:
                    option = name.replace("_", "-")
                    option = f"--{option}" if any(a.startswith(f"--{option}") for a in argv) else option
                    return f"{option}: {item!r} is not allowed; expected a path or value in valid UTF-8"
    try:
        read_no_worker_seconds()
    except ValueError as err:
        return str(err)
    return None


if __name__ == "__main__":
    sys.exit(main())
