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

.PHONY: run run-quick run-scenario test bench baseline setup clean-venv app

setup: $(STAMP)

$(STAMP): pyproject.toml
	@bash tools/find_python.sh > /dev/null || exit 1
	@if [ ! -x $(PY) ]; then "$$(bash tools/find_python.sh)" -m venv $(VENV); fi
	@$(PY) -m pip install --quiet --upgrade pip
	@$(PY) -m pip install --quiet -e ".[$(EXTRAS)]"
	@touch $(STAMP)

# The main job: the partnership-vs-symbiotic report (uses scenarios/turkestan_calibrated.toml
# when a calibration has written it, else scenarios/turkestan.toml).
run: $(STAMP)
	$(VENV)/bin/statebiz compare --overwrite

run-quick: $(STAMP)
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

# The interactive app (model page and sweep explorer) on http://127.0.0.1:8765/ (PORT=...)
PORT ?= 8765
app: $(STAMP)
	$(VENV)/bin/statebiz app --port $(PORT)

# Regenerate the regression baseline (tests/baseline/): only for a deliberate change of
# results, committed on its own with a message that names the change.
baseline: $(STAMP)
	$(PY) -m tests.regression --write

bench: $(STAMP)
	$(PY) benchmarks/bench_model.py
	$(PY) benchmarks/bench_sweep.py

clean-venv:
	rm -rf $(VENV)
