# Quick start: `make run` (the main job) and `make test` (the tests).
# Both create .venv with a Python >= 3.12 interpreter found on this machine and
# install the project into it first.
SHELL := /bin/bash
VENV  := .venv
PY    := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# the calibrated Turkestan scenario once a calibration has written it, else the hand-set one
SCENARIO ?= $(firstword $(wildcard scenarios/turkestan_calibrated.toml) scenarios/turkestan.toml)

.PHONY: run test bench setup clean-venv

setup: $(STAMP)

$(STAMP): pyproject.toml
	@bash tools/find_python.sh > /dev/null || exit 1
	@if [ ! -x $(PY) ]; then "$$(bash tools/find_python.sh)" -m venv $(VENV); fi
	@$(PY) -m pip install --quiet --upgrade pip
	@$(PY) -m pip install --quiet -e ".[dev]"
	@touch $(STAMP)

run: $(STAMP)
	$(VENV)/bin/statebiz run $(SCENARIO) --overwrite

test: $(STAMP)
	$(PY) -m pytest -q

bench: $(STAMP)
	$(PY) benchmarks/bench_model.py
	$(PY) benchmarks/bench_sweep.py

clean-venv:
	rm -rf $(VENV)
