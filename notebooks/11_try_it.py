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
# # 11. Try it
#
# > "we compare the predictions of SyDES-B and our proposed SyDES, including example stimuli,
# > ground-truth labels, and predicted probabilities." — {cite:t}`chen2026sydes`, Section 4.5.3
#
# The paper's Figure 3 shows posts with their labels and the probability the model gave the
# right class. This chapter lets you make such a figure yourself: pick a toy-world image or
# upload your own, type a caption, and see the three predictions as probability bars, together
# with where the text decoder looked (the attention maps of chapter 6, paper Figure 4).
#
# Each task has its own fine-tuned model (one pretrained checkpoint, three fine-tunes, paper
# 3.4.2). For task $T$ with $K_T$ classes the probabilities are the softmax of the head's logits:
#
# $$
# p_T(k \mid I, S) = \frac{\exp \hat y_{T,k}}{\sum_{j=1}^{K_T} \exp \hat y_{T,j}},
# $$
#
# $$
# \hat y_T = \mathrm{MLP}_T\big(\mathrm{TextDec}_T(S, [I^{(g)}, I^{(l)}_1, \dots, I^{(l)}_4])\big)
# $$
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
profile = "smoke"           # the profile of the run below ("full" for a GPU run of the paper model)
run_dir = "../runs/smoke"   # a run made by `make reproduce` (smoke: trained there when missing); its models are loaded
data_dir = ""               # "": a small toy world generated here (the same test images as those of the smoke run)
seed = 0
device = "auto"             # "auto": cuda when available, else cpu

# %%
import inspect
import tempfile
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import torch

from sydes_mini.data import read_split
from sydes_mini.device import get_device
from sydes_mini.images import load_image
from sydes_mini.labels import TASKS
from sydes_mini.plots.book import glue
from sydes_mini.plots.model import attention_maps
from sydes_mini.plots.results import probability_bars
from sydes_mini.predict import Predictor, image_from_upload, load_predictor
from sydes_mini.reproduce import smoke_run
from sydes_mini.toy import paint_out_banner, synth

DEVICE = get_device(device)
root = Path(data_dir) if data_dir else synth(Path(tempfile.mkdtemp()) / "toy", n_train=1, n_dev=1, n_test=12,
                                             seed=seed)
examples = read_split(root, "test")
if profile == "smoke":
    smoke_run(run_dir)                                   # load, or train it when missing
predictor = load_predictor(run_dir, profile, seed, DEVICE)
glue("source", predictor.source, display=False)

# %%
# NBVAL_CHECK_OUTPUT
print("weights:", predictor.source)

# %% [markdown]
# The models on this page: **{glue:text}`source`**.
#
# With the smoke profile the page trains the run first when `run_dir` has none (a fresh clone,
# Colab: a few CPU minutes, once). With `profile = "full"` it needs a run of
# `make reproduce PROFILE=full` (a GPU); without one the source above says *untrained* and the
# predictions below are those of random weights — near-uniform bars that mean nothing. A smoke model is a tiny
# model trained on the toy world, not on real photos; chapter 9 shows what it learned, and the
# experiment below tests whether its desire model reads the banners.
#
# ## The function
#
# `Predictor.predict` makes the five views of the image (eq. 1, with the run's `variant`),
# tokenises the caption and runs each task's model once, with no masking:

# %% tags=["source-listing"]
print(inspect.getsource(Predictor.predict))

# %% [markdown]
# ## A check on one example

# %%
record = examples[0]
image = load_image(record.image_path)
prediction = predictor.predict(image, record.caption)

# %%
# NBVAL_CHECK_OUTPUT
for task in TASKS:
    print(f"{task:9s} {len(prediction.probabilities[task])} classes, probabilities sum to "
          f"{sum(prediction.probabilities[task].values()):.4f}")
print("attention", list(prediction.attention.shape), "rows sum to 1:",
      bool(torch.allclose(prediction.attention[: len(prediction.tokens) - 1].sum(-1),
                          torch.ones(len(prediction.tokens) - 1), atol=1e-4)))

# %% [markdown]
# ## Paper Figure 3, re-created on the toy world
#
# Three test posts of the toy world, their labels (bold) and the model's probabilities (the most
# probable class in orange):

# %%
figures = []
for i, record in enumerate(examples[:3]):
    image = load_image(record.image_path)
    p = predictor.predict(image, record.caption)
    fig = probability_bars(p.probabilities, truth=record.raw_labels, title=f"“{record.caption}”", image=image)
    glue(f"fig_bars_{i}", fig, display=False)
    plt.close(fig)
glue("caption_0", examples[0].caption, display=False)

# %% [markdown]
# ```{glue:figure} fig_bars_0
# :name: fig-bars-0
#
# The first test post of the toy world (image and caption) and the model's probabilities for each
# task: the orange bar is the model's answer, the bold label the truth. Notice in which panels the
# orange bar sits on the bold label, and in which it does not.
# ```
#
# ```{glue:figure} fig_bars_1
# :name: fig-bars-1
#
# The second test post, read the same way: compare the banners' colour and shape (if any) with the
# desire panel.
# ```
#
# ```{glue:figure} fig_bars_2
# :name: fig-bars-2
#
# The third test post. Notice how sure each panel is: one bar near 1 means the model found a
# cue for that task; probabilities spread over several classes mean it did not.
# ```
#
# ## Where the desire model looks
#
# The last cross-attention layer of the desire model, averaged over the caption's tokens, drawn
# beside the global view and the four crops (one colour scale for both):

# %%
n = len(prediction.tokens)
mean_attention = prediction.attention[1:n - 1].mean(0, keepdim=True)  # [1, 5*P] over the words (no start/end)
fig = attention_maps(prediction.global_view, prediction.crops, mean_attention, {"whole caption": 0})
glue("fig_attention", fig, display=False)
glue("global_share", f"{100 * mean_attention[0, :mean_attention.shape[1] // 5].sum().item():.1f}", display=False)
plt.close(fig)

# %% [markdown]
# ```{glue:figure} fig_attention
# :name: fig-attention-try
#
# The post's views (top) and the cross-attention of its caption “{glue:text}`caption_0`” on the
# global view (left) and the four crops (right), one colour scale. The global view is the centre
# of the post, without the banners at its edges; it gets {glue:text}`global_share` % of the
# attention (uniform: 20 %). Notice whether the bright patches in the crops sit on the banners or
# on the background.
# ```
#
# ## An experiment: paint out the banners
#
# If the desire model reads the banners, removing them should move its answer. For every test post
# of this page that shows banners, `paint_out_banner` covers both with the background colour
# (the caption stays); we compare the probability the model gives the true desire before and after.

# %% tags=["source-listing"]
print(inspect.getsource(paint_out_banner))
before, after = [], []
for record in examples:
    image = load_image(record.image_path)
    painted = paint_out_banner(image)
    if np.array_equal(np.asarray(painted), np.asarray(image)):
        continue                                                           # no banners on this post
    true_desire = record.raw_labels["desire"]
    before.append(predictor.predict(image, record.caption).probabilities["desire"][true_desire])
    after.append(predictor.predict(painted, record.caption).probabilities["desire"][true_desire])
    last = (record, image, painted)
fig, axes = plt.subplots(1, 3, figsize=(9, 3.2), gridspec_kw={"width_ratios": [1, 1, 1.1]})
for ax, picture, name in zip(axes, last[1:], ("with the banners", "banners painted out")):
    ax.imshow(picture)
    ax.set(title=f"{name}\n(desire: {last[0].raw_labels['desire']})")
    ax.axis("off")
axes[2].plot([0, 1], np.array([before, after]) * 100, color="grey", lw=1, marker="o")
axes[2].set(xticks=[0, 1], xticklabels=["with banners", "painted out"], xlim=(-0.3, 1.3),
            ylabel="P(true desire) (%)", title=f"{len(before)} test posts with banners")
fig.tight_layout()
glue("fig_paint_out", fig, display=False)
plt.close(fig)
drop = 100 * (np.mean(before) - np.mean(after))
glue("paint_verdict", f"the mean probability of the true desire goes from {100 * np.mean(before):.1f} % to "
     f"{100 * np.mean(after):.1f} % ({'a drop' if drop > 0 else 'a rise'} of {abs(drop):.1f} points over "
     f"{len(before)} posts; models: {predictor.source})", display=False)

# %% [markdown]
# ```{glue:figure} fig_paint_out
# :name: fig-paint-out
#
# One test post with and without its banners (left), and for each post with banners the probability
# of its true desire before and after painting them out (right). Notice how many lines fall, and how
# far: a line that stays level is a post whose desire the model does not take from the banners.
# ```
#
# Measured here: {glue:text}`paint_verdict`. A model that reads the banners loses confidence when
# they are gone; one that guesses desire from the caption and the background does not care.
#
# ## Your turn
#
# The widget below runs in Jupyter and on Colab (the HTML book cannot run it; the figures above are
# its static rendering). Pick a toy-world image or upload a photo, edit the caption and press
# **Predict**.

# %% tags=["remove-output"]
import ipywidgets as widgets
from PIL import Image

choice = widgets.Dropdown(options=[(f"toy test image {r.index}", r.index) for r in examples], description="image")
upload = widgets.FileUpload(accept="image/*", multiple=False, description="or upload")
caption = widgets.Text(value=examples[0].caption, description="caption", layout=widgets.Layout(width="80%"))
button = widgets.Button(description="Predict", button_style="primary")
output = widgets.Output()


def chosen_image() -> Image.Image:
    uploaded = image_from_upload(upload.value)       # ipywidgets 8 and 7 (Colab) store uploads differently
    if uploaded is not None:
        return uploaded
    return load_image(next(r for r in examples if r.index == choice.value).image_path)


def on_predict(_=None) -> None:
    with output:
        output.clear_output(wait=True)
        p = predictor.predict(chosen_image(), caption.value)
        for fig in (probability_bars(p.probabilities, title=f"“{caption.value}”"),
                    attention_maps(p.global_view, p.crops, p.attention[1:len(p.tokens) - 1].mean(0, keepdim=True),
                                   {"whole caption": 0})):
            display(fig)
            plt.close(fig)


button.on_click(on_predict)
widgets.VBox([widgets.HBox([choice, upload]), caption, button, output])

# %% [markdown]
# ## Summary
#
# * `Predictor` holds the three fine-tuned models of a run and returns a probability for every
#   class of every task, plus the desire model's cross-attention over the five views.
# * On the toy world the emotion and sentiment models can read the background colour and the desire
#   model the banners; the paint-out experiment measures whether it does, and chapter 9's confusion
#   matrices show it per class. The probability bars are the paper's Figure 3 for this world.
# * Without a run the page shows random weights and says so; `make reproduce` makes one.
#
# ## Exercises
#
# Try each exercise before opening its hint, and the hint before the solution. The
# exercise with a code cell runs as it is: fill in its `None`s.
#
# **Exercise 1.** Keep the image and change only the caption: name a different emotion ("an angry man ..."). How
# much do the emotion probabilities move? Complete the cell below.
#
# ````{dropdown} Hint
# `predictor.predict(image, caption).probabilities["emotion"]` is a dict of class → probability.
# ````

# %%
# Exercise 1: complete this cell (it runs as it is, and does nothing until you do).
new = None   # predictor.predict(image, <a caption that names another emotion>)
if new is not None:
    for label, p in prediction.probabilities["emotion"].items():
        print(f"{label:10s} {p:.2f} -> {new.probabilities['emotion'][label]:.2f}")

# %% [markdown]
# ````{dropdown} Solution to exercise 1
# ```python
# new = predictor.predict(image, "an angry man shouting at the camera.")
# for label, p in prediction.probabilities["emotion"].items():
#     print(f"{label:10s} {p:.2f} -> {new.probabilities['emotion'][label]:.2f}")
# ```
#
# Look at how far the probabilities move and where they go. A large move means the emotion model
# weighs the caption heavily against the image's colour; if the mass goes to another negative
# emotion than `anger`, the model has learnt that such captions signal a negative emotion, not
# which one. Try a caption that names a positive emotion on a negative image too.
# ````
#
# **Exercise 2.** Upload an image with no banners. What does the desire model predict, and is `none` the top class?
#
# ````{dropdown} Hint
# `none` is the toy world's largest desire class, and a post without banners is most likely one of them.
# ````
#
# ````{dropdown} Solution to exercise 2
# Without banners the model has only the caption (the colour says nothing about desire in this
# world); `none` is usually on top unless the caption names a desire.
# ````
#
# **Exercise 3.** Compare the attention maps of a toy image with and without its banners (paint them
# out with `toy.paint_out_banner`). Where does the attention go when the banners are gone?
#
# ````{dropdown} Hint
# `toy.paint_out_banner(image)` paints both banners over; draw both with `attention_maps` as above.
# ````
#
# ````{dropdown} Solution to exercise 3
# Chapter 6 measured the attention share on the banners' patches of the trained smoke model. Without
# them the attention spreads over the crops' background and the global view: there is nothing else
# to look for, and the paint-out experiment above shows what that does to the prediction.
# ````
