# Every routine task has a target. `make test` and `make demo` work on a fresh
# clone: they create .venv (pinned Python packages) and node_modules (pinned
# aws-cdk CLI) on first use.
SHELL := /bin/bash
# The suite runs on the Python of the Lambda runtime the stack deploys
# (infra/function.py: RUNTIME). pyenv's install is preferred over a shim that may
# not be active; set PYTHON=/path/to/python3.13 to use another.
PYTHON_VERSION := 3.13
PYTHON ?= $(firstword $(wildcard $(HOME)/.pyenv/versions/$(PYTHON_VERSION)*/bin/python$(PYTHON_VERSION)) \
	$(shell command -v python$(PYTHON_VERSION) 2>/dev/null) python$(PYTHON_VERSION))
VENV := .venv
BIN := $(VENV)/bin
PY := $(BIN)/python

# Quiet, offline CDK: no Node end-of-life banner, no telemetry, no notices.
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20
export CDK_DISABLE_CLI_TELEMETRY := true
export CDK_DISABLE_VERSION_CHECK := 1
export PIP_DISABLE_PIP_VERSION_CHECK := 1
CDK := npx --no-install cdk --no-notices

.DEFAULT_GOAL := help
.PHONY: help venv node lint format test unit infra-test synth deploy destroy demo invoke inventory smoke preflight replay pause models bench reliability clean

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

# The stamp names the Python version, so a venv made with another one is rebuilt.
$(VENV)/.installed-py$(PYTHON_VERSION): requirements.txt requirements-dev.txt constraints.txt
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info[:2] != tuple(map(int, "$(PYTHON_VERSION)".split("."))))' \
		|| { echo "Python $(PYTHON_VERSION) is required (the Lambda runtime's); found: $(PYTHON)"; exit 1; }
	rm -rf $(VENV)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements-dev.txt -c constraints.txt
	touch $@

venv: $(VENV)/.installed-py$(PYTHON_VERSION) ## Create .venv with the pinned Python packages

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

node: node_modules/.installed ## Install the pinned aws-cdk CLI

lint: venv ## ruff (lint + format check) and mypy
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: venv ## Apply ruff fixes and formatting
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

test: venv node lint ## Lint, type-check and run the whole suite
	$(BIN)/pytest

unit: venv ## Unit tests only (no AWS, no emulator)
	$(BIN)/pytest tests/unit

infra-test: venv node ## CDK stack tests only (template, patterns, nag, cfn-lint)
	$(BIN)/pytest tests/infra

synth: venv node ## Synthesize the stack(s) into cdk.out/ with the pinned CLI, offline
	$(CDK) synth --quiet

deploy: venv node ## Deploy to the account in your AWS credentials (cdk bootstrap once first)
	$(CDK) deploy --all

destroy: venv node ## Remove the stack(s)
	$(CDK) destroy --all

demo: venv node ## Watch the function catch a bad refresh on an embedded AWS emulator
	$(PY) -m scripts.demo $(ARGS)

invoke: venv node ## Run one event file through the function on the emulator: make invoke EVENT=path.json
	@test -n "$(EVENT)" || { echo "usage: make invoke EVENT=path/to/event.json"; exit 2; }
	$(PY) -m scripts.demo --invoke "$(EVENT)" $(ARGS)

inventory: venv ## Print the fleet inventory invoke's answer for a demo fleet on the emulator
	$(PY) -m scripts.inventory $(ARGS)

smoke: venv ## After a deploy, check the stack: make smoke ARGS="--region eu-west-1 [--group NAME]"
	$(PY) -m scripts.ops.smoke $(ARGS)

preflight: venv ## IAM preflight for rolling back launch-template groups: make preflight ARGS="--region eu-west-1"
	$(PY) -m scripts.ops.preflight $(ARGS)

replay: venv ## List (or --replay) the failed-events queue: make replay ARGS="--region eu-west-1"
	$(PY) -m scripts.ops.replay $(ARGS)

pause: venv ## Pause, resume or show every rollback: make pause ARGS="status --region eu-west-1"
	$(PY) -m scripts.ops.pause $(ARGS)

models: venv ## Refresh the CloudWatch model the function ships, from the pinned botocore
	$(PY) -m scripts.models

bench: venv ## Benchmark: critical path, overhead, cold start, storm, memory, size
	$(PY) -m scripts.bench --write docs/PERFORMANCE.md

reliability: venv ## Print the reliability figures shown in docs/RELIABILITY.md
	$(PY) -m scripts.reliability

clean: ## Remove generated files (keeps .venv and node_modules)
	rm -rf cdk.out .pytest_cache .mypy_cache .ruff_cache .hypothesis
