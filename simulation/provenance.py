"""Where a result came from: the git commit, the package versions, the lock file's hash, the
model version (a hash of the model's own files) and the machine class. The bottom layer with
:mod:`simulation.io`, which keeps these names too."""

from __future__ import annotations

import functools
import hashlib
import platform
import re
import subprocess
from collections.abc import Iterable
from importlib import metadata
from pathlib import Path
from typing import Any

#: The package directory (simulation/) and the repository root.
PACKAGE_DIR = Path(__file__).resolve().parent
REPO_ROOT = PACKAGE_DIR.parent
#: Packages under simulation/ that are tools around the model, not the model: not in the model version.
NOT_MODEL_DIRS = ("runs", "report", "app", "cli", "calibration", "analysis", "studies")
#: Files of the package that do not change what a run computes (I/O, tools): not in the model version.
#: The studies' published figures (validation, identification, the PPP record's patterns) are data files
#: of the package that no run reads: editing them changes what a study compares with, not what a run computes.
NOT_MODEL = (
    "__main__.py",
    "io.py",
    "provenance.py",
    "data/identification.toml",
    "data/validation.toml",
    "data/ppp_record.toml",
)
#: Packages whose versions every manifest records.
PACKAGES = ("statebiz", "mesa", "numpy", "scipy", "networkx", "pandas", "pyarrow", "matplotlib", "tqdm")


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


def provenance(extra: Iterable[str] = ()) -> dict[str, Any]:
    """Where a result came from, as every manifest records it: the git commit, the package
    versions (:data:`PACKAGES` and ``extra``), the lock file's hash and the machine class."""
    from .machine import fingerprint

    return {
        "git_commit": git_commit(),
        "package_versions": package_versions(extra),
        "lock_sha256": lock_hash(),
        "machine": fingerprint(),
    }


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


def accepted_versions(record: dict) -> set[str]:
    """The model versions a calibration record counts as fitted to: its own ``model_version``, and those in
    its ``equivalent_model_versions``, shown to compute the same numbers (``calibration.equivalence``)."""
    out = {str(record.get("model_version") or "")} - {""}
    for entry in record.get("equivalent_model_versions") or []:
        if isinstance(entry, dict) and entry.get("model_version"):
            out.add(str(entry["model_version"]))
    return out


def _model_file(rel: str) -> bool:
    """Whether a path relative to the package is one of the files the model version hashes."""
    parts = Path(rel).parts
    return (
        bool(parts)
        and Path(rel).suffix in (".py", ".toml", ".csv", ".json")
        and parts[0] not in NOT_MODEL_DIRS
        and rel not in NOT_MODEL
        and "__pycache__" not in parts
    )


def model_changes_since(commit: str) -> list[str] | None:
    """The model's files (those :func:`model_version` hashes) that differ now from ``commit``,
    relative to the package; None when git cannot tell (no git, no such commit)."""
    if not commit or not re.fullmatch(r"[0-9a-f]{7,40}", str(commit).removesuffix("+dirty")):
        return None
    try:
        done = subprocess.run(
            ["git", "diff", "--name-only", str(commit).removesuffix("+dirty"), "--", PACKAGE_DIR.name],
            cwd=REPO_ROOT,
            capture_output=True,
            text=True,
            timeout=20,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    if done.returncode != 0:
        return None
    prefix = PACKAGE_DIR.name + "/"
    return [n.removeprefix(prefix) for n in done.stdout.split() if _model_file(n.removeprefix(prefix))]
