# Two commands for a newcomer: `make demo` runs a protected example, `make test` runs
# everything CI runs (ruff, mypy strict, pytest). Both create .venv on first use.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: demo demo-flask test bench

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

demo: $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[examples]"
	$(BIN)/python examples/starlette_app.py

demo-flask: $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[examples]"
	$(BIN)/python examples/flask_app.py

test: $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[test]"
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/pytest

bench: $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[bench]"
	$(BIN)/python benchmarks/run.py
