# `make run` and `make test` set everything up from nothing: virtualenv, Python
# packages (pinned in constraints.txt), GOV.UK Frontend assets (pinned in
# package-lock.json), the database.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app qa_audit
INSTALLED := $(VENV)/.installed
GOVUK := node_modules/govuk-frontend/dist/govuk
ASSETS := qa_audit/static/govuk-frontend.min.css
HOST ?= 127.0.0.1
PORT ?= 5000

.PHONY: setup run test test-browser lock db-check clean

setup: $(INSTALLED) $(ASSETS)

$(INSTALLED): pyproject.toml constraints.txt
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || { echo "Python 3.11 or newer is needed"; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev]'
	touch $@

node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund
	touch $@

$(ASSETS): node_modules/.package-lock.json
	mkdir -p qa_audit/static
	cp $(GOVUK)/govuk-frontend.min.css $(GOVUK)/govuk-frontend.min.css.map qa_audit/static/
	cp $(GOVUK)/govuk-frontend.min.js $(GOVUK)/govuk-frontend.min.js.map qa_audit/static/
	cp -R $(GOVUK)/assets/. qa_audit/static/
	touch $@

run: setup
	QA_AUDIT_CONFIG=development $(FLASK) db upgrade
	QA_AUDIT_CONFIG=development $(FLASK) demo load
	QA_AUDIT_CONFIG=development $(FLASK) run --host $(HOST) --port $(PORT)

test: setup
	$(BIN)/python -m pytest $(PYTEST_ARGS)

db-check: setup
	QA_AUDIT_CONFIG=development DATABASE_URL=sqlite:///$(CURDIR)/instance/db-check.sqlite $(FLASK) db upgrade
	QA_AUDIT_CONFIG=development DATABASE_URL=sqlite:///$(CURDIR)/instance/db-check.sqlite $(FLASK) db check
	rm -f instance/db-check.sqlite*

# Re-pin every Python package after changing pyproject.toml.
lock:
	rm -rf .lock-venv && $(PYTHON) -m venv .lock-venv
	.lock-venv/bin/python -m pip install --quiet --upgrade pip
	.lock-venv/bin/python -m pip install --quiet -e '.[dev]'
	.lock-venv/bin/python -m pip freeze --exclude-editable | grep -v '^-e' > constraints.txt
	rm -rf .lock-venv

clean:
	rm -rf $(VENV) node_modules qa_audit/static/govuk-frontend.min.* qa_audit/static/fonts qa_audit/static/images
