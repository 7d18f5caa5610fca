# One command to run the bot with a chat client, one to run the tests (see README).
VENV   ?= .venv
PY     := $(VENV)/bin/python
# Lint tools with dependencies of their own: checkov pins packages the test tools need newer.
CHECKOV := .tools/checkov
ATK     := tools/atk/node_modules/.bin/atk
LINT_APP_ID := 00000000-0000-4000-8000-000000000001
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

$(CHECKOV)/.installed:
	python3 -m venv $(CHECKOV)
	$(CHECKOV)/bin/pip install --quiet 'checkov==3.3.30'
	touch $@

tools/atk/node_modules/.installed: tools/atk/package.json tools/atk/package-lock.json
	npm ci --prefix tools/atk --ignore-scripts --no-audit --no-fund
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

## Style, the layers and the SDK boundary (docs/architecture.md), types, the Dockerfile, the
## Bicep templates (checkov) and the Teams manifest (the Agents Toolkit's validation rules).
lint: setup $(CHECKOV)/.installed tools/atk/node_modules/.installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports --no-cache
	$(VENV)/bin/mypy
	$(VENV)/bin/hadolint Dockerfile
	@mkdir -p build  # checkov passes a file it cannot parse: that fails here, too
	$(CHECKOV)/bin/checkov -d infra --framework bicep --compact --quiet --skip-download \
		> build/checkov.txt 2>&1; status=$$?; cat build/checkov.txt; \
		test $$status = 0 && ! grep -q "Parsing errors" build/checkov.txt
	rm -rf build/atk
	$(PY) -m manifest.build --app-id $(LINT_APP_ID) --host bot.example.org --out build/atk/app.zip
	$(PY) -m zipfile -e build/atk/app.zip build/atk/package
	$(ATK) validate --manifest-file build/atk/package/manifest.json --telemetry false -i false

format: setup
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

## The Teams app package (needs MicrosoftAppId).
package: setup
	$(PY) -m manifest.build

clean:
	rm -rf $(VENV) .tools node_modules tools/atk/node_modules build .pytest_cache .ruff_cache
