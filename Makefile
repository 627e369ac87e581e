# `make demo` and `make test` work on a fresh machine with only python3 and pip:
# each creates .venv and installs the project into it first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed

.PHONY: demo test test-long mutation install clean

$(INSTALLED): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(INSTALLED)

install: $(INSTALLED)

demo: $(INSTALLED)
	$(BIN)/python -c "from autograd_core import Value; \
	x, y, z = Value(-2.0, 'x'), Value(5.0, 'y'), Value(-4.0, 'z'); \
	q = x + y; q.label = 'q'; f = q * z; f.label = 'f'; f.backward(); \
	[print(f'{v.label}: data {v.data:+.4f}  grad {v.grad:+.4f}') for v in (x, y, z, q, f)]"

test: $(INSTALLED)
	$(BIN)/python -m pytest

# Thousands of hypothesis examples per property instead of the `ci` profile's hundred.
test-long: $(INSTALLED)
	HYPOTHESIS_PROFILE=long $(BIN)/python -m pytest

# Mutation testing of the engine and the op table (slow: minutes, so not part of `make test`).
# mutmut keeps its results in mutants/ and resumes; `rm -rf mutants` starts afresh.
mutation: $(INSTALLED)
	$(BIN)/python -m pip install --quiet -e ".[dev,mutation]"
	mkdir -p mutants
	HYPOTHESIS_PROFILE=mutation $(BIN)/mutmut run --max-children 2 > mutants/run.log 2>&1 || \
		{ tail -c 2000 mutants/run.log; exit 1; }
	$(BIN)/python scripts/mutation_score.py

clean:
	rm -rf $(VENV) out .pytest_cache .hypothesis mutants
