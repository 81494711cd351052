"""Reading inputs and writing results: the one place for the project's file I/O helpers.

- TOML inputs: :func:`load_toml` (missing file, not UTF-8, malformed TOML: one-line errors)
  and :func:`suggest` (the "did you mean" hint of an unknown key).
- Atomic writes: :func:`atomic_write_bytes`, :func:`atomic_write_text`, :func:`atomic_write_json`
  (a temporary file in the same directory, fsynced, renamed into place, the directory fsynced).
- Result directories: :func:`staged_directory` (everything is written into a temporary
  sibling that replaces the result by a rename once complete), :func:`check_writable`.
- JSON: :func:`jsonable`, :func:`json_text`.
- Provenance: :func:`git_commit`, :func:`package_versions`, :func:`model_version`.

This module imports nothing else of the package (it is the bottom layer), so any module may import it.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import difflib
import functools
import hashlib
import json
import os
import platform
import re
import shutil
import subprocess
import tempfile
import tomllib
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from importlib import metadata
from pathlib import Path, PurePath
from typing import Any

#: The package directory (simulation/) and the repository root.
PACKAGE_DIR = Path(__file__).resolve().parent
REPO_ROOT = PACKAGE_DIR.parent
#: Packages under simulation/ that are tools around the model, not the model: not in the model version.
NOT_MODEL_DIRS = ("runs", "report")
#: Files of the package that do not change what a run computes (I/O, tools): not in the model version.
NOT_MODEL = ("cli.py", "__main__.py", "io.py", "calibration.py")
#: Packages whose versions every manifest records.
PACKAGES = ("statebiz", "mesa", "numpy", "scipy", "networkx", "pandas", "pyarrow", "matplotlib", "tqdm")


class ResultExistsError(FileExistsError):
    """A result directory exists and may not be replaced (no ``--overwrite``)."""


class InputError(ValueError):
    """A bad input file; the message is one line naming the file (the command exits with 2)."""


# --------------------------------------------------------------------------- TOML inputs


def load_toml(path: str | Path, kind: str, error: type[Exception] = InputError) -> tuple[dict[str, Any], str]:
    """Read a TOML input file and return ``(table, text)``.

    ``kind`` names the file in messages ("experiment", "calibration", "compare", "scenario");
    ``error`` is the exception class raised (callers pass their own, e.g. ScenarioError).

    Raises:
        ``error``: one line naming the file: not found, a directory, unreadable, not UTF-8,
        or malformed TOML.
    """
    path = Path(path)
    if path.is_dir():
        raise error(f"{path}: is a directory; expected a TOML {kind} file")
    if not path.is_file():
        raise error(f"{path}: {kind} file not found")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise error(f"{path}: not a UTF-8 text file") from None
    except OSError as err:
        raise error(f"{path}: cannot read the {kind} file: {err.strerror or err}") from None
    try:
        table = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise error(f"{path}: malformed TOML: {err}") from None
    return table, text


def suggest(key: str, options: Iterable[str]) -> str:
    """The hint appended to an unknown-key error: `` (did you mean 'x'?)``, or '' if nothing is close."""
    near = difflib.get_close_matches(key, list(options), n=1)
    return f" (did you mean '{near[0]}'?)" if near else ""


# --------------------------------------------------------------------------- JSON


def jsonable(value: Any) -> Any:
    """``value`` as plain JSON types: numpy scalars and arrays, paths, tuples and sets, dates,
    dataclasses and mappings (recursively). Usable as ``json.dumps(..., default=jsonable)``.

    Raises:
        TypeError: a value with no JSON form.
    """
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        items = sorted(value, key=repr) if isinstance(value, (set, frozenset)) else value
        return [jsonable(v) for v in items]
    if isinstance(value, PurePath):
        return str(value)
    if isinstance(value, (_dt.datetime, _dt.date, _dt.time)):  # also pandas.Timestamp
        return value.isoformat()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return jsonable(dataclasses.asdict(value))
    if hasattr(value, "tolist") and hasattr(value, "dtype"):  # numpy arrays and scalars
        return jsonable(value.tolist())
    if hasattr(value, "item"):
        return jsonable(value.item())
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def json_text(doc: Any) -> str:
    """``doc`` as indented JSON text with a final newline (the format of every JSON file written)."""
    return json.dumps(doc, indent=2, default=jsonable) + "\n"


# --------------------------------------------------------------------------- atomic files


def _fsync_directory(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return  # e.g. a platform without directory file descriptors
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def atomic_write_bytes(path: str | Path, data: bytes) -> None:
    """Write ``data`` to ``path`` all or nothing: a temporary file in the same directory,
    flushed and fsynced, renamed over ``path``; then the directory is fsynced."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    _fsync_directory(path.parent)


def atomic_write_text(path: str | Path, text: str) -> None:
    """Write ``text`` (UTF-8) to ``path`` atomically (see :func:`atomic_write_bytes`)."""
    atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_json(path: str | Path, doc: Any) -> None:
    """Write ``doc`` as indented JSON to ``path`` atomically (see :func:`atomic_write_bytes`)."""
    atomic_write_text(path, json_text(doc))


# --------------------------------------------------------------------------- result directories


def check_writable(out_dir: str | Path, overwrite: bool) -> None:
    """Raise before any work is done if the result directory exists and may not be replaced.

    Raises:
        ResultExistsError: ``out_dir`` exists and ``overwrite`` is false.
        NotADirectoryError: the parent of ``out_dir`` is a file.
    """
    out_dir = Path(out_dir)
    if out_dir.exists() and not overwrite:
        raise ResultExistsError(f"{out_dir}: a result is already there; pass --overwrite to replace it")
    parent = out_dir.parent
    if parent.exists() and not parent.is_dir():
        raise NotADirectoryError(f"{parent}: not a directory")


def _fsync_tree(root: Path) -> None:
    for directory, _, files in os.walk(root):
        for name in files:
            fd = os.open(os.path.join(directory, name), os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
        _fsync_directory(Path(directory))


@contextmanager
def staged_directory(out_dir: str | Path, overwrite: bool = False) -> Iterator[Path]:
    """Write a result directory all or nothing::

        with staged_directory("results/x", overwrite) as tmp:
            (tmp / "table.parquet").write_bytes(...)

    Yields a new temporary sibling of ``out_dir``. When the block ends without an exception,
    its files and directories are fsynced and it is renamed to ``out_dir``; an old ``out_dir``
    is moved aside first and removed only once the new one is in place. When the block
    raises, the temporary directory is removed and ``out_dir`` is left as it was.

    Raises:
        ResultExistsError: ``out_dir`` exists and ``overwrite`` is false (before anything is created).
    """
    out_dir = Path(out_dir)
    check_writable(out_dir, overwrite)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", suffix=".tmp", dir=out_dir.parent))
    try:
        tmp.chmod(0o755)
        yield tmp
        _fsync_tree(tmp)
        _swap_in(tmp, out_dir, overwrite)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def _swap_in(tmp: Path, out_dir: Path, overwrite: bool) -> None:
    """Put the finished directory ``tmp`` at ``out_dir`` by renames (an old one aside first)."""
    old = None
    if out_dir.exists() or out_dir.is_symlink():
        if not overwrite:  # appeared while the result was being written
            raise ResultExistsError(f"{out_dir}: a result appeared there meanwhile; pass --overwrite to replace it")
        old = out_dir.with_name(f".{out_dir.name}.old.{os.getpid()}")
        out_dir.rename(old)
    try:
        tmp.rename(out_dir)
    except BaseException:
        if old is not None:
            old.rename(out_dir)  # put the old result back
        raise
    _fsync_directory(out_dir.parent)
    if old is not None:
        if old.is_dir() and not old.is_symlink():
            shutil.rmtree(old, ignore_errors=True)
        else:
            old.unlink(missing_ok=True)


# --------------------------------------------------------------------------- provenance


def package_version(name: str) -> str:
    """The installed version of a distribution, or 'not installed'."""
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "not installed"


def package_versions(extra: Iterable[str] = ()) -> dict[str, str]:
    """Python's version and those of the model's packages (:data:`PACKAGES`) and of ``extra``."""
    out = {"python": platform.python_version()}
    for name in (*PACKAGES, *extra):
        out[name] = package_version(name)
    return out


def git_commit() -> str:
    """The project's git commit (with '+dirty' when the tree has changes), or 'unknown'."""
    try:
        commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=REPO_ROOT, capture_output=True, text=True, timeout=10)
        if commit.returncode != 0:
            return "unknown"
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=REPO_ROOT,
            capture_output=True,
            text=True,
            timeout=10,
        )
        return commit.stdout.strip() + ("+dirty" if dirty.stdout.strip() else "")
    except (OSError, subprocess.SubprocessError):
        return "unknown"


@functools.lru_cache(maxsize=1)
def model_version() -> str:
    """Hash of the model's source and data files (uncommitted edits change it), with the package version.

    Tool folders (:data:`NOT_MODEL_DIRS`) and files (:data:`NOT_MODEL`) are left out: they do
    not change what a run computes.
    """
    h = hashlib.sha256()
    try:
        h.update(metadata.version("statebiz").encode())
    except metadata.PackageNotFoundError:  # not installed: the version the package declares
        init = (PACKAGE_DIR / "__init__.py").read_text(encoding="utf-8")
        found = re.search(r"^__version__\s*=\s*[\"']([^\"']+)", init, re.M)
        h.update((found[1] if found else "unknown").encode())
    files = sorted(
        p
        for p in PACKAGE_DIR.rglob("*")
        if p.is_file()
        and p.suffix in (".py", ".toml", ".csv", ".json")
        and "__pycache__" not in p.parts
        and p.relative_to(PACKAGE_DIR).parts[0] not in NOT_MODEL_DIRS
        and p.relative_to(PACKAGE_DIR).as_posix() not in NOT_MODEL
    )
    for p in files:
        h.update(p.relative_to(PACKAGE_DIR).as_posix().encode() + b"\0" + p.read_bytes() + b"\0")
    return h.hexdigest()[:16]
