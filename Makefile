# Zenith Online. `make run` and `make test` do all the set-up themselves.
.DEFAULT_GOAL := help
SHELL := /bin/bash

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
BENCH_STAMP := $(VENV)/.bench-stamp

.PHONY: help install run test test-connect lint fmt bench clean

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-13s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml constraints.txt
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11+ is required: set PYTHON=python3.11")'
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[dev]'
	@touch $@

install: $(STAMP) ## Create .venv and install the pinned dependencies (once)

run: install ## Set up the local lakehouse, generate demo data if empty, run ELT.py
	$(VENV)/bin/zenith setup
	$(VENV)/bin/zenith generate --if-empty
	$(PY) ELT.py

# Two pytest workers, each with its own Spark session: the suite waits on Spark as much as it computes.
TEST_WORKERS ?= 2

test: install ## Run the whole test suite (TEST_WORKERS=1 for a single process)
	$(PY) -m pytest -n $(TEST_WORKERS)

# Streaming, the end-to-end pipeline, and Connect-only checks (classic vs Connect tables).
CONNECT_TESTS := tests/test_connect.py tests/test_bronze.py tests/test_silver.py tests/test_pipeline.py
# One pytest process and so one Spark Connect server: a second worker would start a second server JVM.
CONNECT_WORKERS ?= 0

test-connect: install ## Run the streaming and end-to-end tests through a local Spark Connect server
	$(PY) -m pytest -n $(CONNECT_WORKERS) --connect $(CONNECT_TESTS)

lint: install ## ruff lint and format check
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

fmt: install ## Format and auto-fix with ruff
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

$(BENCH_STAMP): $(STAMP)
	$(PY) -m pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[dev,bench]'
	@touch $@

bench: $(BENCH_STAMP) ## Benchmarks: the generator, ELT.py on 1M events vs its yardsticks (BENCH_ARGS=...), the daily series (DAILY_ARGS=...)
	$(PY) benchmarks/bench_generator.py
	$(PY) benchmarks/bench_pipeline.py $(BENCH_ARGS)
	$(PY) benchmarks/daily_series.py $(DAILY_ARGS)

clean: ## Remove the local lakehouse, caches and .venv
	rm -rf lakehouse .pytest_cache .ruff_cache $(VENV) *.egg-info
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
