"""Fixed 2-D sine-cosine position embeddings (MAE, He et al. 2022), used by the code variant's image decoder.

A patch at grid row ``r`` and column ``c`` gets ``[sincos(c) ; sincos(r)]`` (column first,
as in MAE's reference code), each half of the width: ``sincos(x) = [sin(x * omega_k) ; cos(x * omega_k)]`` with
``omega_k = 10000^(-k / (C/4))``, k = 0 .. C/4 - 1. Nothing is learned.
"""
from __future__ import annotations

import torch


def sincos_1d(width: int, positions: torch.Tensor) -> torch.Tensor:
    """positions [N] -> [N, width]: sines of the first half, cosines of the second (width even)."""
    omega = 1.0 / 10000 ** (torch.arange(width // 2, dtype=torch.float64) / (width / 2))  # [C/2]
    angles = positions.to(torch.float64)[:, None] * omega[None, :]                       # [N, C/2]
    return torch.cat([angles.sin(), angles.cos()], dim=1)


def sincos_2d(width: int, grid: int, cls_token: bool = True) -> torch.Tensor:
    """[(1 +) grid*grid, width] float32; patches row-major; a zero row first for the CLS token."""
    if width % 4:
        raise ValueError(f"2-D sin-cos embeddings need a width divisible by 4, got {width}")
    rows, cols = torch.meshgrid(torch.arange(grid), torch.arange(grid), indexing="ij")    # [g, g] each
    emb = torch.cat([sincos_1d(width // 2, cols.flatten()), sincos_1d(width // 2, rows.flatten())], dim=1)
    if cls_token:
        emb = torch.cat([torch.zeros(1, width, dtype=emb.dtype), emb], dim=0)              # [1+g*g, C]
    return emb.float()
