"""Rules of a whole run that a plausible slip breaks without any unit test noticing (issue 15).

- Firms exit and enter in a run, and the exit rules hold for every firm in business at the end.
- Every named random stream depends on the run's seed (and on its name), and a policy
  comparison stays paired: the same seed gives the same initial world and the same streams
  whatever the levers.
- ``model_version()``: editing the model's source changes the hash, editing a tool does not.
"""

from __future__ import annotations

import shutil

import numpy as np
import pytest
from conftest import SMALL, run_cached

from simulation import io, provenance
from simulation.initialisation import make_streams
from simulation.model import StateBusinessModel
from simulation.schedule import STREAMS


@pytest.mark.runs_model
def test_firms_exit_and_enter_and_the_exit_rules_hold():
    m = run_cached(1, **SMALL)
    t = m.region_table()
    assert t["exits"].sum() > 0 and t["entries"].sum() > 0, "a run of 20 quarters without exits or entries"
    f, p = m.world.firms, m.params
    alive = f.alive
    assert (f.loss_streak[alive] < p["exit_losses"]).all(), "a firm in business after exit_losses losses in a row"
    assert (f.capital[alive] >= p["min_capital"]).all(), "a firm in business below the minimum capital"
    assert (f.capital[~alive] == 0).all()


def test_every_named_stream_depends_on_the_seed_and_its_name():
    assert len(STREAMS) >= 8
    a, a_again, b = make_streams(1, STREAMS), make_streams(1, STREAMS), make_streams(2, STREAMS)
    first = {name: g.random(4).tolist() for name, g in a.items()}
    assert first == {name: g.random(4).tolist() for name, g in a_again.items()}, "same seed: the same streams"
    other = {name: g.random(4).tolist() for name, g in b.items()}
    for name in STREAMS:
        assert first[name] != other[name], f"stream {name!r} does not depend on the run's seed"
    assert len({tuple(v) for v in first.values()}) == len(STREAMS), "two streams draw the same numbers"


@pytest.mark.runs_model
def test_a_models_streams_and_initial_world_depend_on_its_seed_and_not_on_its_levers():
    small = {"firms": 800, "residents_per_region": 200, "burn_in": 0, "steps": 1}
    one, two = StateBusinessModel(rng=1, **small), StateBusinessModel(rng=2, **small)
    audited = StateBusinessModel(rng=1, **(small | {"audit_rate": 0.3, "transparency": 0.9, "support_share": 0.3}))
    assert set(one.world.streams) == set(STREAMS)
    for name in STREAMS:
        s1 = one.world.streams[name].bit_generator.state["state"]
        assert s1 != two.world.streams[name].bit_generator.state["state"], f"stream {name!r} ignores the seed"
        assert s1 == audited.world.streams[name].bit_generator.state["state"], f"stream {name!r} unpaired"
    for column in ("capital", "productivity", "region", "connection", "home_official", "trust"):
        np.testing.assert_array_equal(getattr(one.firms, column), getattr(audited.firms, column), err_msg=column)
    assert not np.array_equal(one.firms.capital, two.firms.capital)


@pytest.fixture
def package_copy(tmp_path, monkeypatch):
    """A copy of the package's files that ``model_version`` reads instead of the package."""
    copy = tmp_path / "simulation"
    shutil.copytree(io.PACKAGE_DIR, copy, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr(provenance, "PACKAGE_DIR", copy)
    return copy


def version() -> str:
    """The model version computed afresh (``model_version`` caches it for the process)."""
    return io.model_version.__wrapped__()


def _edit(path):
    path.write_text(path.read_text(encoding="utf-8") + "\n# an edit\n", encoding="utf-8")


@pytest.mark.parametrize("model_file", ["submodels/dealings.py", "formulas.py", "data/turkestan_survey.toml"])
def test_model_version_changes_with_the_models_source(package_copy, model_file):
    before = version()
    assert before == version()
    _edit(package_copy / model_file)
    assert version() != before, f"editing {model_file} left the model version unchanged"


@pytest.mark.parametrize(
    "tool_file",
    [
        "cli/main.py",
        "io.py",
        "provenance.py",
        "calibration/run.py",
        "runs/store.py",
        "studies/base.py",
        "analysis/analysis.py",
        "report/content.py",
        "app/pages.py",
        "data/identification.toml",
        "data/validation.toml",
        "data/ppp_record.toml",
    ],
)
def test_model_version_ignores_the_tools(package_copy, tool_file):
    before = version()
    _edit(package_copy / tool_file)
    assert version() == before, f"editing {tool_file} (a tool) changed the model version"
