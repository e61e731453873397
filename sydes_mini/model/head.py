"""Classification head: pooled text-decoder output -> MLP -> logits (paper 3.2.4, "a lightweight MLP").

* :class:`PaperHead` (``variant="paper"``): masked mean over the real tokens -> Linear, GELU, Linear.
* :class:`CodeHead` (``variant="code"``, the authors' ``post_processing``, ``proj1``, ``proj2``):
  masked mean, masked max and a dot-product attention pool (one learned query,
  no projections) are concatenated [B, 3C] -> LayerNorm, Linear, GELU, Dropout
  -> LayerNorm -> h + MLP(h) (their ``proj1``) -> MLP with a half-width hidden layer (``proj2``).
"""
from __future__ import annotations

import torch
from torch import nn


def masked_mean_max(x: torch.Tensor, valid: torch.Tensor):
    """x [B, L, C], valid [B, L] (True = real token) -> mean [B, C], max [B, C] over real tokens."""
    v = valid.unsqueeze(-1).to(x.dtype)                                  # [B, L, 1]
    mean = (x * v).sum(1) / v.sum(1).clamp(min=1)
    return mean, x.masked_fill(~valid.unsqueeze(-1), torch.finfo(x.dtype).min).amax(1)


def attention_pool(x: torch.Tensor, valid: torch.Tensor, query: torch.Tensor) -> torch.Tensor:
    """softmax over real tokens of (x . query), then the weighted sum: x [B, L, C], query [C] -> [B, C]."""
    scores = (x @ query.to(x.dtype)).masked_fill(~valid, torch.finfo(x.dtype).min)   # [B, L], no 1/sqrt(C)
    return (scores.softmax(-1).unsqueeze(-1) * x).sum(1)


def mlp(width_in: int, hidden: int, width_out: int, dropout: float) -> nn.Sequential:
    """Linear, ReLU, Dropout, Linear (the authors' ``MLPLayer``)."""
    return nn.Sequential(nn.Linear(width_in, hidden), nn.ReLU(), nn.Dropout(dropout), nn.Linear(hidden, width_out))


class PaperHead(nn.Module):
    def __init__(self, width: int, num_classes: int, dropout: float = 0.1):
        super().__init__()
        self.mlp = nn.Sequential(nn.Linear(width, width), nn.GELU(), nn.Linear(width, num_classes))

    def forward(self, x: torch.Tensor, valid: torch.Tensor) -> torch.Tensor:
        """x [B, L, C] decoded text, valid [B, L] -> logits [B, K]."""
        return self.mlp(masked_mean_max(x, valid)[0])


class CodeHead(nn.Module):
    def __init__(self, width: int, num_classes: int, dropout: float = 0.1):
        super().__init__()
        self.query = nn.Parameter(torch.randn(width) * 0.02)            # attention-pool query
        self.fuse = nn.Sequential(nn.LayerNorm(3 * width), nn.Linear(3 * width, width), nn.GELU(),
                                  nn.Dropout(dropout))
        self.norm = nn.LayerNorm(width)
        self.residual = mlp(width, width, width, dropout)                # proj1, added to its input
        self.classifier = mlp(width, width // 2, num_classes, dropout)   # proj2

    def pool(self, x: torch.Tensor, valid: torch.Tensor) -> torch.Tensor:
        """x [B, L, C] -> [mean ; max ; attention] [B, 3C]."""
        mean, top = masked_mean_max(x, valid)
        return torch.cat([mean, top, attention_pool(x, valid, self.query)], dim=-1)

    def forward(self, x: torch.Tensor, valid: torch.Tensor) -> torch.Tensor:
        """x [B, L, C] decoded text, valid [B, L] -> logits [B, K]."""
        h = self.norm(self.fuse(self.pool(x, valid)))                    # [B, C]
        return self.classifier(h + self.residual(h))


HEADS = {"paper": PaperHead, "code": CodeHead}
