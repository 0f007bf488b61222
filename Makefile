# ecommerce-lakehouse: `make demo` runs the whole platform locally, `make test` checks it.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export LAKEHOUSE_HOME ?= $(CURDIR)/.lakehouse

.PHONY: help prerequisites install browser demo test test-quick lint pytest parse parse-local parse-databricks offline-checks mlflow-ui docs-serve clean bench reliability

help:
	@echo "make demo   - install if needed, generate sample data, dbt build (SQL + Python models), docs, summary"
	@echo "make test   - install if needed, lint (ruff, mypy, sqlfluff, secret scan), Chromium if missing, pytest (incl. dbt build on a small sample, pages rendered in headless Chromium; it parses the local target), dbt parse on the databricks target, bundle check"
	@echo "make test-quick - lint and the tests that need no dbt build: the edit loop"
	@echo "make bench  - the whole pipeline at 1M, 5M and 10M events (hours; 1M alone took 13 min on 2 cores), results kept in benchmarks/results/, BENCHMARKS.md written from them"
	@echo "make reliability - bad-input and fault scenarios on small data: where every row went"
	@echo "make mlflow-ui | docs-serve | clean"

prerequisites:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' 2>/dev/null \
		|| { echo "error: Python 3.11+ is required ($(PYTHON) is $$($(PYTHON) --version 2>&1 || echo missing))"; exit 1; }
	@java_bin="$${JAVA_HOME:+$$JAVA_HOME/bin/}java"; \
		v=$$("$$java_bin" -version 2>&1 | sed -n 's/.*version "\([0-9]*\).*/\1/p' | head -n 1); \
		if [ -z "$$v" ]; then echo "error: Java 17 or 21 is required by Spark 4, but no java was found (install a JDK 17 or set JAVA_HOME)"; exit 1; fi; \
		if [ "$$v" -lt 17 ]; then echo "error: Java 17 or 21 is required by Spark 4, found Java $$v (set JAVA_HOME to a JDK 17+)"; exit 1; fi

$(STAMP): pyproject.toml constraints.txt adapters/dbt-sparksession/pyproject.toml | prerequisites
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@# uv installs the same pinned set as pip would, downloading in parallel into a cache shared by every
	@# clone: a fresh clone's install takes seconds instead of most of a minute
	$(PY) -m pip install --quiet --disable-pip-version-check -c constraints.txt uv
	@# --compile-bytecode: every process (each dbt run, each Spark Python worker) otherwise compiles the
	@# packages it imports from source when PYTHONDONTWRITEBYTECODE is set, about 6 s for the dbt,
	@# MLflow and scikit-learn stack each time
	$(BIN)/uv pip install --quiet --compile-bytecode --python $(PY) -c constraints.txt -e ".[dbt,dev]" -e adapters/dbt-sparksession
	@touch $(STAMP)

install: $(STAMP)

demo: install
	$(BIN)/lakehouse demo $(DEMO_ARGS)

test: install lint browser pytest parse-databricks offline-checks

# the tests that need no lakehouse build (tests using the built lakehouse carry the `dbt` marker)
test-quick: install lint
	$(BIN)/pytest -m "not dbt" $(PYTEST_ARGS)

BENCH_SIZES ?= 1000000,5000000,10000000
bench: install
	$(BIN)/lakehouse bench --sizes $(BENCH_SIZES) --days 30 --out BENCHMARKS.md

reliability: install
	$(BIN)/lakehouse reliability

# the tests render the dashboard and the docs site in headless Chromium: install Debian's package when
# missing and allowed (root with apt-get, as on CI), else say how
browser:
	@if [ -n "$$LAKEHOUSE_CHROMIUM" ] || command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || command -v google-chrome >/dev/null 2>&1; then \
		exit 0; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		echo "installing Chromium (Debian package chromium) for the browser tests"; \
		{ apt-get install -y -q chromium >/dev/null 2>&1 || { apt-get update -q >/dev/null && apt-get install -y -q chromium >/dev/null; }; } \
			|| { echo "error: apt-get install chromium failed"; exit 1; }; \
	else \
		echo "error: the browser tests need Chromium: install it (Debian/Ubuntu: sudo apt-get install chromium) or set LAKEHOUSE_CHROMIUM to a Chrome/Chromium binary"; exit 1; \
	fi

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/sqlfluff lint models tests analyses snapshots --disable-progress-bar --processes 0
	$(BIN)/lakehouse scan-secrets

# the 15 slowest tests are printed on every run, so that a slow one stays visible
PYTEST_ARGS ?= --durations=15
# two worker processes: the own-data scenarios' builds and the shared lakehouse's run side by side (see
# tests_py/conftest.py); PYTEST_WORKERS=0 runs everything in this process, one build after the other
PYTEST_WORKERS ?= 2
pytest: install
	$(BIN)/pytest -n $(PYTEST_WORKERS) --dist loadgroup $(PYTEST_ARGS)

# dbt parse on both targets, without partial parsing (its saved state went stale after macro edits); the
# databricks one is offline (placeholders when DATABRICKS_* are unset). `make test` parses the databricks
# target only: pytest's shared lakehouse parses the local one from scratch (in a new temporary target folder)
parse: parse-local parse-databricks

parse-local: install
	$(BIN)/lakehouse dbt parse --no-partial-parse --target local --target-path target/parse-local

parse-databricks: install
	DBT_TARGET=databricks $(BIN)/lakehouse dbt parse --no-partial-parse --target databricks --target-path target/parse-databricks

# the Databricks side, offline: bundle structure (files, task graph, selectors), the Python models' jobs as
# dbt-databricks compiles them (from `make parse`'s databricks manifest); the credential scan is in lint
offline-checks: install
	$(BIN)/lakehouse check-bundle --manifest target/parse-databricks/manifest.json

mlflow-ui: install
	$(BIN)/mlflow ui --backend-store-uri "sqlite:///$(LAKEHOUSE_HOME)/mlflow/mlflow.db" --port 5000

docs-serve: install
	$(BIN)/lakehouse dbt docs serve --port 8080 --no-browser

clean:
	rm -rf target logs .pytest_cache .ruff_cache
	@echo "local lakehouse data kept in $(LAKEHOUSE_HOME); remove it by hand to start over"
