# Every target creates .venv and installs dosewise into it by itself.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
HYPOTHESIS_PROFILE ?= fast

.PHONY: run test lint bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dist,dev]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/dosewise db upgrade
	$(BIN)/dosewise serve

lint: $(STAMP)
	$(BIN)/ruff check src tests bench scripts
	$(BIN)/ruff format --check src tests bench scripts
	$(BIN)/mypy --strict src/dosewise/design src/dosewise/simulate
	$(BIN)/mypy src/dosewise
	$(BIN)/lint-imports

test: lint
	HYPOTHESIS_PROFILE=$(HYPOTHESIS_PROFILE) $(BIN)/pytest -n 2 -q

bench: $(STAMP)
	HYPOTHESIS_PROFILE=thorough $(BIN)/pytest -q -m slow --override-ini addopts="" tests || true
	$(BIN)/python bench/run_all.py

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache
