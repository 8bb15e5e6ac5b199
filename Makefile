# Two set-up commands on a fresh clone:  `make run` (the local lifecycle) and `make test`.
# Each creates .venv with uv from uv.lock and installs what it needs.
SHELL := /bin/bash
PYTHON ?= python3
UV_VERSION := 0.13.8
UV := $(shell command -v uv 2>/dev/null || echo .tools/bin/uv)
VENV := .venv
BIN := $(VENV)/bin
export UV_PROJECT_ENVIRONMENT := $(VENV)
# Compile bytecode at install time: where PYTHONDONTWRITEBYTECODE is set, imports would otherwise
# recompile scikit-learn, pandas and MLflow from source on every start (12 s instead of 4 s here).
export UV_COMPILE_BYTECODE := 1
ENV ?= local
ARGS ?=

.PHONY: run test lint typecheck pytest bench bench-scoring bench-infra install-local install-dev clean

.tools/bin/uv:
	$(PYTHON) -m venv .tools
	.tools/bin/pip install --quiet "uv==$(UV_VERSION)"

install-local: $(UV)
	$(UV) sync --frozen --inexact --no-dev --extra local

install-dev: $(UV)
	$(UV) sync --frozen --inexact --all-extras --group dev

## The main job: data check -> train -> evaluate -> register -> deploy -> smoke test, on this machine.
run: install-local
	$(BIN)/mlops run --env $(ENV) $(ARGS)

## The test suite: lint, type check, tests.
test: install-dev lint typecheck pytest

lint:
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck:
	$(BIN)/mypy

pytest:
	$(BIN)/pytest -n auto --dist worksteal $(ARGS)

bench: install-dev
	$(BIN)/python bench/lifecycle.py

## Scoring load test against azureml-inference-server-http and mlflow models serve (~6 min; installs wrk).
bench-scoring: install-dev
	$(BIN)/python bench/scoring_load.py

bench-infra: install-dev
	$(BIN)/python bench/infra_mocks.py

clean:
	-$(BIN)/mlops endpoint stop
	rm -rf .state
