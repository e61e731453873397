"""Aggregator (paper 3.3.3): additive attention over the 4 crop representations z -> P_agg."""
from __future__ import annotations

import torch
from torch import nn


class Aggregator(nn.Module):
    """e_n = u^T tanh(W z_n + b); alpha = softmax_n(e); P_agg = MLP(sum_n alpha_n z_n).

    ``variant="code"`` (SPEC difference 7) averages alpha with a learned static
    softmax over the four views; ``use_attention=False`` (Table 5 ablation) uses
    the plain mean of the four z.
    """

    def __init__(self, width: int, embed_dim: int, variant: str = "code", use_attention: bool = True):
        super().__init__()
        self.variant, self.use_attention = variant, use_attention
        self.score = nn.Sequential(nn.Linear(width, width), nn.Tanh(), nn.Linear(width, 1, bias=False))  # W, b, u
        self.static_logits = nn.Parameter(torch.zeros(4)) if variant == "code" else None
        self.mlp = nn.Sequential(nn.Linear(width, width), nn.GELU(), nn.Linear(width, embed_dim))

    def weights(self, z: torch.Tensor) -> torch.Tensor:
        """z [B, 4, Cd] -> alpha [B, 4] (rows sum to 1)."""
        if not self.use_attention:
            return torch.full(z.shape[:2], 0.25, device=z.device, dtype=z.dtype)
        alpha = self.score(z).squeeze(-1).softmax(dim=-1)                # [B, 4]
        if self.static_logits is not None:
            alpha = 0.5 * (alpha + self.static_logits.softmax(dim=-1))   # [B, 4]
        return alpha

    def forward(self, z: torch.Tensor):
        """z [B, 4, Cd] -> P_agg [B, E], alpha [B, 4]."""
        alpha = self.weights(z)
        pooled = (alpha.unsqueeze(-1) * z).sum(dim=1)                    # [B, Cd]
        return self.mlp(pooled), alpha
