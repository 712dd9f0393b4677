# carpentry-kit: `make run` runs the first benchmark end to end; `make test` runs the whole test suite.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PIP    := $(BIN)/python -m pip --disable-pip-version-check
export PATH := $(CURDIR)/$(BIN):$(PATH)

.PHONY: venv run test test-fast lint exercises book bench browser sandbox doctor clean

# First time only: the install takes minutes (torch alone is a large download), so pip shows its progress
# and each step says what it does and, at the end, how long it took.
$(BIN)/carpentry: pyproject.toml constraints.txt
	@echo "== setting up $(VENV) (first time only; several minutes: a large download) =="
	@start=$$(date +%s) && \
	$(PYTHON) -m venv $(VENV) && \
	echo "== 1/2: torch 2.13.0 (the largest package) ==" && \
	$(PIP) install --progress-bar on torch==2.13.0 && \
	echo "== 2/2: carpentry-kit with its dev and teaching extras (.[dev]) ==" && \
	$(PIP) install --progress-bar on -c constraints.txt -e '.[dev]' && \
	echo "== $(VENV) ready in $$(( $$(date +%s) - start )) s ==" && \
	touch $@

venv: $(BIN)/carpentry

run: $(BIN)/carpentry  ## validate and rate the shipped specs, then run the first benchmark
	$(BIN)/carpentry validate carpentry_kit/examples/*.yaml
	$(BIN)/carpentry rate carpentry_kit/examples/digits-mlp.yaml
	$(BIN)/carpentry run carpentry_kit/examples/digits-mlp.yaml --out results

browser:  ## Debian's chromium for the browser tests (CI runs as root)
	@command -v chromium >/dev/null || (apt-get update -qq && apt-get install -y -qq chromium >/dev/null)

sandbox:  ## Debian's bubblewrap: `carpentry grade` runs each submission in a bwrap sandbox (CI runs as root)
	@command -v bwrap >/dev/null || (apt-get update -qq && apt-get install -y -qq bubblewrap >/dev/null)

test: $(BIN)/carpentry browser sandbox  ## lint, the architecture contract, then the whole test suite
	$(BIN)/ruff check .
	$(BIN)/lint-imports --no-cache
	$(BIN)/python -m pytest

test-fast: $(BIN)/carpentry  ## everything but the lesson, book, browser and grading executions (< 2 min)
	$(BIN)/ruff check .
	$(BIN)/lint-imports --no-cache
	$(BIN)/python -m pytest -m "not slow"

lint: $(BIN)/carpentry
	$(BIN)/ruff check .
	$(BIN)/ruff format --check carpentry_kit tests benchmarks

book: $(BIN)/carpentry  ## build the Jupyter Book into book/_build/html: executes every lesson; a failing cell or any warning fails it
	$(BIN)/python -m carpentry_kit.cli.pages --check
	$(BIN)/jupyter-book build -W -n book/

exercises: $(BIN)/carpentry  ## regenerate exercises/ (student versions) from solutions/
	$(BIN)/python -m carpentry_kit.teaching.assess forms
	$(BIN)/carpentry grade --generate

doctor: $(BIN)/carpentry  ## is this machine ready for the workshop?
	$(BIN)/carpentry doctor

bench: $(BIN)/carpentry  ## the speed and memory targets; figures go in the README
	for b in benchmarks/bench_*.py; do $(BIN)/python $$b || exit 1; done

clean:
	rm -rf $(VENV) results lessons/results book/_build .pytest_cache .ruff_cache
