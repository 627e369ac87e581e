# `make demo` and `make test` work on a fresh machine with only python3 and pip:
# each creates .venv and installs the project into it first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed
# setuptools announces every editable install with a BuildBackendWarning ("Editable
# installation...": nn/ installs as autograd_core.nn through an import finder, the supported
# lenient mode); it is information for packagers, not for someone running the demo.
QUIET_BUILD := PYTHONWARNINGS="ignore:Editable installation"

.PHONY: demo test test-browser lint test-long mutation install bench bench-quick clean

$(INSTALLED): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(QUIET_BUILD) $(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(INSTALLED)

install: $(INSTALLED)

# Extras are installed on first use, so a normal install stays light: `bench` (micrograd and
# torch CPU, the engines to race) and `mutation` (mutmut).
$(VENV)/.%-installed: $(INSTALLED)
	$(QUIET_BUILD) $(BIN)/python -m pip install --quiet -e ".[dev,$*]"
	touch $@

# The slides' (x+y)z: its table, out/graph.svg and out/steps/steps.html; then micrograd's
# moons demo: out/moons_boundary.png, out/moons_loss.png and out/moons_model.json.
demo: $(INSTALLED)
	mkdir -p out
	$(BIN)/autograd-core trace "(x + y) * z" x=-2 y=5 z=-4 -o out/graph.svg --frames out/steps
	$(BIN)/autograd-core train moons --out out
	@echo "wrote: out/graph.svg out/steps/steps.html (and its frames) out/moons_boundary.png" \
		"out/moons_loss.png out/moons_model.json"

# Lint and type-check, then tests/ plus every notebook executed top to bottom (nbmake). The
# browser tests (tests/test_browser.py) need Debian's chromium and chromium-driver; without
# them they are skipped, and -rs prints the one line that says how to install them.
test: $(INSTALLED) lint
	$(BIN)/python -m pytest tests notebooks --nbmake -rs

# The stepper in a real headless Chromium, installed first if missing (apt-get: needs root).
test-browser: $(INSTALLED)
	command -v chromium >/dev/null && command -v chromedriver >/dev/null || \
		{ apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium chromium-driver; }
	$(BIN)/python -m pytest tests/test_browser.py -rs

lint: $(INSTALLED)
	$(BIN)/ruff check autograd_core nn benchmarks tests notebooks/conftest.py notebooks/refresh.py
	$(BIN)/mypy autograd_core nn

# Every engine, every workload, repeated, and `ours` as it was at commit BASE beside it;
# writes benchmarks/RESULTS.md (about 40 minutes).
BASE ?= 62f0dbe
bench: $(VENV)/.bench-installed
	$(BIN)/python -m benchmarks.run --base $(BASE)

# Every workload once at a small size; engines whose package is missing are skipped.
bench-quick: $(INSTALLED)
	$(BIN)/python -m benchmarks.run --quick

# Thousands of hypothesis examples per property instead of the `ci` profile's hundred.
test-long: $(INSTALLED)
	HYPOTHESIS_PROFILE=long $(BIN)/python -m pytest tests

# Mutation testing of the engine and the op table (slow: minutes, so not part of `make test`).
# mutmut keeps its results in mutants/ and resumes; `rm -rf mutants` starts afresh.
mutation: $(VENV)/.mutation-installed
	mkdir -p mutants
	HYPOTHESIS_PROFILE=mutation $(BIN)/mutmut run --max-children 2 > mutants/run.log 2>&1 || \
		{ tail -c 2000 mutants/run.log; exit 1; }
	$(BIN)/python tests/mutation_score.py

clean:
	rm -rf $(VENV) out .pytest_cache .hypothesis mutants
