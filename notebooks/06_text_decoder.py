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
# # 6. The image-guided text decoder
#
# > "We concatenate multi-scale visual features from the global image and all local sub-images
# > ... as the key and value, and use non-CLS text tokens $W_i^{1:S}$ as the query."
# > — {cite:t}`chen2026sydes`, Section 3.2.4
#
# This is the half of SyDES that classifies. Each caption token asks, layer after layer, which
# of the 5 × 196 image patches matter to it. The decoder is the multimodal decoder of CoCa
# {cite:p}`yu2022coca` (open_clip's `MultimodalTransformer`); the authors' code initialises it
# from CoCa's weights.
#
# **Why do the words ask the questions?** The caption decides what to look for: "eager to
# explore" sends its tokens to whatever in the image supports or contradicts it. The image
# enters the decision only through what the words read from it, so a post whose caption says
# little can still be classified from the patches its words attend to.
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
profile = "smoke"
data_root = ""      # "": generate a tiny toy world here; or an MSED-format folder
runs = "../runs"    # <runs>/<profile>/finetune/<task>/best.safetensors is used (smoke: trained first when missing)
                    # (on Colab: inside the clone the first cell made, on Drive with USE_DRIVE)
task = "desire"
device = "auto"
seed = 0

# %% tags=["remove-input"]
# The model in one picture (chapter 1), this chapter's parts highlighted (boxes in yellow, losses in red).
from sydes_mini.plots.architecture import you_are_here

you_are_here(6, profile);

# %%
import inspect
import tempfile
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import torch

from sydes_mini.checkpoint import load_weights
from sydes_mini.config import Config, get_config
from sydes_mini.device import get_device
from sydes_mini.data import collate, load_split
from sydes_mini.model import SyDES, build_model
from sydes_mini.model.head import masked_mean_max
from sydes_mini.model.text_decoder import ImageGuidedTextDecoder, cross_attention_block
from sydes_mini.model.text_encoder import without_eot
from sydes_mini.plots.book import glue
from sydes_mini.plots.model import attention_maps
from sydes_mini.predict import token_strings
from sydes_mini.reproduce import smoke_run
from sydes_mini.toy import banner_patches, synth

torch.manual_seed(seed)
DEVICE = get_device(device)
if profile == "smoke":
    smoke_run(Path(runs) / "smoke")                              # load, or train it when missing
checkpoint = Path(runs) / profile / "finetune" / task / "best.safetensors"
trained = checkpoint.is_file()                                   # saved with its config.json beside it
cfg = Config.load(checkpoint.parent / "config.json") if trained else get_config(
    profile, [] if profile == "smoke" else ["model.clip_pretrained=none", "model.text_decoder_pretrained=none"])
model = build_model(cfg, task)
if trained:
    weights, meta = load_weights(checkpoint, profile=profile, stage="finetune", task=task)
    model.load_state_dict(weights)
print(f"weights: {checkpoint}" if trained else f"no checkpoint at {checkpoint}: random weights")
model = model.to(DEVICE).eval()
root = Path(data_root) if data_root else synth(Path(tempfile.mkdtemp()) / "toy", n_train=8, n_dev=1,
                                              n_test=1, seed=seed)
dataset = load_split(root, "train", variant=cfg.variant)
index = next(i for i, r in enumerate(dataset.records) if r.raw_labels["desire"] != "none")
batch = collate([dataset[index]])
print("caption:", dataset.records[index].caption)

# %% [markdown]
# ## The equations
#
# $$
# V_i^{all} = [\Pi_{v\to t}(V_i^{(g)}), \Pi_{v\to t}(V_{i,1}^{(l)}), \dots, \Pi_{v\to t}(V_{i,4}^{(l)})]
# \in \mathbb{R}^{5P\times C},
# $$
#
# $$
# \tilde W_i = \mathrm{TextDec}(W_i^{1:S}, V_i^{all})
# $$
#
# Each layer is a causal self-attention over the text followed by a cross-attention whose keys
# and values are $V^{all}$. The queries are the *non-CLS* tokens $W^{1:S}$: the end-of-text
# token, whose output is the caption's summary $w^{cls}$ used by $\mathcal L_{itc}$, is left out
# (`without_eot`, below); the authors' code does the same. The head pools $\tilde W_i$ and maps it
# to class scores (chapter 1). In the authors' code (the default) the keys pass through a new
# LayerNorm (no projection: the image width equals the decoder's, 768), the queries through a
# Linear and a LayerNorm, and the output is projected to 512 before the head.
# `image_keys` builds $V^{all}$ (before the projection $\Pi_{v\to t}$, which sits inside the
# decoder); in pretraining the crops' masked patches are hidden from the keys.
#
# The decoder's layers are open_clip's CoCa blocks. We run the self-attention blocks as they are,
# and write the cross-attention layer out in `cross_attention_block`: the text queries $Q$ come
# from the decoded text, the keys $K$ and values $V$ from the 980 image tokens, and
# `scaled_dot_product_attention` computes $\mathrm{softmax}(QK^\top/\sqrt{d})\,V$ for every head.
# It is the same computation as open_clip's block (checked below), done with one LayerNorm and
# one matrix product for the keys and values, where open_clip does two of each.

# %% tags=["source-listing"]
print(inspect.getsource(without_eot))
print(inspect.getsource(SyDES.image_keys))
print(inspect.getsource(ImageGuidedTextDecoder.forward))
print(inspect.getsource(cross_attention_block))
print(inspect.getsource(ImageGuidedTextDecoder.cross_attention_weights))
print(inspect.getsource(masked_mean_max))             # the head pools the real tokens only
print(inspect.getsource(type(model.head).forward))     # pooled text -> class scores (eq. 6's logits)

# %% [markdown]
# ## Checks
#
# * Keys: 5 × 196 = 980 patch tokens per image.
# * `need_attn=True` returns the last layer's cross-attention, head-averaged: one row per text
#   position, and every row is a probability distribution over the 980 keys.
# * In pretraining mode (mask ratio 0.75) the masked crop patches get exactly zero attention.
# * `cross_attention_block` gives what open_clip's own block gives for the same inputs, to float
#   rounding.

# %%
views = batch["global_view"].to(DEVICE), batch["crops"].to(DEVICE), batch["text"].to(DEVICE)
with torch.no_grad():
    f = model.normalise(model.encode_images(*views[:2]))
    keys, hidden = model.image_keys(f)
    out = model(*views, mask_ratio=0.0, decode_image=False, need_attn=True)
    masked = model(*views, mask_ratio=0.75, decode_image=False, need_attn=True,
                   generator=torch.Generator().manual_seed(seed))
    f_masked = model.encode_images(*views[:2], 0.75, torch.Generator().manual_seed(seed))
    block, width = model.text_decoder.decoder.cross_attn[0], model.text_decoder.decoder.width
    g = torch.Generator().manual_seed(seed)                      # any queries and keys will do
    x, kv = (torch.randn(1, n, width, generator=g).to(DEVICE) for n in (6, keys.shape[1]))
    block_gap = (cross_attention_block(block, x, kv, None) - block(x, k_x=kv, v_x=kv)).abs().max().item()
P = model.image_encoder.num_patches
on_masked = masked.attention[0, :, P:][:, f_masked.mask[0].flatten().bool()]   # [L, masked keys]

# %%
# NBVAL_CHECK_OUTPUT
print("keys", list(keys.shape), "| hidden keys (fine-tuning):", int(hidden.sum()))
print("attention", list(out.attention.shape), "| rows sum to 1:",
      torch.allclose(out.attention.sum(-1), torch.ones(out.attention.shape[:2], device=DEVICE), atol=1e-5))
print("pretraining: masked keys", on_masked.shape[1], "| largest weight on them:", on_masked.abs().max().item())
print("logits", list(out.logits.shape))
print("cross_attention_block equals open_clip's block:", block_gap < 1e-5)

# %% [markdown]
# ## Where do the words look? (paper Fig. 4)
#
# For a few words of the caption we draw their attention weights over the global view (left)
# and the four crops (right). The paper's Fig. 4 caption speaks of "the last layer in the image
# encoder"; the place where words meet patches in SyDES is this cross-attention, so that is what
# we draw.

# %%
names = token_strings(batch["text"][0])                          # start and end tokens included
words = [(pos, n) for pos, n in enumerate(names) if n.isalpha() and len(n) > 2]
chosen = {n: pos for pos, n in [words[0], words[len(words) // 2], words[-1]]}
fig = attention_maps(batch["global_view"][0], batch["crops"][0], out.attention[0].cpu(), chosen)
uniform = 1 / out.attention.shape[-1]
glue("fig_attn", fig, display=False)
glue("attn_words", ", ".join(f"'{w}'" for w in chosen), display=False)
glue("attn_max_ratio", f"{out.attention[0, list(chosen.values())].max().item() / uniform:.1f}", display=False)
glue("weights_state", "trained by the smoke pipeline" if trained else "random (untrained)", display=False)
plt.close(fig)

# %% [markdown]
# ```{glue:figure} fig_attn
# :name: fig-attn
#
# Last-layer cross-attention of the words {glue:text}`attn_words` over the five views
# (weights: {glue:text}`weights_state`). Top: the image's views as they are; below, one row per
# word, its attention on the same grid of patches (each row has one colour scale). Compare each
# bright patch with the image above it: is it a banner at the edge, or background?
# ```
#
# Read this figure with care. A map is one word of one post; the largest weight here is
# {glue:text}`attn_max_ratio` times the uniform $1/980$. The global view is the authors' centre
# square of the post, so the banners at the image's edges are not in it (chapter 3): its maps stay
# dark. Expect the words' maps to look alike. With random weights the bright patches come from
# random projections of the image tokens, the same for every word; trained on the toy world, they
# look alike for another reason: the desire is in the image, not in any one word, so every word
# has the same reason to look at the banners. One picture cannot tell these apart: the next
# section measures where the attention goes over many posts.
#
# ## Where does the attention go? (measured, not drawn)
#
# A picture of one caption can mislead; a number over many posts does not. For 40 fresh toy posts
# that carry desire banners, we average the last layer's cross-attention over each caption's real
# tokens and add it up per view, and over the crop patches the banners cover
# (`sydes_mini.toy.banner_patches`). Uniform attention would give each view 20 % and the banners
# their share of the keys.

# %% tags=["source-listing"]
print(inspect.getsource(banner_patches))
probe_root = synth(Path(tempfile.mkdtemp()) / "probe", n_train=80, n_dev=1, n_test=1, seed=seed + 1)
probe = load_split(probe_root, "train", variant=cfg.variant)
with_banner, per_view, on_banner, banner_keys = [], [], [], []
for i in range(len(probe)):
    sample = probe[i]                                                           # read and cut into views once
    tile = banner_patches(sample["crops"])                                      # [4, P]
    if not tile.any():
        continue                                                                # no banners on this post
    item = collate([sample])
    with torch.no_grad():
        o = model(item["global_view"].to(DEVICE), item["crops"].to(DEVICE), item["text"].to(DEVICE),
                  mask_ratio=0.0, decode_image=False, need_attn=True)
    _, real = without_eot(item["text"][..., None], item["text"])               # [1, L-1] real query tokens
    attention = o.attention[0, real[0]].mean(0).cpu()                          # [5*P], sums to 1
    per_view.append(attention.view(5, -1).sum(1))                               # [5]
    banner = torch.cat([torch.zeros(1, attention.numel() // 5, dtype=torch.bool), tile])   # [5, P]
    on_banner.append(attention[banner.flatten()].sum().item())
    banner_keys.append(banner.float().mean().item())
    with_banner.append(i)
    if len(with_banner) == 40:
        break
per_view = 100 * torch.stack(per_view).mean(0)
banner_ratio = np.mean(on_banner) / np.mean(banner_keys)

# %%
views = ["global", "crop TL", "crop TR", "crop BL", "crop BR"]
fig, (ax_img, ax_bar) = plt.subplots(1, 2, figsize=(8.5, 3.4), gridspec_kw={"width_ratios": [1.2, 1]})
example = probe.records[with_banner[0]]
ax_img.imshow(plt.imread(example.image_path))
ax_img.set(title=f"one of the {len(with_banner)} posts (desire: {example.raw_labels['desire']})")
ax_img.axis("off")
ax_bar.bar(views + ["banners"], [*per_view.tolist(), 100 * np.mean(on_banner)],
           color=["#4c72b0"] * 5 + ["#c0392b"])
ax_bar.axhline(20, color="grey", lw=1, ls="--", label="uniform, per view")
ax_bar.hlines(100 * np.mean(banner_keys), 4.6, 5.4, color="black", lw=2.5, label="uniform, banners", zorder=3)
ax_bar.set(ylabel="attention (%)", title="last-layer cross-attention, mean of 40 posts")
ax_bar.tick_params(axis="x", rotation=30)
ax_bar.legend(fontsize=9)
fig.tight_layout()
glue("fig_attn_shares", fig, display=False)
plt.close(fig)
glue("banner_attention", f"{100 * np.mean(on_banner):.1f}", display=False)
glue("banner_keys", f"{100 * np.mean(banner_keys):.1f}", display=False)
glue("banner_verdict", ("looks at the banners more than uniform attention would" if banner_ratio > 1.5 else
                        "does not single out the banners: they get about what uniform attention would give"
                        if banner_ratio > 0.67 else "looks at the banners less than uniform attention would")
, display=False)
glue("banner_ratio", f"{banner_ratio:.2f}", display=False)

# %% [markdown]
# ```{glue:figure} fig_attn_shares
# :name: fig-attn-shares
#
# Where the words' attention goes, over 40 posts with desire banners: per view, and on the banners'
# patches ({glue:text}`banner_keys` % of the keys); dashed and black marks: uniform attention.
# ```
#
# Measured here (weights: {glue:text}`weights_state`), the decoder {glue:text}`banner_verdict`:
# {glue:text}`banner_attention` % of the attention lands on the banners, {glue:text}`banner_ratio`
# times their {glue:text}`banner_keys` % share of the keys. This sentence is computed from the
# numbers above, so it stays true when the model changes.
#
# ## Summary
#
# * The text decoder's queries are the caption tokens; its keys and values are the 980 patch
#   tokens of all five views, so every word can use the global scene and the details.
# * The last layer's cross-attention is available with `need_attn=True`, rows summing to 1.
# * In pretraining the masked crop patches are hidden from the keys (a padding mask).
#
# ## Exercises
#
# Try each exercise before opening its hint, and the hint before the solution. The
# exercise with a code cell runs as it is: fill in its `None`s.
#
# **Exercise 1.** Sum one word's attention over each of the five views. Which view gets the most weight? Does
# the answer change after training?
#
# ````{dropdown} Hint
# `out.attention` is `[B, L-1, 5P]`: reshape the last axis to `[5, P]` and sum over P.
# ````
#
# ````{dropdown} Solution to exercise 1
# `out.attention[0, word].view(5, -1).sum(-1)` gives the weight of the global view and the four
# crops (they add up to 1). Chapter 6's per-view bar chart shows it for the trained smoke model;
# with random weights it is close to uniform (0.2 each).
# ````
#
# **Exercise 2.** Build the model with `model.use_crops=False` (the global view only: our row
# `table5/global-only`). What is the shape of the attention, and so of the keys, now? Complete the
# cell below.
#
# ````{dropdown} Hint
# Build with `get_config(profile, ["model.use_crops=false"])` and pass `crops=None`.
# ````

# %%
# Exercise 2: complete this cell (it runs as it is, and does nothing until you do).
cfg_global = None   # the profile's config with model.use_crops=false
if cfg_global is not None:
    pass             # build the model, run it with crops=None and need_attn=True, print the attention's shape

# %% [markdown]
# ````{dropdown} Solution to exercise 2
# ```python
# cfg_global = get_config(profile, ["model.use_crops=false"])
# global_only = build_model(cfg_global, task).eval()
# with torch.no_grad():
#     o = global_only(batch["global_view"], None, batch["text"], need_attn=True)
# print(o.attention.shape)   # [B, L-1, 196]
# ```
#
# The keys are the global view's 196 patch tokens only, instead of 5 × 196: no crops, no image
# decoder, no aggregator.
# ````
#
# **Exercise 3.** Why is the attention of the padding positions (after the end-of-text token) irrelevant to the
# prediction?
#
# ````{dropdown} Hint
# Look at `masked_mean_max` in `sydes_mini.model.head`.
# ````
#
# ````{dropdown} Solution to exercise 3
# The head pools the decoder's outputs over the real tokens only (`valid` masks the padding), so
# whatever the padding positions attend to never reaches the logits. Training also cuts each
# batch to its longest caption, so most padding is not even computed.
# ````
