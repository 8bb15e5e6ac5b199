# Two set-up commands on a fresh clone:  `make run` (the local lifecycle) and `make test`.
# Each creates .venv with uv from uv.lock and installs what it needs.
SHELL := /bin/bash
PYTHON ?= python3
UV_VERSION := 0.13.8
UV := $(shell command -v uv 2>/dev/null || echo .tools/bin/uv)
VENV := .venv
BIN := $(VENV)/bin
export UV_PROJECT_ENVIRONMENT := $(VENV)
ENV ?= local
ARGS ?=

.PHONY: run test lint typecheck pytest bench install-local install-dev clean

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
	$(BIN)/pytest $(ARGS)

bench: install-dev
	$(BIN)/python bench/lifecycle.py

clean:
	-$(BIN)/mlops endpoint stop --env local
	rm -rf .state
