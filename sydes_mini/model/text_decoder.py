"""Image-guided text decoder (paper 3.2.4): open_clip's CoCa ``MultimodalTransformer``.

The queries are the text tokens without the CLS (end-of-text) token, W^{1:S};
the keys and values are the patch tokens of the global view and the four crops,
``[B, 5*P, C]``. Masked crop patches (pretraining) are hidden from the keys by a
padding mask (SPEC difference 11). Per ``variant``:

* ``paper``: keys through Pi_{v->t} (a Linear), queries through a Linear, the
  decoder's final LayerNorm; output width = decoder width.
* ``code`` (the authors' ``ln2_post``, ``text_proj``, ``ln3_post``, ``text_projection``):
  keys through a new LayerNorm (their image width equals the decoder width, 768,
  so there is no key projection; one is added only if the widths differ), queries
  through a Linear and a LayerNorm, the output projected to ``output_dim`` (512).
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from open_clip.transformer import MultimodalTransformer
from torch import nn


class ImageGuidedTextDecoder(nn.Module):
    def __init__(self, image_width: int, text_width: int, width: int, layers: int, heads: int,
                 variant: str = "code", output_dim: int | None = None, context_length: int = 76):
        super().__init__()
        code = variant == "code"
        self.key_proj = nn.Identity() if code and image_width == width else nn.Linear(image_width, width)
        self.key_norm = nn.LayerNorm(width) if code else nn.Identity()
        self.text_proj = nn.Linear(text_width, width)
        self.query_norm = nn.LayerNorm(width) if code else nn.Identity()
        self.decoder = MultimodalTransformer(width, layers, heads, context_length=context_length,
                                             output_dim=output_dim or width)
        if code:   # open_clip leaves it uninitialised (torch.empty); the authors draw N(0, 1/width)
            nn.init.normal_(self.decoder.text_projection, std=width ** -0.5)
        else:
            self.decoder.text_projection = None                          # hidden states are the output
            self._init_blocks()
        self.output_width = output_dim if code and output_dim else width

    def _init_blocks(self) -> None:
        """open_clip's text-transformer initialisation (the code variant uses the authors' Xavier init instead)."""
        width, layers = self.decoder.width, self.decoder.layers
        for block in list(self.decoder.resblocks) + list(self.decoder.cross_attn):
            nn.init.normal_(block.attn.in_proj_weight, std=width ** -0.5)
            nn.init.normal_(block.attn.out_proj.weight, std=width ** -0.5 * (2 * layers) ** -0.5)
            nn.init.normal_(block.mlp.c_fc.weight, std=(2 * width) ** -0.5)
            nn.init.normal_(block.mlp.c_proj.weight, std=width ** -0.5 * (2 * layers) ** -0.5)

    @staticmethod
    def key_mask(hidden: torch.Tensor | None, dtype: torch.dtype) -> torch.Tensor | None:
        """hidden [B, K] (True = not a key) -> additive mask [B, 1, 1, K] (every head, every query), or None."""
        if hidden is None or not hidden.any():
            return None
        mask = torch.zeros(hidden.shape, dtype=dtype, device=hidden.device).masked_fill(hidden, float("-inf"))
        return mask[:, None, None, :]

    def forward(self, text_tokens: torch.Tensor, image_tokens: torch.Tensor,
                hidden_keys: torch.Tensor | None = None, need_attn: bool = False):
        """text_tokens [B, L, C2], image_tokens [B, K, C1] (K = 5*P), hidden_keys [B, K] (True = masked)
        -> decoded [B, L, Co], and the last layer's cross-attention [B, L, K] if ``need_attn``."""
        x = self.query_norm(self.text_proj(text_tokens))                 # [B, L, Ct]
        kv = self.key_norm(self.key_proj(image_tokens))                  # [B, K, Ct]
        L = x.shape[1]
        causal = self.decoder.attn_mask[:L, :L]
        cross_mask = self.key_mask(hidden_keys, x.dtype)
        attn = None
        for i, (self_block, cross_block) in enumerate(zip(self.decoder.resblocks, self.decoder.cross_attn)):
            x = self_block(x, attn_mask=causal)
            if need_attn and i == len(self.decoder.cross_attn) - 1:
                attn = self.cross_attention_weights(cross_block, x, kv, cross_mask)
            x = cross_attention_block(cross_block, x, kv, cross_mask)
        x = self.decoder.ln_final(x)                                     # [B, L, Ct]
        projection = self.decoder.text_projection
        return (x if projection is None else x @ projection), attn       # [B, L, Co]

    @staticmethod
    def cross_attention_weights(block, x, kv, mask):
        """Head-averaged attention of text queries over image keys: [B, L, K] (rows sum to 1)."""
        q, k = block.ln_1(x), block.ln_1_kv(kv)
        if mask is not None:                      # nn.MultiheadAttention's layout: [B*heads, L, K]
            mask = mask.expand(-1, block.attn.num_heads, x.shape[1], -1).flatten(0, 1)
        return block.attn(q, k, k, attn_mask=mask, need_weights=True, average_attn_weights=True)[1]


def cross_attention_block(block: nn.Module, x: torch.Tensor, kv: torch.Tensor,
                          mask: torch.Tensor | None) -> torch.Tensor:
    """One cross-attention layer of the decoder: the text queries read the image tokens (paper 3.2.4).

    x [B, L, C] (text), kv [B, K, C] (image tokens, K = 5*P), mask None or additive [B, 1, 1, K]
    (``ImageGuidedTextDecoder.key_mask``) -> [B, L, C]. ``block`` is one of open_clip's
    cross-attention ``ResidualAttentionBlock``s, and this is its ``forward(x, k_x=kv, v_x=kv)`` (what
    the authors' decoder runs), written out: LayerNorm, attention, residual, then LayerNorm, MLP, residual.
    Written out because open_clip normalises the image tokens twice (once as keys, once as values)
    and projects them one at a time in ``nn.MultiheadAttention``'s sequence-first layout; here they
    are normalised once and projected to keys and values in one matrix product, the largest of a
    cached fine-tuning step. Same numbers to float rounding (``tests/test_model.py``).
    """
    attn = block.attn
    C, H = attn.embed_dim, attn.num_heads
    w_q, w_kv = attn.in_proj_weight.split([C, 2 * C])
    b_q, b_kv = attn.in_proj_bias.split([C, 2 * C])
    q = F.linear(block.ln_1(x), w_q, b_q).unflatten(-1, (H, -1)).transpose(1, 2)        # [B, H, L, D]
    k, v = F.linear(block.ln_1_kv(kv), w_kv, b_kv).unflatten(-1, (2, H, -1)).permute(2, 0, 3, 1, 4)  # [B, H, K, D]
    mask = None if mask is None else mask.to(q.dtype)                                 # [B, 1, 1, K]
    o = F.scaled_dot_product_attention(q, k, v, attn_mask=mask,
                                       dropout_p=attn.dropout if block.training else 0.0)  # [B, H, L, D]
    x = x + block.ls_1(attn.out_proj(o.transpose(1, 2).flatten(2)))                      # [B, L, C]
    return x + block.ls_2(block.mlp(block.ln_2(x)))                                      # [B, L, C]
