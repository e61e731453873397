"""Text encoder (paper 3.2.2): the causal CLIP text transformer, all tokens + the CLS (end-of-text) feature."""
from __future__ import annotations

import torch
from torch import nn


def without_eot(tokens: torch.Tensor, text: torch.Tensor):
    """The text decoder's queries W^{1:S} (paper 3.2.4): every token but the CLS (end-of-text) one.

    tokens [B, L, C2], text ids [B, L] -> tokens [B, L-1, C2], valid [B, L-1] (True = a real token).
    The end-of-text token is each row's last real token, so dropping the last column and
    marking it invalid removes it from every row; a causal decoder never lets a real
    token see the positions after it, so the outputs equal the authors' gather.
    """
    L = text.shape[1]
    eot = text.argmax(dim=-1, keepdim=True)                                # [B, 1]
    valid = (text != 0) & (torch.arange(L, device=text.device) != eot)     # [B, L]
    return tokens[:, :-1], valid[:, :-1]


class TextEncoder(nn.Module):
    """Takes the text tower out of an open_clip CLIP model (its projection is the model's ``text_latent``)."""

    def __init__(self, clip: nn.Module):
        super().__init__()
        tower = getattr(clip, "text", clip)              # CustomTextCLIP keeps it in .text
        self.token_embedding = tower.token_embedding
        self.positional_embedding = tower.positional_embedding
        self.transformer = tower.transformer
        self.ln_final = tower.ln_final
        self.register_buffer("attn_mask", tower.attn_mask, persistent=False)  # causal [L, L]
        self.width = self.positional_embedding.shape[1]  # C2

    def forward(self, text: torch.Tensor):
        """text [B, L] token ids -> tokens [B, L, C2], w_cls [B, C2].

        The CLS feature is the output at the end-of-text token, found as the
        largest token id in each row (open_clip's argmax rule).
        """
        L = text.shape[1]
        x = self.token_embedding(text) + self.positional_embedding[:L]      # [B, L, C2]
        x = self.transformer(x, attn_mask=self.attn_mask[:L, :L])
        tokens = self.ln_final(x)                                          # [B, L, C2]
        return tokens, tokens[torch.arange(text.shape[0]), text.argmax(dim=-1)]
