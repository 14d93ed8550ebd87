# One entry point for setting up, running and checking the bot.
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: setup run demo test lint format db-upgrade bench

$(STAMP): pyproject.toml requirements.lock
	python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -c requirements.lock -e '.[dev]'
	touch $(STAMP)

setup: $(STAMP)

## run: set up and run the bot (the terminal demo when TELEGRAM_BOT_TOKEN is not set)
run: setup
	$(PY) -m bot run

## demo: the terminal demo, offline
demo: setup
	$(PY) -m bot demo

db-upgrade: setup
	$(PY) -m bot db upgrade

## lint: format check, lint and types
lint: setup
	$(PY) -m ruff format --check .
	$(PY) -m ruff check .
	$(PY) -m mypy bot flows storage tests bench

## test: set up, then format check, lint, types and the whole test suite
test: lint
	$(PY) -m pytest -q

## bench: the follow-up benchmark (100,000 pending); writes bench/results/followups.{json,md}
bench: setup
	$(PY) -m bench followups

format: setup
	$(PY) -m ruff format .
	$(PY) -m ruff check --fix .
