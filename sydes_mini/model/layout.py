"""A speed fix with no effect on results: attention projections on contiguous memory.

``nn.MultiheadAttention(batch_first=True)`` (open_clip's encoders and decoders, our
gate and pooling) transposes its ``[N, L, C]`` inputs to ``[L, N, C]`` views before
the q/k/v projection. In training mode that projection then runs on a
non-contiguous tensor, which ``matmul`` cannot fold into one matrix product: it
multiplies L small ``[N, C] x [C, 3C]`` blocks against a broadcast weight instead
(``aten::bmm`` with the weight expanded L times; 2-3x slower on CPU, and the
backward pays again). The authors' encoders (Hugging Face CLIP: separate q/k/v
``Linear`` layers on contiguous tensors) do not have this cost, which is why our
uncached fine-tuning step, whose five image views go through the frozen encoder,
was slower than theirs (issue 13).

:func:`contiguous_attention` hands every such module its inputs in the memory
layout its internal transpose expects (same values, same shapes), so the
projections are single matrix products.
"""
from __future__ import annotations

import torch
from torch import nn


def seq_first_memory(x: torch.Tensor) -> torch.Tensor:
    """[N, L, C] -> the same tensor stored so that ``x.transpose(0, 1)`` ([L, N, C]) is contiguous."""
    if x.dim() != 3 or x.transpose(0, 1).is_contiguous():
        return x
    return x.transpose(0, 1).contiguous().transpose(0, 1)


def _relayout_inputs(module: nn.MultiheadAttention, args: tuple, kwargs: dict):
    if not module.batch_first or len(args) < 3:
        return None
    seen = {}                                 # keeps "query is key is value" (self-attention packs q/k/v)
    qkv = tuple(seen.setdefault(id(t), seq_first_memory(t)) for t in args[:3])
    return qkv + tuple(args[3:]), kwargs


def contiguous_attention(model: nn.Module) -> nn.Module:
    """Register the input re-layout on every ``nn.MultiheadAttention`` of ``model``; returns ``model``."""
    for m in model.modules():
        if isinstance(m, nn.MultiheadAttention):
            m.register_forward_pre_hook(_relayout_inputs, with_kwargs=True)
    return model
