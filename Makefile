# Two entry points (README): `make demo` and `make test`. Each makes its own virtual environment.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin

.PHONY: demo test install clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

install: $(BIN)/python
	$(BIN)/pip install -q -e '.[test]'

demo: install
	$(BIN)/python examples/demo.py

# the seed and CLI suites a second time through the columnar path (their files are small, so
# `tuodi settle` would otherwise take the engine path): both paths under every file test (issue 18)
test: install
	$(BIN)/python -m pytest
	$(BIN)/python -m pytest --settle-path columnar tests/engine tests/cli

clean:
	rm -rf $(VENV) build src/*.egg-info
