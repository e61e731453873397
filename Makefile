# SyDES mini — the two set-up commands are `make book` and `make test`.
# Both create .venv when it is missing; nothing but Python 3.11 is assumed.

PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
# torch is installed first, on its own: the pinned pair is the one this project
# is tested with (and the one this offline CI machine has); anywhere it is not
# available, plain ranges are used instead. Colab keeps its own torch.
TORCH_PIN   ?= torch==2.14.1 torchvision==0.29.1
TORCH_RANGE ?= torch>=2.1 torchvision>=0.16
export TQDM_DISABLE ?= 1

.PHONY: venv test book reproduce screenshots clean

venv: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -c "import torch" 2>/dev/null || $(PY) -m pip install -q $(TORCH_PIN) || $(PY) -m pip install -q $(TORCH_RANGE)
	$(PY) -m pip install -q -e ".[dev,book]"
	touch $@

test: venv
	$(PY) -m pytest -q -p no:cacheprovider

clean:
	rm -rf _build runs
