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

# Prints the slides' values and gradients; writes out/graph.svg and out/steps/steps.html.
demo: $(INSTALLED)
	$(BIN)/python -m autograd_core.demo out
	$(BIN)/python -m nn.demo --out out

test: $(INSTALLED)
	$(BIN)/python -m pytest

clean:
	rm -rf $(VENV) out .pytest_cache .hypothesis
