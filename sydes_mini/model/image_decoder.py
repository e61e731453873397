"""Text-guided image decoder (paper 3.2.3): MAE-style reconstruction of masked crop patches, gated by text."""
from __future__ import annotations

import torch
from open_clip.transformer import ResidualAttentionBlock
from torch import nn


def unshuffle(tokens: torch.Tensor, ids_restore: torch.Tensor, fill: torch.Tensor) -> torch.Tensor:
    """Put visible tokens back in patch order, ``fill`` at masked positions (MAE).

    tokens [N, P', C], ids_restore [N, P], fill [C] -> [N, P, C].
    """
    N, P = ids_restore.shape
    pad = fill.to(tokens.dtype).expand(N, P - tokens.shape[1], -1)      # [N, P-P', C]
    x = torch.cat([tokens, pad], dim=1)                                  # [N, P, C] shuffled order
    return torch.gather(x, 1, ids_restore.unsqueeze(-1).expand(-1, -1, x.shape[-1]))


def text_padding_mask(text: torch.Tensor, heads: int, queries: int) -> torch.Tensor:
    """Additive attention mask hiding padding tokens (id 0) of ``text`` [B, L] -> [B*heads, queries, L]."""
    hidden = (text == 0)                                                 # [B, L] True = padding
    mask = torch.zeros(hidden.shape, dtype=torch.float32, device=text.device)
    mask = mask.masked_fill(hidden, float("-inf"))
    return mask[:, None, None, :].expand(-1, heads, queries, -1).flatten(0, 1)


class Gate(nn.Module):
    """Gate_img(W, D): U = D + sigmoid(g([D, A])) * A, with A = cross-attention from D to the text W."""

    def __init__(self, width: int, heads: int):
        super().__init__()
        self.heads = heads
        self.norm_q, self.norm_kv = nn.LayerNorm(width), nn.LayerNorm(width)
        self.attn = nn.MultiheadAttention(width, heads, batch_first=True)
        self.gate = nn.Linear(2 * width, width)

    def forward(self, d: torch.Tensor, w: torch.Tensor, text_mask: torch.Tensor) -> torch.Tensor:
        """d [N, T, C] decoder input, w [N, L, C] text tokens, text_mask [N*heads, T, L] -> U [N, T, C]."""
        a = self.attn(self.norm_q(d), self.norm_kv(w), self.norm_kv(w), attn_mask=text_mask.to(d.dtype),
                      need_weights=False)[0]                             # [N, T, C]
        g = torch.sigmoid(self.gate(torch.cat([d, a], dim=-1)))          # [N, T, C]
        return d + g * a


class TextGuidedImageDecoder(nn.Module):
    """Predicts the pixels of every patch of a crop and a sub-image representation z.

    Input D = [projected visible tokens ; mask tokens] in patch order, with a
    decoder position embedding. The text is fused by a gate into U; every
    decoder layer then reads D (queries) and attends to U (keys/values).
    """

    def __init__(self, image_width: int, text_width: int, width: int, layers: int, heads: int,
                 num_patches: int, patch_size: int):
        super().__init__()
        self.heads = heads
        self.image_proj = nn.Linear(image_width, width)                  # Pi_{v->t}
        self.text_proj = nn.Linear(text_width, width)
        self.mask_token = nn.Parameter(torch.zeros(width))
        self.pos_embed = nn.Parameter(torch.randn(1 + num_patches, width) * 0.02)
        self.gate = Gate(width, heads)
        self.blocks = nn.ModuleList(
            [ResidualAttentionBlock(width, heads, is_cross_attention=True) for _ in range(layers)])
        self.norm = nn.LayerNorm(width)
        self.to_pixels = nn.Linear(width, patch_size * patch_size * 3)
        nn.init.normal_(self.mask_token, std=0.02)

    def decoder_input(self, tokens: torch.Tensor, ids_restore: torch.Tensor) -> torch.Tensor:
        """tokens [N, 1+P', C1] -> D [N, 1+P, Cd]: CLS, then visible or mask token at each patch."""
        x = self.image_proj(tokens)                                      # [N, 1+P', Cd]
        patches = unshuffle(x[:, 1:], ids_restore, self.mask_token)       # [N, P, Cd]
        return torch.cat([x[:, :1], patches], dim=1) + self.pos_embed     # [N, 1+P, Cd]

    def forward(self, tokens: torch.Tensor, ids_restore: torch.Tensor, text_tokens: torch.Tensor,
                text: torch.Tensor):
        """tokens [N, 1+P', C1], ids_restore [N, P], text_tokens [N, L, C2], text ids [N, L]
        -> pixels [N, P, p*p*3], z [N, Cd]."""
        d = self.decoder_input(tokens, ids_restore)                      # [N, 1+P, Cd]
        mask = text_padding_mask(text, self.heads, d.shape[1])           # [N*h, 1+P, L]
        u = self.gate(d, self.text_proj(text_tokens), mask)              # [N, 1+P, Cd]
        x = d
        for block in self.blocks:
            x = block(x, k_x=u, v_x=u)                                   # queries D, keys/values U
        x = self.norm(x)
        return self.to_pixels(x[:, 1:]), x[:, 0]                         # [N, P, p*p*3], z [N, Cd]


def patchify(images: torch.Tensor, patch_size: int) -> torch.Tensor:
    """images [N, 3, H, W] -> patches [N, P, p*p*3] in the decoder's output layout (row-major, then pixel, channel)."""
    N, C, H, W = images.shape
    p = patch_size
    x = images.reshape(N, C, H // p, p, W // p, p)                       # [N, 3, h, p, w, p]
    return torch.einsum("nchpwq->nhwpqc", x).reshape(N, (H // p) * (W // p), p * p * C)


def unpatchify(patches: torch.Tensor, patch_size: int) -> torch.Tensor:
    """patches [N, P, p*p*3] -> images [N, 3, H, W] (inverse of :func:`patchify`, square images)."""
    N, P, _ = patches.shape
    p, h = patch_size, int(round(P ** 0.5))
    x = patches.reshape(N, h, h, p, p, 3)                                # [N, h, w, p, q, 3]
    return torch.einsum("nhwpqc->nchpwq", x).reshape(N, 3, h * p, h * p)
