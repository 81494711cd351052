# Quick start: `make run` (the main job) and `make test` (the tests).
# Both create .venv with a Python >= 3.12 interpreter found on this machine and
# install the project into it first.
SHELL := /bin/bash
VENV  := .venv
PY    := $(VENV)/bin/python
# extras installed with the project: dev (pytest, ruff, playwright), app (solara: statebiz app), and mpi (mpi4py, for the mpi backend)
# when an MPI library is on this machine (mpiexec on the PATH); `make EXTRAS=dev` leaves it out
EXTRAS ?= dev,app$(if $(shell command -v mpiexec 2>/dev/null),$(comma)mpi,)
comma := ,
STAMP := $(VENV)/.installed
# exact versions of every dependency and extra (make lock regenerates it after a change of pyproject.toml)
LOCK  := requirements.lock

.PHONY: run run-quick run-scenario test test-fast test-other-class bench baseline setup clean-venv app lock mutation mutation-report mutation-clean

setup: $(STAMP)

# Dependencies from the lock (mpi4py only with the mpi extra: it needs an MPI library), then the
# project itself without resolving anything again.
$(STAMP): pyproject.toml $(LOCK)
	@bash tools/find_python.sh > /dev/null || exit 1
	@if [ ! -x $(PY) ]; then "$$(bash tools/find_python.sh)" -m venv $(VENV); fi
	@$(PY) -m pip install --quiet --upgrade pip
	@if [[ ",$(EXTRAS)," == *,mpi,* ]]; then cp $(LOCK) $(VENV)/lock.txt; \
	 else grep -v '^mpi4py==' $(LOCK) > $(VENV)/lock.txt; fi
	@$(PY) -m pip install --quiet -r $(VENV)/lock.txt
	@$(PY) -m pip install --quiet --no-deps -e ".[$(EXTRAS)]"
	@touch $(STAMP)

# Regenerate the lock (every extra, Python 3.12, Linux x86_64) with uv; commit it with the change
# of pyproject.toml that needed it.
lock: $(STAMP)
	@$(PY) -m pip install --quiet uv
	@{ echo "# Exact versions of every dependency (all extras) for Python 3.12 on Linux x86_64."; \
	   echo "# Regenerate with: make lock   (uv pip compile pyproject.toml --all-extras ...); make setup installs from it."; \
	   $(VENV)/bin/uv pip compile pyproject.toml --all-extras --python-version 3.12 \
	     --python-platform x86_64-unknown-linux-gnu --no-header -q; } > $(LOCK).new && mv $(LOCK).new $(LOCK)

# The main job: validation out of sample at the shipped calibration (docs/calibration/posterior.csv),
# then the partnership-vs-symbiotic report over the posterior (scenarios/turkestan_calibrated.toml
# and the posterior's draws x paired seeds), which shows the validation's result.
run: $(STAMP)
	$(VENV)/bin/statebiz validate --overwrite
	$(VENV)/bin/statebiz compare --overwrite

run-quick: $(STAMP)
	$(VENV)/bin/statebiz validate --quick --overwrite
	$(VENV)/bin/statebiz compare --quick --overwrite

# One scenario run: make run-scenario SCENARIO=scenarios/kazakhstan.toml
SCENARIO ?= $(firstword $(wildcard scenarios/turkestan_calibrated.toml) scenarios/turkestan.toml)
run-scenario: $(STAMP)
	$(VENV)/bin/statebiz run $(SCENARIO) --overwrite

# The tests: lint and format (ruff), then the suite (the layering check and the regression
# baseline included).
test: $(STAMP)
	$(VENV)/bin/ruff check --quiet .
	$(VENV)/bin/ruff format --check --quiet .
	$(PY) -m pytest -q

# The fast lane: the tests that run neither the whole model nor a command (every test without the
# runs_model marker; tests/conftest.py marks the files that do), with the kernels compiled (about
# 12 CPU s once on a fresh clone, then loaded from numba's cache; interpreted, the small model runs of
# the lane took 70 CPU s more: issue 24): about 30 CPU s on 2 cores. For a change of one formula or one module; make test stays the full suite.
test-fast: $(STAMP)
	$(PY) -m pytest -q -m "not runs_model"

# The interactive app (model page and sweep explorer) on http://127.0.0.1:8765/ (PORT=...)
PORT ?= 8765
app: $(STAMP)
	$(VENV)/bin/statebiz app --port $(PORT)

# Regenerate the regression baseline (tests/baseline/) and the fast path's equivalence reference
# (tests/golden/fast_path_reference.parquet, tests/fast_path.py): only for a deliberate change of
# results, committed on its own with a message that names the change. Written in portable mode
# (numpy capped at x86-64-v3, numba generic), so that every x86-64-v3 machine compares it bit for
# bit; other classes compare within a relative 1e-9 with counts exact (tests/regression.py).
baseline: $(STAMP)
	STATEBIZ_PORTABLE=1 $(PY) -m tests.regression --write
	STATEBIZ_PORTABLE=1 $(PY) -m tests.fast_path --write

# The regression tests as the other kind of machine takes them (CI runs both): the baseline's
# class (portable mode) on a machine of another class, else one level down (numpy's dispatch
# capped at x86-64-v2, numba generic), another class.
test-other-class: $(STAMP)
	eval "$$($(PY) -m tests.regression --other-class-env)" && $(PY) -m pytest -q tests/test_regression.py tests/core/test_machine.py

# Mutation testing of the model core (issue 15; slow, not part of make test): mutmut mutates the
# modules that [tool.mutmut] in pyproject.toml names, runs the tests there on each mutant, then
# prints the score per module and the surviving mutants. Results stay in mutants/ (a second run
# only runs mutants not run yet; make mutation-clean starts over). A part of the core:
#   make mutation MUTANTS='simulation.formulas.* simulation.submodels.capture.*'
# Each survivor's diff: make mutation-report DIFF=1, or .venv/bin/mutmut show NAME.
MUTANTS ?=
CHILDREN ?= $(shell nproc)
mutation: $(STAMP)
	$(VENV)/bin/mutmut run --max-children $(CHILDREN) $(foreach m,$(MUTANTS),'$(m)')
	@$(PY) tools/mutation_report.py

mutation-report: $(STAMP)
	@$(PY) tools/mutation_report.py $(if $(DIFF),--diff,)

mutation-clean:
	rm -rf mutants

# Every figure of issue 11's targets table in one invocation (stepping at 100,000 firms and the
# plain-Mesa reference in the same run, numba compile time, memory, the 1:1 national run, the
# sweep on processes and Dask, the calibration's time per run), with a per-step profile for each
# target missed. About 15-20 minutes (the 1:1 run is most of it); BENCH_ARGS=--quick for a smoke run.
BENCH_ARGS ?=
bench: $(STAMP)
	$(PY) benchmarks/bench_model.py $(BENCH_ARGS)

clean-venv:
	rm -rf $(VENV)
