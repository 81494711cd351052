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
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from ..io import ResultExistsError, atomic_write_bytes, atomic_write_json
from ..scenario import BY_NAME

PART_RE = re.compile(r"^part-(\d{5,})\.parquet$")
MANIFEST = "manifest.json"


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


class ResultStore:
    """Append-only part files plus a manifest in one directory."""

    def __init__(self, directory: str | Path):
        self.dir = Path(directory)

    # -- reading ---------------------------------------------------------------------------------
    def parts(self) -> list[Path]:
        """The part files, in the order they were written."""
        if not self.dir.is_dir():
            return []
        return sorted(
            (p for p in self.dir.iterdir() if PART_RE.match(p.name)), key=lambda p: int(PART_RE.match(p.name)[1])
        )

    def manifest(self) -> dict[str, Any] | None:
        """The manifest, or None if there is none (or it cannot be read)."""
        path = self.dir / MANIFEST
        if not path.is_file():
            return None
        try:
            return json.loads(path.read_text())
        except (OSError, json.JSONDecodeError):
            return None

    def key_status(self) -> dict[str, bool]:
        """run_key -> True if the latest stored row of that key succeeded."""
        status: dict[str, bool] = {}
        for part in self.parts():
            table = pq.read_table(part, columns=["run_key", "error"])
            for key, err in zip(table.column("run_key").to_pylist(), table.column("error").to_pylist()):
                status[key] = err is None
        return status

    # -- writing ---------------------------------------------------------------------------------
    def prepare(self, fingerprint: str, overwrite: bool, describe: str) -> None:
        """Create the directory, or check that it holds this same experiment.

        Raises:
            ResultExistsError: the directory holds something else and ``overwrite`` is false.
        """
        if self.dir.exists() and not self.dir.is_dir():
            raise NotADirectoryError(f"{self.dir}: not a directory")
        if self.dir.exists() and any(self.dir.iterdir()):
            manifest = self.manifest()
            same = manifest is not None and manifest.get("experiment_id") == fingerprint
            if not same and not overwrite:
                if manifest is None:
                    what = "files that are not an experiment's results"
                elif manifest.get("experiment", {}).get("name") == describe:
                    what = (
                        "results of a different version of this experiment "
                        "(its file, base scenario or model source changed)"
                    )
                else:
                    what = f"results of experiment '{manifest.get('experiment', {}).get('name', '?')}'"
                raise ResultExistsError(
                    f"{self.dir}: holds {what}; pass --overwrite to replace them, or --out for another directory"
                )
            if not same and overwrite:
                old = self.dir.with_name(f".{self.dir.name}.old.{os.getpid()}")
                self.dir.rename(old)
                shutil.rmtree(old, ignore_errors=True)
        self.dir.mkdir(parents=True, exist_ok=True)
        for stale in self.dir.glob(".*.tmp"):  # a temp file left by a killed writer
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
        table = pa.table(columns, schema=schema_)
        sink = pa.BufferOutputStream()
        pq.write_table(table, sink)
        path = self.dir / f"part-{self.next_part_number():05d}.parquet"
        atomic_write_bytes(path, sink.getvalue().to_pybytes())
        return path

    def write_manifest(self, doc: dict[str, Any]) -> None:
        """Replace the manifest by ``doc``, atomically."""
        atomic_write_json(self.dir / MANIFEST, doc)


def read_results(directory: str | Path, latest: bool = True) -> pd.DataFrame:
    """All rows of a results directory, one per (design point, replication), the latest row winning,
    sorted by (design point, replication) so the table does not depend on completion order."""
    store = ResultStore(directory)
    parts = store.parts()
    if not parts:
        raise FileNotFoundError(f"{directory}: no result parts (part-*.parquet) there")
    frames = [pq.read_table(p).to_pandas() for p in parts]
    frame = pd.concat(frames, ignore_index=True)
    if latest:  # a failed run retried later: the last row of a (point, replication) wins
        frame = frame.drop_duplicates(["point", "replication"], keep="last")
    return frame.sort_values(["point", "replication"], kind="stable").reset_index(drop=True)
