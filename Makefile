# ragops developer commands. `make quickstart` and `make test` are the README's two commands.
.PHONY: setup quickstart test test-fast bench lint ui clean

VENV := .venv
BIN := $(VENV)/bin

setup:
	@bash scripts/setup.sh

# Set up, then run the main job on the bundled demo project (this repository's docs/).
quickstart: setup
	$(BIN)/ragops --config ragops.yaml run

# Set up, then run the whole test suite (what CI runs).
test: setup
	$(BIN)/python -m pytest -q -n auto

test-fast: setup
	$(BIN)/python -m pytest -q -n auto -m "not slow"

bench: setup
	$(BIN)/python -m benchmarks.run_all

lint: setup
	$(BIN)/ruff check src connectors dagster_defs tests benchmarks
	$(BIN)/ruff format --check src connectors dagster_defs tests benchmarks
	$(BIN)/mypy src/ragops

ui: setup
	$(BIN)/ragops --config ragops.yaml ui

clean:
	rm -rf .ragops .pytest_cache
