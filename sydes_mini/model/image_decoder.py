"""Text-guided image decoder (paper 3.2.3): MAE-style reconstruction of masked crop patches, guided by the text.

Two designs, one per ``variant``:

* :class:`PaperImageDecoder` (``variant="paper"``, our reading of the paper, which
  leaves the gate unspecified): D = [visible tokens ; mask tokens] with learned
  position embeddings; U = D + sigmoid(g[D; A]) * A with A = cross-attention from
  D to the text; every layer reads D (queries) and attends to U; z is the CLS output.
* :class:`CodeImageDecoder` (``variant="code"``, the authors' code, module for
  module): learned patch queries cross-attend to the text; a per-head gate mixes
  that text memory with the (LayerNorm'd projected) crop tokens; decoder layers
  are cross-attention + MLP with fixed 2-D sin-cos positions; z is a learned
  linear pooling over the P patch outputs.

Both: crop tokens [N, 1+P', C1] (N = 4B, CLS first), ids_restore [N, P],
text [B, L, C2] with valid [B, L] -> pixels [N, P, p*p*3], z [N, Cd].
"""
from __future__ import annotations

import torch
from open_clip.transformer import ResidualAttentionBlock
from torch import nn

from .pos_embed import sincos_2d


def unshuffle(tokens: torch.Tensor, ids_restore: torch.Tensor, fill: torch.Tensor) -> torch.Tensor:
    """Put visible tokens back in patch order, ``fill`` at masked positions (MAE).

    tokens [N, P', C], ids_restore [N, P], fill [C] -> [N, P, C].
    """
    N, P = ids_restore.shape
    pad = fill.to(tokens.dtype).expand(N, P - tokens.shape[1], -1)      # [N, P-P', C]
    x = torch.cat([tokens, pad], dim=1)                                  # [N, P, C] shuffled order
    return torch.gather(x, 1, ids_restore.unsqueeze(-1).expand(-1, -1, x.shape[-1]))


def per_crop(x: torch.Tensor, n: int) -> torch.Tensor:
    """[B, ...] -> [B*4, ...]: the same text for each of the 4 crops of a sample (``n`` = B*4)."""
    return x.repeat_interleave(n // x.shape[0], dim=0)


def text_padding_mask(valid: torch.Tensor, heads: int, queries: int) -> torch.Tensor:
    """Additive attention mask hiding text keys that are not real tokens: valid [N, L] -> [N*heads, queries, L]."""
    mask = torch.zeros(valid.shape, dtype=torch.float32, device=valid.device).masked_fill(~valid, float("-inf"))
    return mask[:, None, None, :].expand(-1, heads, queries, -1).flatten(0, 1)


# -- variant="paper" ---------------------------------------------------------------------------------

class Gate(nn.Module):
    """Gate_img(W, D): U = D + sigmoid(g([D, A])) * A, with A = cross-attention from D to the text W."""

    def __init__(self, width: int, heads: int):
        super().__init__()
        self.norm_q, self.norm_kv = nn.LayerNorm(width), nn.LayerNorm(width)
        self.attn = nn.MultiheadAttention(width, heads, batch_first=True)
        self.gate = nn.Linear(2 * width, width)

    def forward(self, d: torch.Tensor, w: torch.Tensor, text_mask: torch.Tensor) -> torch.Tensor:
        """d [N, T, C] decoder input, w [N, L, C] text tokens, text_mask [N*heads, T, L] -> U [N, T, C]."""
        a = self.attn(self.norm_q(d), self.norm_kv(w), self.norm_kv(w), attn_mask=text_mask.to(d.dtype),
                      need_weights=False)[0]                             # [N, T, C]
        g = torch.sigmoid(self.gate(torch.cat([d, a], dim=-1)))          # [N, T, C]
        return d + g * a


class PaperImageDecoder(nn.Module):
    """D = [CLS ; visible or mask token per patch] + learned positions; U = Gate(W, D); layers read D, attend U."""

    def __init__(self, image_width: int, text_width: int, width: int, layers: int, heads: int,
                 num_patches: int, patch_size: int):
        super().__init__()
        self.heads = heads
        self.image_proj = nn.Linear(image_width, width)                  # Pi_{v->t}
        self.text_proj = nn.Linear(text_width, width)
        self.mask_token = nn.Parameter(torch.randn(width) * 0.02)
        self.pos_embed = nn.Parameter(torch.randn(1 + num_patches, width) * 0.02)
        self.gate = Gate(width, heads)
        self.blocks = nn.ModuleList(
            [ResidualAttentionBlock(width, heads, is_cross_attention=True) for _ in range(layers)])
        self.norm = nn.LayerNorm(width)
        self.to_pixels = nn.Linear(width, patch_size * patch_size * 3)

    def decoder_input(self, tokens: torch.Tensor, ids_restore: torch.Tensor) -> torch.Tensor:
        """tokens [N, 1+P', C1] -> D [N, 1+P, Cd]: CLS, then visible or mask token at each patch."""
        x = self.image_proj(tokens)                                      # [N, 1+P', Cd]
        patches = unshuffle(x[:, 1:], ids_restore, self.mask_token)       # [N, P, Cd]
        return torch.cat([x[:, :1], patches], dim=1) + self.pos_embed     # [N, 1+P, Cd]

    def forward(self, tokens, ids_restore, text_tokens, text_valid):
        d = self.decoder_input(tokens, ids_restore)                      # [N, 1+P, Cd]
        N = d.shape[0]
        mask = text_padding_mask(per_crop(text_valid, N), self.heads, d.shape[1])   # [N*h, 1+P, L]
        u = self.gate(d, per_crop(self.text_proj(text_tokens), N), mask)  # [N, 1+P, Cd]
        x = d
        for block in self.blocks:
            x = block(x, k_x=u, v_x=u)                                   # queries D, keys/values U
        x = self.norm(x)
        return self.to_pixels(x[:, 1:]), x[:, 0]                         # [N, P, p*p*3], z [N, Cd]


# -- variant="code" ----------------------------------------------------------------------------------

class GateKV(nn.Module):
    """Per-head gate: memory = alpha_h * text + (1 - alpha_h) * image, alpha_h = sigmoid(bias_h).

    Built with bias -3 (alpha ~ 0.047), as the authors write it; their weight
    initialisation then sets every parameter named ``*bias*`` to 0, so their
    training starts from alpha = 0.5 (:func:`sydes_mini.model.sydes.init_code_variant` does the same).
    """

    def __init__(self, heads: int, init_bias: float = -3.0):
        super().__init__()
        self.bias = nn.Parameter(torch.full((heads,), init_bias))

    def alpha(self) -> torch.Tensor:
        return torch.sigmoid(self.bias)                                  # [H]

    def forward(self, image_kv: torch.Tensor, text_kv: torch.Tensor) -> torch.Tensor:
        """image_kv, text_kv [N, P, C] -> [N, P, C]; channel c belongs to head c // (C / H)."""
        alpha = self.alpha().repeat_interleave(image_kv.shape[-1] // len(self.bias)).to(image_kv.dtype)  # [C]
        return alpha * text_kv + (1 - alpha) * image_kv


class CrossAttentionBlock(nn.Module):
    """x + MHA(LN(x), LN(memory)), then x + MLP(LN(x)); no self-attention between patches."""

    def __init__(self, width: int, heads: int, mlp_ratio: float = 4.0, eps: float = 1e-6):
        super().__init__()
        self.norm_query, self.norm_memory = nn.LayerNorm(width, eps=eps), nn.LayerNorm(width, eps=eps)
        self.attn = nn.MultiheadAttention(width, heads, batch_first=True)
        self.norm_mlp = nn.LayerNorm(width, eps=eps)
        hidden = int(width * mlp_ratio)
        self.mlp = nn.Sequential(nn.Linear(width, hidden), nn.GELU(), nn.Linear(hidden, width))

    def forward(self, x: torch.Tensor, memory: torch.Tensor) -> torch.Tensor:
        """x [N, T, C] queries, memory [N, P, C] keys/values -> [N, T, C]."""
        m = self.norm_memory(memory)
        x = x + self.attn(self.norm_query(x), m, m, need_weights=False)[0]
        return x + self.mlp(self.norm_mlp(x))


class CodeImageDecoder(nn.Module):
    """The authors' decoder: a gated image/text memory, cross-attention layers, sin-cos positions, linear z-pooling."""

    def __init__(self, image_width: int, text_width: int, width: int, layers: int, heads: int,
                 num_patches: int, patch_size: int):
        super().__init__()
        self.image_kv = nn.Sequential(nn.Linear(image_width, width), nn.LayerNorm(width))   # img_kv_proj, _ln
        self.text_kv = nn.Sequential(nn.Linear(text_width, width), nn.LayerNorm(width))    # text_kv_proj, _ln
        self.patch_queries = nn.Parameter(torch.randn(num_patches, width) * 0.02)          # one per patch
        self.text_to_patches = nn.MultiheadAttention(width, heads, batch_first=True)
        self.gate = GateKV(heads)
        self.mask_token_image = nn.Parameter(torch.randn(image_width) * 0.02)   # masked positions of the memory
        self.embed = nn.Linear(image_width, width)                       # decoder input projection
        self.mask_token = nn.Parameter(torch.randn(width) * 0.02)
        grid = int(round(num_patches ** 0.5))
        self.register_buffer("pos_embed", sincos_2d(width, grid), persistent=False)        # [1+P, Cd], fixed
        self.blocks = nn.ModuleList([CrossAttentionBlock(width, heads) for _ in range(layers)])
        self.norm = nn.LayerNorm(width, eps=1e-6)
        self.to_pixels = nn.Linear(width, patch_size * patch_size * 3)
        self.to_z = nn.Linear(num_patches, 1)                            # z = learned weighted sum of patches

    def memory(self, tokens, ids_restore, text_tokens, text_valid) -> torch.Tensor:
        """Keys/values of every decoder layer: gate(image tokens, text read by the patch queries) [N, P, Cd]."""
        image = unshuffle(tokens[:, 1:], ids_restore, self.mask_token_image)          # [N, P, C1]
        text = self.text_kv(text_tokens)                                              # [B, L, Cd]
        queries = self.patch_queries.expand(text.shape[0], -1, -1).to(text.dtype)      # [B, P, Cd]
        text_per_patch = self.text_to_patches(queries, text, text, key_padding_mask=~text_valid,
                                              need_weights=False)[0]                   # [B, P, Cd]
        return self.gate(self.image_kv(image), per_crop(text_per_patch, tokens.shape[0]))   # [N, P, Cd]

    def forward(self, tokens, ids_restore, text_tokens, text_valid):
        x = self.embed(tokens)                                           # [N, 1+P', Cd]
        patches = unshuffle(x[:, 1:], ids_restore, self.mask_token)       # [N, P, Cd]
        x = torch.cat([x[:, :1], patches], dim=1) + self.pos_embed.to(x.dtype)   # [N, 1+P, Cd]
        memory = self.memory(tokens, ids_restore, text_tokens, text_valid)
        for block in self.blocks:
            x = block(x, memory)
        patches = self.norm(x)[:, 1:]                                    # [N, P, Cd]
        z = self.to_z(patches.transpose(1, 2)).squeeze(-1)               # [N, Cd]
        return self.to_pixels(patches), z                                # [N, P, p*p*3], z [N, Cd]


IMAGE_DECODERS = {"paper": PaperImageDecoder, "code": CodeImageDecoder}


def patchify(images: torch.Tensor, patch_size: int) -> torch.Tensor:
    """images [N, 3, H, W] -> patches [N, P, p*p*3] in the decoder's output layout (row-major, then pixel, channel)."""
    N, C, H, W = images.shape
    p = patch_size
    x = images.reshape(N, C, H // p, p, W // p, p)                       # [N, 3, h, p, w, p]
    return torch.einsum("nchpwq->nhwpqc", x).reshape(N, (H // p) * (W // p), p * p * C)


def unpatchify(patches: torch.Tensor, patch_size: int) -> torch.Tensor:
    """patches [N, P, p*p*3] -> images [N, 3, H, W] (inverse of :func:`patchify`, square images)."""
    N, P, _ = patches.shape
    p, h = patch_size, int(round(P ** 0.5))
    x = patches.reshape(N, h, h, p, p, 3)                                # [N, h, w, p, q, 3]
    return torch.einsum("nhwpqc->nchpwq", x).reshape(N, 3, h * p, h * p)
