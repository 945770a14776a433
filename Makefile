# oralhist: `make run` serves the archive, `make test` runs the whole suite.
# Both create .venv and install what they need on a fresh clone.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 5000

.PHONY: run test install install-test init serve bench lint format clean sample-audio

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[test,bench]'
	touch $@ $(VENV)/.installed

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test

## Initialise instance/ (database, secret key, search index) and media/; safe to repeat.
init: install
	$(BIN)/oralhist init

## Set up, load the fictional sample archive into an empty archive, serve on http://$(HOST):$(PORT)
run: init
	$(BIN)/oralhist load-sample --if-empty
	$(BIN)/oralhist serve --host $(HOST) --port $(PORT)

## Run the whole test suite (browser tests skip with a notice when /usr/bin/chromium is absent),
## one pytest-xdist process per core; TEST_WORKERS=0 runs it in one process.
TEST_WORKERS ?= auto
test: install-test
	$(BIN)/python -m pytest -n $(TEST_WORKERS) $(PYTEST_ARGS)

## Speed and memory figures (see bench/README.md); results land in bench/results/.
bench: install-test
	$(BIN)/python bench/run_all.py

lint: install-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install-test
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

## Rebuild the sample interview's audio (needs Debian's espeak-ng and sox).
sample-audio:
	$(PYTHON) oralhist/sample/make_audio.py

clean:
	rm -rf $(VENV) .pytest_cache build *.egg-info
