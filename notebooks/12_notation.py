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
# # 12. Notation
#
# > "we project $V_{i,n}^{(l)}$ to the text embedding space via $\Pi_{v \rightarrow t}$ …"
# > — {cite:t}`chen2026sydes`, Section 3.2.3
#
# The paper and the code name the same things differently. This page lists the symbols of the
# paper's equations that the chapters use, with the name each has in `sydes_mini` and its shape in
# the smoke and full profiles. The names are written by hand in `sydes_mini.notation.SYMBOLS`; the
# shapes of the tensors a forward pass returns are read off a live model (random weights, one
# pretraining forward on a batch of B = 2), so they cannot drift from the code; a few internal
# ones (marked as a fixed shape in `SYMBOLS`) are written in the letters below.

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
profile = "smoke"   # the page shows both profiles; this one is traced first (its model must build)

# %% tags=["source-listing"]
import inspect

import pandas as pd
from IPython.display import Markdown

from sydes_mini.notation import SYMBOLS, sizes, traced_shapes
from sydes_mini.plots.architecture import profile_model

profiles = [profile] + [p for p in ("smoke", "full") if p != profile]
shapes, letters = {}, {}
for p in profiles:
    cfg, model = profile_model(p)
    shapes[p], letters[p] = traced_shapes(model), sizes(cfg, model)
print(inspect.getsource(traced_shapes))

# %% [markdown]
# ## Sizes
#
# The letters in the shapes:

# %%
# NBVAL_CHECK_OUTPUT
print(pd.DataFrame({p: {k: f"{v:g}" for k, v in sizes.items()} for p, sizes in letters.items()}).to_string())

# %% [markdown]
# P is the number of 16 × 16 patches of a 224 × 224 view, P' the patches of a crop that stay
# visible at mask ratio m, C1 and C2 the widths of the image and text encoders, Cd the image
# decoder's, E the shared latent space's, K the classes of the task (desire here). L is the
# caption's length in tokens, which changes from batch to batch (each batch is cut to its longest
# caption).
#
# ## Symbols

# %% tags=["hide-output"]
# NBVAL_CHECK_OUTPUT
table = pd.DataFrame([{"symbol": symbol, "meaning": meaning, "code": code,
                       **{p: shapes[p].get(key, key) if key else "scalar" for p in ("smoke", "full")},
                       "paper": where} for symbol, meaning, code, key, where in SYMBOLS])
print(table[["code", "smoke", "full", "paper"]].to_string())

# %% [markdown]
# The same table with the paper's symbols (the printed check above is folded):

# %% mystnb={"markdown_format": "myst"}
def shape_cell(smoke: str, full: str) -> str:
    return f"`{smoke}`" if smoke == full else f"smoke `{smoke}`<br>full `{full}`"


rows = ["| symbol | meaning | code | shape |", "|---|---|---|---|"]
rows += [f"| {r.symbol}<br>({r.paper}) | {r.meaning} | `{r.code}` | {shape_cell(r.smoke, r.full)} |"
         for r in table.itertuples()]
Markdown("\n".join(rows))

# %% [markdown]
# ## Summary
#
# * One batch index *i* in the paper is one row of a `[B, …]` tensor in the code; the crop index
#   *n* is the second axis of `[B, 4, …]`, or the `4B` rows of the crops flattened into the batch.
# * Shapes in the two profiles differ only in the widths (C1, C2, Cd, E); the number of views,
#   patches and classes is the paper's in both.
#
# ## Exercises
#
# Try each exercise before opening its hint, and the hint before the solution. The
# exercise with a code cell runs as it is: fill in its `None`s.
#
# **Exercise 1.** Which shapes in the table change between the smoke and the full profile, and
# which letters explain each change?
#
# ````{dropdown} Hint
# Compare the two profiles' columns of the sizes table: only some letters differ.
# ````
#
# ````{dropdown} Solution to exercise 1
# Only the widths differ: C1 and C2 (the encoders), Cd (the image decoder) and E (the latent
# space). Every shape that ends in one of them changes (the image and text tokens, the latents
# v, w, z and P_agg); the counts (B, 4 crops, P patches, P' visible patches, K classes) are the
# paper's in both, so `crops`, `mask`, `alpha` and `logits` have the same shape in both.
# ````
#
# **Exercise 2.** The crops' patch tokens `crop_tokens` have P' + 1 tokens per crop, not P + 1.
# Work out P' for mask ratio 0.5 and check it with `sizes` on a model built with
# `model.mask_ratio=0.5`. Complete the cell below.
#
# ````{dropdown} Hint
# P' = P × (1 − m), rounded down; `profile_model` takes the profile name, and `get_config` with
# `overrides` and `build_model` build any variation.
# ````

# %%
# Exercise 2: complete this cell (it runs as it is, and does nothing until you do).
from sydes_mini.config import get_config
from sydes_mini.model import build_model

expected = None   # P' by hand: 196 patches at mask ratio 0.5
if expected is not None:
    half = get_config("smoke", ["model.mask_ratio=0.5"])
    print(expected, sizes(half, build_model(half))["P'"])

# %% [markdown]
# ````{dropdown} Solution to exercise 2
# ```python
# expected = int(196 * (1 - 0.5))          # 98 visible patches per crop
# half = get_config("smoke", ["model.mask_ratio=0.5"])
# print(expected, sizes(half, build_model(half))["P'"])
# ```
#
# The crop tokens then have shape `[4B, 99, C1]`: the CLS token and the 98 visible patches. Half
# the crop tokens of the default 0.75 mask are hidden, so the encoder does about twice the work per crop.
# ````
#
# **Exercise 3.** Why does the table give the caption's length as a letter, L, and not as 77?
#
# ````{dropdown} Hint
# Look at `sydes_mini.data.trim_padding`.
# ````
#
# ````{dropdown} Solution to exercise 3
# Every batch is cut to its longest caption (start and end tokens included), so the text's length
# changes from batch to batch; 77 is only the tokenizer's maximum. Cutting drops padding that no
# output reads, so the results equal those of the padded batch.
# ````
