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
# # 2. The data: MSED and the toy world
#
# > "MSED comprises 9,190 English image-text pairs collected from social media (e.g., Twitter,
# > Getty Images, Flickr)." — {cite:t}`chen2026sydes`, Section 4.1.1
#
# MSED {cite:p}`jia2022msed` is for research use only and may not be redistributed, so this
# book never shows it: `python -m sydes_mini data download` fetches it onto *your* machine after
# showing its license. Every picture here comes from the **toy world**, a generated dataset in
# exactly MSED's format that a CPU can learn in minutes.
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
profile = "smoke"   # not used here: the data format is the same at every model size (data_root picks the data)
data_root = ""      # "": generate a small toy world here; or an MSED-format folder, e.g. "../data/MSED"
n_train = 300       # toy world size (ignored when data_root is given)
seed = 0

# %%
import inspect
import tempfile
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd
import seaborn as sns
from PIL import Image, ImageDraw

from sydes_mini.data import read_split
from sydes_mini.images import load_image
from sydes_mini.labels import LABELS, TASKS
from sydes_mini.plots.book import glue
from sydes_mini.toy import (BANNER_COLOUR, COLOUR_OF, ToyWorldConfig, banner_patches, draw_banner, find_banner,
                            sample_labels, sample_scene, shows_own_emotion, synth)
from sydes_mini.views import mixed_scale_views

# %% [markdown]
# ## The format
#
# An MSED-format folder has one sub-folder per split. Row *k* of the CSV (header excluded)
# belongs to the image `images/k.jpg`:
#
# ```text
# <root>/train/train.csv       Title, Caption, Sentiment, Emotion, Desire, Inference Sequence
# <root>/train/images/1.jpg    the image of row 1
# <root>/dev/...  <root>/test/...
# ```
#
# `sydes_mini.toy.synth` writes such a folder; `sydes_mini.data.read_split` reads one and
# stops at the first bad row with the file, the row and the fix.

# %% tags=["source-listing"]
if profile != "smoke":
    print(f"profile={profile!r} changes nothing in this chapter (the data format is the same at every model size); "
          "set data_root to an MSED-format folder to look at other data")
root = Path(data_root) if data_root else synth(Path(tempfile.mkdtemp()) / "toy", n_train=n_train,
                                              n_dev=n_train // 5, n_test=n_train // 5, seed=seed)
print(inspect.getsource(read_split))
records = read_split(root, "train")

# %%
# NBVAL_CHECK_OUTPUT
csv = pd.read_csv(root / "train" / "train.csv")
print("columns:", list(csv.columns))
print("rows:", len(csv), "| images:", len(list((root / "train" / "images").glob("*.jpg"))))

# %%
with pd.option_context("display.max_colwidth", None):              # whole captions, not cut at 50 characters
    display(csv.head(4))

# %% [markdown]
# ## Label statistics
#
# Labels are imbalanced on purpose, like MSED's: in this toy world desire `none` is
# {glue:text}`none_share` of the training rows. A classifier that always answers `none` would
# look good on accuracy, so the paper reports macro scores (Section 4.1.2), the mean over the
# $K$ classes of each class's F1:
#
# $$
# \mathrm{F1}_{macro} = \frac{1}{K}\sum_{k=1}^{K} \frac{2\,P_k R_k}{P_k + R_k}
# $$
#
# where $P_k$ and $R_k$ are the precision and recall of class $k$.

# %%
labels = pd.DataFrame([r.raw_labels for r in records])
glue("none_share", f"{(labels.desire == 'none').mean():.0%}", display=False)
fig, axes = plt.subplots(1, 3, figsize=(8.5, 3.4), gridspec_kw={"width_ratios": [7, 6, 3]})
for ax, task in zip(axes, TASKS):
    sns.countplot(labels, x=task, order=LABELS[task], ax=ax, color="tab:blue")
    ax.tick_params(axis="x", rotation=45)
    ax.set_title(task)
    ax.set_xlabel("")
fig.tight_layout()
glue("fig_counts", fig, display=False)
plt.close(fig)

# %% [markdown]
# ```{glue:figure} fig_counts
# :name: fig-counts
#
# Label counts in the toy world's training split. Desire `none` is the largest class, as in
# MSED ({glue:text}`none_share` here); disgust is the rarest emotion.
# ```
#
# Are the three labels independent? In the toy world sentiment follows emotion exactly, and
# desire is drawn independently of emotion; the cross-table shows which combinations occur:

# %%
table = pd.crosstab(labels.emotion, labels.desire).reindex(index=list(LABELS["emotion"]),
                                                           columns=list(LABELS["desire"]), fill_value=0)
fig, ax = plt.subplots(figsize=(7, 3.4))
sns.heatmap(table, annot=True, fmt="d", cmap="Blues", cbar=False, ax=ax)
ax.tick_params(axis="x", rotation=30, labelsize=8)
fig.tight_layout()
glue("fig_cross", fig, display=False)
plt.close(fig)
empty = {e: [d for d in table.columns if table.loc[e, d] == 0] for e in table.index}
glue("cross_empty", "; ".join(f"{e} ({table.loc[e].sum()} posts) never meets {' or '.join(ds)}"
                              for e, ds in empty.items() if ds) or "no combination is missing", display=False)
glue("cross_occur", f"{int((table > 0).values.sum())} of the {table.size}", display=False)

# %% [markdown]
# ```{glue:figure} fig_cross
# :name: fig-cross
#
# Emotion × desire counts (toy world, training split). Desire is drawn independently of emotion,
# so each row spreads over the desires in about the same proportions, up to sampling noise:
# knowing the emotion tells you next to nothing about the desire. {glue:text}`cross_occur`
# combinations occur; the empty cells are chance in the small rows: {glue:text}`cross_empty`.
# ```
#
# ## MSED as the paper reports it
#
# The toy world copies MSED's format and its imbalance, not its numbers. The paper gives MSED's
# split sizes (Table 1) and its per-class counts (Table 7, appendix B.1); `sydes_mini.paper_tables`
# holds them, and the cells below compute everything said about them.

# %%
# NBVAL_CHECK_OUTPUT
from sydes_mini.paper_tables import MSED_CLASSES, MSED_SPLITS
from sydes_mini.toy import SENTIMENT_OF

msed = pd.DataFrame([{"task": task, "label": label, **dict(zip(MSED_SPLITS, counts))}
                     for task, rows in MSED_CLASSES.items() for label, counts in rows.items()]
                    ).set_index(["task", "label"])
# sentiment as a coarsening of emotion: happiness -> positive, neutral -> neutral, the other four -> negative
coarse = msed.loc["emotion"].groupby(lambda emotion: SENTIMENT_OF.get(emotion, "negative")).sum()
equal = coarse.loc[list(LABELS["sentiment"])].equals(msed.loc["sentiment"].loc[list(LABELS["sentiment"])])
glue("msed_coarsening", "give exactly" if equal else "do not give", display=False)
glue("msed_total", f"{sum(MSED_SPLITS.values()):,}", display=False)
glue("msed_none_share", f"{msed.loc[('desire', 'none'), 'train'] / MSED_SPLITS['train']:.0%}", display=False)
print(msed.to_string())

# %%
shares = pd.concat([
    (msed.train / MSED_SPLITS["train"]).rename("share").reset_index().assign(data="MSED (paper, Table 7)"),
    labels.melt(var_name="task", value_name="label").groupby(["task", "label"]).size()
          .div(len(labels)).rename("share").reset_index().assign(data="toy world")])
fig, axes = plt.subplots(1, 3, figsize=(8.5, 3.8), gridspec_kw={"width_ratios": [7, 6, 3]})
for ax, task in zip(axes, TASKS):
    sns.barplot(shares[shares.task == task], x="label", y="share", hue="data", order=LABELS[task], ax=ax,
                legend=task == "desire")
    ax.tick_params(axis="x", rotation=45)
    ax.set(title=task, xlabel="", ylabel="share of the training split" if task == "desire" else "")
fig.tight_layout()
glue("fig_msed_shares", fig, display=False)
plt.close(fig)

# %% [markdown]
# ```{glue:figure} fig_msed_shares
# :name: fig-msed-shares
#
# Class shares of the training split: MSED as the paper reports it beside the toy world. Notice
# that in both, desire `none` and emotion `happiness` are the largest classes and disgust is rare;
# the toy world draws its six desires equally often, where MSED's vary.
# ```
#
# MSED has {glue:text}`msed_total` image–caption pairs, and desire `none` is
# {glue:text}`msed_none_share` of its training split. Summed with the rule happiness → positive,
# neutral → neutral and the four other emotions → negative, the emotion counts
# {glue:text}`msed_coarsening` the sentiment counts in every split: in MSED, as in the toy world,
# **sentiment is a coarsening of emotion**, so a model that gets emotion right gets sentiment right.
# (Table 7 prints its desire rows with merged cells; `paper_tables` pairs them with the labels in the
# order the table lists them, which makes the train and test columns add up to Table 1; the paper's
# validation column adds up to 1,015 rather than 1,021.)
#
# **Desire and emotion.** The paper gives no emotion × desire table for MSED, so how the two relate
# there cannot be shown here; in real posts they surely do (vengeance comes with anger more often
# than with happiness). The toy world cuts that link on purpose: `sample_labels` (printed below)
# draws the desire independently of the emotion, so the background colour, which gives the
# emotion away, says nothing about the desire. Only the banners (and some captions) do.
#
# ## Why the cues are where they are
#
# The toy world is built so that each part of SyDES has something to find:
#
# * the **background colour** is the emotion's colour (most of the time): a *global* cue that
#   any view of the image shows;
# * two **banners**, one down each side edge, name the desire: a band of the desire's colour,
#   {glue:text}`banner_px` pixels wide on a {glue:text}`image_size` image. It is a *local* cue in the sense that matters here: the authors' global
#   view (shortest side to 224, centre crop) keeps only the middle of the image and never sees
#   the banners, while each 224 × 224 crop of the 448 × 448 image shows a band about
#   {glue:text}`banner_crop_px` pixels wide ({glue:text}`banner_keys` of the text decoder's
#   {glue:text}`n_keys` image keys). Only the crops of eq. 1 (chapter 3) can read the desire.
#   (The paper's own global view squeezes the whole image and keeps the banners,
#   {glue:text}`banner_global_px` pixels wide: chapter 10);
# * the **caption** names the labels only some of the time, so text alone is not enough.
#
# Why banners and not, say, a small glyph in one corner? An earlier toy world did exactly that,
# and the smoke model never found it: its text decoder starts from random weights and has a few
# hundred optimiser steps to learn where to look among hundreds of image keys, and a corner glyph
# held 20 to 40 of them. The full model starts from CoCa's trained decoder; the toy world makes the
# cue big enough for a model that starts from nothing. (Black shapes on the banners, a first
# version of this world, also slowed the smoke model down: plain colour is easiest to read.)
#
# The two functions that decide this:

# %% tags=["source-listing"]
print(inspect.getsource(sample_labels))
print(inspect.getsource(sample_scene))

# %%
cfg = ToyWorldConfig()
glue("banner_px", cfg.banner_width, display=False)
glue("image_size", f"{cfg.size[0]} × {cfg.size[1]}", display=False)
glue("banner_global_px", f"{cfg.banner_width * 224 / cfg.size[0]:.0f}", display=False)   # paper: squeeze to 224
glue("banner_crop_px", f"{cfg.banner_width * 448 / max(cfg.size):.0f}", display=False)   # code: 448 canvas
def typical(r):   # the background shows the post's own emotion (9 posts in 10)
    return shows_own_emotion(load_image(r.image_path), r.raw_labels["emotion"])


with_banner = [r for r in records if typical(r) and find_banner(load_image(r.image_path))][:3]
without = [r for r in records if typical(r) and r.raw_labels["desire"] == "none"][:1]
_, crops = mixed_scale_views(load_image(with_banner[0].image_path), "code")
glue("banner_keys", int(banner_patches(crops).sum()), display=False)            # of the 4 crops' patches
glue("n_keys", 5 * crops.shape[-1] ** 2 // 16 ** 2, display=False)              # 5 views x 196 patches
fig = plt.figure(figsize=(8.5, 6.4))
for k, r in enumerate(with_banner + without):
    ax = fig.add_subplot(3, 2, k + 1)
    image = load_image(r.image_path)
    ax.imshow(image)
    ax.set_title(f"emotion {r.raw_labels['emotion']} / desire {r.raw_labels['desire']}", fontsize=10)
    ax.axis("off")
    w, h = image.size                      # the authors' global view: the middle h x h square
    ax.add_patch(plt.Rectangle(((w - h) / 2, 1), h, h - 2, fill=False, color="white", lw=1.2, ls="--"))
swatches = Image.new("RGB", (7 * 110, 300), (255, 255, 255))      # row 1: banner colours, row 2: backgrounds
for k, desire in enumerate(BANNER_COLOUR):
    draw_banner(ImageDraw.Draw(swatches), desire, (k * 110 + 10, 10, k * 110 + 90, 99))
    ImageDraw.Draw(swatches).rectangle((k * 110 + 10, 10, k * 110 + 90, 99), outline=(0, 0, 0))
for k, colour in enumerate(COLOUR_OF.values()):
    ImageDraw.Draw(swatches).rectangle((k * 110 + 10, 160, k * 110 + 90, 249), fill=colour, outline=(0, 0, 0))
ax = fig.add_subplot(3, 1, 3)
ax.imshow(swatches)
for row, names in ((120, BANNER_COLOUR), (270, COLOUR_OF)):
    for k, name in enumerate(names):
        ax.text(k * 110 + 50, row, name, ha="center", va="center", fontsize=9)
ax.axis("off")
fig.tight_layout()
glue("fig_examples", fig, display=False)
plt.close(fig)

# %% [markdown]
# ```{glue:figure} fig_examples
# :name: fig-examples
#
# Top: four toy-world images with their emotion / desire labels; the dashed square is what the
# authors' global view keeps (the last post, desire `none`, has no banners). Notice that the banners
# lie outside the square: only the crops of chapter 3 see them. Bottom: the six banner colours, one
# per desire, and the six background colours, one per emotion. The four posts are typical ones,
# whose background shows their own emotion; no cue is perfect: a background shows another
# emotion's colour in a tenth of the posts, and a banner is missing in a tenth of those with a desire.
# ```
#
# ## Summary
#
# * MSED rows are (title, caption, sentiment, emotion, desire); row *k* names `images/k.jpg`.
# * Labels are imbalanced, so macro precision, recall and F1 are the scores to report.
# * The toy world hides the emotion in a global cue (the background) and the desire in banners at
#   the image's edges that only the crops see, so that the crops of eq. 1 have a measurable job.
#
# ## Exercises
#
# Try each exercise before opening its hint, and the hint before the solution. The
# exercise with a code cell runs as it is: fill in its `None`s.
#
# **Exercise 1.** Generate a toy world with `p_local_cue=0` and redraw the desire counts. Which part of the
# model should now be useless for desire, and what do you predict for its F1?
#
# ````{dropdown} Hint
# The label counts do not change; what changes is what the image shows.
# ````
#
# ````{dropdown} Solution to exercise 1
# The counts are the same (labels are drawn first), but no image shows a banner, so the crops have
# nothing to find for desire, and the background colour says nothing about it (desire is drawn
# independently of emotion). Desire can then only come from the captions that name it: expect
# desire F1 above the majority floor only through the text, and no gain from the crops.
# ````
#
# **Exercise 2.** Compute the accuracy and the macro F1 of "always predict `none`" on the toy training split.
# Complete the cell below.
#
# ````{dropdown} Hint
# `sklearn.metrics.f1_score(y, predictions, average="macro")`; the F1 of `none` is $2p/(1+p)$ when
# a share $p$ of the rows is `none`, and every other class scores 0.
# ````

# %%
# Exercise 2: complete this cell (it runs as it is, and does nothing until you do).
from sklearn.metrics import accuracy_score, f1_score

predictions = None   # a list with "none" for every row of `labels`
if predictions is not None:
    print(accuracy_score(labels.desire, predictions),
          f1_score(labels.desire, predictions, average="macro", labels=list(LABELS["desire"])))

# %% [markdown]
# ````{dropdown} Solution to exercise 2
# ```python
# from sklearn.metrics import accuracy_score, f1_score
# predictions = ["none"] * len(labels)
# print(accuracy_score(labels.desire, predictions),
#       f1_score(labels.desire, predictions, average="macro", labels=list(LABELS["desire"])))
# ```
#
# The accuracy is the share $p$ of `none` ({glue:text}`none_share`); the macro F1 is
# $\frac{1}{7}\cdot\frac{2p}{1+p}$, under 0.1. Accuracy gives this model credit; macro F1 calls it
# useless, which it is.
# ````
#
# **Exercise 3.** Break a copy of the CSV (a misspelt label, a missing image) and read it with `read_split`.
# What does the error tell you?
#
# ````{dropdown} Hint
# Copy `root / "train"` with `shutil.copytree` and edit the copy, never the toy world itself.
# ````
#
# ````{dropdown} Solution to exercise 3
# `read_split` stops before any training with one error that names the CSV file, the row and the
# fix (the allowed labels, or the image it looked for). Nothing is skipped silently: a run never
# starts on half a dataset.
# ````
