# `make demo` and `make test` work on a fresh machine with only python3 and pip:
# each creates .venv and installs the project into it first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed

.PHONY: demo test install clean

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
	$(BIN)/python -m nn.demo --out out

test: $(INSTALLED)
	$(BIN)/python -m pytest

clean:
	rm -rf $(VENV) out .pytest_cache .hypothesis
