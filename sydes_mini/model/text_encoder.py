"""Text encoder (paper 3.2.2): the causal CLIP text transformer, all tokens + the CLS (end-of-text) feature."""
from __future__ import annotations

import torch
from torch import nn


class TextEncoder(nn.Module):
    """Takes the text tower out of an open_clip CLIP model."""

    def __init__(self, clip: nn.Module):
        super().__init__()
        tower = getattr(clip, "text", clip)              # CustomTextCLIP keeps it in .text
        self.token_embedding = tower.token_embedding
        self.positional_embedding = tower.positional_embedding
        self.transformer = tower.transformer
        self.ln_final = tower.ln_final
        self.text_projection = tower.text_projection     # [C2, E]
        self.register_buffer("attn_mask", tower.attn_mask, persistent=False)  # causal [L, L]
        self.width = self.positional_embedding.shape[1]  # C2

    def forward(self, text: torch.Tensor):
        """text [B, L] token ids -> tokens [B, L, C2], w_cls [B, C2], latent w [B, E].

        The CLS feature is the output at the end-of-text token, found as the
        largest token id in each row (open_clip's argmax rule).
        """
        L = text.shape[1]
        x = self.token_embedding(text) + self.positional_embedding[:L]      # [B, L, C2]
        x = self.transformer(x, attn_mask=self.attn_mask[:L, :L])
        tokens = self.ln_final(x)                                          # [B, L, C2]
        w_cls = tokens[torch.arange(text.shape[0]), text.argmax(dim=-1)]   # [B, C2]
        return tokens, w_cls, w_cls @ self.text_projection                 # [B, E]
