# Two commands on a fresh machine: `make demo` and `make test`.
# Both build .venv (Python >= 3.10) and install the package with its compiled
# extensions; nothing needs installing by hand.

PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
SOURCES := $(shell find src -name '*.py' -o -name '*.pyx' -o -name '*.pxd') pyproject.toml setup.py

.PHONY: all demo test lint bench bench-check clean

all: test

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)

# A real (non-editable) install: the tests import what a user would get.
$(VENV)/.installed: $(VENV)/bin/python $(SOURCES)
	$(PY) -m pip install --quiet --disable-pip-version-check '.[test,bench,lint]'
	@touch $@

demo: $(VENV)/.installed
	$(PY) -m benchmarks.demo

test: $(VENV)/.installed
	$(PY) -m pytest

lint: $(VENV)/.installed
	$(PY) -m ruff check src tests benchmarks
	$(PY) -m ruff format --check src tests benchmarks
	$(PY) -m mypy

# The full run: raw results (pytest-benchmark JSON), then tables and charts from them.
bench: $(VENV)/.installed
	$(PY) -m pytest benchmarks -p no:cacheprovider --benchmark-only \
		--benchmark-columns=median,iqr,ops,rounds --benchmark-sort=name \
		--benchmark-json=docs/benchmarks.json
	$(PY) -m benchmarks.report docs/benchmarks.json

# A short pass: fails when a speed ratio drops under its floor (benchmarks/floors.toml).
bench-check: $(VENV)/.installed
	$(PY) -m benchmarks.check

clean:
	rm -rf $(VENV) build dist src/*.egg-info .pytest_cache .mypy_cache .ruff_cache
