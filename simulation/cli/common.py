"""What every ``statebiz`` command shares: the parser class, argument types, the flags that
several commands take (``--out``/``--overwrite``/``--quiet``, ``--backend``/``--workers``/
``--dask-address``, ``--quick``), the command line as typed, and :func:`write_result`, the one
way a command's result directory is written (checked, locked, staged, with its manifest and
provenance)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

#: The exit code of a usage error or a bad input (one line on stderr).
EXIT_BAD_INPUT = 2

BACKEND_CHOICES = ("serial", "processes", "dask", "mpi")
BACKEND_HELP = (
    "where runs execute: serial (this process), processes (local, the default), dask (a local "
    "cluster, or a scheduler with --dask-address), mpi (mpi4py's pool; needs statebiz[mpi])"
)


class OneLineParser(argparse.ArgumentParser):
    """An argument parser whose usage errors are one line (``statebiz run: error: ...``), exit 2."""

    def error(self, message: str):
        """Print one line naming the command and the error, with where to find help; exit with 2."""
        self.exit(EXIT_BAD_INPUT, f"{self.prog}: error: {' '.join(message.split())} (see {self.prog} --help)\n")


def integer_at_least(low: int, what: str):
    """An argparse type: an integer of at least ``low`` (``what`` names the requirement)."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"'{text}' is not an integer") from None
        if value < low:
            raise argparse.ArgumentTypeError(f"{value} is not {what}")
        return value

    return parse


non_negative_int = integer_at_least(0, "a non-negative integer")
positive_int = integer_at_least(1, "a positive integer")


def one_line(err: BaseException) -> str:
    """An exception's message on one line (its type's name when it has none)."""
    return " ".join(str(err).split()) or type(err).__name__


def parameter_assignments(items: list[str], origin: str = "--set") -> dict[str, Any]:
    """``NAME=VALUE`` strings as registered parameters' values: ``true``/``false`` a flag, a number with a
    point a float, else an integer; each checked against the registry (unknown name, wrong type or out
    of range: :class:`simulation.parameters.ScenarioError`, one line naming ``origin`` and the item)."""
    from ..parameters import ScenarioError, resolve

    values: dict[str, Any] = {}
    for item in items:
        name, sep, text = item.partition("=")
        if not sep or not name or not text:
            raise ScenarioError(f"{origin} {item!r}: expected NAME=VALUE")
        given: Any = {"true": True, "false": False}.get(text.lower())
        if given is None:
            try:
                given = float(text) if any(c in text for c in ".eE") and not text.isdigit() else int(text)
            except ValueError:
                raise ScenarioError(f"{origin} {item!r}: {text!r} is not a number, true or false") from None
        values[name] = resolve({name: given}, f"{origin} {item!r}")[name]
    return values


def command_line() -> str:
    """The command as typed (``statebiz`` and its arguments), recorded in every manifest."""
    return " ".join(["statebiz", *sys.argv[1:]])


# --------------------------------------------------------------------------- shared flags


def add_quick(parser, what: str) -> None:
    """``--quick``, the same flag in every command that has it: a small, fast version of the
    command's full size, for a first look (``what`` says what the command's quick size is)."""
    parser.add_argument("--quick", action="store_true", help=f"small and fast, for a first look: {what}")


def add_output_args(parser, default: str, quiet: str = "no progress bar") -> None:
    """--out (default ``default``), --overwrite and --quiet, as every command that writes a result has them."""
    parser.add_argument("--out", default=None, help=f"output directory (default: {default})")
    parser.add_argument("--overwrite", action="store_true", help="replace an existing result in the output directory")
    parser.add_argument("--quiet", action="store_true", help=quiet)


def add_backend_args(parser) -> None:
    """The flags that choose where runs execute (``--backend``, ``--workers``, ``--dask-address``),
    the same for every command that runs many simulations."""
    parser.add_argument("--backend", choices=BACKEND_CHOICES, default="processes", help=BACKEND_HELP)
    parser.add_argument(
        "--workers",
        type=positive_int,
        default=None,
        help="worker processes for 'processes', 'mpi' and a local Dask cluster (default: all cores)",
    )
    parser.add_argument(
        "--dask-address",
        default=None,
        help="address of a running Dask scheduler, e.g. tcp://10.0.0.5:8786 (with --backend dask)",
    )


def check_backend_args(args) -> None:
    """Check ``--backend``, ``--workers`` and ``--dask-address`` before anything runs or is written.

    Raises:
        ScenarioError: one line naming the option and what is allowed.
    """
    from ..runs.evaluator import cap_workers, check_dask_address, mpi_available
    from ..scenario import ScenarioError

    if getattr(args, "backend_checked", False):  # once a command (a note on capped workers is said once)
        return
    args.backend_checked = True
    if args.dask_address and args.backend != "dask":
        raise ScenarioError(f"--dask-address: needs --backend dask (got --backend {args.backend})")
    if getattr(args, "workers", None) == 0:
        raise ScenarioError("--workers: 0 is not allowed; expected a positive integer")
    if getattr(args, "workers", None) is not None and not (args.backend == "dask" and args.dask_address):
        try:
            args.workers = cap_workers(args.workers, lambda note: print(f"statebiz: {note}", file=sys.stderr))
        except ValueError as err:
            raise ScenarioError(str(err)) from None
    if args.backend == "mpi" and not mpi_available():
        raise ScenarioError(
            "--backend mpi: mpi4py is not installed; install it with pip install 'statebiz[mpi]' "
            "(it needs an MPI library, e.g. Debian's libopenmpi-dev), or choose serial, processes or dask"
        )
    if args.backend == "dask" and args.dask_address:
        try:
            check_dask_address(args.dask_address)
        except OSError as err:
            raise ScenarioError(f"--dask-address: {err}") from None


def backend_of(args) -> dict[str, Any]:
    """The evaluator's keyword arguments from the parsed backend flags."""
    return {"backend": args.backend, "workers": args.workers, "address": args.dask_address}


# --------------------------------------------------------------------------- writing a result


@contextmanager
def result_directory(out_dir: Path, overwrite: bool) -> Iterator[Path]:
    """Check that ``out_dir`` may be written (before any work), then hold its one-writer lock
    while the command computes and writes it."""
    from ..io import check_writable, result_lock

    check_writable(out_dir, overwrite)
    with result_lock(out_dir):
        yield out_dir


def write_result(
    out_dir: Path,
    overwrite: bool,
    manifest: Mapping[str, Any],
    tables: Mapping[str, Any] = (),
    text: str | None = None,
    draw: Callable[[Path], Any] | None = None,
    files: Mapping[str, str | bytes] = (),
    show: bool = True,
) -> None:
    """Write a command's result all or nothing (call it inside :func:`result_directory`).

    ``tables`` (name -> DataFrame: ``.csv`` or ``.parquet`` by the name), ``files`` (name -> text
    or bytes), the figures ``draw(tmp)`` makes (it may return name -> description, added to the
    manifest's ``files``), ``summary.txt`` (``text``, when given) and
    ``manifest.json``: the command's ``manifest`` with the command line and the provenance
    (:func:`simulation.io.provenance`). With ``show``, the summary is printed, then what was written.
    """
    from ..io import json_text, provenance, staged_directory

    doc = {"command": command_line()} | dict(manifest) | provenance()
    with staged_directory(out_dir, overwrite) as tmp:
        for name, frame in dict(tables).items():
            if name.endswith(".parquet"):
                frame.to_parquet(tmp / name, index=False)
            else:
                frame.to_csv(tmp / name, index=False)
        for name, content in dict(files).items():
            if isinstance(content, bytes):
                (tmp / name).write_bytes(content)
            else:
                (tmp / name).write_text(content, encoding="utf-8")
        drawn = draw(tmp) if draw is not None else None
        if isinstance(drawn, Mapping):  # the figures drawn, named in the manifest's files
            doc["files"] = {**doc.get("files", {}), **drawn}
        if text is not None:
            (tmp / "summary.txt").write_text(text + "\n", encoding="utf-8")
        (tmp / "manifest.json").write_text(json_text(doc), encoding="utf-8")
    if show:
        if text is not None:
            print(text)
        print(f"  written to {out_dir}/ ({', '.join(doc.get('files', {}))}, manifest.json)")
