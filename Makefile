# etude: the two commands are `make demo` and `make test`.
#
# Both create .venv with python3 if it is missing, install the core and every
# plugin under plugins/ (editable, through constraints.txt), and are
# idempotent: a second run reinstalls only when a pyproject.toml changed.
# To use a virtual environment you already have, pass its path:
#     make test VENV=$VIRTUAL_ENV

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PIP := $(BIN)/python -m pip --disable-pip-version-check
PLUGIN_DIRS := $(sort $(dir $(wildcard plugins/*/pyproject.toml)))
PLUGIN_EDITABLES := $(foreach p,$(PLUGIN_DIRS),-e $(p))
# optional extras the test suite exercises (small wheels, a few seconds): meta-rims[minigrid] brings
# minigrid and pygame-ce for environment/minigrid and environment/babyai. Listed beside the plain
# editable: pip 23.2's resolver does not let `-e 'dir[extra]'` alone satisfy another plugin's dependency.
PLUGIN_EXTRAS := -e 'plugins/meta-rims/[minigrid]'
STAMP := $(VENV)/.etude-installed
PYTEST_ARGS ?=
JOBS ?= 2
# worker processes of `make demo`: one per core
DEMO_JOBS ?= $(shell nproc 2>/dev/null || echo 2)

.PHONY: help install demo test test-fast docs reference-results report-screenshot gpu-test gpu-check gpu-wheels lint clean

help:
	@echo "make demo   set up .venv and run every plugin's claims at quick scale into runs/demo"
	@echo "make test   set up .venv with test extras and run the whole test suite"
	@echo "make docs   build the documentation with warnings as errors (executes the tutorials)"
	@echo "make reference-results  refresh docs/reproductions/quick-cpu.json from make demo's run"
	@echo "make report-screenshot  refresh docs/report-screenshot.png from runs/demo/report.html"

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): $(BIN)/python pyproject.toml constraints.txt $(wildcard plugins/*/pyproject.toml)
	$(PIP) install -q -c constraints.txt -e ".[dev]" $(PLUGIN_EDITABLES) $(PLUGIN_EXTRAS)
	@touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/etude plugins
	$(BIN)/etude reproduce --scale quick --jobs $(DEMO_JOBS) --out runs/demo
	@echo "summary: runs/demo/report.md"
	@echo "report: runs/demo/report.html"

# The docs' Reproductions page and the plugin pages' verdicts read this committed file.
REFERENCE ?= docs/reproductions/quick-cpu.json
reference-results: demo
	$(BIN)/python -m etude.report.docs runs/demo $(REFERENCE)

# The README's picture of the HTML report (headless Chromium: apt-get install -y chromium).
report-screenshot: $(STAMP)
	test -f runs/demo/report.html || $(MAKE) demo
	$(BIN)/python -m etude.testing.browser screenshot runs/demo/report.html docs/report-screenshot.png --width 1280 --height 900

# Everything but the gpu-marked tests; tutorials run in smoke mode.
test: $(STAMP)
	ETUDE_SMOKE=1 MPLBACKEND=Agg $(BIN)/python -m pytest -n $(JOBS) --nbmake -m "not gpu" \
		tests $(addsuffix tests,$(PLUGIN_DIRS)) tutorials $(PYTEST_ARGS)

test-fast: $(STAMP)
	ETUDE_SMOKE=1 MPLBACKEND=Agg $(BIN)/python -m pytest -n $(JOBS) -m "not gpu and not slow" \
		tests $(addsuffix tests,$(PLUGIN_DIRS)) $(PYTEST_ARGS)

gpu-test: $(STAMP)
	$(BIN)/python -m pytest -m gpu tests $(addsuffix tests,$(PLUGIN_DIRS)) $(PYTEST_ARGS)

# The prepared GPU run (gpu tests, CUDA benchmarks, the full claims of gpu-claims.txt within
# GPU_BUDGET_S seconds) into OUT; its own environment keeps the machine's CUDA torch.
gpu-check:
	bash scripts/gpu-check.sh

# Wheels (cp312, manylinux) of what the lent GPU machine's image lacks, for WHEELHOUSE=.whl make gpu-check.
gpu-wheels: $(STAMP)
	grep -v '^#' scripts/gpu-wheels.txt | xargs $(PIP) download -q --no-deps --only-binary=:all: \
		--python-version 3.12 --implementation cp --platform manylinux_2_28_x86_64 \
		--platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 -d .whl

docs: $(STAMP)
	$(BIN)/sphinx-build -W --keep-going -q -b html docs docs/_build/html

clean:
	rm -rf docs/_build docs/plugins docs/tutorials docs/reproductions/index.md runs/demo .pytest_cache
