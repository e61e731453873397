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
# # 1. Overview and set-up
#
# > "we propose SyDES, a *Symmetrical Bidirectional Multimodal Learning Framework for Desire,
# > Emotion, and Sentiment recognition*. The framework emphasizes deep utilization of non-verbal
# > visual cues while ensuring that verbal cues remain effectively exploited."
# > — {cite:t}`chen2026sydes`, Section 1
#
# A post on social media is an image and a caption. SyDES reads both and predicts three
# labels of the MSED dataset {cite:p}`jia2022msed`: the **desire** behind the post, its
# **emotion** and its **sentiment**. This chapter names the parts of the model, shows the
# three label sets, and sets up the machine you read the book on.
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
profile = "smoke"   # "full": the paper's sizes (ViT-B/16 encoders, 12-layer CoCa-size text decoder)
device = "auto"     # "auto": cuda when available, else cpu
seed = 0

# %%
import inspect
import json
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd
import seaborn as sns
import torch

from sydes_mini.commands.describe import describe
from sydes_mini.config import get_config
from sydes_mini.device import get_device
from sydes_mini.data import tokenize
from sydes_mini.labels import LABELS, TASKS
from sydes_mini.model import SyDES, build_model
from sydes_mini.plots.architecture import model_figure, profile_shapes
from sydes_mini.plots.book import glue

torch.manual_seed(seed)
DEVICE = get_device(device)
print("profile:", profile, "| device:", DEVICE.type)

# %% [markdown]
# ## The three tasks
#
# Each post carries one label per task. The label names and their order (the class index
# the model predicts) come from `sydes_mini.labels`:

# %%
# NBVAL_CHECK_OUTPUT
for task in TASKS:
    print(f"{task:9s} K={len(LABELS[task])}: {', '.join(LABELS[task])}")

# %% [markdown]
# Desire has {glue:text}`k_desire` classes, emotion {glue:text}`k_emotion` and sentiment
# {glue:text}`k_sentiment`. Desire `none` covers about half of MSED, which is why the paper
# reports *macro* scores (chapter 2). One pretrained model serves all three tasks; only the
# classification head differs.

# %%
for task in TASKS:
    glue(f"k_{task}", len(LABELS[task]), display=False)

# %% [markdown]
# ## The model in one picture
#
# Follow the arrows. An image becomes five views: one global view and four crops that keep
# the detail a single 224-pixel view loses (chapter 3). One image encoder reads all five;
# during pretraining most crop patches are hidden (chapter 4). The *text-guided image
# decoder* must paint the hidden patches back, helped by the caption (L_rec, chapter 5), and
# the *aggregator* folds the four crops into one vector that should agree with the global
# view and the caption (L_si, L_dc, chapter 7). The *image-guided text decoder* lets every
# caption token look at the patches of all five views, and the *head* turns what it read
# into class scores (L_cls, chapter 6). L_itc pulls matching image and caption together. The
# shapes inside each box are the tensors that part returns, traced from a live model of each
# profile (B = batch, 4B = the crops of B images, L = the caption's length in tokens, which each
# batch cuts to its longest caption; the image decoder returns the pixels of every crop patch
# and one vector z per crop).

# %%
architecture = {p: profile_shapes(p) for p in ("smoke", "full")}
fig = model_figure(architecture, title="SyDES: its parts, the tensors they return (smoke / full) and the five losses")
glue("fig_model", fig, display=False)
plt.close(fig)

# %% [markdown]
# ```{glue:figure} fig_model
# :name: fig-model
#
# SyDES in one picture (paper Fig. 2, re-drawn by `sydes_mini.plots.architecture` from the
# live model). Boxes: the modules of `SyDES`; arrows: the data flow; red tags: the losses,
# dashed to the outputs they compare. Chapters 3–8 open with this picture, their part highlighted.
# ```

# %% [markdown]
# ## The model in one line
#
# The five views of the image (eq. 1) are encoded by one shared image encoder; the caption by
# a text encoder. The *image-guided text decoder* lets every caption token attend to the patch
# tokens of all five views, and a small MLP turns the result into class scores
# (Section 3.2.4):
#
# $$
# \begin{aligned}
# \hat y_i &= \mathrm{MLP}\big(\mathrm{TextDec}(W_i^{1:S},\, V_i^{all})\big), \\
# V_i^{all} &= [\Pi_{v\to t}(V_i^{(g)}), \Pi_{v\to t}(V_{i,1}^{(l)}), \dots, \Pi_{v\to t}(V_{i,4}^{(l)})]
# \end{aligned}
# $$
#
# During pretraining a second decoder, the *text-guided image decoder*, reconstructs masked
# patches of the four crops (chapter 5). The forward pass of `SyDES` reads as these named steps:

# %% tags=["source-listing"]
print(inspect.getsource(SyDES.forward))

# %% [markdown]
# ## A check on a tiny batch
#
# Two random "images" (as five views each) and two captions go through the smoke model. The
# shapes are the contract every later chapter relies on (letters: B batch, P patches,
# L text length, K classes, E latent width).

# %%
cfg = get_config(profile, [] if profile == "smoke" else ["model.clip_pretrained=none",
                                                         "model.text_decoder_pretrained=none"])
model = build_model(cfg, task="desire").to(DEVICE).eval()
g = torch.Generator().manual_seed(seed)
global_view = torch.randn(2, 3, 224, 224, generator=g)           # [B, 3, 224, 224]
crops = torch.randn(2, 4, 3, 224, 224, generator=g)              # [B, 4, 3, 224, 224]
text = tokenize(["a child in a garden, feeling happy.", "two friends at a station."])  # [B, 77]
with torch.no_grad():
    out = model(global_view.to(DEVICE), crops.to(DEVICE), text.to(DEVICE), need_attn=True)

# %%
# NBVAL_CHECK_OUTPUT
for name in ("v", "w", "pixels", "z", "p_agg", "alpha", "logits", "attention"):
    print(f"{name:9s} {list(getattr(out, name).shape)}")

# %% [markdown]
# `pixels` has 16 × 16 × 3 = 768 values per patch, the pixels the image decoder paints back (the
# same number as the full model's width C1 only by chance). `logits` has one score per desire
# class; `attention` holds, for each of the 76 text
# positions the decoder reads (all but the end-of-text token), a weight on each of the 5 × 196
# image patches (chapter 6).
#
# ## How big is it?
#
# `describe` builds a profile with random weights and counts the parameters of each part.
# The smoke model is tiny so that a laptop CPU can train it in minutes; the full model has the
# paper's sizes (about {glue:text}`full_millions` million parameters).

# %%
sizes = pd.DataFrame([
    {"profile": p, "component": name, "parameters": m["params"]}
    for p in ("smoke", "full") for name, m in describe(p, "pretrain")["modules"].items()
    if m["params"] > 1])
glue("full_millions", f"{sizes[sizes.profile == 'full'].parameters.sum() / 1e6:.0f}", display=False)
table = sizes.pivot(index="component", columns="profile", values="parameters").loc[sizes.component.unique()]
table.columns.name = None                                       # one header row: smoke, full
table[["smoke", "full"]].map("{:,}".format)

# %%
fig, ax = plt.subplots(figsize=(7, 3.2))
sns.barplot(sizes, x="component", y="parameters", hue="profile", ax=ax)
ax.set_yscale("log")
ax.set_xlabel("")
ax.tick_params(axis="x", labelsize=8, labelrotation=35)
ax.legend(title="profile", loc="upper left", bbox_to_anchor=(1.01, 1.0))   # beside the bars, hiding none
fig.tight_layout()
glue("fig_sizes", fig, display=False)
plt.close(fig)

# %% [markdown]
# ```{glue:figure} fig_sizes
# :name: fig-sizes
#
# Parameters per component (log scale), smoke profile vs the paper's sizes. The text decoder
# dominates the full model; it is initialised from CoCa {cite:p}`yu2022coca` in the authors' code.
# ```
#
# ## The hardware ladder
#
# | you have | what to run | what you get |
# |---|---|---|
# | a GPU | `make reproduce PROFILE=full` (needs internet once for CLIP/CoCa weights and MSED) | the paper's tables, beside the paper's numbers |
# | Colab | open a chapter with the rocket button, *Runtime → Change runtime type → GPU*, set `profile = "full"` in the parameters cell | chapters 1, 4–6 and 8 at the paper's model sizes, with random weights (nothing is downloaded); with `"smoke"` the chapters that show a trained model train the smoke run in place when it is missing (below) |
# | a laptop CPU | `make book` (smoke profile, toy world) | this book, built locally, with every number recomputed |
#
# How long each rung takes, as `book/hardware.json` records it (the README's ladder has the same
# figures): what was measured on which machine, and which figures are still estimates.

# %%
ladder_file = Path("../book/hardware.json")
ladder = json.loads(ladder_file.read_text()) if ladder_file.is_file() else {}
if ladder:
    with pd.option_context("display.max_colwidth", None):           # every cell whole, not cut at 50 characters
        display(pd.DataFrame({"how long": {rung: entry["time"] or "not measured yet"
                                           for rung, entry in ladder.items()}}).rename_axis("rung"))
else:
    print(f"{ladder_file} is not here (this notebook runs outside the repository): the README's hardware ladder has the times")

# %% [markdown]
# ### The full reproduction on a GPU: measured once, estimated for the rest
#
# One H100 was lent to this project for one session. `book/gpu_bench.json` holds what
# `python -m sydes_mini bench --profile full --device cuda --batch-size 32` measured there (random
# weights, batches shaped like MSED's); with the recipe's step counts (50 + 50 epochs, dev evaluation
# every epoch, three tasks) `sydes_mini.estimate.measured_hours` turns the samples per second into hours.
# The GPUs nobody has measured yet are estimated from the FLOPs counted per step
# (`book/gpu_estimates.json`) at an assumed sustained throughput.

# %%
from sydes_mini.estimate import RECIPE, measured_hours

gpu_file, estimates_file = Path("../book/gpu_bench.json"), Path("../book/gpu_estimates.json")
if gpu_file.is_file() and estimates_file.is_file():
    measured, estimated = json.loads(gpu_file.read_text()), json.loads(estimates_file.read_text())
    runs = RECIPE["runs_for_tables_2_to_10"]
    rows = []
    for precision in ("fp16", "bf16"):
        bench = measured["runs"][precision]
        hours = measured_hours(bench, estimated["flops_per_sample"])["table2_run"]
        glue(f"h100_{precision}_hours", f"{hours:.1f}", display=False)
        glue(f"h100_{precision}_tflops", f"{bench['pretrain_achieved_tflops']:.0f}", display=False)
        rows.append({"GPU": bench["device"], "how": f"measured, {precision} autocast",
                     "pretraining step, samples/s": bench["pretrain_samples_per_s"],
                     "TFLOP/s achieved": bench["pretrain_achieved_tflops"],
                     "h per Table 2 run": hours, f"h for {runs} runs": runs * hours})
    for gpu, hours in estimated["hours_table2_run"].items():
        tflops = estimated["assumed_sustained_tflops"][gpu]
        rows.append({"GPU": gpu, "how": f"estimate at {tflops:.0f} TFLOP/s (assumed)", "TFLOP/s achieved": None,
                     "h per Table 2 run": hours, f"h for {runs} runs": runs * hours})
    gpu_table = pd.DataFrame(rows).set_index("GPU").round(1).astype(object).fillna("–")   # –: not measured
else:
    gpu_table = "book/gpu_bench.json is not here (this notebook runs outside the repository): see the README"
gpu_table

# %% [markdown]
# With the authors' fp16 a Table 2 run took {glue:text}`h100_fp16_hours` h on the H100
# ({glue:text}`h100_bf16_hours` h in bf16). The step reached only {glue:text}`h100_fp16_tflops`
# TFLOP/s, a few per cent of the card's peak: `torch.profiler` showed the GPU busy for about a
# fifth of each step, the rest spent launching some 3,300 small kernels from Python. That is
# why the A100 is assumed to reach about as much as the H100 did, not its share of peak.

# %% [markdown]
# ## Opening a chapter on Colab
#
# 1. Click the rocket icon at the top of a page and choose **Colab**.
# 2. Run the first cell (folded in the HTML book): it installs `sydes_mini` from the repository;
#    Colab's own PyTorch is left alone. It also clones the repository into `/content/sydes-mini`
#    and works in its `notebooks/` folder, so `../runs`, `../data` and `../book` are there as in a
#    local clone.
# 3. To keep data and checkpoints between sessions, set `USE_DRIVE = True` in that cell: the clone
#    then lives in `MyDrive/sydes-mini`.
# 4. Change the `parameters` cell: `profile = "full"` (and a GPU runtime) for the paper's model
#    sizes, or leave `"smoke"` to follow along on Colab's CPU. The chapters build the full-size
#    model with random weights; chapters 2, 3 and 7 use the toy world with either profile.
# 5. Chapters 5, 6, 8, 9 and 11 show a trained model. With `"smoke"` the first of them you open
#    trains the smoke run into `../runs/smoke` when it is not there (a few minutes, once; the
#    others then load it). With `"full"` they load a run of
#    `!python -m sydes_mini reproduce --profile full --data ../data/MSED --out ../runs/full` made on a
#    GPU (MSED first: `!python -m sydes_mini data download --to ../data/MSED`); without one, each of
#    them says so: chapters 5, 6 and 11 then run the full-size model with random weights (the ladder
#    above), chapters 8 and 9 leave the run's plots and columns empty.
#
# ## Summary
#
# * SyDES predicts desire, emotion and sentiment from an image and its caption.
# * The image is seen as five 224 × 224 views; one encoder serves all views, one text encoder the caption.
# * Two decoders work in opposite directions: text guides image reconstruction (pretraining),
#   images guide the text representation (classification).
# * The smoke and full profiles run the same code; only the configuration differs.
#
# ## Exercises
#
# Try each exercise before opening its hint, and the hint before the solution. The
# exercise with a code cell runs as it is: fill in its `None`s.
#
# **Exercise 1.** Build the model for `task="sentiment"`. Which output changes shape, and why only that one?
#
# ````{dropdown} Hint
# Which module is built with `num_classes(task)`?
# ````
#
# ````{dropdown} Solution to exercise 1
# Only `logits` changes: `[B, 3]` instead of `[B, 7]`. The head is the only module whose size depends on
# the task (K classes); the encoders, decoders and latents are the same for all three tasks, which is
# why one pretraining serves the three fine-tunes.
# ````
#
# **Exercise 2.** In the tiny batch, give the second post another caption and run the model again. Which outputs
# change, and for which post? Complete the cell below.
#
# ````{dropdown} Hint
# `v` depends only on the global view. The crops are masked at random: pass the same seeded
# `generator` to both forward passes, or every output of the image decoder changes for that reason alone.
# ````

# %%
# Exercise 2: complete this cell (it runs as it is, and does nothing until you do).
new_text = None   # tokenize two captions: the first unchanged, the second a new one
if new_text is not None:
    with torch.no_grad():
        before = model(global_view.to(DEVICE), crops.to(DEVICE), text.to(DEVICE),
                       generator=torch.Generator().manual_seed(0))
        after = None   # the same forward pass with new_text (on DEVICE too)
    # compare each output of `before` and `after`, post by post

# %% [markdown]
# ````{dropdown} Solution to exercise 2
# ```python
# new_text = tokenize(["a child in a garden, feeling happy.", "an angry man shouting in the rain."])
# with torch.no_grad():
#     inputs = global_view.to(DEVICE), crops.to(DEVICE)
#     before = model(*inputs, text.to(DEVICE), generator=torch.Generator().manual_seed(0))
#     after = model(*inputs, new_text.to(DEVICE), generator=torch.Generator().manual_seed(0))
# for name in ("v", "w", "pixels", "z", "p_agg", "alpha", "logits"):
#     a, b = getattr(before, name), getattr(after, name)
#     a, b = a.view(2, -1, *a.shape[1:]), b.view(2, -1, *b.shape[1:])      # pixels are [4B, ...]
#     print(name, [torch.allclose(a[i], b[i], atol=1e-5) for i in range(2)])
# ```
#
# The first post's outputs do not change at all (nothing mixes posts in a forward pass). For the
# second post `v` stays (global view only), and `w`, `logits`, and also `pixels`, `z`, `p_agg` and
# `alpha` change: the image decoder is *text-guided*, so the caption reaches the reconstruction too.
# ````
#
# **Exercise 3.** From the table of sizes, what fraction of the full model is trained in pretraining?
#
# ````{dropdown} Hint
# `describe("full", "pretrain")` counts the total and the trainable parameters.
# ````
#
# ````{dropdown} Solution to exercise 3
# `describe("full", "pretrain")` gives 178.5 M trainable of 350.9 M parameters, about half: the
# image-guided text decoder (with its CoCa weights) and the head are frozen in pretraining
# (paper 3.4.1), and the text decoder is most of the model.
# ````
