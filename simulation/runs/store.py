"""The results store of an experiment: ``results/<experiment>/``.

- ``part-00000.parquet``, ``part-00001.parquet``, ...: result rows, written in batches as
  runs finish (each part atomically: a temporary file renamed into place), so memory stays
  flat and a killed sweep loses at most the batch in progress.
- ``manifest.json``: the experiment file as given, its identity, git commit, package
  versions, root seed, host, runs done / failed / skipped, wall time; rewritten atomically
  after every batch.
- ``experiment.toml``: a copy of the experiment file.

Every row carries a run key: the SHA-256 of the model version (a hash of the model's
source and data files), the run's full parameter set and its seed. Resuming reads the keys
already stored and skips those runs. A failed run is stored with its error and retried on
the next resume; when reading back, the last row of a (design point, replication) wins.
Design points with identical parameters (Morris trajectories can share points) share the
run key of a replication: that run executes once and is stored once per design point.

Every part carries the identity of its experiment in its Parquet metadata (the experiment's
fingerprint, a hash of its resolved design and seed, and the model version) besides its schema.

Self-healing: :meth:`ResultStore.verify` reads every part; a part that cannot be read, or that
is not this experiment's (another identity, none, or other columns), is moved to
``quarantine/`` with a one-line message (how many runs it held, from the manifest's ``parts``
record) and its runs count as missing, so a resume runs them again.
A missing or damaged manifest is rebuilt when every stored run key belongs to the
experiment being resumed (:meth:`ResultStore.prepare`).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from ..io import (
    MARKER,
    InputError,
    ResultExistsError,
    atomic_write_bytes,
    atomic_write_json,
    check_replaceable,
    result_subdir,
)
from ..scenario import BY_NAME

PART_RE = re.compile(r"^part-(\d{5,})\.parquet$")
MANIFEST = "manifest.json"
QUARANTINE = "quarantine"
#: The key of a part's Parquet metadata that holds the identity of its experiment.
IDENTITY_KEY = b"statebiz"


def _say(message: str) -> None:
    print(f"statebiz: {message}", file=sys.stderr)


def run_key(version: str, params: dict[str, Any], seed: int) -> str:
    """SHA-256 of the model version, the full parameter set and the seed: one run's identity."""
    payload = json.dumps(
        {"model": version, "params": {k: params[k] for k in sorted(params)}, "seed": int(seed)},
        sort_keys=True,
        default=str,
    )
    return hashlib.sha256(payload.encode()).hexdigest()


def schema(factors, outcomes) -> pa.Schema:
    """The Arrow schema of a result part: keys, factors (by their parameter types), outcomes, error, time."""
    arrow = {int: pa.int64(), float: pa.float64(), str: pa.string(), bool: pa.bool_()}
    fields = [
        pa.field("run_key", pa.string()),
        pa.field("point", pa.int64()),
        pa.field("replication", pa.int64()),
        pa.field("seed", pa.int64()),
    ]
    fields += [pa.field(f.name, arrow[BY_NAME[f.name].kind]) for f in factors]
    fields += [pa.field(o, pa.float64()) for o in outcomes]
    fields += [pa.field("error", pa.string()), pa.field("elapsed_s", pa.float64())]
    return pa.schema(fields)


def manifest_schema(manifest: dict[str, Any]) -> pa.Schema | None:
    """The part schema a sweep's manifest implies (its factors and outcomes), or None if it names none."""
    try:
        factors = [type("F", (), {"name": f["name"]}) for f in manifest["factors"]]
        return schema(factors, list(manifest["outcomes"]))
    except (KeyError, TypeError, ValueError):
        return None


def _same_columns(found: pa.Schema, expected: pa.Schema) -> bool:
    """The same column names in the same order, each of the expected type (a column of nulls only
    fits any: a writer other than the sweep's, e.g. pandas, gives it the null type; text may be
    Arrow's string or large_string)."""
    return found.names == expected.names and all(
        _text(f.type) == _text(e.type) or pa.types.is_null(f.type) for f, e in zip(found, expected)
    )


def _text(kind: pa.DataType) -> pa.DataType:
    """Text as one type: Arrow's string and large_string (what pandas may write) are the same text."""
    return pa.string() if pa.types.is_large_string(kind) else kind


def _part_identity(meta: dict | None) -> dict[str, Any] | None:
    try:
        doc = json.loads((meta or {})[IDENTITY_KEY])
    except (KeyError, ValueError, TypeError):
        return None
    return doc if isinstance(doc, dict) else None


class ResultStore:
    """Append-only part files plus a manifest in one directory.

    ``identity``: the experiment's ``{"experiment_id", "model_version"}``, written into each part's
    metadata and required of each part read; ``schema_``: the columns each part must have.
    """

    def __init__(self, directory: str | Path, identity: dict[str, str] | None = None, schema_: pa.Schema | None = None):
        self.dir = Path(directory)
        self.written: dict[str, int] = {}  # part file -> rows, of the parts this store wrote
        self.identity = identity
        self.schema = schema_
        #: run keys that make a part without an identity this experiment's (a store of an earlier version)
        self.legacy_keys: set[str] | None = None
        #: the experiment's run keys, when known (a sweep): a part holding another key is not its own
        self.keys: set[str] | None = None
        #: (design points, replications), when known: a part with a row outside them is not its own
        self.shape: tuple[int, int] | None = None

    # -- reading ---------------------------------------------------------------------------------
    def parts(self) -> list[Path]:
        """The part files, in the order they were written (a directory of that name is none)."""
        if not self.dir.is_dir():
            return []
        return sorted(
            (p for p in self.dir.iterdir() if PART_RE.match(p.name) and p.is_file()),
            key=lambda p: int(PART_RE.match(p.name)[1]),
        )

    def manifest(self) -> dict[str, Any] | None:
        """The manifest, or None if there is none (or it cannot be read)."""
        path = self.dir / MANIFEST
        if not path.is_file():
            return None
        try:
            doc = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError, RecursionError):
            return None
        return doc if isinstance(doc, dict) else None

    def key_status(self) -> dict[str, bool]:
        """run_key -> True if the latest stored row of that key succeeded."""
        status: dict[str, bool] = {}
        for part in self.parts():
            table = pq.read_table(part, columns=["run_key", "error"])
            for key, err in zip(table.column("run_key").to_pylist(), table.column("error").to_pylist()):
                status[key] = err is None
        return status

    def stored_keys(self) -> set[str]:
        """Every run key in the (readable) part files."""
        keys: set[str] = set()
        for part in self.parts():
            try:
                keys.update(pq.read_table(part, columns=["run_key"]).column("run_key").to_pylist())
            except (pa.ArrowException, OSError, KeyError):
                continue
        return keys

    def _foreign(self, table: pa.Table) -> str | None:
        """Why a readable part is not this experiment's, or None if it is."""
        if _text(table.schema.field("run_key").type) != pa.string():
            return f"its run_key column holds {table.schema.field('run_key').type}, not text"
        if self.identity is not None:
            found = _part_identity(table.schema.metadata)
            if found is None and self.legacy_keys is not None:  # written before parts carried an identity
                if set(table.column("run_key").to_pylist()) <= self.legacy_keys:
                    found = dict(self.identity)
            if found is None:
                return "it carries no experiment identity"
            for key, expected in self.identity.items():
                if found.get(key) != expected:
                    return f"its {key} is {str(found.get(key))[:16]}, this experiment's {str(expected)[:16]}"
        if self.schema is not None and not _same_columns(table.schema, self.schema):
            return "its columns are not this experiment's"
        if self.keys is not None and not set(table.column("run_key").to_pylist()) <= self.keys:
            return "it holds runs that are not of this experiment's design, seeds and model version"
        if self.shape is not None and "point" in table.column_names and "replication" in table.column_names:
            points, reps = table.column("point").to_pylist(), table.column("replication").to_pylist()
            if not all(isinstance(p, int) and 0 <= p < self.shape[0] for p in points) or not all(
                isinstance(r, int) and 0 <= r < self.shape[1] for r in reps
            ):
                return "it holds design points or replications the experiment does not have"
        return None

    def verify(self, say: Callable[[str], None] = _say) -> list[tuple[str, int | None]]:
        """Read every part file; move each that cannot be read, or is not this experiment's
        (:meth:`_foreign`), to ``quarantine/`` with a one-line message. Returns the quarantined
        parts with the number of runs each held (None: unknown).

        Raises:
            InputError: ``quarantine`` is not a folder (nothing is moved).
        """
        held = (self.manifest() or {}).get("parts", {})
        moved = []
        for part in self.parts():
            try:
                table = pq.read_table(part)
                table.column("run_key")
                table.column("error")
                foreign = self._foreign(table)
            except (pa.ArrowException, OSError, KeyError, ValueError) as err:
                why = " ".join(str(err).split())[:120]
                what_is_wrong = f"damaged ({type(err).__name__}: {why})"
            else:
                if foreign is None:
                    continue
                what_is_wrong = f"not this experiment's ({foreign})"
            runs = held.get(part.name) if isinstance(held, dict) else None
            folder = result_subdir(self.dir, QUARANTINE)
            target, n = folder / part.name, 0
            while target.exists() or target.is_symlink():  # an earlier part of that name stays quarantined
                n += 1
                target = folder / f"{part.stem}.{n}.parquet"
            os.replace(part, target)
            what = f"its {runs} runs" if isinstance(runs, int) else "its runs"
            say(f"{part}: {what_is_wrong}; moved to {target}; {what} count as missing and run again on resume")
            moved.append((part.name, runs if isinstance(runs, int) else None))
        return moved

    # -- writing ---------------------------------------------------------------------------------
    def prepare(self, fingerprint: str, overwrite: bool, describe: str, keys: set[str] | None = None, say=_say) -> None:
        """Create the directory, or check that it holds this same experiment.

        ``keys``: the run keys of the experiment. When the manifest is missing or damaged but
        the directory holds parts whose every run key is one of ``keys``, they are this
        experiment's runs: they are kept (and the manifest is rebuilt by the sweep).

        Raises:
            ResultExistsError: the directory holds something else and ``overwrite`` is false.
            InputError: the directory holds things that are not a statebiz result (never replaced).
        """
        if self.dir.exists() and not self.dir.is_dir():
            raise NotADirectoryError(f"{self.dir}: not a directory")
        manifest_path = self.dir / MANIFEST
        if (manifest_path.exists() or manifest_path.is_symlink()) and not (
            manifest_path.is_file() and not manifest_path.is_symlink()
        ):
            raise InputError(
                f"{manifest_path}: is a directory or a link, not the store's manifest file; "
                "move it away (the manifest is rebuilt from the part files)"
            )
        if self.dir.exists() and any(p.name != QUARANTINE for p in self.dir.iterdir()):
            manifest = self.manifest()
            if manifest is None and self.parts():
                stored = self.stored_keys()
                if keys is not None and stored <= keys:
                    state = "missing" if not (self.dir / MANIFEST).exists() else "damaged"
                    say(
                        f"{self.dir}: manifest.json is {state}; the {len(self.parts())} part files hold runs of "
                        "this experiment only: they are kept and the manifest is rebuilt"
                    )
                    self.dir.mkdir(parents=True, exist_ok=True)
                    return self._clean_tmp()
                raise InputError(
                    f"{self.dir}: manifest.json is missing or damaged and its part files hold runs of another "
                    "experiment or model version; they are left alone (move them away, or choose another --out)"
                )
            if manifest is None and not overwrite:
                raise ResultExistsError(
                    f"{self.dir}: holds files that are not an experiment's results; choose another --out"
                )
            if manifest is None:
                raise InputError(
                    f"{self.dir}: holds files but no manifest.json, so it is not a statebiz result; "
                    "--overwrite replaces only results (move them away, or choose another --out)"
                )
            same = manifest.get("experiment_id") == fingerprint
            if not same and not overwrite:
                if manifest is None:
                    what = "files that are not an experiment's results"
                elif (manifest.get("experiment") if isinstance(manifest.get("experiment"), dict) else {}).get(
                    "name"
                ) == describe:
                    what = (
                        "results of a different version of this experiment "
                        "(its file, base scenario or model source changed)"
                    )
                else:
                    experiment = manifest.get("experiment") if isinstance(manifest.get("experiment"), dict) else {}
                    what = f"results of experiment '{str(experiment.get('name', '?'))[:80]}'"
                raise ResultExistsError(
                    f"{self.dir}: holds {what}; pass --overwrite to replace them, or --out for another directory"
                )
            if not same and overwrite:
                check_replaceable(self.dir)  # only a store statebiz wrote, holding nothing else
                old = self.dir.with_name(f".{self.dir.name}.old.{os.getpid()}")
                self.dir.rename(old)
                shutil.rmtree(old, ignore_errors=True)
        self.dir.mkdir(parents=True, exist_ok=True)
        self._clean_tmp()

    def _clean_tmp(self) -> None:
        for stale in self.dir.glob(".*.tmp"):  # a temp file left by a killed writer
            if stale.is_symlink() or stale.is_file():
                stale.unlink(missing_ok=True)

    def next_part_number(self) -> int:
        """The number of the next part file."""
        parts = self.parts()
        return int(PART_RE.match(parts[-1].name)[1]) + 1 if parts else 0

    def write_part(self, rows: list[dict[str, Any]], schema_: pa.Schema) -> Path:
        """Write ``rows`` as the next part file, atomically; returns its path."""
        columns = {f.name: [r.get(f.name) for r in rows] for f in schema_}
        for f in schema_:
            if pa.types.is_floating(f.type):
                columns[f.name] = [np.nan if v is None else float(v) for v in columns[f.name]]
        if self.identity is not None:
            schema_ = schema_.with_metadata({IDENTITY_KEY: json.dumps(self.identity, sort_keys=True).encode()})
        table = pa.table(columns, schema=schema_)
        sink = pa.BufferOutputStream()
        pq.write_table(table, sink)
        data = sink.getvalue().to_pybytes()
        while True:  # the next free number; never replaces a part another writer put there
            path = self.dir / f"part-{self.next_part_number():05d}.parquet"
            try:
                atomic_write_bytes(path, data, exclusive=True)
            except FileExistsError:
                continue
            self.written[path.name] = len(rows)
            return path

    def write_manifest(self, doc: dict[str, Any]) -> None:
        """Replace the manifest by ``doc``, atomically."""
        atomic_write_json(self.dir / MANIFEST, doc)


def read_results(directory: str | Path, latest: bool = True) -> pd.DataFrame:
    """All rows of a results directory, one per (design point, replication), the latest row winning,
    sorted by (design point, replication) so the table does not depend on completion order."""
    manifest = ResultStore(directory).manifest() or {}
    identity = {k: manifest[k] for k in ("experiment_id", "model_version") if isinstance(manifest.get(k), str)}
    if MARKER not in manifest:  # a store of an earlier version: its parts carry no identity
        identity = {}
    store = ResultStore(directory, identity or None, manifest_schema(manifest))
    shape = (manifest.get("design_points"), manifest.get("replications"))
    if all(isinstance(n, int) and not isinstance(n, bool) for n in shape):
        store.shape = shape
    store.verify()
    parts = store.parts()
    if not parts:
        raise FileNotFoundError(f"{directory}: no result parts (part-*.parquet) there")
    frames = [pq.read_table(p).to_pandas() for p in parts]
    frame = pd.concat(frames, ignore_index=True)
    if latest:  # a failed run retried later: the last row of a (point, replication) wins
        frame = frame.drop_duplicates(["point", "replication"], keep="last")
    return frame.sort_values(["point", "replication"], kind="stable").reset_index(drop=True)
