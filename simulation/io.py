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
- Provenance (:mod:`simulation.provenance`, whose names this module keeps):
  :func:`provenance`, :func:`git_commit`, :func:`package_versions`, :func:`model_version`.

This module imports nothing else of the package but :mod:`simulation.provenance` (both are the
bottom layer), so any module may import it.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import difflib
import errno
import fcntl
import json
import os
import re
import shutil
import socket
import stat
import sys
import tempfile
import tomllib
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path, PurePath
from typing import Any

from .provenance import (  # noqa: F401 - provenance was part of this module; its names are kept here
    LOCK_FILE,
    NOT_MODEL,
    NOT_MODEL_DIRS,
    PACKAGE_DIR,
    PACKAGES,
    REPO_ROOT,
    git_commit,
    lock_hash,
    model_changes_since,
    model_version,
    package_version,
    package_versions,
    provenance,
)


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
USER_ERRNOS = (
    errno.EACCES,
    errno.EPERM,
    errno.EROFS,
    errno.ENOSPC,
    errno.EDQUOT,
    errno.ENOTDIR,
    errno.ENAMETOOLONG,
    errno.EISDIR,
    errno.ELOOP,
    errno.ENOTEMPTY,
)


# --------------------------------------------------------------------------- TOML inputs


def load_toml(path: str | Path, kind: str, error: type[Exception] = InputError) -> tuple[dict[str, Any], str]:
    """Read a TOML input file and return ``(table, text)``.

    ``kind`` names the file in messages ("experiment", "calibration", "compare", "scenario");
    ``error`` is the exception class raised (callers pass their own, e.g. ScenarioError).

    Raises:
        ``error``: one line naming the file: not found, a directory, unreadable, not UTF-8,
        a byte order mark, or malformed TOML.
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
    if text.startswith("\ufeff"):
        raise error(f"{path}: starts with a UTF-8 byte order mark (BOM), which TOML does not allow; save it without")
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


def result_subdir(root: str | Path, name: str, error: type[Exception] = InputError) -> Path:
    """The folder ``name`` inside the result directory ``root``, created if missing; it must be
    a real directory, so that no write follows a symbolic link out of ``root``.

    Raises:
        ``error``: ``root/name`` is a symbolic link or not a directory (nothing is written).
    """
    sub = Path(root) / name
    try:
        os.mkdir(sub)
    except FileExistsError:
        pass
    if not stat.S_ISDIR(os.lstat(sub).st_mode):
        what = "a symbolic link" if sub.is_symlink() else "not a directory"
        raise error(f"{sub}: is {what}; statebiz writes only into a real folder inside {root} (move it away)")
    return sub


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


#: The field of ``manifest.json`` that only statebiz writes: what kind of result the directory is
#: and, for a result written all at once (:func:`staged_directory`), every file and folder it holds.
MARKER = "statebiz_result"
#: The names a sweep's results store may hold (:class:`~simulation.runs.store.ResultStore`), at its
#: top and in its folders; anything else in it is not statebiz's.
STORE_NAMES = re.compile(
    r"manifest\.json|experiment\.toml|part-\d{5,}\.parquet|quarantine|analysis|discovery|\..+\.tmp"
)
STORE_FOLDER_NAMES = {
    "quarantine": re.compile(r"part-\d{5,}(?:\.\d+)?\.parquet"),
    "analysis": re.compile(r"[a-z0-9_]+\.(?:csv|png)|notes\.txt|\..+\.tmp"),
    "discovery": re.compile(r"(?:prim|cart)_[A-Za-z0-9_.+-]+\.(?:csv|png)|\..+\.tmp"),
}


def store_marker() -> dict[str, Any]:
    """The marker a results store's manifest carries (see :data:`MARKER`)."""
    return {MARKER: {"kind": "sweep store", "written_by": "statebiz"}}


def _inventory(root: Path) -> list[str]:
    """Every file and folder under ``root`` (relative POSIX paths), without following links."""
    out = []
    for directory, dirs, files in os.walk(root):
        for name in [*dirs, *files]:
            out.append((Path(directory) / name).relative_to(root).as_posix())
    return sorted(out)


def _mark(tmp: Path) -> None:
    """Add the marker, with the inventory of ``tmp``, to the manifest a staged result holds."""
    path = tmp / "manifest.json"
    if path.is_symlink() or not path.is_file():
        return
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return
    if isinstance(doc, dict):
        doc[MARKER] = {"kind": "result", "written_by": "statebiz", "files": _inventory(tmp)}
        path.write_text(json_text(doc), encoding="utf-8")


def result_marker(path: str | Path) -> dict[str, Any] | None:
    """The marker of the result directory ``path``: its ``manifest.json`` (a regular file) holds
    :data:`MARKER`, a table with a ``kind``; None otherwise."""
    manifest = Path(path) / "manifest.json"
    try:
        if not stat.S_ISREG(os.lstat(manifest).st_mode):
            return None
        doc = json.loads(manifest.read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError):
        return None
    marker = doc.get(MARKER) if isinstance(doc, dict) else None
    return marker if isinstance(marker, dict) and isinstance(marker.get("kind"), str) else None


def foreign_files(path: str | Path, marker: dict[str, Any]) -> list[str]:
    """The files and folders in the result directory ``path`` that statebiz did not write:
    not in the inventory of its marker (or, for a store, not named as a store's files are),
    and every symbolic link."""
    root = Path(path)
    listed = set(marker.get("files") or []) | {"manifest.json"}
    store = marker.get("kind") == "sweep store"
    out = []
    for directory, dirs, files in os.walk(root):
        rel_dir = Path(directory).relative_to(root)
        for name in [*dirs, *files]:
            full = Path(directory) / name
            rel = (rel_dir / name).as_posix()
            if full.is_symlink():
                out.append(rel)
            elif store:
                top = rel_dir == Path(".")
                folder = STORE_FOLDER_NAMES.get(rel_dir.parts[0]) if not top else None
                if top and name in STORE_FOLDER_NAMES and not full.is_dir():
                    out.append(rel)
                elif (top and not STORE_NAMES.fullmatch(name)) or (
                    not top and (len(rel_dir.parts) > 1 or full.is_dir() or not (folder and folder.fullmatch(name)))
                ):
                    out.append(rel)
            elif rel not in listed:
                out.append(rel)
        dirs[:] = [d for d in dirs if not (Path(directory) / d).is_symlink()]
    return sorted(out)


def is_result(path: str | Path) -> bool:
    """True if ``path`` is a statebiz result directory: its manifest carries statebiz's marker
    and it holds nothing statebiz did not write."""
    marker = result_marker(path)
    return marker is not None and not foreign_files(path, marker)


def check_replaceable(out_dir: str | Path, error: type[Exception] = InputError) -> None:
    """Raise unless the existing directory ``out_dir`` may be replaced by ``--overwrite``: it is
    empty, or a statebiz result (:func:`is_result`).

    Raises:
        ``error``: one line saying why it is left alone.
    """
    out_dir = Path(out_dir)
    if out_dir.is_symlink() or not out_dir.is_dir():
        raise error(f"{out_dir}: is a file, not a statebiz result; --overwrite replaces only results")
    if not any(out_dir.iterdir()):
        return
    how = "(move them away, or choose another --out)"
    if not (out_dir / "manifest.json").exists():
        raise error(
            f"{out_dir}: holds files but no manifest.json, so it is not a statebiz result; "
            f"--overwrite replaces only results {how}"
        )
    marker = result_marker(out_dir)
    if marker is None:
        raise error(
            f"{out_dir}: its manifest.json was not written by statebiz (no '{MARKER}' record), so it is not "
            f"a statebiz result; --overwrite replaces only results {how}"
        )
    foreign = foreign_files(out_dir, marker)
    if foreign:
        shown = ", ".join(foreign[:3]) + (f" and {len(foreign) - 3} more" if len(foreign) > 3 else "")
        raise error(f"{out_dir}: holds files statebiz did not write ({shown}); --overwrite never replaces them {how}")


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

    With ``overwrite``, only a statebiz result (:func:`is_result`: its manifest carries
    statebiz's marker and it holds nothing else) or an empty directory may be replaced; never a
    file or a directory with other files.

    Raises:
        ResultExistsError: ``out_dir`` exists and ``overwrite`` is false.
        InputError: ``out_dir`` is not a statebiz result, or cannot be written (permissions, space).
    """
    out_dir = Path(out_dir)
    if out_dir.exists() or out_dir.is_symlink():
        if not overwrite:
            raise ResultExistsError(f"{out_dir}: a result is already there; pass --overwrite to replace it")
        check_replaceable(out_dir)
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


def _resolved(out_dir: Path) -> Path:
    """``out_dir`` with its parent's links resolved, and itself resolved if it is a link: the store
    itself, however it is reached."""
    resolved = Path(os.path.realpath(out_dir.parent)) / out_dir.name
    return Path(os.path.realpath(resolved)) if resolved.is_symlink() else resolved


#: Directory locks this process holds: (device, inode) -> file descriptor (see :func:`hold_directory`).
_HELD: dict[tuple[int, int], int] = {}


def _holder_text(path: Path) -> str:
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
    except OSError:
        return "its lock file was removed"
    try:
        h = _lock_holder(fd)
    finally:
        os.close(fd)
    if not h:
        return "its lock file was removed"
    return f"PID {h.get('pid', '?')} on host {h.get('host', '?')}, since {h.get('since', '?')}"


@contextmanager
def hold_directory(out_dir: str | Path, lock_file: Path | None = None) -> Iterator[None]:
    """Hold ``flock`` on the directory ``out_dir`` itself (a file descriptor of it) for the ``with``
    block, so that a second writer is refused whatever path it takes to the directory and even if
    the lock file beside it was removed. Nothing is done if the directory does not exist (yet) or
    this process holds it already.

    Raises:
        LockedError: another process holds the directory.
    """
    real = _resolved(Path(out_dir))
    try:
        fd = os.open(real, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC)
    except OSError:
        yield
        return
    st = os.fstat(fd)
    ident = (st.st_dev, st.st_ino)
    if ident in _HELD:
        os.close(fd)
        yield
        return
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        lock_file = lock_file or real.parent / f".{real.name}.lock"
        raise LockedError(
            f"{out_dir}: in use by another statebiz process ({_holder_text(lock_file)}); "
            "wait for it to finish or stop it"
        ) from None
    _HELD[ident] = fd
    try:
        yield
    finally:
        del _HELD[ident]
        os.close(fd)


@contextmanager
def result_lock(out_dir: str | Path, quiet: bool = False) -> Iterator[Path]:
    """Hold the advisory lock of a result directory for the ``with`` block (one writer at a time).

    The lock is ``flock`` on ``.NAME.lock`` beside the resolved ``out_dir`` (so a result that
    is replaced by a rename stays locked, and a result reached through a symbolic link has the
    same lock), and on the directory itself while it exists (:func:`hold_directory`, so that a
    removed lock file lets no second writer in). The lock file is opened without following a
    link and must be a file of its own; it records the holder's PID, host and start time. The
    kernel drops the lock when its holder dies: a lock file still naming another process is
    stale and is taken over, with a message. Staged leftovers of killed writers are removed once
    the lock is held (:func:`clean_stale`).

    Raises:
        LockedError: another process holds the lock (the message names its PID and host).
        InputError: the lock file is a symbolic link or a link to another file.
    """
    out_dir = Path(out_dir)
    check_space(out_dir)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    real = _resolved(out_dir)
    path = real.parent / f".{real.name}.lock"
    while True:
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o644)
        except OSError as err:
            if err.errno == errno.ELOOP:
                raise InputError(
                    f"{path}: the lock file is a symbolic link; statebiz never writes through a link (remove it)"
                ) from None
            if err.errno == errno.EISDIR:
                raise InputError(f"{path}: the lock file is a directory; move it away") from None
            raise
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode) or st.st_nlink != 1:
            os.close(fd)
            raise InputError(
                f"{path}: the lock file is not a file of its own (a link to another file); "
                "statebiz never writes through a link (remove it)"
            )
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
            same = os.stat(path, follow_symlinks=False).st_ino == st.st_ino
        except FileNotFoundError:
            same = False
        if same:
            break
        os.close(fd)  # the holder released and removed the file meanwhile: lock the new one
    try:
        with hold_directory(out_dir, path):
            old = _lock_holder(fd)
            if old.get("pid") and not quiet:
                print(
                    f"statebiz: {out_dir}: took over a stale lock (PID {old['pid']} on host "
                    f"{old.get('host', '?')} is gone)",
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
        try:  # released cleanly: nothing left (unlinked while still locked), unless it is another's file now
            if os.stat(path, follow_symlinks=False).st_ino == os.fstat(fd).st_ino:
                path.unlink()
        except FileNotFoundError:
            pass
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
        _mark(tmp)
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
