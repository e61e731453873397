"""SyDES (paper 3, Figure 2): views -> encode -> decode -> aggregate -> head."""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from ..config import Config
from ..labels import num_classes
from .aggregator import Aggregator
from .clip import create_clip
from .coca import load_coca_decoder
from .head import Head
from .image_decoder import TextGuidedImageDecoder, unshuffle
from .image_encoder import ImageEncoder
from .layout import contiguous_attention
from .text_decoder import ImageGuidedTextDecoder
from .text_encoder import TextEncoder


@dataclass
class ImageFeatures:
    """Encoder outputs for the five views of a batch (what the fine-tuning cache stores)."""
    global_tokens: torch.Tensor        # [B, 1+P, C1]
    v: torch.Tensor                    # [B, E]  global image latent (CLS -> proj)
    crop_tokens: torch.Tensor | None   # [B, 4, 1+P', C1]  (None: global view only)
    mask: torch.Tensor | None          # [B, 4, P]  1 = masked
    ids_restore: torch.Tensor | None   # [B, 4, P]


@dataclass
class SyDESOutput:
    """Everything the losses, metrics and plots need. Missing parts are None."""
    v: torch.Tensor                    # [B, E]  global image latent (v_cls, projected)
    w: torch.Tensor                    # [B, E]  text latent (w_cls, projected)
    itc_scale: torch.Tensor            # scalar, exp(t) (SPEC difference 2)
    dc_scale: torch.Tensor             # scalar (SPEC difference 4)
    mask: torch.Tensor | None = None           # [B*4, P]
    pixels: torch.Tensor | None = None         # [B*4, P, p*p*3]  predicted pixels of every patch
    z: torch.Tensor | None = None              # [B, 4, Cd]  sub-image representations
    p_agg: torch.Tensor | None = None          # [B, E]  aggregated crops in the image latent space
    alpha: torch.Tensor | None = None          # [B, 4]  aggregator weights
    logits: torch.Tensor | None = None         # [B, K]
    attention: torch.Tensor | None = None      # [B, L, 5*P]  last text-decoder cross-attention


class SyDES(nn.Module):
    def __init__(self, cfg: Config, task: str = "desire"):
        super().__init__()
        m = cfg.model
        clip = create_clip(m.clip_model, m.clip_pretrained, m.quick_gelu)
        self.image_encoder = ImageEncoder(clip.visual)
        self.text_encoder = TextEncoder(clip)
        c1, c2 = self.image_encoder.width, self.text_encoder.width
        embed_dim, P = self.text_encoder.text_projection.shape[1], self.image_encoder.num_patches
        self.use_crops, self.mask_ratio = m.use_crops, m.mask_ratio
        self.image_decoder = TextGuidedImageDecoder(
            c1, c2, m.image_decoder_width, m.image_decoder_layers, m.image_decoder_heads,
            P, self.image_encoder.patch_size) if m.use_crops and m.use_image_decoder else None
        self.aggregator = Aggregator(m.image_decoder_width, embed_dim, cfg.variant,
                                     m.use_aggregator) if self.image_decoder is not None else None
        self.text_decoder = ImageGuidedTextDecoder(c1, c2, m.text_decoder_width, m.text_decoder_layers,
                                                   m.text_decoder_heads)
        self.head = Head(m.text_decoder_width, m.text_decoder_heads, num_classes(task), cfg.variant,
                         m.head_dropout)
        self.itc_t = nn.Parameter(torch.tensor(m.itc_t_init))          # L_itc scale = exp(t)
        self.dc_scale = nn.Parameter(torch.tensor(m.dc_scale_init))    # L_dc scale, used as is
        if m.text_decoder_pretrained:
            load_coca_decoder(self.text_decoder.decoder, m.text_decoder_pretrained, m.coca_model, m.coca_tag)

    # -- the named steps of forward -------------------------------------------------
    def encode_images(self, global_view: torch.Tensor, crops: torch.Tensor | None,
                      mask_ratio: float = 0.0, generator: torch.Generator | None = None) -> ImageFeatures:
        """global_view [B, 3, 224, 224], crops [B, 4, 3, 224, 224] -> ImageFeatures (crops MAE-masked)."""
        g_tokens, v, _, _ = self.image_encoder(global_view)
        if not self.use_crops or crops is None:
            return ImageFeatures(g_tokens, v, None, None, None)
        B = crops.shape[0]
        tokens, _, mask, ids = self.image_encoder(crops.flatten(0, 1), mask_ratio, generator)  # [B*4, 1+P', C1]
        return ImageFeatures(g_tokens, v, tokens.unflatten(0, (B, 4)), mask.unflatten(0, (B, 4)),
                             ids.unflatten(0, (B, 4)))

    def decode_image(self, f: ImageFeatures, text_tokens: torch.Tensor, text: torch.Tensor):
        """-> pixels [B*4, P, p*p*3], z [B, 4, Cd] (paper 3.2.3)."""
        B = f.crop_tokens.shape[0]
        pixels, z = self.image_decoder(f.crop_tokens.flatten(0, 1), f.ids_restore.flatten(0, 1),
                                       text_tokens.repeat_interleave(4, 0), text.repeat_interleave(4, 0))
        return pixels, z.unflatten(0, (B, 4))

    def image_keys(self, f: ImageFeatures):
        """Patch tokens of the five views in patch order -> keys [B, 5*P, C1], hidden [B, 5*P] (True = masked)."""
        keys, hidden = [f.global_tokens[:, 1:]], [torch.zeros(f.global_tokens[:, 1:].shape[:2], dtype=torch.bool,
                                                              device=f.v.device)]
        if f.crop_tokens is not None:
            B, _, _, C = f.crop_tokens.shape
            fill = torch.zeros(C, device=f.v.device)
            crops = unshuffle(f.crop_tokens.flatten(0, 1)[:, 1:], f.ids_restore.flatten(0, 1), fill)  # [B*4, P, C1]
            keys.append(crops.reshape(B, -1, C))                                   # [B, 4*P, C1]
            hidden.append(f.mask.reshape(B, -1).bool())                            # [B, 4*P]
        return torch.cat(keys, 1), torch.cat(hidden, 1)

    def decode_text(self, f: ImageFeatures, text_tokens: torch.Tensor, text: torch.Tensor, need_attn: bool):
        """-> logits [B, K] and attention [B, L, 5*P] (paper 3.2.4 + head)."""
        keys, hidden = self.image_keys(f)
        decoded, attn = self.text_decoder(text_tokens, keys, hidden, need_attn)
        return self.head(decoded, text != 0), attn

    def forward(self, global_view, crops, text, *, mask_ratio: float | None = None,
                decode_image: bool = True, decode_text: bool = True, need_attn: bool = False,
                features: ImageFeatures | None = None, generator: torch.Generator | None = None) -> SyDESOutput:
        """global_view [B, 3, 224, 224], crops [B, 4, 3, 224, 224], text [B, 77] -> SyDESOutput.

        ``mask_ratio`` defaults to the config's (pretraining); pass 0 for fine-tuning.
        ``features`` skips the image encoder (cached fine-tuning). The two
        ``decode_*`` flags skip modules whose outputs no loss of the stage uses.
        """
        ratio = self.mask_ratio if mask_ratio is None else mask_ratio
        f = features if features is not None else self.encode_images(global_view, crops, ratio, generator)
        text_tokens, _, w = self.text_encoder(text)
        out = SyDESOutput(v=f.v, w=w, itc_scale=self.itc_t.exp(), dc_scale=self.dc_scale)
        if decode_image and self.image_decoder is not None and f.crop_tokens is not None:
            out.pixels, out.z = self.decode_image(f, text_tokens, text)
            out.mask = f.mask.flatten(0, 1)
            out.p_agg, out.alpha = self.aggregator(out.z)
        if decode_text:
            out.logits, out.attention = self.decode_text(f, text_tokens, text, need_attn)
        return out


def build_model(cfg: Config, task: str = "desire") -> SyDES:
    """The SyDES model of a config; ``task`` sets the number of classes of the head."""
    return contiguous_attention(SyDES(cfg, task))     # a speed fix only, see model/layout.py


def count_params(module: nn.Module | None) -> int:
    return 0 if module is None else sum(p.numel() for p in module.parameters())


__all__ = ["SyDES", "SyDESOutput", "ImageFeatures", "build_model", "count_params"]
