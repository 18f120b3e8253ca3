# The README's commands: `make book` builds the book, `make test` runs the tests (CI: .ci/run).
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PROFILE ?= local

# The offline mirror of the authors' public files: beside this clone, or beside the local
# repository it was cloned from (a throw-away clone in /tmp still finds it).
ORIGIN := $(shell git config --get remote.origin.url 2>/dev/null)
SHARED_DATA := $(firstword $(wildcard $(abspath ../shared/data/emonet-face/guide.json) \
  $(if $(ORIGIN),$(abspath $(ORIGIN)/../shared/data/emonet-face/guide.json))))
ifneq ($(SHARED_DATA),)
export EMONET_DATA_DIR ?= $(patsubst %/,%,$(dir $(SHARED_DATA)))
endif
ifeq ($(PROFILE),local)
export HF_HUB_OFFLINE := 1
endif
# ipykernel on Python 3.11 warns about frozen modules on stderr of every kernel start.
export PYDEVD_DISABLE_FILE_VALIDATION := 1
SUDO := $(if $(filter 0,$(shell id -u)),,sudo)

.PHONY: setup book test test-fast lint format browser lock clean print-data-dir

setup: $(VENV)/.installed

$(VENV)/.installed: requirements/lock.txt pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements/lock.txt
	$(BIN)/pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	@touch $@

book: setup
	$(BIN)/emonet book --profile $(PROFILE)

# CI prints the 20 slowest tests, so a test that grows slow shows up in the log.
test: lint browser
	$(BIN)/python -m pytest --durations=20

test-fast: lint
	$(BIN)/python -m pytest -m "not integration"

# ruff's lint rules and code style (pyproject.toml); `make format` applies what can be fixed.
lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: setup
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# Headless Chromium from Debian for the browser test of the built book (EMONET_BROWSER names
# another Chromium-based browser, e.g. Chrome on a GitHub runner).
browser:
	@test -n "$$EMONET_BROWSER" || command -v chromium >/dev/null 2>&1 || { \
	  echo "installing Debian's chromium"; \
	  $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq chromium >/dev/null; }

lock: setup
	@{ head -n 2 requirements/lock.txt; $(BIN)/pip freeze --exclude-editable | grep -v '^emonet' \
	  | sed 's/^torch==\(.*\)+cpu/torch==\1/'; } > requirements/lock.txt.new
	@mv requirements/lock.txt.new requirements/lock.txt

clean:
	rm -rf book/_build book/.stamps book/[0-9][0-9]_*.ipynb artifacts

print-data-dir:
	@echo "$(EMONET_DATA_DIR)"
