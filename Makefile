# `make demo` and `make test` work on a fresh machine with only python3 and pip:
# each creates .venv and installs the project into it first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed

.PHONY: demo test install bench bench-quick clean

$(INSTALLED): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(INSTALLED)

install: $(INSTALLED)

# The benchmark engines (micrograd, torch CPU) are an extra, so a normal install stays light.
BENCH_INSTALLED := $(VENV)/.bench-installed

$(BENCH_INSTALLED): $(INSTALLED)
	$(BIN)/python -m pip install --quiet -e ".[dev,bench]"
	touch $(BENCH_INSTALLED)

demo: $(INSTALLED)
	$(BIN)/python -c "from autograd_core import Value; \
	x, y, z = Value(-2.0, 'x'), Value(5.0, 'y'), Value(-4.0, 'z'); \
	q = x + y; q.label = 'q'; f = q * z; f.label = 'f'; f.backward(); \
	[print(f'{v.label}: data {v.data:+.4f}  grad {v.grad:+.4f}') for v in (x, y, z, q, f)]"

test: $(INSTALLED)
	$(BIN)/python -m pytest

# Every engine, every workload, repeated; writes benchmarks/RESULTS.md (about 15 minutes).
bench: $(BENCH_INSTALLED)
	$(BIN)/python -m benchmarks.run

# Every workload once at a small size; engines whose package is missing are skipped.
bench-quick: $(INSTALLED)
	$(BIN)/python -m benchmarks.run --quick

clean:
	rm -rf $(VENV) out .pytest_cache .hypothesis
