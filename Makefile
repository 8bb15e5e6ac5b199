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

.PHONY: help run test test-train-env format lint typecheck pytest bench bench-scoring bench-infra install-local install-dev clean
.DEFAULT_GOAL := help

## List the targets (a `## ` comment above a target describes it).
help:
	@echo "usage: make <target> [ENV=local] [ARGS='...']"
	@awk '/^## /{desc = substr($$0, 4); next} \
		desc != "" && /^[a-zA-Z0-9_.-]+:/{split($$0, t, ":"); printf "  %-14s %s\n", t[1], desc} \
		{desc = ""}' $(firstword $(MAKEFILE_LIST))

.tools/bin/uv:
	$(PYTHON) -m venv .tools
	.tools/bin/pip install --quiet "uv==$(UV_VERSION)"

## Install what `make run` needs into .venv (from uv.lock).
install-local: $(UV)
	$(UV) sync --frozen --inexact --no-dev --extra local

## Install everything, with the dev tools, into .venv (from uv.lock).
install-dev: $(UV)
	$(UV) sync --frozen --inexact --all-extras --group dev

## The main job: data check -> train -> evaluate -> register -> deploy -> smoke test, on this machine.
run: install-local
	$(BIN)/mlops run --env $(ENV) $(ARGS)

## The test suite: lint, type check, tests.
test: install-dev lint typecheck pytest

# The first run installs the pip section into .cache/train-env/ (about a minute; needs the package index).
## The Azure ML training environment: environments/train-conda.yaml in a cached venv, the steps run in it.
test-train-env: install-dev
	$(BIN)/pytest tests/environments $(ARGS)

## Format the code and apply ruff's safe fixes.
format: install-dev
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

## ruff (lint and format check) and codespell.
lint:
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/codespell
	$(BIN)/lint-imports --no-cache --no-logo

## mypy (strict).
typecheck:
	$(BIN)/mypy

## The tests only (ARGS='-m "not slow"' skips the end-to-end runs).
pytest:
	$(BIN)/pytest -n auto --dist worksteal $(ARGS)

## Time the local lifecycle (bench/lifecycle.py).
bench: install-dev
	$(BIN)/python bench/lifecycle.py

## Scoring load test against azureml-inference-server-http and mlflow models serve (~6 min; installs wrk).
bench-scoring: install-dev
	$(BIN)/python bench/scoring_load.py

## Time the Pulumi program under mocks (bench/infra_mocks.py).
bench-infra: install-dev
	$(BIN)/python bench/infra_mocks.py

## Stop the local endpoint and remove .state/ and the training environment's venv (.cache/train-env/).
clean:
	-$(BIN)/mlops endpoint stop
	rm -rf .state .cache/train-env
