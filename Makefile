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

.PHONY: security audit-deps bandit

# Security checks (CI runs them before the tests). audit-deps: no known vulnerability in
# any package pinned in constraints.txt (pip-audit --strict; see scripts/audit_deps.py for
# what it does where pip-audit's services cannot be reached). bandit: no finding of
# medium or high severity in the application's code (settings in pyproject.toml).
security: audit-deps bandit

audit-deps: $(INSTALLED)
	$(BIN)/python scripts/audit_deps.py

bandit: $(INSTALLED)
	$(BIN)/bandit -c pyproject.toml --recursive qa_audit migrations wsgi.py --severity-level medium --quiet
	@echo "bandit: no finding of medium or high severity"

.PHONY: bench

# The council-scale benchmark (README, "Benchmark"): generates a council of SCALE (1 = a
# large council over ten years) in bench/data/, measures the main pages and writes
# bench/results/latest.json and latest.md. DATABASE=postgresql://... (or
# BENCH_DATABASE_URL) runs it on that database instead: EVERYTHING IN IT IS DROPPED.
# BENCH_ARGS passes options, e.g. BENCH_ARGS="--reuse --requests 100".
SCALE ?= 1
bench: setup
	$(BIN)/python -m bench --scale $(SCALE) $(if $(DATABASE),--database "$(DATABASE)") $(BENCH_ARGS)

.PHONY: loadtest

# The load test (README, "Load test"): locust, 50 users for 2 minutes against gunicorn with
# 2 workers on 127.0.0.1; writes loadtest/results/. LOADTEST_DATABASE_URL=postgresql://...
# runs it on that database instead of a temporary SQLite file: EVERYTHING IN IT IS DROPPED.
# LOADTEST_ARGS passes options, e.g. LOADTEST_ARGS="--duration 30 --users 20".
loadtest: $(INSTALLED)
	$(BIN)/python -m loadtest.run $(LOADTEST_ARGS)

clean:
	rm -rf $(VENV) node_modules qa_audit/static/govuk-frontend.min.* qa_audit/static/fonts qa_audit/static/images
