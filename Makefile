# One command to run the bot with a chat client, one to run the tests (see README).
VENV   ?= .venv
PY     := $(VENV)/bin/python
SUDO   := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: setup run chat serve test test-fast test-browser lint format package clean

setup: $(VENV)/.installed node_modules/.installed

$(VENV)/.installed: pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund
	touch $@

/usr/bin/chromium:
	$(SUDO) apt-get update -qq
	$(SUDO) apt-get install -y -qq chromium

## The bot plus Microsoft's Agents Playground (open http://127.0.0.1:56150).
run: setup
	$(PY) -m bot playground

## A terminal chat with a bot that is already running (make serve).
chat: setup
	$(PY) -m bot chat

serve: setup
	$(PY) -m bot

## Everything: lint, unit, HTTP integration and browser end-to-end tests.
test: setup /usr/bin/chromium lint
	$(PY) -m pytest

test-fast: setup
	$(PY) -m pytest -m "not browser and not slow"

test-browser: setup /usr/bin/chromium
	$(PY) -m pytest -m browser

## Style, the layers and the SDK boundary (docs/architecture.md), types, the Dockerfile.
lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports --no-cache
	$(VENV)/bin/mypy
	$(VENV)/bin/hadolint Dockerfile

format: setup
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

## The Teams app package (needs MicrosoftAppId).
package: setup
	$(PY) -m manifest.build

clean:
	rm -rf $(VENV) node_modules build .pytest_cache .ruff_cache
