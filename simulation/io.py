"""Reading inputs and writing results: the one place for the project's file I/O helpers.

- TOML inputs: :func:`load_toml` (missing file, not UTF-8, malformed TOML: one-line errors)
  and :func:`suggest` (the "did you mean" hint of an unknown key).
- Atomic writes: :func:`atomic_write_bytes`, :func:`atomic_write_text`, :func:`atomic_write_json`
  (a temporary file in the same directory, fsynced, renamed into place, the directory fsynced).
- Result directories: :func:`result_dir` (a name or ``--out`` checked and turned into a path),
  :func:`staged_directory` (everything is written into a temporary sibling that replaces the
  result by a rename once complete), :func:`check_writable` (before any work: may it be
  replaced, can it be written, is there space), :func:`result_lock` (one writer per result).
- JSON: :func:`jsonable`, :func:`json_text`.
- Provenance: :func:`git_commit`, :func:`package_versions`, :func:`model_version`.

This module imports nothing else of the package (it is the bottom layer), so any module may import it.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import difflib
import errno
import fcntl
import functools
import hashlib
import json
import os
import platform
import re
import shutil
import socket
import subprocess
import sys
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


class LockedError(InputError):
    """Another statebiz process is writing the same result directory."""


#: The directory that result names resolve into (relative to the working directory).
RESULTS_ROOT = Path("results")
#: The longest name that becomes a directory.
MAX_NAME = 100
_SLUG = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")
#: Free space the output's file system must have before a command starts (bytes).
MIN_FREE_BYTES = 16 << 20
#: Errors of the operating system that a user causes (permissions, space, paths): one line, exit 2.
USER_ERRNOS = (errno.EACCES, errno.EPERM, errno.EROFS, errno.ENOSPC, errno.EDQUOT, errno.ENOTDIR, errno.ENAMETOOLONG)


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
    except RecursionError:
        raise error(f"{path}: malformed TOML: arrays or tables nested too deeply") from None
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


def atomic_write_bytes(path: str | Path, data: bytes, exclusive: bool = False) -> None:
    """Write ``data`` to ``path`` all or nothing: a temporary file in the same directory,
    flushed and fsynced, renamed over ``path``; then the directory is fsynced.

    With ``exclusive``, the file is linked into place only if ``path`` does not exist yet.

    Raises:
        FileExistsError: ``exclusive`` and ``path`` exists (nothing is written).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o644)
        if exclusive:
            os.link(tmp, path)  # fails if path exists: no writer ever replaces another's file
            os.unlink(tmp)
        else:
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


def check_name(name: Any, origin: str, key: str = "name", error: type[Exception] = InputError) -> str:
    """Check a name that becomes a directory under ``results/``: a slug of letters, digits,
    ``_``, ``-`` and ``.`` (not first), at most :data:`MAX_NAME` characters; returns it.

    Raises:
        ``error``: one line naming ``origin`` (the file), the key and what is allowed.
    """
    if not isinstance(name, str) or len(name) > MAX_NAME or not _SLUG.fullmatch(name):
        shown = repr(name) if not isinstance(name, str) or len(name) <= 40 else repr(name[:40] + "...")
        raise error(
            f"{origin}: '{key}' = {shown} is not allowed; expected a name of 1 to {MAX_NAME} letters, digits, "
            "'_', '-' or '.' (not first), usable as a directory under results/"
        )
    return name


def _protected(path: Path) -> bool:
    """True for directories a result may never be: /, the home directory, the working directory,
    their ancestors, the repository and the results root itself."""
    cwd = Path.cwd().resolve()
    if path == Path(path.anchor) or path in cwd.parents or path == cwd:
        return True
    return path in {Path.home().resolve(), REPO_ROOT, (Path.cwd() / RESULTS_ROOT).resolve()}


def result_dir(name: str, out: str | Path | None = None, origin: str = "", error: type[Exception] = InputError) -> Path:
    """The result directory of a command: ``out`` when given, else ``results/<name>``.

    The name is checked by :func:`check_name` (when it makes the path) and the path must
    resolve inside the results root; ``out`` may be anywhere but a protected directory
    (``/``, home, the working directory or one of its parents, the repository, ``results/``).

    Raises:
        ``error``: one line saying what is wrong.
    """
    if out is None:
        check_name(name, origin or "name", error=error)
        path = RESULTS_ROOT / name
        root = (Path.cwd() / RESULTS_ROOT).resolve()
        if root not in (Path.cwd() / path).resolve().parents:
            raise error(f"{origin}: 'name' = {name!r} resolves outside results/")
        return path
    path = Path(out)
    if ".." in path.parts:
        raise error(f"--out: {str(out)!r} is not allowed; expected a path without '..'")
    if str(out).strip() == "" or _protected(path.resolve()):
        raise error(f"--out: {str(out)!r} is not allowed; expected a directory of its own for this result")
    if len(path.name) > 255:
        raise error(f"--out: the name {path.name[:40]!r}... is too long for a directory")
    return path


def is_result(path: str | Path) -> bool:
    """True if ``path`` is a statebiz result directory (it holds a ``manifest.json``)."""
    return (Path(path) / "manifest.json").is_file()


def _existing_ancestor(path: Path) -> Path:
    for p in (path, *path.parents):
        if p.exists() or p.is_symlink():
            return p
    return Path(".")


def check_space(out_dir: str | Path, error: type[Exception] = InputError) -> None:
    """Check that a result can be created at ``out_dir``: its nearest existing ancestor is a
    directory in which a probe file can be created (so root's permission bypass and read-only
    mounts are caught alike), with at least :data:`MIN_FREE_BYTES` free.

    Raises:
        ``error``: one line naming the directory and the reason.
    """
    out_dir = Path(out_dir)
    base = _existing_ancestor(out_dir.parent if not out_dir.is_dir() else out_dir)
    if not base.is_dir():
        raise error(f"{out_dir}: cannot be created: {base} is not a directory")
    try:
        fd, probe = tempfile.mkstemp(prefix=".statebiz-probe.", dir=base)
        os.close(fd)
        os.unlink(probe)
    except OSError as err:
        raise error(f"{out_dir}: cannot write in {base}: {err.strerror or err}") from None
    try:
        free = shutil.disk_usage(base).free
    except OSError:
        return
    if free < MIN_FREE_BYTES:
        raise error(f"{out_dir}: only {free >> 20} MB free in {base}; expected at least {MIN_FREE_BYTES >> 20} MB")


def check_writable(out_dir: str | Path, overwrite: bool) -> None:
    """Raise before any work is done if the result directory cannot be written or replaced.

    With ``overwrite``, only a statebiz result (a directory with a manifest) or an empty
    directory may be replaced; never a file or a directory of other files.

    Raises:
        ResultExistsError: ``out_dir`` exists and ``overwrite`` is false.
        InputError: ``out_dir`` is not a statebiz result, or cannot be written (permissions, space).
    """
    out_dir = Path(out_dir)
    if out_dir.exists() or out_dir.is_symlink():
        if not overwrite:
            raise ResultExistsError(f"{out_dir}: a result is already there; pass --overwrite to replace it")
        if out_dir.is_symlink() or not out_dir.is_dir():
            raise InputError(f"{out_dir}: is a file, not a statebiz result; --overwrite replaces only results")
        if not is_result(out_dir) and any(out_dir.iterdir()):
            raise InputError(
                f"{out_dir}: holds files but no manifest.json, so it is not a statebiz result; "
                "--overwrite replaces only results (move them away, or choose another --out)"
            )
    check_space(out_dir)


def _stale_names(name: str) -> re.Pattern:
    return re.compile(rf"\.{re.escape(name)}\.(?:[a-z0-9_]{{8}}\.tmp|old\.\d+)")


def clean_stale(out_dir: str | Path) -> list[Path]:
    """Remove what killed writers of ``out_dir`` left beside it (staged ``.NAME.XXXXXXXX.tmp``
    directories, ``.NAME.old.PID`` leftovers); call it holding :func:`result_lock`. Returns them."""
    out_dir = Path(out_dir)
    if not out_dir.parent.is_dir():
        return []
    pattern = _stale_names(out_dir.name)
    gone = []
    for p in out_dir.parent.iterdir():
        if pattern.fullmatch(p.name):
            if p.is_dir() and not p.is_symlink():
                shutil.rmtree(p, ignore_errors=True)
            else:
                p.unlink(missing_ok=True)
            gone.append(p)
    return gone


def _lock_holder(fd: int) -> dict[str, Any]:
    try:
        os.lseek(fd, 0, os.SEEK_SET)
        doc = json.loads(os.read(fd, 4096).decode("utf-8") or "{}")
        return doc if isinstance(doc, dict) else {}
    except (OSError, ValueError):
        return {}


@contextmanager
def result_lock(out_dir: str | Path, quiet: bool = False) -> Iterator[Path]:
    """Hold the advisory lock of a result directory for the ``with`` block (one writer at a time).

    The lock is ``flock`` on ``.NAME.lock`` beside ``out_dir`` (so a result that is replaced
    by a rename stays locked); it records the holder's PID, host and start time. The kernel
    drops the lock when its holder dies: a lock file still naming another process is stale
    and is taken over, with a message. Staged leftovers of killed writers are removed once the
    lock is held (:func:`clean_stale`).

    Raises:
        LockedError: another process holds the lock (the message names its PID and host).
    """
    out_dir = Path(out_dir)
    check_space(out_dir)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    path = out_dir.parent / f".{out_dir.name}.lock"
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            h = _lock_holder(fd)
            os.close(fd)
            raise LockedError(
                f"{out_dir}: in use by another statebiz process (PID {h.get('pid', '?')} on host "
                f"{h.get('host', '?')}, since {h.get('since', '?')}); wait for it to finish or stop it"
            ) from None
        try:
            same = os.stat(path).st_ino == os.fstat(fd).st_ino
        except FileNotFoundError:
            same = False
        if same:
            break
        os.close(fd)  # the holder released and removed the file meanwhile: lock the new one
    try:
        old = _lock_holder(fd)
        if old.get("pid") and not quiet:
            print(
                f"statebiz: {out_dir}: took over a stale lock (PID {old['pid']} on host {old.get('host', '?')} "
                "is gone)",
                file=sys.stderr,
            )
        me = {
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "since": _dt.datetime.now().isoformat(timespec="seconds"),
        }
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(me).encode(), 0)
        os.fsync(fd)
        clean_stale(out_dir)
        yield path
    finally:
        Path(path).unlink(missing_ok=True)  # released cleanly: nothing left (unlinked while still locked)
        os.close(fd)


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
    if (out_dir.exists() or out_dir.is_symlink()) and not overwrite:
        raise ResultExistsError(f"{out_dir}: a result is already there; pass --overwrite to replace it")
    check_space(out_dir)
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
        _fsync_directory(out_dir.parent)


# --------------------------------------------------------------------------- provenance


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


#: The lock file of exact dependency versions (``make lock`` regenerates it).
LOCK_FILE = REPO_ROOT / "requirements.lock"


def lock_hash() -> str:
    """SHA-256 (first 16 hex digits) of the dependency lock file, or 'none' if there is none."""
    try:
        return hashlib.sha256(LOCK_FILE.read_bytes()).hexdigest()[:16]
    except OSError:
        return "none"


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
