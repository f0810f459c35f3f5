# AccessFlow developer commands. Every target creates the virtualenv it needs.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export AWS_DEFAULT_REGION ?= us-east-1
export TZ := UTC

.PHONY: install demo test lint typecheck unit integration e2e browser screenshots bench serve openapi clean stress-offboarding

$(STAMP): pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/python -m infra.demo

serve: $(STAMP)
	$(BIN)/python -m infra.serve

# checkov lives in its own virtualenv: it pins boto3==1.35.49, networkx<2.7 and packaging<24, which
# would downgrade the project's own (pyproject.toml's [checkov] extra records the version).
CHECKOV := .local/checkov/bin/checkov
$(CHECKOV):
	$(PY) -m venv .local/checkov
	.local/checkov/bin/pip install --quiet 'checkov==3.3.30'

lint: $(STAMP) $(CHECKOV)
	$(BIN)/ruff check .
	$(BIN)/cfn-lint template.yaml
	$(BIN)/statelint workflows/*.asl.json
	$(CHECKOV) --config-file .checkov.yaml --skip-download

typecheck: $(STAMP)
	$(BIN)/mypy

unit: $(STAMP)
	$(BIN)/pytest -q tests/unit

integration: $(STAMP)
	$(BIN)/pytest -q tests/integration

e2e: $(STAMP)
	$(BIN)/pytest -q tests/e2e

# The browser tests (tests/browser) drive a real Chromium: .ci/ensure-chromium finds or installs one
# (CHROMIUM, PATH, Debian's chromium, playwright install) or fails, so they never skip.
test: lint typecheck
	CHROMIUM="$$(PY=$(BIN)/python ./.ci/ensure-chromium)" && export CHROMIUM && $(BIN)/pytest -q -n 2 tests

browser: $(STAMP)
	CHROMIUM="$$(PY=$(BIN)/python ./.ci/ensure-chromium)" && export CHROMIUM && $(BIN)/pytest -q tests/browser

# The browser tests again, writing their screenshots into docs/screenshots/ (the ones the README shows)
# instead of .local/screenshots/: run it when a page changed, look at them, commit them.
screenshots: $(STAMP)
	CHROMIUM="$$(PY=$(BIN)/python ./.ci/ensure-chromium)" && export CHROMIUM && \
	ACCESSFLOW_SCREENSHOTS=docs/screenshots $(BIN)/pytest -q -n 2 --dist loadfile tests/browser

# Regenerate the committed OpenAPI document from the app's routes (a test keeps it equal to GET /openapi.json).
openapi: $(STAMP)
	PYTHONPATH=functions $(BIN)/python -m accessflow.handlers.openapi > docs/openapi.json

bench: $(STAMP)
	$(BIN)/python -m infra.bench

# The offboarding fault tests 20 times in a row (not part of `make test`): python -m infra.stress --help
stress-offboarding: $(STAMP)
	$(BIN)/python -m infra.stress --rounds 20

clean:
	rm -rf $(VENV) .local .mypy_cache .ruff_cache .pytest_cache
