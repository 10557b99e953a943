# `make train` and `make test` need nothing but Python 3.11 and pip: each creates a venv,
# installs the pinned requirements (ROS 2 client libraries from PyPI wheels) and runs.
# ROS_DISTRO picks the ROS 2 release, each with its requirement set and its own venv:
# kilted (default; requirements-ros.txt, .venv) or jazzy (requirements-ros-jazzy.txt,
# .venv-jazzy), e.g. `make test ROS_DISTRO=jazzy`.
PYTHON ?= python3.11
ROS_DISTRO ?= kilted
ROS_REQUIREMENTS_kilted := requirements-ros.txt
ROS_REQUIREMENTS_jazzy := requirements-ros-jazzy.txt
VENV_kilted := .venv
VENV_jazzy := .venv-jazzy
ifeq ($(ROS_REQUIREMENTS_$(ROS_DISTRO)),)
$(error ROS_DISTRO=$(ROS_DISTRO) has no requirement set here: use kilted or jazzy (a sourced ROS 2 sets ROS_DISTRO too: run without its setup, or name one on the command line))
endif
VENV ?= $(VENV_$(ROS_DISTRO))
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
REQUIREMENTS := requirements.txt $(ROS_REQUIREMENTS_$(ROS_DISTRO)) \
	requirements-descriptions.txt requirements-test.txt requirements-video.txt \
	requirements-onnx.txt
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
