"""The results store's resume logic (simulation/runs/store.py), on hand-written part files.

``test_experiments.py`` and ``test_reliability.py`` check resuming through whole sweeps (and
a SIGKILL midway); these check the store's own rules one at a time, without running a
model, so that they are fast enough for the mutation runner (``make mutation``): run keys,
part numbering and order, which stored row of a run wins, damaged parts quarantined, and
when a directory may be resumed, replaced or must be left alone.
"""

from __future__ import annotations

import hashlib
import json
from types import SimpleNamespace

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from simulation.io import InputError, ResultExistsError, store_marker
from simulation.runs.store import ResultStore, read_results, run_key, schema

FACTORS = [SimpleNamespace(name="audit_rate"), SimpleNamespace(name="exit_losses")]
OUTCOMES = ["corruption_incidence"]


def schema_():
    """The parts' schema, built in each test: a module-level value would be built once, before a mutant runs."""
    return schema(FACTORS, OUTCOMES)


def row(key, point=0, replication=0, error=None, value=0.5, seed=1):
    return {
        "run_key": key,
        "point": point,
        "replication": replication,
        "seed": seed,
        "audit_rate": 0.1,
        "exit_losses": 4,
        "corruption_incidence": None if error else value,
        "error": error,
        "elapsed_s": 0.25,
    }


def said():
    lines = []
    return lines, lines.append


# --------------------------------------------------------------------------- run keys and schema


def test_run_key_is_the_sha256_of_version_params_and_seed():
    params = {"b": 2, "a": 0.5}
    payload = json.dumps({"model": "v1", "params": {"a": 0.5, "b": 2}, "seed": 7}, sort_keys=True)
    assert run_key("v1", params, 7) == hashlib.sha256(payload.encode()).hexdigest()
    assert run_key("v1", params, 7) == run_key("v1", {"a": 0.5, "b": 2}, np.int64(7))  # order, int type
    others = {run_key("v2", params, 7), run_key("v1", params, 8), run_key("v1", {"a": 0.5, "b": 3}, 7)}
    assert len(others | {run_key("v1", params, 7)}) == 4
    # nested mappings are keyed whatever their order; values json cannot encode, by their text
    assert run_key("v1", {"p": {"b": 1, "a": 2}}, 1) == run_key("v1", {"p": {"a": 2, "b": 1}}, 1)
    assert run_key("v1", {"p": {1, 2}}, 1) == run_key("v1", {"p": "{1, 2}"}, 1)


def test_schema_types_follow_the_parameters():
    assert schema_().names == [
        "run_key",
        "point",
        "replication",
        "seed",
        "audit_rate",
        "exit_losses",
        "corruption_incidence",
        "error",
        "elapsed_s",
    ]
    types = dict(zip(schema_().names, schema_().types))
    assert types["run_key"] == pa.string() and types["error"] == pa.string()
    assert types["point"] == types["replication"] == types["seed"] == types["exit_losses"] == pa.int64()
    assert types["audit_rate"] == types["corruption_incidence"] == types["elapsed_s"] == pa.float64()
    assert schema([SimpleNamespace(name="governance")], []).field("governance").type == pa.string()


# --------------------------------------------------------------------------- parts


def test_parts_are_numbered_in_order_and_nothing_else_counts(tmp_path):
    store = ResultStore(tmp_path / "x")
    assert store.parts() == [] and store.next_part_number() == 0 and store.manifest() is None
    store.dir.mkdir()
    for name in (
        "part-00010.parquet",
        "part-00002.parquet",
        "part-100000.parquet",
        "part-99999.parquet",
        "part-1.parquet",
    ):
        (store.dir / name).write_bytes(b"")
    (store.dir / "part-00003.parquet.tmp").write_bytes(b"")
    (store.dir / "notes.txt").write_bytes(b"")
    # in the order of their numbers, not of their names (part-100000 sorts before part-99999 by name)
    names = ["part-00002.parquet", "part-00010.parquet", "part-99999.parquet", "part-100000.parquet"]
    assert [p.name for p in store.parts()] == names
    assert store.next_part_number() == 100001


def test_write_part_takes_the_next_free_number_and_stores_missing_floats_as_nan(tmp_path):
    store = ResultStore(tmp_path)
    a = store.write_part([row("k1"), row("k2", error="boom")], schema_())
    b = store.write_part([row("k3", point=1)], schema_())
    assert (a.name, b.name) == ("part-00000.parquet", "part-00001.parquet")
    assert store.written == {"part-00000.parquet": 2, "part-00001.parquet": 1}
    table = pq.read_table(a)
    assert table.schema == schema_()
    values = table.column("corruption_incidence").to_pylist()
    assert values[0] == 0.5 and np.isnan(values[1])
    assert table.column("error").to_pylist() == [None, "boom"]
    assert not list(tmp_path.glob(".*.tmp"))


def test_manifest_round_trip_and_unreadable_manifests(tmp_path):
    store = ResultStore(tmp_path)
    store.write_manifest({"experiment_id": "abc", "runs": 3})
    assert store.manifest() == {"experiment_id": "abc", "runs": 3}
    for text in ("{not json", "[1, 2]", '"a string"'):
        (tmp_path / "manifest.json").write_text(text)
        assert store.manifest() is None, text
    (tmp_path / "manifest.json").unlink()
    (tmp_path / "manifest.json").mkdir()  # not a file
    assert store.manifest() is None


# --------------------------------------------------------------------------- which row wins


def test_the_latest_row_of_a_run_wins(tmp_path):
    store = ResultStore(tmp_path)
    store.write_part([row("a", 0, error="first try failed"), row("b", 1), row("c", 2)], schema_())
    store.write_part([row("a", 0, value=0.7), row("b", 1, error="failed on the second try")], schema_())
    assert store.key_status() == {"a": True, "b": False, "c": True}
    assert store.stored_keys() == {"a", "b", "c"}
    latest = read_results(tmp_path)
    assert list(latest.columns) == schema_().names and list(latest.index) == [0, 1, 2]
    assert latest[["point", "replication"]].values.tolist() == [[0, 0], [1, 0], [2, 0]]
    assert latest["run_key"].tolist() == ["a", "b", "c"]
    assert latest["corruption_incidence"].iloc[0] == 0.7 and latest["error"].iloc[1] == "failed on the second try"
    every = read_results(tmp_path, latest=False)
    assert len(every) == 5 and every["point"].tolist() == [0, 0, 1, 1, 2]  # sorted, stable: first try first
    assert every["error"].iloc[0] == "first try failed"


def test_rows_are_sorted_by_point_and_replication_not_by_completion(tmp_path):
    store = ResultStore(tmp_path)
    store.write_part([row("z", 1, 1), row("y", 1, 0)], schema_())
    store.write_part([row("x", 0, 1), row("w", 0, 0)], schema_())
    assert read_results(tmp_path)["run_key"].tolist() == ["w", "x", "y", "z"]


def test_no_parts_is_an_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="no result parts"):
        read_results(tmp_path)


# --------------------------------------------------------------------------- damaged parts


def test_a_damaged_part_is_quarantined_and_its_runs_count_as_missing(tmp_path):
    store = ResultStore(tmp_path)
    store.write_part([row("a", 0)], schema_())
    bad = store.write_part([row("b", 1), row("c", 2), row("d", 3)], schema_())
    bad.write_bytes(bad.read_bytes()[:40])  # truncated
    pq.write_table(pa.table({"other": [1]}), tmp_path / "part-00002.parquet")  # readable, but no run keys
    store.write_part([row("z", 9)], schema_())  # a good part after the damaged ones
    store.write_manifest({"parts": {"part-00001.parquet": 3, "part-00002.parquet": "three"}})
    assert store.stored_keys() == {"a", "z"}
    try:
        pq.read_table(bad)
    except Exception as err:  # noqa: BLE001 - whatever pyarrow raises, its text is in the message
        why = " ".join(str(err).split())[:120]
    lines, say = said()
    moved = store.verify(say)
    assert moved == [("part-00001.parquet", 3), ("part-00002.parquet", None)]  # a count that is not an int: None
    assert [p.name for p in store.parts()] == ["part-00000.parquet", "part-00003.parquet"]
    assert sorted(p.name for p in (tmp_path / "quarantine").iterdir()) == ["part-00001.parquet", "part-00002.parquet"]
    assert len(lines) == 2 and all("\n" not in line for line in lines)
    assert lines[0].startswith(f"{bad}: damaged (") and f": {why}); moved to " in lines[0] and why and why != "None"
    assert "its 3 runs count as missing and run again on resume" in lines[0]
    assert "its runs count as missing" in lines[1] and "KeyError" in lines[1]
    assert store.key_status() == {"a": True, "z": True}
    assert store.verify(say) == [] and len(lines) == 2  # nothing left to move
    # reading back quarantines as well
    again = store.write_part([row("e", 4)], schema_())
    again.write_bytes(b"not parquet")
    assert read_results(tmp_path)["run_key"].tolist() == ["a", "z"]


def test_the_reason_given_for_a_damaged_part_is_cut_at_120_characters(tmp_path):
    store = ResultStore(tmp_path / ("d" * 150))  # pyarrow's message names the path: well over 120 characters
    store.dir.mkdir()
    (store.dir / "part-00000.parquet").write_bytes(b"x")
    lines, say = said()
    store.verify(say)
    why = lines[0].split("damaged (ArrowInvalid: ", 1)[1].split("); moved to", 1)[0]
    assert len(why) == 120


def test_a_manifest_without_a_parts_record_still_quarantines(tmp_path):
    store = ResultStore(tmp_path)
    store.write_part([row("a")], schema_()).write_bytes(b"x")
    store.write_manifest({"parts": ["not", "a", "dict"]})
    lines, say = said()
    assert store.verify(say) == [("part-00000.parquet", None)]
    assert "its runs count as missing" in lines[0]


# --------------------------------------------------------------------------- prepare: resume, replace or refuse


def test_prepare_creates_a_new_directory_and_clears_stale_temporary_files(tmp_path):
    store = ResultStore(tmp_path / "a" / "b")
    store.prepare("id1", overwrite=False, describe="exp")
    assert store.dir.is_dir()
    store.write_manifest({"experiment_id": "id1", "experiment": {"name": "exp"}})
    (store.dir / ".part-00000.parquet.abc.tmp").write_bytes(b"half")
    (store.dir / "keep.tmp").write_bytes(b"not a hidden temp file")
    store.prepare("id1", overwrite=False, describe="exp")  # the same experiment: resume
    assert not (store.dir / ".part-00000.parquet.abc.tmp").exists() and (store.dir / "keep.tmp").exists()
    assert store.manifest()["experiment_id"] == "id1"


def test_prepare_a_directory_with_only_a_quarantine_is_new(tmp_path):
    (tmp_path / "quarantine").mkdir()
    ResultStore(tmp_path).prepare("id1", overwrite=False, describe="exp")


def test_prepare_refuses_a_file(tmp_path):
    path = tmp_path / "f"
    path.write_text("x")
    with pytest.raises(NotADirectoryError, match=": not a directory"):
        ResultStore(path).prepare("id1", overwrite=True, describe="exp")


def test_prepare_another_experiment_needs_overwrite_and_then_replaces_it(tmp_path):
    store = ResultStore(tmp_path / "out")
    store.prepare("old", overwrite=False, describe="exp")
    # a store the sweep wrote: its manifest carries statebiz's marker (only such a store is ever replaced)
    store.write_manifest({"experiment_id": "old", "experiment": {"name": "exp"}} | store_marker())
    store.write_part([row("a")], schema_())
    with pytest.raises(
        ResultExistsError,
        match=r"holds results of a different version of this experiment \(its file, base scenario or model "
        r"source changed\); pass --overwrite",
    ):
        store.prepare("new", overwrite=False, describe="exp")
    with pytest.raises(ResultExistsError, match="results of experiment 'exp'; pass --overwrite"):
        store.prepare("new", overwrite=False, describe="another")
    store.write_manifest({"experiment_id": "old"} | store_marker())
    with pytest.raises(ResultExistsError, match=r"results of experiment '\?'"):
        store.prepare("new", overwrite=False, describe="another")
    assert store.parts()  # refused: nothing touched
    store.prepare("new", overwrite=True, describe="another")
    assert store.dir.is_dir() and list(store.dir.iterdir()) == []
    assert [p.name for p in tmp_path.iterdir()] == ["out"]  # the old results are gone, not set aside


def test_prepare_keeps_parts_of_this_experiment_when_the_manifest_is_lost(tmp_path):
    store = ResultStore(tmp_path)
    store.write_part([row("a"), row("b", 1)], schema_())
    (tmp_path / ".part-00001.parquet.x.tmp").write_bytes(b"")
    lines, say = said()
    store.prepare("id", overwrite=False, describe="exp", keys={"a", "b", "c"}, say=say)
    assert "manifest.json is missing; the 1 part files hold runs of this experiment only" in lines[0]
    assert store.stored_keys() == {"a", "b"} and not (tmp_path / ".part-00001.parquet.x.tmp").exists()
    (tmp_path / "manifest.json").write_text("{damaged")
    store.prepare("id", overwrite=False, describe="exp", keys={"a", "b"}, say=say)
    assert "manifest.json is damaged" in lines[1]
    assert store.parts()


def test_prepare_leaves_alone_parts_of_another_experiment_without_a_manifest(tmp_path):
    store = ResultStore(tmp_path)
    store.write_part([row("a"), row("stranger")], schema_())
    lines, say = said()
    for overwrite in (False, True):
        with pytest.raises(InputError, match="hold runs of another experiment or model version"):
            store.prepare("id", overwrite=overwrite, describe="exp", keys={"a"}, say=say)
        with pytest.raises(InputError):
            store.prepare("id", overwrite=overwrite, describe="exp", keys=None, say=say)
    assert lines == [] and store.stored_keys() == {"a", "stranger"}


def test_prepare_never_replaces_files_that_are_not_results(tmp_path):
    (tmp_path / "thesis.tex").write_text("years of work")
    store = ResultStore(tmp_path)
    with pytest.raises(ResultExistsError, match="holds files that are not an experiment's results"):
        store.prepare("id", overwrite=False, describe="exp")
    with pytest.raises(
        InputError,
        match=r"no manifest.json, so it is not a statebiz result; --overwrite replaces only results \(move them",
    ):
        store.prepare("id", overwrite=True, describe="exp")
    assert (tmp_path / "thesis.tex").read_text() == "years of work"


def test_damage_is_reported_on_stderr_by_default(tmp_path, capsys):
    store = ResultStore(tmp_path)
    store.write_part([row("a")], schema_()).write_bytes(b"x")
    assert store.verify() == [("part-00000.parquet", None)]
    out, err = capsys.readouterr()
    assert (
        out == "" and err.startswith(f"statebiz: {tmp_path / 'part-00000.parquet'}: damaged (") and err.count("\n") == 1
    )


def test_prepare_with_overwrite_keeps_the_same_experiments_results(tmp_path):
    store = ResultStore(tmp_path / "out")
    store.prepare("id1", overwrite=False, describe="exp")
    store.write_manifest({"experiment_id": "id1", "experiment": {"name": "exp"}})
    store.write_part([row("a")], schema_())
    store.prepare("id1", overwrite=True, describe="exp")  # the same experiment: resumed, not replaced
    assert store.stored_keys() == {"a"} and store.manifest()["experiment_id"] == "id1"


def test_a_part_without_errors_keeps_the_schema(tmp_path):
    part = ResultStore(tmp_path).write_part([row("a"), row("b", 1)], schema_())
    assert pq.read_table(part).schema == schema_()  # the error column is a string column, not null


def test_a_part_number_taken_by_another_writer_is_never_replaced(tmp_path, monkeypatch):
    store = ResultStore(tmp_path)
    theirs = store.write_part([row("theirs")], schema_())
    numbers = iter([0, 1])  # this writer still believes 0 is free (another took it meanwhile)
    monkeypatch.setattr(store, "next_part_number", lambda: next(numbers))
    mine = store.write_part([row("mine")], schema_())
    assert (theirs.name, mine.name) == ("part-00000.parquet", "part-00001.parquet")
    assert pq.read_table(theirs).column("run_key").to_pylist() == ["theirs"]
    assert store.written["part-00001.parquet"] == 1
