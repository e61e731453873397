"""Image-guided text decoder (paper 3.2.4): open_clip's CoCa ``MultimodalTransformer``.

Text tokens are the queries; the projected patch tokens of the global view and
the four crops, ``[B, 5*P, C]``, are the keys and values of every
cross-attention layer. Masked crop patches (pretraining) are hidden from the
keys by a padding mask (SPEC difference 11).
"""
from __future__ import annotations

import torch
from open_clip.transformer import MultimodalTransformer
from torch import nn


class ImageGuidedTextDecoder(nn.Module):
    def __init__(self, image_width: int, text_width: int, width: int, layers: int, heads: int,
                 context_length: int = 77):
        super().__init__()
        self.heads = heads
        self.image_proj = nn.Linear(image_width, width)                  # Pi_{v->t}
        self.text_proj = nn.Linear(text_width, width)
        self.decoder = MultimodalTransformer(width, layers, heads, context_length=context_length)
        self.decoder.text_projection = None                              # we read hidden states, not vocab logits
        self._init_blocks()

    def _init_blocks(self) -> None:
        width, layers = self.decoder.width, self.decoder.layers
        for block in list(self.decoder.resblocks) + list(self.decoder.cross_attn):
            nn.init.normal_(block.attn.in_proj_weight, std=width ** -0.5)
            nn.init.normal_(block.attn.out_proj.weight, std=width ** -0.5 * (2 * layers) ** -0.5)
            nn.init.normal_(block.mlp.c_fc.weight, std=(2 * width) ** -0.5)
            nn.init.normal_(block.mlp.c_proj.weight, std=width ** -0.5 * (2 * layers) ** -0.5)

    def key_mask(self, hidden: torch.Tensor, queries: int, dtype: torch.dtype) -> torch.Tensor | None:
        """hidden [B, K] (True = not a key) -> additive mask [B*heads, queries, K], or None."""
        if hidden is None or not hidden.any():
            return None
        mask = torch.zeros(hidden.shape, dtype=dtype, device=hidden.device).masked_fill(hidden, float("-inf"))
        return mask[:, None, None, :].expand(-1, self.heads, queries, -1).flatten(0, 1)

    def forward(self, text_tokens: torch.Tensor, image_tokens: torch.Tensor,
                hidden_keys: torch.Tensor | None = None, need_attn: bool = False):
        """text_tokens [B, L, C2], image_tokens [B, K, C1] (K = 5*P), hidden_keys [B, K] (True = masked)
        -> decoded [B, L, Ct], and the last layer's cross-attention [B, L, K] if ``need_attn``."""
        x = self.text_proj(text_tokens)                                  # [B, L, Ct]
        kv = self.image_proj(image_tokens)                               # [B, K, Ct]
        L = x.shape[1]
        causal = self.decoder.attn_mask[:L, :L]
        cross_mask = self.key_mask(hidden_keys, L, x.dtype)
        attn = None
        for i, (self_block, cross_block) in enumerate(zip(self.decoder.resblocks, self.decoder.cross_attn)):
            x = self_block(x, attn_mask=causal)
            if need_attn and i == len(self.decoder.cross_attn) - 1:
                attn = self.cross_attention_weights(cross_block, x, kv, cross_mask)
            x = cross_block(x, k_x=kv, v_x=kv, attn_mask=cross_mask)
        return self.decoder.ln_final(x), attn

    @staticmethod
    def cross_attention_weights(block, x, kv, mask):
        """Head-averaged attention of text queries over image keys: [B, L, K] (rows sum to 1)."""
        q, k = block.ln_1(x), block.ln_1_kv(kv)
        return block.attn(q, k, k, attn_mask=mask, need_weights=True, average_attn_weights=True)[1]
