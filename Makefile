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
# pytest-xdist: one pytest worker per core; a test module (and the browser tests) stays on
# one worker, so the stack it shares starts once (tests/conftest.py: its scheduler).
PYTEST_WORKERS ?= auto
PYTEST := $(RUN) pytest -q -n $(PYTEST_WORKERS) --dist loadfile
# The tests start a hundred python processes: let them cache ktrdr's bytecode (and pytest
# its rewritten test modules) in the gitignored __pycache__ folders, even where the
# environment says not to (PYTHONDONTWRITEBYTECODE on the build machines); an empty value
# is unset for Python.
test test-unit test-browser: export PYTHONDONTWRITEBYTECODE =
STRATEGY ?= rsi_macd_trend
# Images that `make images` builds and `make images-check` verifies (worker-gpu on demand),
# as $(IMAGE_REGISTRY)/ktrdr-<kind>:$(IMAGE_TAG) (the dev image: ktrdr-backend:dev).
IMAGES ?= backend worker-cpu dev
IMAGE_REGISTRY ?= ghcr.io/kpiteira
IMAGE_TAG ?= test
# make env-up / env-down: canary, local or homelab; make env-verify: what CI brings up.
ENV ?= canary
VERIFY ?= canary py313 local homelab sandboxes

.PHONY: help uv setup browser test test-unit test-browser quality lock-check demo demo-local \
	benchmark benchmark-report test-canary-functional up down images images-check docker-engine \
	docker-engine-down env-up env-down env-verify deploy-drill

help:  ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-24s %s\n", $$1, $$2}'

uv:  ## Install uv when it is missing
	@$(UV) --version >/dev/null 2>&1 || python3 -m pip install --quiet uv

setup: uv  ## Create .venv: locked packages, CPU torch, dev tools
	@sh deploy/scripts/sync-cpu-torch.sh --extra ml --extra postgres --extra cli --extra mcp

browser:  ## Chromium for the browser tests (apt-get install chromium when none is found)
	@sh scripts/install_chromium.sh

test: setup browser  ## Run every test (browser tests included; screenshots in test-artifacts/)
	$(PYTEST)

test-browser: setup browser  ## Dashboard and reports in a real Chromium against a live stack
	$(RUN) pytest -q tests/browser

test-unit: setup  ## Run the unit tests
	$(PYTEST) tests/unit

lock-check: uv  ## uv.lock matches pyproject.toml
	$(UV) lock --check

quality: setup lock-check  ## ruff, deptry, import contracts, hadolint, deploy validators
	$(RUN) ruff check .
	$(RUN) ruff format --check .
	$(RUN) deptry .
	$(RUN) lint-imports
	$(RUN) hadolint deploy/docker/Dockerfile.* deploy/images/*/Dockerfile
	$(RUN) check-jsonschema --builtin-schema vendor.github-workflows .github/workflows/*.yml
	$(RUN) check-jsonschema --builtin-schema vendor.compose-spec \
		deploy/environments/*/docker-compose*.yml ktrdr/infra/sandbox/templates/docker-compose.base.yml
	$(RUN) zizmor --offline --min-severity high .github/workflows
	$(RUN) pytest -q tests/unit/infra/deploy  # deploy artifacts checked against each other

demo: setup  ## Local stack up; train and backtest the example through the API; stack down
	@if [ -n "$$KTRDR_API_URL" ]; then \
		echo "demo against $$KTRDR_API_URL"; \
		$(RUN) ktrdr train $(STRATEGY) --follow && $(RUN) ktrdr backtest $(STRATEGY) --follow; \
	else \
		trap '$(RUN) ktrdr down' EXIT; \
		$(RUN) ktrdr up && \
		$(RUN) ktrdr train $(STRATEGY) --follow && \
		$(RUN) ktrdr backtest $(STRATEGY) --follow; \
	fi

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

docker-engine:  ## A Docker engine + Compose v2 (a private one if none answers); prints export DOCKER_HOST=...
	@python3 -m ktrdr.infra.engine up

docker-engine-down:  ## Stop the private Docker engine and the local registry that docker-engine started
	@python3 -m ktrdr.infra.engine down

images:  ## docker build $(IMAGES) from deploy/docker/ into the engine (local stand-in bases)
	python3 -m ktrdr.infra.images build $(IMAGES) --registry $(IMAGE_REGISTRY) --tag $(IMAGE_TAG)

images-check: setup  ## Build, check $(IMAGES) with docker run (+ the py3.13 backend), push to the local registry, size table
	python3 -m ktrdr.infra.images check $(IMAGES) --py313

env-up: setup  ## Bring ENV=canary|local|homelab up for real (docker compose up -d --wait)
	$(RUN) python -m ktrdr.infra.environments up $(ENV)

env-down:  ## Take ENV=canary|local|homelab down with its volumes
	$(RUN) python -m ktrdr.infra.environments down $(ENV)

env-verify: setup  ## Each of VERIFY up for real, checked (canary + drills, ...), down, nothing left
	$(RUN) python -m ktrdr.infra.environments verify $(VERIFY)

deploy-drill: setup  ## Follow docs/deploy.md: push sha-A, deploy, roll out sha-B, roll back
	$(RUN) python -m ktrdr.infra.deploy_doc
