"""Writing a run's results: atomically, never over an existing result unless asked."""

from __future__ import annotations

import json
import os
import platform
import shutil
import subprocess
import tempfile
from importlib import metadata
from pathlib import Path
from typing import Any

PACKAGES = ("statebiz", "mesa", "numpy", "scipy", "networkx", "pandas", "pyarrow", "matplotlib", "tqdm")


class ResultExistsError(FileExistsError):
    pass


def package_versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def git_commit() -> str:
    """The project's git commit (with '+dirty' when the tree has changes), or 'unknown'."""
    root = Path(__file__).resolve().parents[1]
    try:
        commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, timeout=10)
        if commit.returncode != 0:
            return "unknown"
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=root,
                               capture_output=True, text=True, timeout=10)
        return commit.stdout.strip() + ("+dirty" if dirty.stdout.strip() else "")
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def check_writable(out_dir: Path, overwrite: bool) -> None:
    """Raise before any work is done if the result directory exists and may not be replaced."""
    if out_dir.exists() and not overwrite:
        raise ResultExistsError(f"{out_dir}: a result is already there; pass --overwrite to replace it")
    parent = out_dir.parent
    if parent.exists() and not parent.is_dir():
        raise NotADirectoryError(f"{parent}: not a directory")


def write_result(out_dir: Path, tables: dict[str, Any], documents: dict[str, Any], overwrite: bool) -> None:
    """Write DataFrames as Parquet and dicts as JSON into ``out_dir``, all or nothing.

    Files are written into a temporary sibling directory that replaces ``out_dir`` by a
    rename only once everything is written; an old result is removed only after that.
    """
    check_writable(out_dir, overwrite)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", dir=out_dir.parent))
    try:
        tmp.chmod(0o755)
        for name, frame in tables.items():
            frame.to_parquet(tmp / f"{name}.parquet", index=False)
        for name, doc in documents.items():
            (tmp / f"{name}.json").write_text(json.dumps(doc, indent=2, sort_keys=False, default=_jsonable) + "\n")
        replace_directory(tmp, out_dir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def replace_directory(tmp: Path, out_dir: Path) -> None:
    """Put the finished directory ``tmp`` at ``out_dir`` by renames; an old ``out_dir`` is
    moved aside first and removed only once the new one is in place."""
    old = None
    if out_dir.exists():
        old = out_dir.with_name(f".{out_dir.name}.old.{os.getpid()}")
        out_dir.rename(old)
    tmp.rename(out_dir)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def _jsonable(value):
    if hasattr(value, "item"):
        return value.item()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")
