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
# Notebook kernels are started as `python`: make it the venv's.
export PATH := $(abspath $(VENV))/bin:$(PATH)

CHAPTERS := $(sort $(wildcard notebooks/[0-9][0-9]_*.ipynb))
BOOK_FLAGS ?= -W -n --keep-going
CHROMIUM ?= chromium

.PHONY: venv test notebooks book reproduce ablations screenshots clean

venv: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -c "import torch" 2>/dev/null || $(PY) -m pip install -q $(TORCH_PIN) || $(PY) -m pip install -q $(TORCH_RANGE)
	$(PY) -m pip install -q -e ".[dev,book]"
	touch $@

test: venv
	$(PY) -m pytest -q -p no:cacheprovider

# Re-run every chapter with the smoke profile on CPU and store its outputs (the ones nbval
# compares and the book shows). Edit a chapter's .py twin; this syncs the pair first.
notebooks: venv
	@for nb in $(CHAPTERS); do \
	  echo "== $$nb"; \
	  start=$$(date +%s); \
	  $(VENV)/bin/jupytext -q --sync $$nb || exit 1; \
	  CUDA_VISIBLE_DEVICES= $(VENV)/bin/jupyter execute --inplace $$nb || { echo "FAILED: $$nb"; exit 1; }; \
	  echo "   $$(( $$(date +%s) - start )) s"; \
	done

# From a fresh clone: install, run the smoke pipeline (checkpoints the chapters load),
# build the HTML (the build executes every chapter; an error fails it) and say where it is.
book: venv
	$(PY) -m sydes_mini reproduce --profile smoke --out runs/smoke
	$(VENV)/bin/jupyter-book build . $(BOOK_FLAGS)
	@echo "Open $(abspath _build/html/index.html)"

# The reproduction notebooks of notebooks/runs, run by papermill: pretrain, finetune once per
# task, then the tables. Executed copies and results go to runs/<profile>/ (book/reproduce.md).
# Smoke by default (toy world, generated when missing); PROFILE=full on a GPU reads data/MSED.
PROFILE ?= smoke
RUN     ?= runs/$(PROFILE)
PM_ARGS = -k python3 -p profile $(PROFILE) -p out_dir $(RUN)$(if $(filter full,$(PROFILE)), -p data_dir data/MSED)
reproduce: venv
	@mkdir -p $(RUN)
	papermill notebooks/runs/pretrain.ipynb $(RUN)/pretrain.ipynb $(PM_ARGS)
	papermill notebooks/runs/finetune.ipynb $(RUN)/finetune_desire.ipynb $(PM_ARGS) -p task desire -p init pretrain
	papermill notebooks/runs/finetune.ipynb $(RUN)/finetune_emotion.ipynb $(PM_ARGS) -p task emotion -p init pretrain
	papermill notebooks/runs/finetune.ipynb $(RUN)/finetune_sentiment.ipynb $(PM_ARGS) -p task sentiment -p init pretrain
	papermill notebooks/runs/tables.ipynb $(RUN)/tables.ipynb -k python3 -p profile $(PROFILE) -p runs_dir $(RUN)
	@echo "results: $(abspath $(RUN))/summary.json; tables: $(abspath $(RUN))/tables/tables.html"

# Every run of the registry (sydes_mini.paper_tables.RUNS: Tables 3-6, 9, 10, variant=paper, TF-IDF) x 3
# seeds, resumable: runs/suite-<profile>/results.json. Smoke: the book's toy-world results
# (book/results/toy_suite.json; hours on a 2-core CPU). PROFILE=full: the maintainers' GPU job on data/MSED.
ablations: venv
	$(PY) -m sydes_mini ablations --profile $(PROFILE) --out runs/suite-$(PROFILE) \
	  $(if $(filter full,$(PROFILE)),--data data/MSED,--results book/results/toy_suite.json)

# One full-length PNG per built page, taken by headless Debian chromium (apt-get install -y chromium):
# a first pass reads each page's height (a script added to the copy writes it into the DOM), the
# second takes a window that tall. The pages load MathJax from a CDN; on an offline machine Debian's
# MathJax 2 (apt-get install -y libjs-mathjax) is swapped in, in a copy of the site, so the
# screenshots show the equations as a reader sees them.
MATHJAX ?= /usr/share/javascript/mathjax/MathJax.js
SHOT_HTML := _build/screenshot-html
HEADLESS = $(CHROMIUM) --headless --no-sandbox --disable-gpu --hide-scrollbars --allow-file-access-from-files \
  --virtual-time-budget=20000
PAGE_HEIGHT := <script>setInterval(function () { document.body.dataset.pageHeight = document.documentElement.scrollHeight; }, 200);</script>
screenshots:
	@test -f _build/html/index.html || { echo "build the book first: make book"; exit 1; }
	rm -rf $(SHOT_HTML) && cp -r _build/html $(SHOT_HTML) && mkdir -p screenshots
	@find $(SHOT_HTML) -name '*.html' -exec sed -i 's#</body>#$(PAGE_HEIGHT)</body>#' {} +
	@if test -f $(MATHJAX); then find $(SHOT_HTML) -name '*.html' -exec sed -i \
	  -e 's#https://cdn.jsdelivr.net/npm/mathjax@3/es5/tex-mml-chtml.js#file://$(MATHJAX)?config=TeX-AMS-MML_HTMLorMML#' \
	  -e 's#window.MathJax = {"options": {"processHtmlClass": #window.MathJax = {"tex2jax": {"ignoreClass": "tex2jax_ignore|mathjax_ignore", "processClass": #' {} + ; \
	else echo "no local MathJax ($(MATHJAX)): equations show as TeX unless online"; fi
	@for page in $(SHOT_HTML)/book/*.html $(SHOT_HTML)/notebooks/*.html; do \
	  name=$$(basename $$page .html); url=file://$(abspath .)/$$page; \
	  height=$$($(HEADLESS) --window-size=1280,1000 --dump-dom $$url 2>/dev/null | sed -n 's/.*data-page-height="\([0-9]*\)".*/\1/p'); \
	  $(HEADLESS) --window-size=1280,$${height:-14000} --screenshot=screenshots/$$name.png $$url 2>/dev/null >/dev/null \
	    && echo "screenshots/$$name.png (1280 x $${height:-14000} px)"; \
	done

clean:
	rm -rf _build runs
