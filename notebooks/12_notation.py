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
# The paper and the code name the same things differently. This page lists every symbol of the
# paper with the name it has in `sydes_mini` and its shape in the smoke and full profiles. The
# names are written by hand in `sydes_mini.notation.SYMBOLS`; every shape and size below is read
# off a live model (random weights, one pretraining forward on a batch of B = 2), so the page
# cannot drift from the code.

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

# %%
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
                       **{p: shapes[p].get(key, "") if key else "scalar" for p in ("smoke", "full")},
                       "paper": where} for symbol, meaning, code, key, where in SYMBOLS])
print(table[["code", "smoke", "full", "paper"]].to_string())

# %% [markdown]
# The same table with the paper's symbols (the printed check above is folded):

# %% mystnb={"markdown_format": "myst"}
rows = ["| symbol | paper | meaning | code | smoke | full |", "|---|---|---|---|---|---|"]
rows += [f"| {r.symbol} | {r.paper} | {r.meaning} | `{r.code}` | `{r.smoke}` | `{r.full}` |" for r in table.itertuples()]
Markdown("\n".join(rows))

# %% [markdown]
# ## Summary
#
# * One batch index *i* in the paper is one row of a `[B, …]` tensor in the code; the crop index
#   *n* is the second axis of `[B, 4, …]`, or the `4B` rows of the crops flattened into the batch.
# * Shapes in the two profiles differ only in the widths (C1, C2, Cd, E); the number of views,
#   patches and classes is the paper's in both.
