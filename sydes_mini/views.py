"""Mixed-scale views (paper 3.1, eq. 1): one global view and four local crops.

> "Given a high-resolution image I_i (e.g., 448×448) from batch size N, we
> generate one down-sampled low-resolution image and partition the original
> image into four non-overlapping high-resolution sub-images. This yields five
> 224×224 images per original image" (paper 3.1)

.. math::  I^{(g)}_i = \\mathrm{DownSample}(I_i), \\quad I^{(l)}_{i,n} = \\mathrm{Crop}_n(I_i),\\ n = 1..4   \\qquad (1)

Two variants (SPEC difference 6):

* ``"code"`` (the authors' code): pad the image to a square with the CLIP mean
  colour, bicubic-resize it to 448 and cut the crops from that; the global view
  is a *separate* CLIP preprocessing of the original (shortest side -> 224,
  centre crop 224), so whatever lies near the left/right (or top/bottom) border
  of a non-square image is only seen by the crops.
* ``"paper"``: squash the image to 448 x 448 (bilinear, no padding); the global
  view is a bilinear down-sample of that 448 image.

Letters: V = 4 crops, in the order top-left, top-right, bottom-left, bottom-right.
"""
from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

CLIP_MEAN = (0.48145466, 0.4578275, 0.40821073)
CLIP_STD = (0.26862954, 0.26130258, 0.27577711)
CLIP_MEAN_RGB = tuple(int(255 * m) for m in CLIP_MEAN)  # (122, 116, 104): the padding colour, truncated as the authors do
SIZE = 224                                                 # CLIP input side
VARIANTS = ("code", "paper")


def to_tensor(image: Image.Image | np.ndarray) -> torch.Tensor:
    """RGB PIL image (W x H), or its uint8 array [H, W, 3] -> CLIP-normalised float tensor [3, H, W]."""
    x = torch.from_numpy(np.asarray(image, dtype=np.float32) / 255.0)  # [H, W, 3] in [0, 1]
    x = x.permute(2, 0, 1)                                              # [3, H, W]
    mean = torch.tensor(CLIP_MEAN).view(3, 1, 1)
    std = torch.tensor(CLIP_STD).view(3, 1, 1)
    return (x - mean) / std


def denormalize(x: torch.Tensor) -> torch.Tensor:
    """Inverse of the CLIP normalisation for plotting: [..., 3, H, W] -> [..., H, W, 3] in [0, 1]."""
    mean = torch.tensor(CLIP_MEAN, device=x.device).view(3, 1, 1)
    std = torch.tensor(CLIP_STD, device=x.device).view(3, 1, 1)
    return (x * std + mean).clamp(0, 1).movedim(-3, -1)


def pad_to_square(image: Image.Image) -> Image.Image:
    """Centre the image on a square canvas of the CLIP mean colour (side = longest side)."""
    w, h = image.size
    side = max(w, h)
    canvas = Image.new("RGB", (side, side), CLIP_MEAN_RGB)
    canvas.paste(image, ((side - w) // 2, (side - h) // 2))
    return canvas


def clip_crop(image: Image.Image) -> Image.Image:
    """CLIP's own resampling: shortest side -> 224 (bicubic), centre crop 224 x 224."""
    w, h = image.size
    scale = SIZE / min(w, h)
    new_w, new_h = max(SIZE, round(w * scale)), max(SIZE, round(h * scale))
    image = image.resize((new_w, new_h), Image.BICUBIC)
    left, top = (new_w - SIZE) // 2, (new_h - SIZE) // 2
    return image.crop((left, top, left + SIZE, top + SIZE))


def clip_preprocess(image: Image.Image) -> torch.Tensor:
    """CLIP's own preprocessing: :func:`clip_crop`, normalised -> [3, 224, 224]."""
    return to_tensor(clip_crop(image))


def image_448(image: Image.Image, variant: str = "code") -> Image.Image:
    """The 448 x 448 image the crops are cut from, before normalisation."""
    if variant == "code":
        return pad_to_square(image).resize((2 * SIZE, 2 * SIZE), Image.BICUBIC)
    if variant == "paper":
        return image.resize((2 * SIZE, 2 * SIZE), Image.BILINEAR)
    raise ValueError(f"unknown views variant {variant!r}; choose one of {VARIANTS}")


def view_448(image: Image.Image, variant: str = "code") -> torch.Tensor:
    """The 2 x 224 image the crops are cut from: [3, 448, 448], CLIP-normalised."""
    return to_tensor(image_448(image, variant))


def split_crops(x448: torch.Tensor) -> torch.Tensor:
    """[3, 448, 448] -> 4 non-overlapping crops [4, 3, 224, 224] (TL, TR, BL, BR)."""
    x = x448.reshape(3, 2, SIZE, 2, SIZE)      # [3, row, 224, col, 224]
    return x.permute(1, 3, 0, 2, 4).reshape(4, 3, SIZE, SIZE)  # [row*col, 3, 224, 224]


def resampled(image: Image.Image, variant: str = "code") -> tuple[np.ndarray, np.ndarray | None]:
    """The resampling of eq. 1 as uint8 arrays: the 448 image [448, 448, 3] and, in the code variant, CLIP's
    global crop [224, 224, 3] (the paper's global view is computed from the 448 image). This is the slow,
    deterministic part of :func:`mixed_scale_views`; a dataset may keep it between epochs."""
    return np.asarray(image_448(image, variant)), np.asarray(clip_crop(image)) if variant == "code" else None


def views_from(x448: np.ndarray, global_crop: np.ndarray | None) -> tuple[torch.Tensor, torch.Tensor]:
    """:func:`resampled`'s arrays -> global view [3, 224, 224] and crops [4, 3, 224, 224], normalised."""
    big = to_tensor(x448)                                            # [3, 448, 448]
    if global_crop is not None:                                      # code: a separate path (SPEC difference 6)
        global_view = to_tensor(global_crop)
    else:                                                            # paper: down-sample the 448 image
        global_view = F.interpolate(big[None], size=(SIZE, SIZE), mode="bilinear",
                                    antialias=True, align_corners=False)[0]  # [3, 224, 224]
    return global_view, split_crops(big)


def mixed_scale_views(image: Image.Image, variant: str = "code") -> tuple[torch.Tensor, torch.Tensor]:
    """Eq. 1: RGB image -> global view [3, 224, 224] and crops [4, 3, 224, 224]."""
    return views_from(*resampled(image, variant))