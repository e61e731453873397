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
# # 8. Two-stage training (eqs. 7–8)
#
# > "we adopt a two-stage training strategy and selectively freeze or unfreeze model components
# > in each stage to steer learning." — {cite:t}`chen2026sydes`, Section 3.4
#
# **Pretraining** (3.4.1) teaches the image side to see fine detail: the crops are masked
# (MAE-style {cite:p}`he2022mae`), the text-guided image decoder reconstructs them, and three
# alignment losses keep local and global features consistent. **Fine-tuning** (3.4.2) freezes
# what pretraining built and trains the text side and the classifier of one task. The two
# objectives, with the weights of Table 8:
#
# $$
# \mathcal L_p = \underbrace{1.0}_{\lambda_{rec}}\,\mathcal L_{rec} + \underbrace{0.5}_{\lambda_{si}}\,\mathcal L_{si}
# + \underbrace{0.025}_{\lambda_{dc}}\,\mathcal L_{dc} + \underbrace{0.5}_{\lambda_{itc}}\,\mathcal L_{itc}
# \qquad (7)
# $$
#
# $$
# \mathcal L_f = \underbrace{1.0}_{\lambda_{cls}}\,\mathcal L_{cls} + \underbrace{0.4}_{\lambda_{itc}}\,\mathcal L_{itc}
# \qquad (8)
# $$
#
# Both stages use AdamW with a learning rate per module, weight decay 0.01 and a cosine schedule
# with linear warm-up (Table 8, appendix B.2).
#
# **Why two stages, and why freeze?** Pretraining builds the image side with objectives that need
# no labels; fine-tuning then trains the text side and a classifier for one task. Freezing the
# image encoder during fine-tuning protects what pretraining built: the labelled samples of one
# task cannot overwrite the image features that all three tasks share (and they can be computed
# once and cached, `train.cache_features`).
#
# *Symbols:* the {doc}`notation page <12_notation>` gives every symbol of the paper its name in
# the code and its shape in both profiles.

# %% tags=["hide-cell"]
# Colab set-up: does nothing outside Google Colab. On Colab it clones the repository (into
# /content/sydes-mini, or with USE_DRIVE into your Google Drive, where runs/ and data/ then survive
# the session), installs sydes_mini from it (Colab's own torch is kept) and works in its notebooks/
# folder, so that ../runs, ../data and ../book are the same paths as in a local clone.
import os
import sys

REPO_URL = "https://github.com/sydes-mini/sydes-mini"
USE_DRIVE = False
if "google.colab" in sys.modules:
    import importlib
    import subprocess
    if USE_DRIVE:
        from google.colab import drive
        drive.mount("/content/drive")
    home = "/content/drive/MyDrive/sydes-mini" if USE_DRIVE else "/content/sydes-mini"
    if not os.path.isdir(home):
        subprocess.run(["git", "clone", "-q", REPO_URL, home], check=True)
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", home], check=True)
    importlib.invalidate_caches()
    os.chdir(os.path.join(home, "notebooks"))

# %% tags=["parameters"]
profile = "smoke"   # "full": the paper model and recipe (a GPU; MSED in data_dir)
data_dir = ""       # "": a small toy world generated here; or an MSED-format folder, e.g. "../data/MSED"
out_dir = ""        # "": a temporary folder; e.g. "../runs/chapter8" to keep the checkpoints
epochs = 1          # per stage (paper: 50)
batch_size = 4      # None: the profile default (smoke 16; full 32 x 2 accumulated)
max_steps = 3       # optimiser steps per stage; None: no limit (the whole `epochs`)
runs_dir = "../runs/smoke"  # a finished run of `make reproduce`, replayed at the end (smoke: trained there when missing)
seed = 42
device = "auto"     # "auto": cuda when available, else cpu
overrides = []      # config overrides: a list of the strings --set takes (examples in book/reproduce.md)

# %% tags=["remove-input"]
# The model in one picture (chapter 1): every loss highlighted, and above each box the stage that trains it.
from sydes_mini.plots.architecture import you_are_here

you_are_here(8, profile);

# %%
import inspect
import math
import tempfile
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import torch

from sydes_mini.config import Config, config_from_parameters, get_config
from sydes_mini.data import load_split, make_loader, read_split
from sydes_mini.metrics import majority_metrics
from sydes_mini.model import build_model
from sydes_mini.objectives import finetune_objective, pretrain_objective
from sydes_mini.plots.book import glue
from sydes_mini.plots.results import lr_schedule, read_log, run_history, training_curves
from sydes_mini.reproduce import smoke_run
from sydes_mini.stages import make_optimizer, set_stage
from sydes_mini.step import pretrain_loss
from sydes_mini.labels import TASKS
from sydes_mini.toy import synth
from sydes_mini.train import cosine_with_warmup, train_stage

root = Path(data_dir) if data_dir else synth(Path(tempfile.mkdtemp()) / "toy", n_train=16, n_dev=8, n_test=8)
run = Path(out_dir) if out_dir else Path(tempfile.mkdtemp()) / "run"
cfg = config_from_parameters(profile, overrides, data_root=root, epochs=epochs, batch_size=batch_size,
                             max_steps=max_steps, seed=seed, device=device)
print("profile:", profile, "| data:", root.name, "| run folder:", run.name)

# %% [markdown]
# ## What is frozen when
#
# `set_stage` switches `requires_grad` module by module and returns AdamW parameter groups, one
# learning rate per group (Table 8, plus the authors' catch-all group `others` at 1e-4); every
# trained parameter gets weight decay 0.01, and `make_optimizer` uses the authors' AdamW betas
# (0.9, 0.95). It asks torch for its fused AdamW kernel: the same update, computed in one pass over
# each weight tensor instead of a dozen. (A second speed setting changes no number either: on Linux the
# `Trainer` calls `keep_freed_memory`, so each step reuses the memory the step before it freed instead of
# asking the system for fresh pages.)

# %% tags=["source-listing"]
print(inspect.getsource(set_stage))
print(inspect.getsource(make_optimizer))

# %%
model = build_model(get_config(profile, ["model.clip_pretrained=none", "model.text_decoder_pretrained=none"]))
table8 = get_config("full").train                   # the paper's learning rates (Table 8)
rows = {}
for stage in ("pretrain", "finetune"):
    group_of = {id(p): g["name"] for g in set_stage(model, stage, cfg) for p in g["params"]}
    lrs = table8.lr_pretrain if stage == "pretrain" else table8.lr_finetune
    for name in ("image_encoder", "image_norm", "image_latent", "text_encoder", "text_latent", "image_decoder",
                 "aggregator", "text_decoder", "head"):
        trained = [p for p in getattr(model, name).parameters() if p.requires_grad]
        groups = sorted({group_of[id(p)] for p in trained})
        rows.setdefault(name, {})[stage] = (", ".join(f"{g} {lrs[g]:.0e}" for g in groups) +
                                            f" ({sum(p.numel() for p in trained):,})") if trained else "frozen"
frozen = pd.DataFrame(rows).T
frozen.columns = ["pretraining: group lr (trained parameters)", "fine-tuning: group lr (trained parameters)"]
smoke = get_config("smoke").train
glue("smoke_lr", f"{max(smoke.lr_pretrain.values()):.0e}", display=False)
glue("smoke_lr_image_encoder", f"{smoke.lr_pretrain['image_encoder']:.0e}", display=False)

# %% tags=["hide-output"]
# NBVAL_CHECK_OUTPUT
print(frozen.to_string())

# %% [markdown]
# The same table (the printed check above is folded):

# %%
frozen

# %% [markdown]
# The learning rates are Table 8's; the parameter counts are those of this profile's model. (The
# smoke profile trains with {glue:text}`smoke_lr` instead: its weights start random, not from CLIP
# and CoCa, and it has only a few hundred steps. It keeps one of Table 8's ratios: in pretraining the
# image encoder learns 20 times slower than the new modules, {glue:text}`smoke_lr_image_encoder`.
# What that protects shows on the toy world: with the encoder at the decoders' rate, smoke
# pretraining reshaped its features and desire, which needs them, came out worse than with no
# pretraining at all.)
#
# The groups are the authors': a module that Table 8 does not name (the aggregator, the new
# LayerNorm on the image tokens, the latent projections, the text decoder's input projection and
# norms, the temperature) trains in `others` at 1e-4. The image side of $\mathcal L_{itc}$
# (`image_norm`, `image_latent`) keeps training in fine-tuning although the encoder is frozen.
# Note what the text decoder and head do in pretraining: nothing — they are frozen, and
# `pretrain_loss` does not even run them (their only reader would be $\mathcal L_{cls}$, weight 0
# in eq. 7; chapter 10 says what the authors' code does there).
#
# A check anyone can reason out: after one pretraining step, a frozen module is bit-identical and
# a trained one has moved.

# %%
# NBVAL_CHECK_OUTPUT
torch.manual_seed(seed)
model = build_model(get_config(profile, ["model.clip_pretrained=none", "model.text_decoder_pretrained=none"]))
optimizer = make_optimizer(model, "pretrain", cfg)
before = {n: [p.detach().clone() for p in getattr(model, n).parameters()] for n in ("image_encoder", "text_decoder")}
batch = next(iter(make_loader(load_split(root, "train"), batch_size=4)))
loss, terms, _ = pretrain_loss(model, batch, cfg, torch.Generator().manual_seed(seed))
loss.backward()
optimizer.step()
for name, old in before.items():
    same = all(torch.equal(a, b) for a, b in zip(old, getattr(model, name).parameters()))
    print(f"{name:13s} unchanged after a pretraining step: {same}")

# %% [markdown]
# ## The learning-rate schedule
#
# Each group's rate warms up linearly over the first 15 % (pretraining) or 10 % (fine-tuning) of the
# optimiser steps, then follows a half cosine down to 0:

# %% tags=["source-listing"]
print(inspect.getsource(cosine_with_warmup))

# %%
full = get_config("full")
per_epoch = math.ceil(math.ceil(6127 / full.train.batch_size) / full.train.grad_accum)  # MSED train: 6,127 posts
total = per_epoch * full.train.epochs_pretrain   # 50 epochs, the same in both stages
schedules = {}
for stage, lrs, warmup in (("pretrain", full.train.lr_pretrain, full.train.warmup_pretrain),
                           ("finetune", full.train.lr_finetune, full.train.warmup_finetune)):
    factor = np.array([cosine_with_warmup(total, warmup)(s) for s in range(total)])
    schedules[stage] = {group: lr * factor for group, lr in lrs.items()}
glue("steps_per_epoch", per_epoch, display=False)
glue("total_steps", total, display=False)

# %%
# NBVAL_CHECK_OUTPUT
for stage, groups in schedules.items():
    for name, lrs in groups.items():
        print(f"{stage:8s} {name:13s} peak {lrs.max():.0e} at step {int(lrs.argmax())}, last {lrs[-1]:.1e}")

# %%
fig = lr_schedule(schedules, title=f"full profile: {total} optimiser steps per stage")
glue("fig_lr", fig, display=False)
plt.close(fig)

# %% [markdown]
# ```{glue:figure} fig_lr
# :name: fig-lr-schedule
#
# Learning rate of every parameter group over each stage of the full recipe. Groups at the same
# rate lie on one curve (the image decoder and `others` in pretraining; the text encoder, the head
# and `others` in fine-tuning): the wider, lighter line is the one underneath.
# {glue:text}`steps_per_epoch` optimiser steps per epoch (batch 32 × 2 accumulated), 50 epochs.
# ```
#
# With the authors' batch of 64, one MSED epoch is {glue:text}`steps_per_epoch` optimiser steps —
# which is why their code evaluates on dev "every 96 steps": once per epoch.
#
# ## A short run: pretraining, then fine-tuning
#
# Each optimiser step minimises one of the two objectives, eq. 7 in pretraining and eq. 8 in
# fine-tuning: a weighted sum of the losses of chapter 7, with only the terms the stage uses.

# %% tags=["source-listing"]
print(inspect.getsource(pretrain_objective))
print(inspect.getsource(finetune_objective))

# %% [markdown]
# `train_stage` is the whole trainer (the `pretrain` and `finetune` commands and `reproduce` call
# it: data, checkpoints, evaluation, resume). Here it runs a few steps of each stage on a small toy
# world; the fine-tune starts from the pretraining's best checkpoint and ends with a test evaluation:

# %% tags=["remove-output"]
pretrained = train_stage(cfg, "pretrain", run / "pretrain")
finetuned = train_stage(cfg, "finetune", run / "finetune" / "desire", task="desire", init=run / "pretrain")
logs = {"pretraining (eq. 7)": read_log(run / "pretrain" / "metrics.jsonl"),
        "fine-tuning, desire (eq. 8)": read_log(run / "finetune" / "desire" / "metrics.jsonl")}
steps = {name: int(log["step"].max()) for name, log in logs.items()}
glue("pretrain_steps", steps["pretraining (eq. 7)"], display=False)
glue("test_f1", f"{100 * finetuned['test']['f1']:.1f}", display=False)
desire = {split: [r.labels["desire"] for r in read_split(root, split)] for split in ("train", "test")}
glue("test_floor", f"{100 * majority_metrics(desire['train'], desire['test'], 'desire')['f1']:.1f}", display=False)
glue("n_test", len(desire["test"]), display=False)

# %%
print(sorted(p.name for p in (run / "pretrain").iterdir()))
print(sorted(p.name for p in (run / "finetune" / "desire").iterdir()))

# %%
fig = training_curves(logs)
glue("fig_curves", fig, display=False)
plt.close(fig)

# %% [markdown]
# ```{glue:figure} fig_curves
# :name: fig-training-curves
#
# Loss per optimiser step of the short run, read back from each stage's `metrics.jsonl`: the total
# (black), every term as logged, before its weight in eq. 7 or 8 (so a term can lie above the
# total, which is their weighted sum), and the dev evaluations (circles). The figure of the whole
# smoke run below multiplies each term by its weight.
# ```
#
# The pretraining ran {glue:text}`pretrain_steps` optimiser steps here; the desire model reached
# {glue:text}`test_f1` % test macro-F1 on {glue:text}`n_test` test posts, where always answering the
# most common training label gets {glue:text}`test_floor` %: a few steps on a few dozen toy posts
# teach it nothing yet, and so few test posts make any such number noise. `make reproduce` trains
# the smoke model properly (chapter 9 shows its
# results); `profile = "full"` with `max_steps = None` and `epochs = 50` in the parameters cell
# is the paper's recipe.
#
# ## The smoke run as it happened
#
# The short run above stops after a few steps. `make reproduce` trains the whole smoke recipe
# ({glue:text}`smoke_epochs`); when its run is in `runs_dir`, each stage's `metrics.jsonl` is replayed
# below: every loss term times its weight in eq. 7 or eq. 8 (what the optimiser actually sees),
# the learning rate (warm-up, then cosine), and the dev score that picked the best checkpoint.

# %%
history = smoke_run(runs_dir) if profile == "smoke" else Path(runs_dir)   # load, or train it when missing
smoke = get_config("smoke").train
glue("smoke_epochs", f"{smoke.epochs_pretrain} pretraining epochs, then {smoke.epochs_finetune} fine-tuning "
     "epochs per task", display=False)


def stage_history(folder: Path, stage: str) -> tuple[pd.DataFrame, dict[str, float]]:
    """A stage's log and the weights of the loss terms its objective used (from its own config.json)."""
    train_cfg = Config.load(folder / "config.json").train
    weights = train_cfg.pretrain_weights if stage == "pretrain" else train_cfg.finetune_weights
    used = train_cfg.pretrain_losses if stage == "pretrain" else train_cfg.finetune_losses
    return read_log(folder / "metrics.jsonl"), {term: weights[term] for term in used}


if (history / "pretrain" / "done.json").exists():
    stages = {"pretraining (eq. 7)": stage_history(history / "pretrain", "pretrain")}
    stages.update({f"fine-tuning, {task} (eq. 8)": stage_history(history / "finetune" / task, "finetune")
                   for task in TASKS if (history / "finetune" / task / "done.json").exists()})
    fig = run_history(stages, title=f"{history}: the whole run, step by step")
else:
    message = f"no finished run in {history}: `make reproduce` makes one (minutes on a CPU), then re-run this cell"
    print(message)
    fig, ax = plt.subplots(figsize=(8, 1))
    ax.axis("off")
    ax.text(0.5, 0.5, message, ha="center", va="center")
glue("fig_history", fig, display=False)
plt.close(fig)

# %% [markdown]
# ```{glue:figure} fig_history
# :name: fig-run-history
#
# The smoke run of `make reproduce`, one row per stage. Left: each loss term times its weight.
# Middle: the learning rate. Right: the dev evaluations (every 96 steps and at each epoch's end);
# the ringed one is the checkpoint the next stage (or the test) uses: the lowest dev loss in
# pretraining, the highest dev macro-F1 in fine-tuning.
# ```
#
# ## Summary
#
# * Pretraining (eq. 7) trains the encoders and the image decoder; fine-tuning (eq. 8) freezes
#   them and trains the text encoder, text decoder and head — `set_stage` does both and returns
#   per-module learning rates (Table 8).
# * The schedule is a linear warm-up (15 % / 10 % of the steps) followed by a cosine decay to 0.
# * `train_stage` writes a stage folder: `config.json`, `best.safetensors`, `last.safetensors`
#   (exact resume), `metrics.jsonl` and the dev/test metrics.
#
# ## Exercises
#
# Try each exercise before opening its hint, and the hint before the solution. The
# exercise with a code cell runs as it is: fill in its `None`s.
#
# **Exercise 1.** Set `overrides = ["train.pretrain_losses=rec"]` and re-run the short run. Which curves
# disappear from the left panel, and why does the total change scale?
#
# ````{dropdown} Hint
# eq. 7 is a weighted sum; `pretrain_losses` chooses its terms.
# ````
#
# ````{dropdown} Solution to exercise 1
# Only L_rec is left: the itc, si and dc curves disappear, and the total is now $\lambda_{rec}\mathcal{L}_{rec}$
# alone, a smaller number with the reconstruction's own shape.
# ````
#
# **Exercise 2.** Why can fine-tuning cache the image encoder's output (`train.cache_features`) but pretraining
# cannot?
#
# ````{dropdown} Hint
# What is frozen, and what is random, in each stage?
# ````
#
# ````{dropdown} Solution to exercise 2
# In fine-tuning the image encoder is frozen, the crops are not masked and the views are
# deterministic: a sample's encoder output is the same every epoch. In pretraining the encoder
# learns (its weights change every step) and a new random mask is drawn every step.
# ````
#
# **Exercise 3.** In the smoke run's pretraining log, at which optimiser step does the learning rate peak, and
# what fraction of the run is that? Compare with `cfg.train.warmup_pretrain`. Complete the cell below.
#
# ````{dropdown} Hint
# `read_log(history / "pretrain" / "metrics.jsonl")` is a DataFrame; the training rows have an `lr`.
# ````

# %%
# Exercise 3: complete this cell (it runs as it is, and does nothing until you do).
log = None   # read_log of the smoke run's pretraining metrics.jsonl (`history` above)
if log is not None:
    pass       # the step where lr is largest, the last step, and their ratio

# %% [markdown]
# ````{dropdown} Solution to exercise 3
# ```python
# log = read_log(history / "pretrain" / "metrics.jsonl")
# train_rows = log[log.lr.notna()]
# peak, last = int(train_rows.step[train_rows.lr.idxmax()]), int(train_rows.step.max())
# print(peak, last, peak / last)
# ```
#
# The learning rate rises linearly for the first 15 % of the optimiser steps
# (`warmup_pretrain = 0.15`), then decays along a cosine: in the smoke run it peaks at step 28
# of 190.
# ````
