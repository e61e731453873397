"""Classification head: pooled text-decoder output -> MLP -> logits (paper 3.2.4, SPEC difference 8)."""
from __future__ import annotations

import torch
from torch import nn


def masked_mean_max(x: torch.Tensor, valid: torch.Tensor):
    """x [B, L, C], valid [B, L] (True = real token) -> mean [B, C], max [B, C] over real tokens."""
    v = valid.unsqueeze(-1).to(x.dtype)                                  # [B, L, 1]
    mean = (x * v).sum(1) / v.sum(1).clamp(min=1)
    big_negative = torch.finfo(x.dtype).min
    return mean, x.masked_fill(~valid.unsqueeze(-1), big_negative).amax(1)


class AttentionPool(nn.Module):
    """One learned query attending over the real tokens: [B, L, C] -> [B, C]."""

    def __init__(self, width: int, heads: int):
        super().__init__()
        self.query = nn.Parameter(torch.randn(1, 1, width) * 0.02)
        self.attn = nn.MultiheadAttention(width, heads, batch_first=True)

    def forward(self, x: torch.Tensor, valid: torch.Tensor) -> torch.Tensor:
        q = self.query.expand(x.shape[0], -1, -1).to(x.dtype)           # [B, 1, C]
        return self.attn(q, x, x, key_padding_mask=~valid, need_weights=False)[0].squeeze(1)


class Head(nn.Module):
    """``paper``: mean pooling -> MLP -> K logits.
    ``code``: (mean + max + attention pooling) -> LayerNorm/Linear/GELU/Dropout -> residual MLP
    -> MLP with a half-width hidden layer -> K logits."""

    def __init__(self, width: int, heads: int, num_classes: int, variant: str = "code", dropout: float = 0.1):
        super().__init__()
        self.variant = variant
        if variant == "paper":
            self.mlp = nn.Sequential(nn.Linear(width, width), nn.GELU(), nn.Linear(width, num_classes))
            return
        self.attn_pool = AttentionPool(width, heads)
        self.proj = nn.Sequential(nn.LayerNorm(width), nn.Linear(width, width), nn.GELU(), nn.Dropout(dropout))
        self.residual = nn.Sequential(nn.Linear(width, width), nn.GELU(), nn.Dropout(dropout))
        self.mlp = nn.Sequential(nn.Linear(width, width // 2), nn.GELU(), nn.Dropout(dropout),
                                 nn.Linear(width // 2, num_classes))

    def forward(self, x: torch.Tensor, valid: torch.Tensor) -> torch.Tensor:
        """x [B, L, Ct] decoded text, valid [B, L] -> logits [B, K]."""
        mean, top = masked_mean_max(x, valid)
        if self.variant == "paper":
            return self.mlp(mean)
        h = self.proj(mean + top + self.attn_pool(x, valid))             # [B, Ct]
        return self.mlp(h + self.residual(h))
