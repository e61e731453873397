"""Image encoder (paper 3.2.1): one shared CLIP ViT for all five views, MAE masking on crops."""
from __future__ import annotations

import torch
from torch import nn


def random_masking(x: torch.Tensor, mask_ratio: float, generator: torch.Generator | None = None):
    """Keep a random ``int((1 - m) * P)`` patches per sample (MAE, He et al. 2022; the authors' rounding down).

    x: [N, P, C] patch tokens (position embedding already added).
    Returns x_kept [N, P', C], mask [N, P] (0 = keep, 1 = masked) and
    ids_restore [N, P] (the permutation that puts the shuffled patches back).
    """
    N, P, C = x.shape
    if mask_ratio == 0:   # nothing to hide: keep patch order, draw no random numbers
        return x, torch.zeros(N, P, device=x.device), torch.arange(P, device=x.device).expand(N, P)
    keep = int((1 - mask_ratio) * P)                     # m = 0.9, P = 196: 19 (1 - 0.9 is 0.0999...)
    noise = torch.rand(N, P, generator=generator, device=generator.device if generator else x.device)
    noise = noise.to(x.device)
    ids_shuffle = torch.argsort(noise, dim=1)            # [N, P] ascending: first `keep` are kept
    ids_restore = torch.argsort(ids_shuffle, dim=1)      # [N, P]
    ids_keep = ids_shuffle[:, :keep]                     # [N, P']
    x_kept = torch.gather(x, 1, ids_keep.unsqueeze(-1).expand(-1, -1, C))  # [N, P', C]
    mask = torch.ones(N, P, device=x.device)
    mask[:, :keep] = 0
    mask = torch.gather(mask, 1, ids_restore)            # [N, P] back in patch order
    return x_kept, mask, ids_restore


class ImageEncoder(nn.Module):
    """Wraps an open_clip ``VisionTransformer`` and returns *all* token features (its projection is the model's
    ``image_latent``). ``final_norm=False`` drops CLIP's last LayerNorm: the code variant normalises the tokens
    with a new LayerNorm of its own (the authors' ``ln1_post``) that keeps training when the encoder is frozen."""

    def __init__(self, visual: nn.Module, final_norm: bool = True):
        super().__init__()
        if not final_norm:
            visual.ln_post = nn.Identity()
        visual.proj = None
        self.visual = visual
        self.width = visual.conv1.out_channels           # C1
        self.patch_size = visual.patch_size[0]
        self.num_patches = visual.grid_size[0] * visual.grid_size[1]  # P

    def embed(self, images: torch.Tensor) -> torch.Tensor:
        """images [N, 3, H, W] -> patch tokens with position embedding [N, P, C1]."""
        x = self.visual.conv1(images)                    # [N, C1, H/p, W/p]
        x = x.flatten(2).transpose(1, 2)                 # [N, P, C1]
        return x + self.visual.positional_embedding[1:].to(x.dtype)

    def forward(self, images: torch.Tensor, mask_ratio: float = 0.0, generator: torch.Generator | None = None):
        """images [N, 3, H, W] -> tokens [N, 1+P', C1], mask [N, P], ids_restore [N, P]."""
        x = self.embed(images)                                          # [N, P, C1]
        x, mask, ids_restore = random_masking(x, mask_ratio, generator)  # [N, P', C1]
        cls = self.visual.class_embedding + self.visual.positional_embedding[0]
        x = torch.cat([cls.to(x.dtype).expand(x.shape[0], 1, -1), x], dim=1)  # [N, 1+P', C1]
        x = self.visual.transformer(self.visual.ln_pre(x))
        return self.visual.ln_post(x), mask, ids_restore                # [N, 1+P', C1]
