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
# # 7. The five losses (eqs. 2–6)
#
# > "we design a set of loss functions ... to allow reconstructed image to maintain modal
# > alignment of fine-grained local visual features and global visual representations"
# > — {cite:t}`chen2026sydes`, Section 1
#
# Pretraining combines four losses (eq. 7), fine-tuning two (eq. 8). Each is a pure function in
# `sydes_mini.losses`. For each one: the equation, the code, a value you can check by hand,
# and where the authors' code differs from the paper (`variant="code"` vs `variant="paper"`).
#
# **Why five losses?** Masked reconstruction (L_rec) makes the crop features detailed; contrastive
# alignment (L_itc) makes the global image feature agree with the caption. The paper notes the
# two may conflict (Section 3.3.4): nothing makes the detailed crop features mean the same as the
# aligned global one. L_si and L_dc close that gap: the aggregated crops must sit near the global
# feature (L_si) and relate to the captions of the batch the way the global feature does (L_dc).
# L_cls is the task itself.
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
profile = "smoke"   # only the opening picture's shapes: the losses do not depend on the profile
runs = "../runs"    # the last experiment reads the smoke run <runs>/smoke (trained there first when missing)
seed = 0

# %% tags=["remove-input"]
# The model in one picture (chapter 1), this chapter's parts highlighted (boxes in yellow, losses in red).
from sydes_mini.plots.architecture import you_are_here

you_are_here(7, profile);

# %%
import inspect
import math
import tempfile
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
import torch
import torch.nn.functional as F

from sydes_mini.checkpoint import load_weights
from sydes_mini.config import Config, get_config
from sydes_mini.data import collate, load_split
from sydes_mini.losses import (classification_loss, contrastive_loss, distribution_consistency_loss,
                               reconstruction_loss, similarity_loss)
from sydes_mini.model import build_model
from sydes_mini.model.aggregator import CodeAggregator, PaperAggregator
from sydes_mini.model.sydes import Latent
from sydes_mini.plots.book import glue
from sydes_mini.plots.model import loss_curves
from sydes_mini.reproduce import smoke_run
from sydes_mini.step import pretrain_loss
from sydes_mini.toy import synth

torch.manual_seed(seed)
cfg = get_config(profile)
B, E = 8, 16

# %% [markdown]
# ## Eq. 2, reconstruction: only the masked patches count
#
# $$
# \mathcal{L}_{rec} = \frac{1}{N}\sum_{i=1}^{N}\Big(\frac{1}{\sum_n |\bar M_{i,n}|}
# \sum_n \sum_{p\in \bar M_{i,n}} \big\|X^p_{i,n} - \tilde X^p_{i,n}\big\|_2\Big) \tag{2}
# $$
#
# Only masked patches count. The paper takes the L2 norm of each patch's error; the authors'
# code takes the mean squared error per pixel. **Hand check:** a prediction that is off by
# exactly 1 in every pixel gives 1 (code) and $\sqrt{D} = \sqrt{16\cdot16\cdot3} \approx 27.71$ (paper).

# %% tags=["source-listing"]
print(inspect.getsource(reconstruction_loss))

# %%
# NBVAL_CHECK_OUTPUT
target = torch.randn(2, 196, 768)
mask = (torch.rand(2, 196) < 0.75).float()
pred = torch.where(mask.bool().unsqueeze(-1), target + 1, target + 100)  # visible patches: way off, but ignored
for variant in ("code", "paper"):
    print(f"L_rec {variant:5s} = {reconstruction_loss(pred, target, mask, variant).item():.2f}")
print(f"sqrt(768) = {math.sqrt(768):.2f}")

# %% [markdown]
# ## Eq. 3, image–text contrast: match images to their captions
#
# \begin{equation*}
# \begin{aligned}
# \mathcal{L}_{itc} = {} & \frac{1}{2N}\sum_{i=1}^{N} -\log\frac{\exp(\langle v_i, w_i\rangle/\tau)}
# {\sum_{j}\exp(\langle v_i, w_j\rangle/\tau)} \\
# {} + {} & \frac{1}{2N}\sum_{i=1}^{N} -\log\frac{\exp(\langle w_i, v_i\rangle/\tau)}
# {\sum_{j}\exp(\langle w_i, v_j\rangle/\tau)}
# \end{aligned}
# \tag{3}
# \end{equation*}
#
# a symmetric cross-entropy (as in CLIP {cite:p}`radford2021clip`) over the $B \times B$
# similarities of normalised latents. In the code the scale $1/\tau$ is $\exp(t)$ with a learnable
# $t$ that starts at 1, so $1/\tau$ starts at $e \approx 2.72$.
#
# Where do $v$ and $w$ come from? In the paper they are CLIP's CLS features in CLIP's shared
# space. In the authors' code (the default here) they are new: a LayerNorm on the image tokens,
# then a bias-free linear map and L2 normalisation (`Latent`), learned from scratch and trained
# in *both* stages, so $\mathcal L_{itc}$ keeps moving the image side in fine-tuning although
# the image encoder is frozen. $\mathcal L_{si}$ and $\mathcal L_{dc}$ below compare in this
# same space.

# %% tags=["source-listing"]
print(inspect.getsource(Latent))
print(inspect.getsource(contrastive_loss))

# %% [markdown]
# **Hand checks.** If all $B$ images and texts are the *same* vector, every logit is equal and
# each row is a uniform guess among $B$: $\mathcal{L}_{itc} = \log B$. If the pairs are orthonormal
# ($v_i = w_i = e_i$), the correct logit is $s = 1/\tau$ and the $B-1$ others are 0:
# $\mathcal{L}_{itc} = \log\big(1 + (B-1)e^{-s}\big)$.

# %%
# NBVAL_CHECK_OUTPUT
same = torch.ones(B, E)
print(f"identical pairs: L_itc = {contrastive_loss(same, same, 2.0).item():.4f}, log B = {math.log(B):.4f}")
eye = torch.eye(B, E)
for s in (1.0, 10.0):
    print(f"orthonormal pairs, s = {s:4.1f}: L_itc = {contrastive_loss(eye, eye, s).item():.4f}, "
          f"formula = {math.log(1 + (B - 1) * math.exp(-s)):.4f}")

# %% [markdown]
# How does $\mathcal{L}_{itc}$ behave with the temperature? For perfectly matched pairs it falls
# to 0 as $\tau \to 0$; for random (unmatched) latents it stays near $\log B$ at high temperature
# and grows as $\tau$ shrinks, because the model becomes confidently wrong.

# %%
taus = np.logspace(-1.5, 0.5, 21)
random_v, random_w = torch.randn(B, E), torch.randn(B, E)
near = F.normalize(eye + 0.3 * torch.randn(B, E), dim=-1)
fig = loss_curves(taus, {
    "orthonormal pairs": [contrastive_loss(eye, eye, 1 / t).item() for t in taus],
    "noisy matched pairs": [contrastive_loss(near, eye, 1 / t).item() for t in taus],
    "random pairs": [contrastive_loss(random_v, random_w, 1 / t).item() for t in taus]},
    xlabel=r"temperature $\tau$", ylabel=r"$\mathcal{L}_{itc}$", logx=True,
    reference={f"log B = {math.log(B):.2f}": math.log(B)})
for tau, label in ((math.exp(-cfg.model.itc_t_init), "code's start 1/e"), (0.07, "CLIP's 0.07")):
    fig.axes[0].axvline(tau, color="black", lw=0.8, ls=":")
    fig.axes[0].annotate(label, (tau, fig.axes[0].get_ylim()[1]), xytext=(3, -12),
                         textcoords="offset points", fontsize=8)
glue("fig_itc", fig, display=False)
plt.close(fig)

# %% [markdown]
# ```{glue:figure} fig_itc
# :name: fig-itc
#
# $\mathcal{L}_{itc}$ against the temperature $\tau$ for B = 8 pairs: perfectly matched
# (orthonormal), matched with noise, and random. Dotted lines: the code's starting
# temperature $1/e$ and CLIP's 0.07.
# ```
#
# ## Eq. 4, local–global similarity: the crops agree with the whole image
#
# The aggregator (Section 3.3.3) weighs the four crop summaries, $e_{i,n} = u^\top\tanh(W_z
# z_{i,n} + b)$, $\alpha_{i,n} = \mathrm{softmax}_n(e_{i,n})$,
# $P_{agg,i} = \mathrm{MLP}(\sum_n \alpha_{i,n} z_{i,n})$. (The authors' code, the default,
# weighs them differently: a learned static softmax over the four views gives a first summary,
# which, through an MLP and a LayerNorm, becomes the one query of a dot-product attention over the
# four LayerNorm'd, projected crops; $P_{agg}$ is a convex combination of those projections; both
# are printed below, and chapter 10 compares them.) Then
#
# $$
# \mathcal{L}_{si} = \frac{1}{N}\sum_{i=1}^{N}\big\|v^{cls}_i - P_{agg,i}\big\|_2^2 \tag{4}
# $$
#
# on normalised vectors. The code averages over all $B \times E$ elements instead of summing
# over $E$, so it is the paper's value divided by $E$.
# **Hand check:** opposite unit vectors are at squared distance $\|2u\|^2 = 4$: paper 4, code $4/E$.

# %% tags=["source-listing"]
print(inspect.getsource(PaperAggregator.forward))
print(inspect.getsource(CodeAggregator.forward))
print(inspect.getsource(similarity_loss))

# %%
# NBVAL_CHECK_OUTPUT
v = torch.randn(B, E)
for variant in ("code", "paper"):
    print(f"L_si {variant:5s}: identical = {similarity_loss(v, v, variant).item():.4f}, "
          f"opposite = {similarity_loss(v, -v, variant).item():.4f}")
print(f"4 / E = {4 / E:.4f}")

# %% [markdown]
# ## Eq. 5, distribution consistency: crops and image rank the captions alike
#
# $$
# \mathcal{L}_{dc} = \frac{1}{N}\sum_{i=1}^{N}\Big[\mathrm{KL}\big(S_{t2l}\,\|\,S_{t2g}\big)
# + \lambda\, H(S_{t2l})\Big] \tag{5}
# $$
#
# with $S_{t2l}$ the softmax similarity of the texts to the aggregated crops $P_{agg}$ and
# $S_{t2g}$ to the global image $v^{cls}$. The authors' code differs in three ways: it puts the
# rows on images (not texts), swaps the KL's arguments ($\mathrm{KL}(S_{g}\|S_{l})$), and its
# entropy is the mean over all $B\times B$ entries of $-p\log p$ with $p$ a softmax over the
# batch dimension. The logit scale is a learnable number starting at $1/0.07$, used as is.
#
# **Hand check:** if every latent is the same vector, both distributions are uniform, the KL is
# 0 and only the entropy is left: $\log B$ for the paper (a row's entropy), $\log(B)/B$ for the
# code (one entry's $-p\log p$ with $p = 1/B$).

# %% tags=["source-listing"]
print(inspect.getsource(distribution_consistency_loss))

# %%
# NBVAL_CHECK_OUTPUT
for variant in ("code", "paper"):
    print(f"L_dc {variant:5s} (all latents equal) = "
          f"{distribution_consistency_loss(same, same, same, 1 / 0.07, variant=variant).item():.4f}")
print(f"log B / B = {math.log(B) / B:.4f}, log B = {math.log(B):.4f}")

# %% [markdown]
# The KL part pulls $P_{agg}$ towards $v^{cls}$ *in how it ranks the captions*. Moving the
# aggregated latent from the global one ($\beta = 0$) to an unrelated vector ($\beta = 1$):

# %%
g_lat, t_lat, other = torch.randn(B, E), torch.randn(B, E), torch.randn(B, E)
betas = np.linspace(0, 1, 11)
curves = {f"{variant}, scale {name}": [distribution_consistency_loss(
    (1 - b) * g_lat + b * other, g_lat, t_lat, scale, entropy_weight=0.0, variant=variant).item() for b in betas]
    for variant in ("code", "paper") for scale, name in ((1 / 0.07, "1/0.07"), (1.0, "1"))}
fig = loss_curves(betas, curves, xlabel=r"$\beta$: $P_{agg} = (1-\beta)\,v + \beta\,$other",
                  ylabel="KL part of $\\mathcal{L}_{dc}$")
glue("fig_dc", fig, display=False)
plt.close(fig)

# %% [markdown]
# ```{glue:figure} fig_dc
# :name: fig-dc
#
# The KL part of $\mathcal{L}_{dc}$ ($\lambda = 0$) as the aggregated latent drifts away from the
# global one, for both variants and two logit scales. At scale 1 the similarity distributions
# are nearly flat and the loss barely notices the drift; the code's scale $1/0.07$ makes it sharp.
# ```
#
# ## Eq. 6, classification
#
# $$
# \mathcal{L}_{cls} = \frac{1}{N}\sum_{i=1}^{N}\mathrm{CrossEntropy}(y_i, \hat y_i) \tag{6}
# $$
#
# **Hand check:** equal logits for all $K$ classes cost $\log K$ whatever the label.

# %% tags=["source-listing"]
print(inspect.getsource(classification_loss))

# %%
# NBVAL_CHECK_OUTPUT
for K in (3, 6, 7):
    print(f"K = {K}: L_cls = {classification_loss(torch.zeros(B, K), torch.arange(B) % K).item():.4f}, "
          f"log K = {math.log(K):.4f}")

# %% [markdown]
# ## All five on one batch, both variants
#
# The same random latents through every loss, code and paper variants side by side:

# %%
v, w, agg = torch.randn(B, E), torch.randn(B, E), torch.randn(B, E)
rows = []
for variant in ("code", "paper"):
    rows.append({"variant": variant,
                 "L_rec": reconstruction_loss(pred, target, mask, variant).item(),
                 "L_itc": contrastive_loss(v, w, math.e).item(),
                 "L_si": similarity_loss(v, agg, variant).item(),
                 "L_dc": distribution_consistency_loss(agg, v, w, 1 / 0.07, variant=variant).item(),
                 "L_cls": classification_loss(torch.zeros(B, 7), torch.arange(B) % 7).item()})
table = pd.DataFrame(rows).set_index("variant")
glue("rec_ratio", f"{table.L_rec['paper'] / table.L_rec['code']:.1f}", display=False)
glue("E", E, display=False)
glue("pretrain_weights", ", ".join(f"λ_{k} = {w}" for k, w in cfg.train.pretrain_weights.items()), display=False)
table.round(3)

# %% [markdown]
# $\mathcal{L}_{itc}$ and $\mathcal{L}_{cls}$ have no variants. The others differ by large factors
# (here {glue:text}`rec_ratio` for $\mathcal{L}_{rec}$ and $E$ = {glue:text}`E` for $\mathcal{L}_{si}$),
# so the loss weights of eq. 7 ({glue:text}`pretrain_weights`), tuned for the authors' code, do
# not carry over to the paper's variant unchanged. Chapter 10 compares the two variants.
#
# ## An experiment: move one embedding, watch three losses
#
# Latents are vectors on a sphere; in two dimensions ($E = 2$) we can draw the whole landscape.
# Three captions point at 0°, 120° and 240°; posts 2 and 3 sit on their captions; post 1's crops
# summary $P_{agg}$ is fixed at 30°. Now turn post 1's global latent $v_1$ once around the circle
# and compute each loss at every angle (logit scale 5, a temperature of 0.2, so the curves stay smooth):

# %%
def on_circle(degrees) -> torch.Tensor:
    radians = torch.deg2rad(torch.as_tensor(degrees, dtype=torch.float32))
    return torch.stack([radians.cos(), radians.sin()], -1)                    # [..., 2]


captions_2d = on_circle([0.0, 120.0, 240.0])                                  # w, [3, 2]
agg_2d = on_circle([30.0, 120.0, 240.0])                                      # P_agg, [3, 2]
angles = np.arange(-180, 181, 3)
landscape = {"L_itc (eq. 3)": [], "L_si (eq. 4)": [], "L_dc (eq. 5)": []}
for a in angles:
    v_2d = torch.cat([on_circle([float(a)]), captions_2d[1:]])                  # v_1 at angle a
    landscape["L_itc (eq. 3)"].append(contrastive_loss(v_2d, captions_2d, 5.0).item())
    landscape["L_si (eq. 4)"].append(similarity_loss(v_2d, agg_2d).item())
    landscape["L_dc (eq. 5)"].append(distribution_consistency_loss(agg_2d, v_2d, captions_2d, 5.0).item())
weights = cfg.train.pretrain_weights                                         # eq. 7's λ (L_rec does not move)
landscape["weighted sum (eq. 7)"] = [sum(weights[name.split()[0][2:]] * landscape[name][i] for name in list(landscape)[:3])
                                     for i in range(len(angles))]
fig, axes = plt.subplots(2, 2, figsize=(8.5, 5.6), sharex=True)
for ax, (name, values) in zip(axes.flat, landscape.items()):
    ax.plot(angles, values, color="black")
    for where, label in ((0, "its caption"), (30, "its crops"), (120, "caption 2"), (-120, "caption 3")):
        ax.axvline(where, lw=1.2, ls=":", color="#c0392b" if label == "its crops" else "#4c72b0")
    ax.set(title=name, yscale="log" if min(values) > 0 else "linear")   # L_si reaches 0: no log there
    best = angles[int(np.argmin(values))]
    ax.plot(best, min(values), "o", color="black")
    ax.annotate(f"lowest at {best}°", (best, min(values)), xytext=(8, 8), textcoords="offset points", fontsize=9)
for ax in axes[1]:
    ax.set_xlabel("angle of $v_1$ (degrees)")
for ax in axes.flat:
    ax.set_ylabel(f"loss ({ax.get_yscale()} scale)")
fig.tight_layout()
glue("fig_landscape", fig, display=False)
plt.close(fig)
minima = {name: int(angles[int(np.argmin(values))]) for name, values in landscape.items()}
glue("landscape_minima", ", ".join(f"{name.split()[0]} at {deg}°" for name, deg in list(minima.items())[:3]),
     display=False)
glue("landscape_sum_minimum", f"{minima['weighted sum (eq. 7)']}°", display=False)

# %% [markdown]
# ```{glue:figure} fig_landscape
# :name: fig-landscape
#
# Each loss as post 1's global latent turns around the circle (log scale, except for
# $\mathcal{L}_{si}$, which reaches 0 on its crops; the dot marks the lowest point), and their sum
# with the weights of eq. 7. Dotted lines: its own caption (0°), its crops'
# summary (30°, red) and the other captions (±120°). Notice that the three minima do not coincide,
# and where between them the weighted sum settles.
# ```
#
# The minima ({glue:text}`landscape_minima`) show what each loss asks of $v_1$: $\mathcal{L}_{itc}$
# pulls it to its caption, $\mathcal{L}_{si}$ to its own crops, and $\mathcal{L}_{dc}$ to wherever it
# ranks the three captions as the crops do. When the crops and the caption disagree, the three pull
# in different directions, and the weights of eq. 7 decide the compromise: with the smoke
# profile's weights the sum is lowest at {glue:text}`landscape_sum_minimum`.
#
# ## An experiment on the trained model: do reconstruction and alignment pull apart?
#
# Section 3.3.4's worry can be measured. The image encoder is the part every pretraining loss
# trains: $\mathcal{L}_{rec}$ through the masked crops, $\mathcal{L}_{itc}$ through the global view,
# $\mathcal{L}_{si}$ and $\mathcal{L}_{dc}$ through both. Take the smoke run's model twice, with the
# weights its pretraining started from and with those it ended with, and four batches of toy-world
# posts, and compute each weighted term's gradient on the encoder's weights,
# $g_t = \lambda_t\, \partial \mathcal{L}_t / \partial \theta_{enc}$. The cosine of two of them says
# whether the two losses push those weights the same way (near 1), at right angles (near 0) or
# against each other (below 0):

# %%
def encoder_gradients(model, batch, cfg, generator) -> dict[str, torch.Tensor]:
    """{term: λ_t dL_t/dθ for the image encoder's weights θ, flattened}, from one forward pass (eq. 7's terms)."""
    _, terms, _ = pretrain_loss(model, batch, cfg, generator)
    weights = list(model.image_encoder.parameters())
    grads = {}
    for name, value in terms.items():
        g = torch.autograd.grad(cfg.train.pretrain_weights[name] * value, weights, retain_graph=True,
                                allow_unused=True)
        grads[name] = torch.cat([(d if d is not None else torch.zeros_like(w)).flatten() for d, w in zip(g, weights)])
    return grads


def gradient_cosines(model, posts, cfg, seed: int, batches: int = 4):
    """-> (mean and std over batches of the cosine between each pair of terms' gradients [terms, terms],
    the mean cosine of each term's gradients on two different batches [terms])."""
    generator, size, unit = torch.Generator().manual_seed(seed), cfg.train.batch_size, []
    for k in range(batches):
        grads = encoder_gradients(model, collate([posts[i] for i in range(k * size, (k + 1) * size)]), cfg, generator)
        unit.append(F.normalize(torch.stack(list(grads.values())), dim=1))  # [terms, |θ_enc|], unit length
    names = [f"L_{t}" for t in grads]
    cosines = np.stack([(G @ G.T).numpy() for G in unit])                    # [batches, terms, terms]
    same_term = np.mean([(unit[a] * unit[b]).sum(1).numpy() for a in range(batches) for b in range(a + 1, batches)], 0)
    return (pd.DataFrame(cosines.mean(0), names, names), pd.DataFrame(cosines.std(0), names, names),
            pd.Series(same_term, names))


run = smoke_run(Path(runs) / "smoke")                        # load, or train it when missing
checkpoint = run / "pretrain" / "best.safetensors"
pre_cfg = Config.load(checkpoint.parent / "config.json")
torch.manual_seed(pre_cfg.seed)                              # the weights the smoke run started from
start = build_model(pre_cfg).eval()
trained = build_model(pre_cfg).eval()
trained.load_state_dict(load_weights(checkpoint, profile="smoke", stage="pretrain")[0])
posts = load_split(synth(Path(tempfile.mkdtemp()) / "toy", n_train=64, n_dev=1, n_test=1, seed=seed), "train",
                   variant=pre_cfg.variant)                   # 64 toy-world posts, drawn here
measured = {"start of pretraining": gradient_cosines(start, posts, pre_cfg, seed),
            "end of pretraining": gradient_cosines(trained, posts, pre_cfg, seed)}
pd.concat({when: mean.assign(**{"same term, other batch": same}) for when, (mean, _, same) in measured.items()}).round(2)

# %%
def direction(cosine: float) -> str:
    """How two gradients with this cosine pull the weights."""
    return "against each other" if cosine < -0.1 else "almost at right angles" if cosine < 0.1 else "the same way"


def describe(when: str, mean: pd.DataFrame, std: pd.DataFrame, same: pd.Series) -> str:
    """One sentence: how L_rec and L_itc pull, what L_si and L_dc share with each, the yardstick."""
    text = (f"At the {when}, L_rec and L_itc push the encoder's weights {direction(mean.loc['L_rec', 'L_itc'])} "
            f"(cosine {mean.loc['L_rec', 'L_itc']:+.2f} ± {std.loc['L_rec', 'L_itc']:.2f} over the four batches)")
    for t in ("L_si", "L_dc"):
        if t in mean:
            text += f"; {t}'s gradient has cosine {mean.loc[t, 'L_rec']:+.2f} with L_rec's and {mean.loc[t, 'L_itc']:+.2f} with L_itc's"
    return (text + f", while one term's gradients on two different batches have cosine {same['L_rec']:+.2f} (L_rec) "
            f"and {same['L_itc']:+.2f} (L_itc).")


fig, axes = plt.subplots(1, 2, figsize=(9.6, 4.2))
for ax, (when, (mean, std, same)) in zip(axes, measured.items()):
    labels = mean.round(2).astype(str) + "\n± " + std.round(2).astype(str)
    sns.heatmap(mean, annot=labels, fmt="", cmap="RdBu_r", vmin=-1, vmax=1, square=True, ax=ax,
                mask=np.eye(len(mean), dtype=bool),               # a gradient with itself: 1, left out
                cbar=ax is axes[-1], cbar_kws={"label": "cosine of the two gradients"})
    ax.set(xlabel="term", ylabel="term", title=f"{when} (smoke run)")
    plt.setp(ax.get_yticklabels(), rotation=0)
fig.tight_layout()
glue("fig_gradient_cosines", fig, display=False)
plt.close(fig)
glue("gradient_sentence", " ".join(describe(when, *values) for when, values in measured.items()), display=False)

# %% [markdown]
# ```{glue:figure} fig_gradient_cosines
# :name: fig-gradient-cosines
#
# The cosine between each pair of weighted loss gradients on the image encoder's weights (mean ±
# std over four batches of the toy world), at the smoke run's starting weights and at its pretrained
# ones. Red: the two losses push the weights the same way; blue: against each other; white: at right
# angles. Look at the $\mathcal{L}_{rec}$ row: how much does reconstruction share with the three
# alignment losses, and does that change with training?
# ```
#
# {glue:text}`gradient_sentence`
#
# Gradients at right angles or opposed are what Section 3.3.4 means by two objectives pulling apart:
# a step that helps one does nothing for the other, or undoes it. In millions of dimensions two
# unrelated directions are almost at right angles, so the yardstick is how well one term agrees with
# itself on another batch: near a minimum that agreement fades too, as each batch's gradient becomes
# mostly its own noise. These are two snapshots of one run; they say how the losses pull there, not
# what each did over training. The pretraining-loss rows of Table 4 in chapter 9 train without each
# term instead.
#
# ## Summary
#
# * $\mathcal{L}_{rec}$ scores only masked patches; $\mathcal{L}_{itc}$ aligns images and captions;
#   $\mathcal{L}_{si}$ ties the crops' summary to the global image; $\mathcal{L}_{dc}$ makes both
#   rank the captions alike; $\mathcal{L}_{cls}$ is plain cross-entropy.
# * Each has a value you can check by hand: $\log B$, $\log(1+(B-1)e^{-s})$, $4$ or $4/E$,
#   $\log B$ or $\log(B)/B$, $\log K$.
# * Code and paper variants differ in scale, sometimes by orders of magnitude.
#
# ## Exercises
#
# Try each exercise before opening its hint, and the hint before the solution. The
# exercise with a code cell runs as it is: fill in its `None`s.
#
# **Exercise 1.** Show that $\mathcal{L}_{itc}$ of orthonormal pairs tends to $\log B$ as $\tau \to \infty$.
#
# ````{dropdown} Hint
# As $\tau \to \infty$ every logit $\langle v, w_j \rangle / \tau$ goes to 0.
# ````
#
# ````{dropdown} Solution to exercise 1
# All logits tend to 0, so each softmax becomes uniform over the $B$ candidates and each term is
# $-\log(1/B) = \log B$; both halves of eq. 3 average to $\log B$. A high temperature makes any
# batch look like chance.
# ````
#
# **Exercise 2.** Show numerically that the paper's $\mathcal{L}_{si}$ equals $2 - 2\cos(v, P_{agg})$ averaged over the
# batch. Complete the cell below.
#
# ````{dropdown} Hint
# For unit vectors, $\|a - b\|^2 = 2 - 2\,a \cdot b$; `similarity_loss` normalises its inputs.
# ````

# %%
# Exercise 2: complete this cell (it runs as it is, and does nothing until you do).
v, p = torch.randn(4, 16), torch.randn(4, 16)
paper = None   # similarity_loss(v, p, variant="paper")
if paper is not None:
    print(float(paper), None)   # replace None by the batch mean of 2 - 2 cos(v, p)

# %% [markdown]
# ````{dropdown} Solution to exercise 2
# ```python
# v, p = torch.randn(4, 16), torch.randn(4, 16)
# paper = similarity_loss(v, p, variant="paper")
# print(float(paper), float((2 - 2 * torch.nn.functional.cosine_similarity(v, p)).mean()))
# ```
#
# The two agree to float precision. The code's variant is the same sum divided by E (a mean over
# all B·E elements), which chapter 10 counts as a difference of scale.
# ````
#
# **Exercise 3.** In the code variant of $\mathcal{L}_{dc}$, why does the entropy term *increase* when the
# aggregated latents of different images become more alike?
#
# ````{dropdown} Hint
# The code's entropy is taken over dim 0 of $A$: for each caption, a distribution over the images.
# ````
#
# ````{dropdown} Solution to exercise 3
# If every image's $P_{agg}$ is alike, each caption is equally similar to all of them, so each
# distribution over images flattens towards uniform, where entropy is largest. Minimising
# $\lambda H$ therefore pushes the aggregated latents of different images apart: a guard against
# collapse.
# ````
