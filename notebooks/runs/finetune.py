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
# # Reproduction: fine-tuning one task (stage 2, eq. 8) and its test metrics
#
# Starts from `<out_dir>/pretrain/best.safetensors` (or from scratch with `init="none"`: SyDES-B),
# trains the text encoder, the image-guided text decoder and the head of one task with
# $\mathcal L_f = \lambda_{cls}\mathcal L_{cls} + \lambda_{itc}\mathcal L_{itc}$, evaluates the best dev
# checkpoint on test — the same files as `python -m sydes_mini finetune`. The last of the three tasks
# writes `<out_dir>/summary.json` as `reproduce` does. With papermill, from the repository root:
#
# ```bash
# papermill notebooks/runs/finetune.ipynb runs/smoke/finetune_desire.ipynb -k python3 -p profile smoke -p out_dir runs/smoke -p task desire
# ```

# %% tags=["parameters"]
profile = "smoke"        # "smoke" (toy world, tiny model, CPU) or "full" (the paper model and recipe, GPU)
task = "desire"          # desire, emotion or sentiment
init = "pretrain"        # "pretrain": <out_dir>/pretrain; "none": no pretraining (SyDES-B); or a pretrain folder
data_dir = ""            # "": the profile default data (smoke: data/toy, generated when missing; full: data/MSED)
out_dir = "runs/smoke"   # the run folder; this notebook writes <out_dir>/finetune/<task> (and summary.json)
epochs = None            # None: the profile default (smoke 8, full 50 as in Table 8)
batch_size = None        # None: the profile default
max_steps = None         # None: no limit
seed = 42
device = "auto"          # "auto": cuda when available, else cpu
overrides = []           # config overrides: a list of the strings --set takes (examples in book/reproduce.md)

# %%
import json
from pathlib import Path

import matplotlib.pyplot as plt

from sydes_mini.config import config_from_parameters
from sydes_mini.labels import TASKS
from sydes_mini.plots.results import confusion_matrices, read_log, training_curves
from sydes_mini.reproduce import check_stage, data_root, format_summary, run_stage, summarise
from sydes_mini.train import write_json

if task not in TASKS:
    raise ValueError(f"task={task!r}; use one of {', '.join(TASKS)} (papermill -p task desire)")
root = data_root(profile, data_dir, overrides)   # what `reproduce` reads
cfg = config_from_parameters(profile, overrides, data_root=root, epochs=epochs, batch_size=batch_size,
                             max_steps=max_steps, seed=seed, device=device)
start = None if init == "none" else Path(out_dir) / "pretrain" if init == "pretrain" else Path(init)
print(f"task {task}, init {start or 'none (SyDES-B)'}")
print(cfg.to_json())

# %%
out = Path(out_dir) / "finetune" / task
check_stage(cfg, "finetune", out, init=start)   # data, --init, weights, device, folder: before anything is written
result = run_stage(cfg, "finetune", out, task=task, init=start)
print(json.dumps({"out": str(out), "test": {k: result["test"][k] for k in ("precision", "recall", "f1", "accuracy")}},
                 indent=2))

# %% [markdown]
# `summary.json` needs all three tasks; the notebook of the last one writes it (`summarise` is the
# function `reproduce` uses, so both routes write the same file).

# %%
done = {t: json.loads((Path(out_dir) / "finetune" / t / "done.json").read_text()) for t in TASKS
        if (Path(out_dir) / "finetune" / t / "done.json").exists()}
if len(done) == len(TASKS):
    summary = summarise([done], cfg.data.root)
    write_json(Path(out_dir) / "summary.json", summary)
    print(format_summary(summary))
else:
    print(f"summary.json waits for the other tasks; finished so far: {sorted(done)}")

# %%
training_curves({f"finetune/{task}": read_log(out / "metrics.jsonl")}, title=f"{profile}: fine-tuning (eq. 8)")
confusion_matrices({task: result["test"]["confusion_matrix"]})
plt.show()
