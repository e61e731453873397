"""Figures for the model chapters (book chapters 3-7): views, masking, reconstructions, attention, losses.

Images come in as CLIP-normalised tensors (what the model sees) and are shown
with :func:`sydes_mini.views.denormalize`. Every function returns a ``Figure``.
Letters: P patches per view (a g x g grid, g = 224 / p), p patch side, L text length.
"""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.figure import Figure
from PIL import Image

from ..model.image_decoder import patchify, unpatchify
from ..views import SIZE, denormalize
from .style import overlap_styles

CROP_NAMES = ("top-left", "top-right", "bottom-left", "bottom-right")   # eq. 1 crop order


def stitch_crops(crops: torch.Tensor) -> torch.Tensor:
    """Inverse of :func:`sydes_mini.views.split_crops`: [..., 4, 3, 224, 224] -> [..., 3, 448, 448]."""
    top = torch.cat([crops[..., 0, :, :, :], crops[..., 1, :, :, :]], dim=-1)     # [..., 3, 224, 448]
    bottom = torch.cat([crops[..., 2, :, :, :], crops[..., 3, :, :, :]], dim=-1)  # [..., 3, 224, 448]
    return torch.cat([top, bottom], dim=-2)                                        # [..., 3, 448, 448]


def _show(ax, image, title: str = "") -> None:
    ax.imshow(image)
    ax.set_title(title, fontsize=9)
    ax.set_xticks([])
    ax.set_yticks([])


def views_grid(image: Image.Image, views: dict[str, tuple[torch.Tensor, torch.Tensor]]) -> Figure:
    """Eq. 1 drawn: one row per variant, columns = original, global view, four crops.

    views: {variant: (global_view [3, 224, 224], crops [4, 3, 224, 224])}.
    """
    fig, axes = plt.subplots(len(views), 6, figsize=(12, 2.3 * len(views)), squeeze=False)
    for row, (name, (global_view, crops)) in zip(axes, views.items()):
        _show(row[0], image, f"original {image.size[0]}x{image.size[1]}")
        _show(row[1], denormalize(global_view), f"{name}: global 224")
        for ax, crop, where in zip(row[2:], crops, CROP_NAMES):
            _show(ax, denormalize(crop), f"{name}: {where}")
    fig.tight_layout()
    return fig


def masked_image(crops: torch.Tensor, mask: torch.Tensor, patch_size: int,
                 fill: tuple[float, float, float] = (0.1, 0.1, 0.1)) -> np.ndarray:
    """crops [4, 3, 224, 224], mask [4, P] (1 = masked) -> stitched RGB [448, 448, 3], masked patches dark."""
    g = SIZE // patch_size
    pixel_mask = mask.reshape(4, 1, g, g).repeat_interleave(patch_size, -2).repeat_interleave(patch_size, -1)  # [4, 1, 224, 224]
    shown = denormalize(stitch_crops(crops))                              # [448, 448, 3]
    hidden = stitch_crops(pixel_mask.expand(-1, 3, -1, -1))[0].bool()     # [448, 448]
    shown[hidden] = torch.tensor(fill)
    return shown.numpy()


def masking_overlay(crops: torch.Tensor, mask: torch.Tensor, patch_size: int) -> Figure:
    """MAE masking on the crops: stitched crops beside the same crops with masked patches dark.

    crops [4, 3, 224, 224], mask [4, P] (1 = masked).
    """
    fig, axes = plt.subplots(1, 2, figsize=(8, 4.2))
    _show(axes[0], denormalize(stitch_crops(crops)), "four crops (448 x 448)")
    visible = int((mask == 0).sum(-1)[0])
    _show(axes[1], masked_image(crops, mask, patch_size), f"encoder sees {visible} of {mask.shape[-1]} patches per crop")
    for ax in axes:
        ax.axhline(SIZE - 0.5, color="white", lw=1)
        ax.axvline(SIZE - 0.5, color="white", lw=1)
    fig.tight_layout()
    return fig


def reconstruction(crops: torch.Tensor, mask: torch.Tensor, pixels: torch.Tensor, patch_size: int) -> np.ndarray:
    """MAE-style picture: visible patches from the input, masked ones from the prediction.

    crops [4, 3, 224, 224], mask [4, P], pixels [4, P, p*p*3] (patchified, CLIP-normalised) -> RGB [448, 448, 3].
    """
    target = patchify(crops, patch_size)                                 # [4, P, p*p*3]
    pasted = torch.where(mask.bool().unsqueeze(-1), pixels, target)      # [4, P, p*p*3]
    return denormalize(stitch_crops(unpatchify(pasted, patch_size))).numpy()


def reconstructions(examples: list[dict], patch_size: int) -> Figure:
    """Paper Fig. 5 re-created: per example, original | masked | reconstruction (stitched 448 crops).

    examples: [{"crops": [4, 3, 224, 224], "mask": [4, P], "pixels": [4, P, p*p*3], "title": str}].
    """
    fig, axes = plt.subplots(len(examples), 3, figsize=(9, 3.1 * len(examples)), squeeze=False)
    for row, ex in zip(axes, examples):
        _show(row[0], denormalize(stitch_crops(ex["crops"])), ex.get("title", "original"))
        _show(row[1], masked_image(ex["crops"], ex["mask"], patch_size), "masked input")
        _show(row[2], reconstruction(ex["crops"], ex["mask"], ex["pixels"], patch_size), "reconstruction")
    fig.tight_layout()
    return fig


def attention_maps(global_view: torch.Tensor, crops: torch.Tensor, attention: torch.Tensor,
                   words: dict[str, int]) -> Figure:
    """Paper Fig. 4 re-created: cross-attention of chosen text tokens over the five views.

    global_view [3, 224, 224], crops [4, 3, 224, 224], attention [L, 5*P] (one row per text token,
    keys = global patches then the 4 crops' patches), words {label: token position}.
    Top row: the global view and the stitched crops as they are. Then one row per word: its P weights
    on the global view and its 4*P weights on the crops, drawn beside the images rather than over them
    (nothing is hidden); both panels of a row share one colour scale, so they can be compared.
    """
    P = attention.shape[-1] // 5
    g = int(round(P ** 0.5))
    fig, axes = plt.subplots(len(words) + 1, 2, figsize=(7, 3.3 * (len(words) + 1)), squeeze=False,
                             layout="constrained")
    _show(axes[0][0], denormalize(global_view), "global view")
    _show(axes[0][1], denormalize(stitch_crops(crops)), "four crops")
    axes[0][1].axhline(223.5, color="white", lw=1)                      # the borders between the crops
    axes[0][1].axvline(223.5, color="white", lw=1)
    for row, (label, pos) in zip(axes[1:], words.items()):
        weights = attention[pos].float()                                 # [5*P]
        on_global = weights[:P].reshape(g, g)                            # [g, g]
        on_crops = stitch_crops(weights[P:].reshape(4, 1, g, g))[0]      # [2g, 2g]
        vmax = float(weights.max())
        row[0].imshow(on_global, cmap="inferno", vmin=0, vmax=vmax)
        row[0].set_title(f"'{label}' → global view", fontsize=9)
        im = row[1].imshow(on_crops, cmap="inferno", vmin=0, vmax=vmax)
        row[1].axhline(g - 0.5, color="white", lw=1)                     # the borders between the crops
        row[1].axvline(g - 0.5, color="white", lw=1)
        row[1].set_title(f"'{label}' → crops", fontsize=9)
        for ax in row:
            ax.set_xticks([]), ax.set_yticks([])
        fig.colorbar(im, ax=row.tolist(), orientation="horizontal", shrink=0.5,
                     label="attention weight")                           # below the row: columns stay aligned
    return fig


def loss_curves(x, curves: dict[str, list[float]], xlabel: str, ylabel: str = "loss",
                title: str = "", logx: bool = False, reference: dict[str, float] | None = None) -> Figure:
    """Loss against a parameter: one line per entry of ``curves``; ``reference`` draws labelled horizontal lines."""
    fig, ax = plt.subplots(figsize=(6, 3.6))
    for (label, y), style in zip(curves.items(), overlap_styles(len(curves))):   # lines that overlap stay visible
        ax.plot(x, y, label=label, **style)
    if logx:
        ax.set_xscale("log")
    for label, y in (reference or {}).items():
        ax.axhline(y, ls="--", lw=1, color="grey")
        ax.annotate(label, (0, y), xycoords=("axes fraction", "data"), xytext=(4, 3), textcoords="offset points",
                    fontsize=8, color="grey")
    ax.set(xlabel=xlabel, ylabel=ylabel, title=title)
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig
