# Every target bootstraps uv when it is missing. The environment holds the CPU build of
# the locked torch (see deploy/scripts/sync-cpu-torch.sh); UV_NO_SYNC keeps `uv run`
# from swapping it for the CUDA build that uv.lock resolves on PyPI.
SHELL := /bin/bash
.DEFAULT_GOAL := help

UV := $(shell command -v uv 2>/dev/null)
ifeq ($(UV),)
UV := python3 -m uv
endif
export UV
export UV_NO_SYNC := 1
# The local development Python; the torch wheelhouse on the build machines is cp311.
export UV_PYTHON ?= 3.11
# A folder holding the CPU torch wheel for offline installs; defaults to pip's find-links.
export TORCH_WHEELHOUSE ?= $(PIP_FIND_LINKS)
RUN := $(UV) run --no-sync
STRATEGY ?= rsi_macd_trend
# Images that `make images` builds and `make images-check` verifies (worker-gpu on demand).
IMAGES ?= backend worker-cpu dev

.PHONY: help uv setup browser test test-unit test-browser quality lock-check demo demo-local \
	benchmark benchmark-report test-canary-functional up down images images-check

help:  ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-24s %s\n", $$1, $$2}'

uv:  ## Install uv when it is missing
	@$(UV) --version >/dev/null 2>&1 || python3 -m pip install --quiet uv

setup: uv  ## Create .venv: locked packages, CPU torch, dev tools
	@sh deploy/scripts/sync-cpu-torch.sh --extra ml --extra postgres --extra cli --extra mcp

browser:  ## Chromium for the browser tests (apt-get install chromium when none is found)
	@sh scripts/install_chromium.sh

test: setup browser  ## Run every test (browser tests included; screenshots in test-artifacts/)
	$(RUN) pytest -q

test-browser: setup browser  ## Dashboard and reports in a real Chromium against a live stack
	$(RUN) pytest -q tests/browser

test-unit: setup  ## Run the unit tests
	$(RUN) pytest -q tests/unit

lock-check: uv  ## uv.lock matches pyproject.toml
	$(UV) lock --check

quality: setup lock-check  ## ruff, deptry, import contracts, hadolint, deploy validators
	$(RUN) ruff check .
	$(RUN) ruff format --check .
	$(RUN) deptry .
	$(RUN) lint-imports
	$(RUN) hadolint deploy/docker/Dockerfile.*
	$(RUN) check-jsonschema --builtin-schema vendor.github-workflows .github/workflows/*.yml
	$(RUN) check-jsonschema --builtin-schema vendor.compose-spec \
		deploy/environments/*/docker-compose*.yml ktrdr/infra/sandbox/templates/docker-compose.base.yml
	$(RUN) zizmor --offline --min-severity high .github/workflows
	$(RUN) pytest -q tests/unit/infra/deploy  # deploy artifacts checked against each other

demo: setup  ## Local stack up; train and backtest the example through the API; stack down
	@trap '$(RUN) ktrdr down' EXIT; \
	$(RUN) ktrdr up && \
	$(RUN) ktrdr train $(STRATEGY) --follow && \
	$(RUN) ktrdr backtest $(STRATEGY) --follow

demo-local: setup  ## The same research loop in this process, without the stack
	$(RUN) ktrdr train $(STRATEGY) --local
	$(RUN) ktrdr backtest $(STRATEGY) --local

up: setup  ## Start the local stack (backend + backtest worker + training worker)
	$(RUN) ktrdr up

down:  ## Stop the local stack
	$(RUN) ktrdr down

test-canary-functional: setup  ## Canary check (KTRDR_API_URL, else a throw-away local stack)
	RUN="$(RUN)" bash deploy/canary/run-local.sh

benchmark: setup  ## Backtest engine speed on 100,000 bars
	$(RUN) python benchmarks/backtest_speed.py

benchmark-report: setup browser  ## Report size and time to first render of a 3,270-bar backtest
	$(RUN) python benchmarks/report_render.py

images: setup  ## Build $(IMAGES) daemonlessly (buildah, private store, local Debian base)
	bash deploy/images/build.sh $(IMAGES)

images-check: images  ## Build, then verify $(IMAGES) in containers and print the size table
	KTRDR_PYTHON=$(CURDIR)/.venv/bin/python python3 deploy/images/check.py $(IMAGES)
