"""Aggregator (paper 3.3.3): the 4 sub-image representations z -> one P_agg, compared with the global view.

* :class:`PaperAggregator` (``variant="paper"``, eq. under 3.3.3):
  e_n = u^T tanh(W z_n + b); alpha = softmax_n(e); P_agg = MLP(sum_n alpha_n z_n).
* :class:`CodeAggregator` (``variant="code"``, the authors' ``CombinedAggregator``):
  a static learned softmax over the 4 views gives a weighted sum -> MLP (ReLU,
  half-width hidden layer) -> LayerNorm -> one query; keys and values are
  projections of the LayerNorm'd views; scaled dot-product attention over the 4 views.

``use_attention=False`` (Table 5 ablation) replaces the learned weights by the
plain mean of the four z (the paper variant keeps its MLP to reach the latent width).
Both return P_agg [B, E] and the per-view weights alpha [B, 4] (rows sum to 1).
"""
from __future__ import annotations

import torch
from torch import nn


def uniform_weights(z: torch.Tensor) -> torch.Tensor:
    """z [B, 4, C] -> alpha [B, 4], all 1/4."""
    return torch.full(z.shape[:2], 1 / z.shape[1], device=z.device, dtype=z.dtype)


class PaperAggregator(nn.Module):
    def __init__(self, width: int, embed_dim: int, use_attention: bool = True):
        super().__init__()
        self.score = nn.Sequential(nn.Linear(width, width), nn.Tanh(), nn.Linear(width, 1, bias=False)) \
            if use_attention else None                                   # W, b, u
        self.mlp = nn.Sequential(nn.Linear(width, width), nn.GELU(), nn.Linear(width, embed_dim))

    def forward(self, z: torch.Tensor):
        """z [B, 4, Cd] -> P_agg [B, E], alpha [B, 4]."""
        alpha = self.score(z).squeeze(-1).softmax(-1) if self.score is not None else uniform_weights(z)
        pooled = (alpha.unsqueeze(-1) * z).sum(dim=1)                    # [B, Cd]
        return self.mlp(pooled), alpha


class CodeAggregator(nn.Module):
    def __init__(self, width: int, use_attention: bool = True):
        super().__init__()
        self.use_attention = use_attention
        if not use_attention:
            return
        self.view_logits = nn.Parameter(torch.ones(4))                   # static softmax weights of the views
        self.mlp = nn.Sequential(nn.Linear(width, width // 2), nn.ReLU(), nn.Linear(width // 2, width))
        self.norm = nn.LayerNorm(width)
        self.query, self.key, self.value = (nn.Linear(width, width) for _ in range(3))

    def forward(self, z: torch.Tensor):
        """z [B, 4, Cd] -> P_agg [B, Cd], alpha [B, 4] (attention of the query over the 4 views)."""
        if not self.use_attention:
            return z.mean(dim=1), uniform_weights(z)
        pooled = (self.view_logits.softmax(0)[None, :, None] * z).sum(dim=1)         # [B, Cd]
        q = self.query(self.norm(self.mlp(pooled))).unsqueeze(1)                     # [B, 1, Cd]
        views = self.norm(z)                                                          # [B, 4, Cd]
        k, v = self.key(views), self.value(views)                                     # [B, 4, Cd]
        alpha = (q @ k.transpose(1, 2) * z.shape[-1] ** -0.5).softmax(-1)             # [B, 1, 4]
        return (alpha @ v).squeeze(1), alpha.squeeze(1)


def build_aggregator(variant: str, width: int, embed_dim: int, use_attention: bool = True) -> nn.Module:
    if variant == "code":
        if width != embed_dim:
            raise ValueError(f"variant=code compares the aggregated z (width {width}) with the latents "
                             f"(model.latent_dim={embed_dim}) directly: set them equal")
        return CodeAggregator(width, use_attention)
    return PaperAggregator(width, embed_dim, use_attention)
