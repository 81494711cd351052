"""Warm starts (ODD 5): a run starts from a stored stationary state instead of its burn-in.

A *snapshot* is the world of a cold run at quarter ``burn_in - warm_burn_in``, near the end of its
burn-in. A warm run (``start = "warm"``) loads one, takes its own parameters, seed and random
streams, and simulates the last ``warm_burn_in`` quarters of the burn-in (the re-burn) before it
reports, from the same quarter as a cold run. Its state at the start is therefore distributed
exactly as a cold run's at that quarter (it is one), and its streams are independent of it: a
warm run on a member of its own is a cold run in distribution, whatever the re-burn. The re-burn
is there for runs that share a member: it is how long they take to forget it.

The pool. Snapshots come in pools of ``warm_pool`` members per key, member j built with a seed
derived from the key and j (only the members that runs ask for are built); a run of seed u
starts from member u mod ``warm_pool``. Runs must not share a member if they are to be
independent: the model keeps some states of a run for a very long time. Runs that share one
stay alike in every level outcome for more than 80 quarters (the nested R-hat with the members
as starts, tools/warm_burn_in.py); a Turkestan run whose regional budget ran away, with captors
and a swollen PPP fund, keeps business satisfaction near 0.95 and the population's near 0.05
for 100 quarters and more, where cold runs have 0.34 +- 0.13. The default pool (10^6) gives
every seed its own member, so a warm start saves the burn-in when the same parameters and seed
run again (a report, a study or a check run a second time, longer, or with other outcomes); a
smaller pool trades independence for speed, knowingly.

The key. Every parameter but the run's length and start (:data:`NOT_IN_KEY`) enters the
key exactly, with the model version (``provenance.model_version``: a change of the model's
code gives a new key, so a snapshot is never used by a model it was not made by) and the
format. There is no parameter neighbourhood (the comment below :data:`NOT_IN_KEY` says why).

The seed. A snapshot's seed derives from its key and member; a warm run's every draw derives
from the run's seed (its streams, Mesa's generator, the survey's), none from the snapshot's.

The file. ``<dir>/<regions>-<firms>-<key>-<member>.snapshot`` (the directory is
``$STATEBIZ_SNAPSHOTS`` or ``results/snapshots``): a first line naming the format, a one-line
JSON header (key, member, the parameters it was built at, its seed and burn-in, the model
version, provenance, the SHA-256 of the payload) and the payload, the world pickled and
zlib-compressed (about 1.8 MB for Turkestan's 10,000 firms). It is built on first use,
written atomically, and never replaces a file (``build(..., overwrite=True)`` does when
asked). A malformed or mismatching file is a :class:`SnapshotError`: one line naming the
file (the command line exits with 2); it is not rebuilt or skipped silently.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import pickle
import zlib
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from .io import InputError, atomic_write_bytes
from .provenance import REPO_ROOT, model_version, provenance

#: The snapshot format (a new one makes a new key: old files are not read).
FORMAT = 1
MAGIC = b"STATEBIZ-SNAPSHOT"
#: The environment variable that moves the snapshot directory.
ENV_DIR = "STATEBIZ_SNAPSHOTS"
DEFAULT_DIR = REPO_ROOT / "results" / "snapshots"

#: Parameters that do not enter the key: how long the run reports, how it starts, the pool's
#: size (a member does not depend on it) and the governance preset's name (its value, the
#: symbiosis index, does). ``warm_burn_in`` does: it sets the quarter a snapshot is taken at.
NOT_IN_KEY = ("steps", "start", "warm_pool", "governance")

#: No parameter neighbourhood: every parameter in the key takes its exact value. Reusing one
#: snapshot for nearby parameters (the calibration's free parameters, with the symbiosis index,
#: the insiders, the connections and business strength re-applied at the start) was measured and
#: rejected: the firm population, the budget and the satisfaction they shape carry the snapshot's
#: parameters for longer than the burn-in it would save (docs/ODD.md 5). Not even the initial
#: corrupt share: at s = 1 the cold burn-in forgets it only from quarter 143 (ODD 9), after the
#: quarter a snapshot is taken at.

#: What simulates a cold burn-in: (parameters, seed) -> the world at its end. The model module
#: registers it (``register_builder``) when it is imported, so that this module, which the model
#: imports, does not import the model back.
_builder: Callable[[dict[str, Any], int], Any] | None = None


def register_builder(builder: Callable[[dict[str, Any], int], Any]) -> None:
    """Set the function that simulates a snapshot's burn-in (``simulation.model`` does, on import)."""
    global _builder
    _builder = builder


class SnapshotError(InputError):
    """A snapshot file is missing where one was named, malformed, or made for another key (one line)."""


def directory() -> Path:
    """Where snapshots live: ``$STATEBIZ_SNAPSHOTS``, else ``results/snapshots`` of the checkout."""
    env = os.environ.get(ENV_DIR)
    return Path(env) if env else DEFAULT_DIR


def snapshot_quarter(params: dict[str, Any]) -> int:
    """The quarter a snapshot is taken at: ``burn_in - warm_burn_in`` (0 at least: a warm run
    simulates at most the whole burn-in, and always reports from quarter ``burn_in``)."""
    return max(int(params["burn_in"]) - int(params["warm_burn_in"]), 0)


def build_parameters(params: dict[str, Any]) -> dict[str, Any]:
    """The parameters a run's snapshot is built at: the run's, with a cold start and one reported quarter."""
    return dict(params) | {"start": "cold", "steps": 1}


def key(params: dict[str, Any]) -> str:
    """The snapshot key of a run's parameters (16 hex digits)."""
    built = build_parameters(params)
    doc = {k: built[k] for k in sorted(built) if k not in NOT_IN_KEY}
    text = json.dumps([FORMAT, model_version(), doc], sort_keys=True, default=list)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def member_of(params: dict[str, Any], seed: int) -> int:
    """The pool member a warm run of ``seed`` starts from: seed mod ``warm_pool``."""
    return int(seed) % int(params["warm_pool"])


def path_for(params: dict[str, Any], member: int) -> Path:
    """The file of a pool member of a run's parameters."""
    regions = "".join(c if c.isalnum() else "+" for c in str(params["regions"]))[:40]
    return directory() / f"{regions}-{params['firms']}-{key(params)}-{member}.snapshot"


def build_seed(k: str, member: int) -> int:
    """The seed a pool member is built with: derived from its key and its index."""
    state = np.random.SeedSequence(int(k, 16), spawn_key=(member,)).generate_state(1, np.uint64)
    return int(state[0] >> np.uint64(1))


def file_sha256(path: Path) -> str:
    """SHA-256 of a file (first 16 hex digits)."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()[:16]


# --------------------------------------------------------------------------- writing


def build(params: dict[str, Any], member: int, overwrite: bool = False) -> Path:
    """Simulate the burn-in of a pool member of a run's parameters and store it; returns its path.

    Without ``overwrite`` an existing file is kept (FileExistsError when it exists already)."""
    path = path_for(params, member)
    if path.exists() and not overwrite:
        raise FileExistsError(f"{path}: exists; a snapshot is never replaced unless asked (overwrite)")
    k = key(params)
    built = build_parameters(params)
    seed = build_seed(k, member)
    if _builder is None:
        raise RuntimeError("snapshots.build: no builder registered (import simulation.model first)")
    # taken warm_burn_in quarters before the end of the burn-in, so that a warm run reports from
    # the same quarter as a cold one (cumulative counts and slow drifts line up)
    world = _builder(built | {"burn_in": snapshot_quarter(params)}, seed)
    world.streams = {}  # the warm run brings its own, from its own seed
    world._bargaining = world._bargaining_seen = None
    world.firms._year.clear()
    payload = dumps(world)
    header = {
        "format": FORMAT,
        "key": k,
        "member": int(member),
        "model_version": model_version(),
        "seed": seed,
        "burn_in": int(built["burn_in"]),
        "quarter": int(world.quarter),
        "firms_in_business": int(world.firms.alive.sum()),
        "params": {name: (list(v) if isinstance(v, tuple) else v) for name, v in sorted(built.items())},
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "provenance": provenance(),
        "payload_sha256": hashlib.sha256(payload).hexdigest(),
    }
    data = MAGIC + b" " + str(FORMAT).encode() + b"\n" + json.dumps(header).encode() + b"\n" + payload
    atomic_write_bytes(path, data, exclusive=not overwrite)
    return path


def dumps(world) -> bytes:
    """A world as a snapshot's payload: pickled, zlib-compressed."""
    return zlib.compress(pickle.dumps(world, protocol=pickle.HIGHEST_PROTOCOL), 6)


def loads(payload: bytes):
    """The world of a snapshot's payload. Pickling keeps arrays, not which array is a view of
    which: the PPP book's field views are made again from its columns (else a contract's change
    after the start would be lost at the next contract's signing)."""
    world = pickle.loads(zlib.decompress(payload))
    world.projects._views()
    return world


@contextlib.contextmanager
def _lock(path: Path):
    """An exclusive lock beside ``path`` (several workers asking for one snapshot build it once)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_name("." + path.name + ".lock"), "a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def ensure(params: dict[str, Any], member: int) -> Path:
    """A pool member's file, built first when there is none (once, however many processes ask)."""
    path = path_for(params, member)
    if path.exists():
        return path
    with _lock(path):
        if not path.exists():
            build(params, member)
    return path


def ensure_pool(params: dict[str, Any], seeds) -> list[Path]:
    """The pool members that warm runs of ``params`` on ``seeds`` start from (built if missing):
    a caller that hands runs to workers builds them here first, once."""
    return [ensure(params, m) for m in sorted({member_of(params, s) for s in seeds})]


# --------------------------------------------------------------------------- reading


def read_header(path: str | Path) -> dict[str, Any]:
    """The header of a snapshot file (its key, parameters, seed, provenance) without its world."""
    return _read(Path(path), world=False)[0]


def _malformed(path: Path, why: str) -> SnapshotError:
    return SnapshotError(
        f"{path}: not a usable statebiz snapshot ({why}); delete it to have it rebuilt, or run with start = 'cold'"
    )


def _read(
    path: Path, world: bool = True, expected_key: str | None = None, member: int | None = None
) -> tuple[dict[str, Any], Any]:
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise SnapshotError(f"{path}: no such snapshot") from None
    except OSError as err:
        raise SnapshotError(f"{path}: cannot be read ({err.strerror or err})") from None
    first, _, rest = data.partition(b"\n")
    if first != MAGIC + b" " + str(FORMAT).encode():
        raise _malformed(path, f"first line is not '{MAGIC.decode()} {FORMAT}'")
    line, _, payload = rest.partition(b"\n")
    try:
        header = json.loads(line)
        if not isinstance(header, dict):
            raise ValueError
    except ValueError:
        raise _malformed(path, "its header is not a JSON object") from None
    if expected_key is not None and header.get("key") != expected_key:
        raise _malformed(path, f"made for key {header.get('key')!r}, not {expected_key!r}")
    if member is not None and header.get("member") != member:
        raise _malformed(path, f"pool member {header.get('member')!r}, not {member}")
    if not world:
        return header, None
    if hashlib.sha256(payload).hexdigest() != header.get("payload_sha256"):
        raise _malformed(path, "its payload does not match its SHA-256 (truncated or changed)")
    try:
        state = loads(payload)
    except Exception as err:  # noqa: BLE001 - any failure to unpickle is a malformed file
        raise _malformed(path, f"its world cannot be read: {type(err).__name__}") from None
    from .world import World

    if not isinstance(state, World):
        raise _malformed(path, "its payload is not a world")
    return header, state


# --------------------------------------------------------------------------- the warm start


def warm_world(params: dict[str, Any], seed: int, streams: dict[str, np.random.Generator]):
    """The world a warm run starts from, and the record of its start (for the manifest): its
    pool member (built first if missing), with the run's parameters, seed and streams."""
    member = member_of(params, seed)
    path = ensure(params, member)
    header, world = _read(path, expected_key=key(params), member=member)
    world.params = params
    world.seed = seed
    world.streams = streams
    return world, start_record(params, seed, path, header)


def start_record(
    params: dict[str, Any], seed: int | None = None, path: Path | None = None, header: dict | None = None
) -> dict[str, Any]:
    """How a run starts, as a manifest records it: cold (with its burn-in), or warm from which
    snapshot (file, key, pool member, SHA-256 of the file, the seed and burn-in it was built
    with) with its re-burn. Without ``seed``: the pool (key and size) that warm runs start from."""
    if params.get("start", "cold") != "warm":
        return {"start": "cold", "burn_in": int(params["burn_in"])}
    record: dict[str, Any] = {
        "start": "warm",
        "warm_burn_in": int(params["warm_burn_in"]),
        "warm_pool": int(params["warm_pool"]),
        "key": key(params),
        "snapshot_dir": _shown(directory()),
    }
    if seed is None:
        return record
    member = member_of(params, seed)
    path = path or path_for(params, member)
    record |= {"member": member, "snapshot": _shown(path)}
    if path.exists():
        header = header or read_header(path)
        record |= {
            "sha256": file_sha256(path),
            "snapshot_seed": header.get("seed"),
            "snapshot_burn_in": header.get("burn_in"),
            "snapshot_quarter": header.get("quarter"),
            "snapshot_git_commit": (header.get("provenance") or {}).get("git_commit"),
        }
    return record


def _shown(path: Path) -> str:
    try:
        return path.resolve().relative_to(REPO_ROOT).as_posix()
    except ValueError:
        return str(path)
