# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Reproduction: pretraining (stage 1, eq. 7)
#
# Trains the image encoder, the text encoder and the text-guided image decoder with
# $\mathcal L_p = \lambda_{rec}\mathcal L_{rec} + \lambda_{si}\mathcal L_{si} + \lambda_{dc}\mathcal L_{dc}
# + \lambda_{itc}\mathcal L_{itc}$ into `<out_dir>/pretrain/` — the same folder and files as
# `python -m sydes_mini pretrain --out <out_dir>`. Run it with papermill, writing the executed copy
# into the run folder (never over this file), from the repository root:
#
# ```bash
# papermill notebooks/runs/pretrain.ipynb runs/smoke/pretrain.ipynb -k python3 -p profile smoke -p out_dir runs/smoke
# ```
#
# Every config field can be changed through `overrides` (`-y '{"overrides": ["model.mask_ratio=0.5"]}'`);
# `book/reproduce.md` lists the overrides of every row of the paper's tables.

# %% tags=["parameters"]
profile = "smoke"        # "smoke" (toy world, tiny model, CPU) or "full" (the paper model and recipe, GPU)
data_dir = ""            # "": the profile default data (smoke: data/toy, generated when missing; full: data/MSED)
out_dir = "runs/smoke"   # the run folder; this notebook writes <out_dir>/pretrain
epochs = None            # None: the profile default (smoke 5, full 50 as in Table 8)
batch_size = None        # None: the profile default (smoke 16, full 32 x grad_accum 2)
max_steps = None         # None: no limit; a number stops after that many optimiser steps
seed = 42
device = "auto"          # "auto": cuda when available, else cpu
overrides = []           # config overrides: a list of the strings --set takes (examples in book/reproduce.md)

# %%
import json
from pathlib import Path

import matplotlib.pyplot as plt

from sydes_mini.config import config_from_parameters
from sydes_mini.plots.results import read_log, training_curves
from sydes_mini.reproduce import check_stage, data_root, run_stage

root = data_root(profile, data_dir, overrides)   # what `reproduce` reads
cfg = config_from_parameters(profile, overrides, data_root=root, epochs=epochs, batch_size=batch_size,
                             max_steps=max_steps, seed=seed, device=device)
print(cfg.to_json())

# %% [markdown]
# `run_stage` is what `reproduce` calls: a finished stage (with `done.json`) is skipped, an interrupted
# one (only `last.safetensors`) is resumed exactly, anything else is trained from the start.

# %%
out = Path(out_dir) / "pretrain"
check_stage(cfg, "pretrain", out)          # data, weights, device, folder: before anything is built or written
result = run_stage(cfg, "pretrain", out)
print(json.dumps({"out": str(out), "best_dev": result["dev"]}, indent=2))

# %%
fig = training_curves({"pretrain": read_log(out / "metrics.jsonl")}, title=f"{profile}: pretraining (eq. 7)")
plt.show()
