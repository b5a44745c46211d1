# Two commands do all set-up on a fresh machine:
#   make demo   installs nerkit into .venv (first run only) and runs the main job
#   make test   installs nerkit with its test extras into .venv and runs the test suite
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

$(STAMP): pyproject.toml
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev,benchmark]'
	touch $(STAMP)

.PHONY: install demo test lint
install: $(STAMP)

demo: $(STAMP)
	OMP_WAIT_POLICY=PASSIVE $(BIN)/nerkit predict "姚明是中国篮协主席，他出生于上海。" --format table

test: $(STAMP)
	OMP_WAIT_POLICY=PASSIVE $(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check nerkit tests benchmarks
