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
# # 3. Mixed-scale views (eq. 1)
#
# > "Given a high-resolution image $I_i$ (e.g., 448×448) from batch size N, we generate one
# > down-sampled low-resolution image and partition the original image into four
# > non-overlapping high-resolution sub-images." — {cite:t}`chen2026sydes`, Section 3.1
#
# One image becomes five 224 × 224 images: a **global view** for the whole scene and four
# **crops** for the details. A 224-pixel CLIP encoder {cite:p}`radford2021clip` can then look at
# a 448-pixel image without ever processing 448 × 448 at once.
#
# **Why crops?** Shrinking a 612 × 408 post to 224 pixels keeps the scene and loses the small
# things: a logo, a word on a sign, a face in the distance. Desire often hides in such details.
# In the toy world the desire is written on two banners at the image's left and right edges
# (chapter 2): the authors' global view (a centre crop) cuts both away altogether, and every crop
# shows a piece of one at a higher resolution than any global view (in the paper's eq. 1 twice
# the global view's; in the authors' code, whose global view is cut from the image at its own
# scale, about 1.3 times for a 612 × 408 post). Whatever one small view cannot resolve, or does not contain, the four
# crops can.
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
profile = "smoke"   # only the opening picture's shapes: the views are 224 x 224 at every model size
data_root = ""      # "": generate a tiny toy world here; or an MSED-format folder, e.g. "../data/MSED"
seed = 0

# %% tags=["remove-input"]
# The model in one picture (chapter 1), this chapter's parts highlighted (boxes in yellow, losses in red).
from sydes_mini.plots.architecture import you_are_here

you_are_here(3, profile);

# %%
import inspect
import tempfile
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd
import torch

from sydes_mini.data import read_split
from sydes_mini.images import load_image
from sydes_mini.plots.book import glue
from sydes_mini.plots.model import stitch_crops, views_grid
from sydes_mini.toy import ToyWorldConfig, banner_patches, find_banner, shows_own_emotion, synth
from sydes_mini.views import VARIANTS, mixed_scale_views, split_crops, view_448

if profile != "smoke":
    print(f"profile={profile!r} changes only the opening picture here (the views are the same at every model size); "
          "set data_root to an MSED-format folder to look at other data")
root = Path(data_root) if data_root else synth(Path(tempfile.mkdtemp()) / "toy", n_train=8, n_dev=1,
                                              n_test=1, seed=seed)
example = next(r for r in read_split(root, "train") if find_banner(image := load_image(r.image_path))
               and shows_own_emotion(image, r.raw_labels["emotion"]))      # a typical post: banners, own background
image = load_image(example.image_path)

# %% [markdown]
# ## The equation
#
# \begin{equation*}
# \begin{aligned}
# I_i^{(g)} &= \mathrm{DownSample}(I_i), & I_i^{(g)} &\in \mathbb{R}^{224 \times 224 \times 3} \\
# I_{i,n}^{(l)} &= \mathrm{Crop}_n(I_i), & I_{i,n}^{(l)} &\in \mathbb{R}^{224 \times 224 \times 3},\quad n = 1,2,3,4
# \end{aligned}
# \tag{1}
# \end{equation*}
#
# The crops come in the order top-left, top-right, bottom-left, bottom-right.
#
# ## The code
#
# `mixed_scale_views` has two variants. `"paper"` follows eq. 1: squash the image to 448 × 448,
# down-sample it for the global view, cut it into four. `"code"` follows the authors' code:
# the 448 image is the image padded to a square with CLIP's mean colour, and the global view is
# a separate CLIP preprocessing of the original (shortest side to 224, centre crop).

# %% tags=["source-listing"]
print(inspect.getsource(mixed_scale_views))
print(inspect.getsource(view_448))
print(inspect.getsource(split_crops))

# %% [markdown]
# ## Checks
#
# Both variants give five 224 × 224 views, and the four crops re-tile the 448 image exactly
# (`stitch_crops` undoes `split_crops`). In the `"code"` variant the padding is CLIP's mean
# colour, which normalises to (almost) zero:

# %%
# NBVAL_CHECK_OUTPUT
views = {variant: mixed_scale_views(image, variant) for variant in VARIANTS}
for variant, (global_view, crops) in views.items():
    exact = torch.equal(stitch_crops(crops), view_448(image, variant))
    print(f"{variant:5s} global {list(global_view.shape)} crops {list(crops.shape)} re-tile exactly: {exact}")
print(f"padding row of the top-left crop, max |x| = {views['code'][1][0, :, 0, :].abs().max():.2f}")

# %% [markdown]
# ## The five views of one image

# %%
fig = views_grid(image, views)
glue("fig_views", fig, display=False)
plt.close(fig)

# %% [markdown]
# ```{glue:figure} fig_views
# :name: fig-views
#
# The five views of a toy-world image ({glue:text}`example_labels`), authors' code (top) and
# paper (bottom). The `code` global view crops the left and right edges away; the `paper`
# variant squashes the 3:2 image to a square.
# ```
#
# ## How much of each view is banner?
#
# The toy world's desire banners run down the left and right edges (chapter 2). Following the
# geometry of each view, a banner's width in pixels, and the 16-pixel patches that show a banner
# (counted on this image by `toy.banner_patches`), are:

# %%
cfg, (w, h) = ToyWorldConfig(), image.size
b = cfg.banner_width
cut = (w - h) / 2                     # code global view: the centre crop removes this much on each side
sizes = pd.DataFrame({
    "view": ["code: crop", "code: global", "paper: crop", "paper: global"],
    "banner width (px)": [b * 448 / max(w, h), max(0, b - cut) * 224 / h, b * 448 / w, b * 224 / w],
    "banner patches": [int(banner_patches(views["code"][1]).sum(1).max()),
                       int(banner_patches(views["code"][0][None]).sum()),
                       int(banner_patches(views["paper"][1]).sum(1).max()),
                       int(banner_patches(views["paper"][0][None]).sum())]}).round(1)
glue("example_labels", f"emotion {example.raw_labels['emotion']}, desire {example.raw_labels['desire']}",
     display=False)
glue("crop_px", f"{b * 448 / max(w, h):.0f}", display=False)
sizes.set_index("view")

# %% [markdown]
# In the authors' global view the banners are cut off entirely (width 0), so only the crops can
# see the desire; in each crop a banner is about {glue:text}`crop_px` pixels wide, over a quarter of the
# crop. The "banner patches" column counts, for one crop (the one with most) or the global view,
# the patches that are mostly banner colour.
#
# ## Paper vs code
#
# | | paper (`variant="paper"`) | authors' code (`variant="code"`) |
# |---|---|---|
# | 448 image | resize (squash) to 448 × 448 | pad to a square with CLIP's mean colour, bicubic resize |
# | global view | bilinear down-sample of the 448 image | CLIP preprocessing of the original: shortest side 224, centre crop |
# | what the global view misses | nothing (but it is squashed) | the borders of the long side |
#
# The switch is `Config.variant` (`--set variant=paper`); chapter 10 measures its effect.
#
# ## Summary
#
# * Eq. 1 turns one image into a global 224 view and four 224 crops of a 448 image.
# * The crops re-tile the 448 image exactly, in the order TL, TR, BL, BR.
# * The authors' global view is a centre crop, so details near the image border reach the
#   model only through the crops.
#
# ## Exercises
#
# Try each exercise before opening its hint, and the hint before the solution. The
# exercise with a code cell runs as it is: fill in its `None`s.
#
# **Exercise 1.** Load a tall image (height > width) and draw its views. Which parts does the `code` global
# view lose now?
#
# ````{dropdown} Hint
# The `code` global view is CLIP's preprocessing: shortest side to 224, then a centre crop.
# ````
#
# ````{dropdown} Solution to exercise 1
# For a wide image the centre crop cuts the left and right sides; for a tall one it cuts the top
# and the bottom. The four crops still cover the whole (padded) image, so only the global view
# loses those strips.
# ````
#
# **Exercise 2.** What would a 3 × 3 grid of crops cost? Count the encoder tokens per image for 1 + 4 and for
# 1 + 9 views (196 patches each). Complete the cell below.
#
# ````{dropdown} Hint
# Each 224 × 224 view is 196 patches plus a class token, and the encoder attends within each view.
# ````

# %%
# Exercise 2: complete this cell (it runs as it is, and does nothing until you do).
tokens_per_view = None   # patches + class token of one 224 x 224 view
if tokens_per_view is not None:
    tokens_5, tokens_10 = None, None   # 1 + 4 views and 1 + 9 views
    print(tokens_5, tokens_10)

# %% [markdown]
# ````{dropdown} Solution to exercise 2
# ```python
# tokens_per_view = 196 + 1
# tokens_5, tokens_10 = 5 * tokens_per_view, 10 * tokens_per_view
# print(tokens_5, tokens_10, tokens_10 / tokens_5)
# ```
#
# 985 and 1,970 tokens: twice the encoder's work, since attention runs within each view (its cost
# grows with the number of views, not with their square). The text decoder's keys double too.
# ````
#
# **Exercise 3.** Why does `stitch_crops(crops)` equal `view_448(image)` bit for bit, while resizing the crops
# back would not?
#
# ````{dropdown} Hint
# Does making a crop change any pixel value?
# ````
#
# ````{dropdown} Solution to exercise 3
# The crops are slices of the 448 × 448 tensor: no pixel is recomputed, so putting the slices back
# together gives the same numbers. Resizing interpolates, which mixes neighbouring pixels and
# cannot be undone exactly.
# ````
