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
# # 4. Encoders and masking
#
# > "For high-resolution sub-images $I_{i,n}^{(l)}$, we apply a binary mask vector
# > $m_{i,n} \in \{0, 1\}^P$ with $m_{i,n}[p] = 1$ indicating that patch p is masked."
# > — {cite:t}`chen2026sydes`, Section 3.2.1
#
# One vision transformer {cite:p}`dosovitskiy2020vit`, CLIP's {cite:p}`radford2021clip`, encodes
# all five views. The global view goes in whole; each crop is MAE-masked {cite:p}`he2022mae`
# first, so the encoder only sees a quarter of its patches during pretraining. The caption goes
# through CLIP's causal text transformer.
#
# **Why hide patches?** A model that must paint back three quarters of a crop from the other
# quarter has to learn what crops contain: shapes, textures, where things usually are. Hiding
# them also makes pretraining cheap (the encoder sees 49 of 196 crop patches). The catch comes
# in chapter 7: reconstruction rewards pixel detail, while image-text alignment rewards what the
# caption says, and the paper warns the two objectives may pull apart (Section 3.3.4).
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
profile = "smoke"   # "full": ViT-B/16 widths (random weights here, so it runs offline)
data_root = ""      # "": generate a tiny toy world here; or an MSED-format folder
device = "auto"
seed = 0

# %% tags=["remove-input"]
# The model in one picture (chapter 1), this chapter's parts highlighted (boxes in yellow, losses in red).
from sydes_mini.plots.architecture import you_are_here

you_are_here(4, profile);

# %%
import inspect
import tempfile
from pathlib import Path

import matplotlib.pyplot as plt
import torch

from sydes_mini.config import get_config
from sydes_mini.device import get_device
from sydes_mini.data import read_split, tokenize
from sydes_mini.images import load_image
from sydes_mini.model import SyDES, build_model
from sydes_mini.model.image_encoder import ImageEncoder, random_masking
from sydes_mini.model.text_encoder import TextEncoder
from sydes_mini.plots.book import glue
from sydes_mini.plots.model import masking_overlay
from sydes_mini.toy import synth
from sydes_mini.views import mixed_scale_views

torch.manual_seed(seed)
DEVICE = get_device(device)
cfg = get_config(profile, [] if profile == "smoke" else ["model.clip_pretrained=none",
                                                         "model.text_decoder_pretrained=none"])
model = build_model(cfg).to(DEVICE).eval()
root = Path(data_root) if data_root else synth(Path(tempfile.mkdtemp()) / "toy", n_train=8, n_dev=1,
                                              n_test=1, seed=seed)
example = next(r for r in read_split(root, "train") if r.raw_labels["desire"] != "none")
global_view, crops = mixed_scale_views(load_image(example.image_path), cfg.variant)

# %% [markdown]
# ## Patches and the mask
#
# Each 224 × 224 view is cut into $P = (224/16)^2 = 196$ patches of 16 × 16 pixels, embedded
# as tokens with a CLS token in front:
#
# $$
# \begin{aligned}
# P^{(l)}_{emb,i,n} &= [v^{cls}_{i,n}, v^1_{i,n}, \dots, v^P_{i,n}] \in \mathbb{R}^{(P+1)\times C_1}, \\
# \bar P^{(l)}_{emb,i,n} &= \mathrm{Select}\big(P^{(l)}_{emb,i,n}, M_{i,n}\big) \in \mathbb{R}^{(rP+1)\times C_1}
# \end{aligned}
# $$
#
# where $M_{i,n} = \{p \mid m_{i,n}[p] = 0\}$ are the visible patches and $r = 1 - m$ the keep
# ratio. With $m = 0.75$ the encoder sees $rP = 49$ of the 196 patches of each crop. Masking is
# a random permutation per crop; `ids_restore` puts the patches back in order later (chapter 5):

# %% tags=["source-listing"]
print(inspect.getsource(random_masking))
print(inspect.getsource(ImageEncoder.forward))
print(inspect.getsource(SyDES.encode_images))   # one encoder for the five views: the global view unmasked

# %% [markdown]
# ## Check: what comes out of the encoder

# %%
encoder = model.image_encoder
g = torch.Generator().manual_seed(seed)
with torch.no_grad():
    patches = encoder.embed(crops.to(DEVICE))                                        # [4, P, C1]
    tokens, mask, ids_restore = encoder(crops.to(DEVICE), cfg.model.mask_ratio, g)
    full_tokens, *_ = encoder(crops.to(DEVICE), 0.0)                                 # fine-tuning: m = 0
P = encoder.num_patches
glue("n_patches", P, display=False)
glue("n_visible", int((mask[0] == 0).sum()), display=False)
glue("mask_ratio", cfg.model.mask_ratio, display=False)

# %%
# NBVAL_CHECK_OUTPUT
print("patch side:", encoder.patch_size, "| P =", P)
print("patch tokens     ", list(patches.shape), "  (crops, P, C1)")
print("masked (m=0.75)  ", list(tokens.shape), "   (crops, 1 + rP, C1)")
print("unmasked (m=0)   ", list(full_tokens.shape))
print("visible per crop:", (mask == 0).sum(-1).tolist(), "| masked per crop:", mask.sum(-1).int().tolist())
print("ids_restore is a permutation:",
      torch.equal(ids_restore.sort(-1).values.cpu(), torch.arange(P).expand(4, -1)))

# %% [markdown]
# The encoder sees {glue:text}`n_visible` of {glue:text}`n_patches` patches per crop at mask
# ratio {glue:text}`mask_ratio`: a quarter of the compute per crop, and a hard puzzle for the
# decoder that must fill in the rest.

# %%
fig = masking_overlay(crops, mask.cpu(), encoder.patch_size)
glue("fig_mask", fig, display=False)
plt.close(fig)

# %% [markdown]
# ```{glue:figure} fig_mask
# :name: fig-mask
#
# MAE masking on the four crops of one toy-world image (mask ratio {glue:text}`mask_ratio`):
# dark patches are masked and never enter the encoder. Parts of the banners are hidden too,
# which is what the text-guided decoder (chapter 5) must learn to recover.
# ```
#
# ## The text encoder
#
# > "Texts are tokenized into an embedding sequence of length $S + 1$ ... and attain encoded
# > features $W_i = [w_i^1, \dots, w_i^S, w_i^{cls}]$." — {cite:t}`chen2026sydes`, Section 3.2.2
#
# CLIP's text transformer is causal, so only the last real token has seen the whole caption:
# its output is $w^{cls}$. In CLIP's vocabulary the end-of-text token has the largest id, so
# `argmax` over the ids finds it.

# %% tags=["source-listing"]
print(inspect.getsource(TextEncoder.forward))

# %%
# NBVAL_CHECK_OUTPUT
text = tokenize([example.caption])                                   # [1, 77]
with torch.no_grad():
    text_tokens, w_cls = model.text_encoder(text.to(DEVICE))
    w = model.text_latent(w_cls)                                     # [1, E], unit length
eot = int(text.argmax(-1))
print("ids", list(text.shape), "| tokens", list(text_tokens.shape), "| w_cls", list(w_cls.shape),
      "| latent w", list(w.shape))
print("end-of-text position:", eot, "| w_cls is that token's output:", torch.equal(w_cls[0], text_tokens[0, eot]))

# %% [markdown]
# ## Summary
#
# * A 224 view is P = 196 tokens of width $C_1$, plus a CLS token.
# * In pretraining each crop keeps a random $rP = 49$ patches; `mask` (1 = masked) and
#   `ids_restore` remember which.
# * The text's CLS feature is the output at the end-of-text token; the latents `v` and `w`
#   are the CLS features projected to the shared width E and scaled to unit length
#   (`model.image_latent`, `model.text_latent`). The paper variant uses CLIP's own
#   projections; the authors' code (the default) learns new bias-free ones, and puts a new
#   LayerNorm (`model.image_norm`) on every image token, which keeps training in fine-tuning
#   while the encoder is frozen (chapter 10).
#
# ## Exercises
#
# Try each exercise before opening its hint, and the hint before the solution. The
# exercise with a code cell runs as it is: fill in its `None`s.
#
# **Exercise 1.** Run the encoder with `mask_ratio=0.9`. How many patches stay visible, and how does the
# encoder's cost scale with it (Table 6 of the paper sweeps this ratio)?
#
# ````{dropdown} Hint
# `random_masking` keeps `int((1 - m) * P)` patches.
# ````
#
# ````{dropdown} Solution to exercise 1
# `int(0.1 * 196)` = 19 patches (plus the class token) instead of 49 at 0.75. The encoder's work on
# a crop is roughly proportional to its tokens (attention adds a square term), so 0.9 makes the
# crops about 2.5 times cheaper, and the reconstruction task harder.
# ````
#
# **Exercise 2.** Show that `random_masking` keeps the *same* patches for the same generator seed and different
# ones for another seed. Complete the cell below.
#
# ````{dropdown} Hint
# Call it three times on the same `x`, with generators seeded 0, 0 and 1, and compare the masks.
# ````

# %%
# Exercise 2: complete this cell (it runs as it is, and does nothing until you do).
from sydes_mini.model.image_encoder import random_masking

x = torch.randn(1, 196, 8)
masks = None   # the masks of random_masking(x, 0.75, generator) for seeds 0, 0 and 1
if masks is not None:
    print(torch.equal(masks[0], masks[1]), torch.equal(masks[0], masks[2]))

# %% [markdown]
# ````{dropdown} Solution to exercise 2
# ```python
# x = torch.randn(1, 196, 8)
# masks = [random_masking(x, 0.75, torch.Generator().manual_seed(s))[1] for s in (0, 0, 1)]
# print(torch.equal(masks[0], masks[1]), torch.equal(masks[0], masks[2]))   # True False
# ```
#
# The seed fixes the random scores that are sorted to choose the patches: the same seed, the same
# mask. That is what lets a resumed run draw exactly the masks an uninterrupted one draws.
# ````
#
# **Exercise 3.** Why is the text CLS the *last* token's output and not the first one's, as for images?
#
# ````{dropdown} Hint
# CLIP's text transformer has a causal attention mask.
# ````
#
# ````{dropdown} Solution to exercise 3
# Each text token attends only to the tokens before it, so only the end-of-text token has seen the
# whole caption. The image encoder attends in both directions, so a class token in front sees
# every patch.
# ````
