# `make train` and `make test` need nothing but Python 3.11 and pip: each creates .venv,
# installs the pinned requirements (ROS 2 client libraries from PyPI wheels) and runs.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
REQUIREMENTS := requirements.txt requirements-ros.txt requirements-test.txt
PYTEST_ARGS ?=
# reacher over ROS 2 (1 sim + 1 actor + learner): ~60k env steps, about 10 min on 2 cores.
TRAIN_ARGS ?= --task reacher --steps 60000

.PHONY: venv test test-fast train bench clean

venv: $(STAMP)

$(STAMP): $(REQUIREMENTS) requirements-bench.txt setup.py
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet $(foreach r,$(REQUIREMENTS),-r $(r))
	$(PY) -m pip install --quiet --no-deps --no-build-isolation -e .
	touch $@

test: $(STAMP)
	$(PY) -m pytest $(PYTEST_ARGS)

# The edit loop: everything but the tests marked slow (pytest.ini).
test-fast: $(STAMP)
	$(PY) -m pytest -m 'not slow' $(PYTEST_ARGS)

train: $(STAMP)
	$(VENV)/bin/t3d-ros train $(TRAIN_ARGS)

bench: $(STAMP)
	$(VENV)/bin/t3d-ros bench

clean:
	rm -rf $(VENV) build install log .pytest_cache
