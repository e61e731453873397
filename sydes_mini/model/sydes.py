"""SyDES (paper 3, Figure 2): views -> encode -> decode -> aggregate -> head.

``cfg.variant`` picks the paper's equations (``"paper"``) or the authors' code,
module for module (``"code"``, the default); chapter 10 of the book lists every difference.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from ..config import Config
from ..labels import num_classes
from .aggregator import build_aggregator
from .clip import create_clip
from .coca import load_coca_decoder
from .head import HEADS
from .image_decoder import IMAGE_DECODERS, unshuffle
from .image_encoder import ImageEncoder
from .layout import contiguous_attention
from .text_decoder import ImageGuidedTextDecoder
from .text_encoder import TextEncoder, without_eot


@dataclass
class ImageFeatures:
    """Image-encoder outputs for the five views of a batch (what the fine-tuning cache stores)."""
    global_tokens: torch.Tensor        # [B, 1+P, C1]
    crop_tokens: torch.Tensor | None   # [B, 4, 1+P', C1]  (None: global view only)
    mask: torch.Tensor | None          # [B, 4, P]  1 = masked
    ids_restore: torch.Tensor | None   # [B, 4, P]


@dataclass
class SyDESOutput:
    """Everything the losses, metrics and plots need. Missing parts are None."""
    v: torch.Tensor                    # [B, E]  global image latent (v_cls, projected, L2-normalised)
    w: torch.Tensor                    # [B, E]  text latent (w_cls, projected, L2-normalised)
    itc_scale: torch.Tensor            # scalar, exp(t) (SPEC difference 2)
    dc_scale: torch.Tensor             # scalar (SPEC difference 4)
    mask: torch.Tensor | None = None           # [B*4, P]
    pixels: torch.Tensor | None = None         # [B*4, P, p*p*3]  predicted pixels of every patch
    z: torch.Tensor | None = None              # [B, 4, Cd]  sub-image representations
    p_agg: torch.Tensor | None = None          # [B, E]  aggregated crops in the image latent space
    alpha: torch.Tensor | None = None          # [B, 4]  aggregator weights
    logits: torch.Tensor | None = None         # [B, K]
    attention: torch.Tensor | None = None      # [B, L-1, 5*P]  last text-decoder cross-attention


# Parameter counts of the authors' model at full size (desire head, random weights), counted module by module
# from github especiallyW/SyDES (models/sydes.py): what `describe --profile full` is compared with (chapter 10).
AUTHORS_PARAMS = {"image_decoder": 27_927_757, "aggregator": 1_051_908, "text_decoder": 170_919_168,
                  "head": 1_449_991, "total": 350_971_098}


class Latent(nn.Module):
    """x [B, C] -> L2-normalised latent [B, E] through a bias-free linear map (the authors' ``EmbedToLatents``;
    in the paper variant, CLIP's own projection, copied in)."""

    def __init__(self, width: int, dim: int, clip_projection: torch.Tensor | None = None):
        super().__init__()
        self.proj = nn.Linear(width, dim, bias=False)
        if clip_projection is not None:                                  # CLIP stores it as x @ P, P [C, E]
            self.proj.weight.data.copy_(clip_projection.detach().t())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.normalize(self.proj(x), dim=-1)


def init_code_variant(module: nn.Module) -> None:
    """The authors' initialisation of their new modules: Xavier-uniform for every matrix named ``*weight*``,
    0 for every parameter named ``*bias*`` (this includes the gate's bias, which they build at -3);
    LayerNorms, tokens, queries and ``text_projection`` keep their own init."""
    for name, p in module.named_parameters():
        if "weight" in name and p.ndim > 1:
            nn.init.xavier_uniform_(p)
        elif "bias" in name:
            nn.init.zeros_(p)


class SyDES(nn.Module):
    def __init__(self, cfg: Config, task: str = "desire"):
        super().__init__()
        m, code = cfg.model, cfg.variant == "code"
        self.variant = cfg.variant
        clip = create_clip(m.clip_model, m.clip_pretrained, m.quick_gelu)
        text_tower = getattr(clip, "text", clip)
        clip_proj = {"image": clip.visual.proj, "text": text_tower.text_projection}
        self.image_encoder = ImageEncoder(clip.visual, final_norm=not code)
        self.text_encoder = TextEncoder(clip)
        c1, c2, P = self.image_encoder.width, self.text_encoder.width, self.image_encoder.num_patches
        E = m.latent_dim if code else clip_proj["image"].shape[1]
        self.image_norm = nn.LayerNorm(c1) if code else nn.Identity()   # the authors' ln1_post
        self.image_latent = Latent(c1, E, None if code else clip_proj["image"])
        self.text_latent = Latent(c2, E, None if code else clip_proj["text"])
        self.use_crops, self.mask_ratio = m.use_crops, m.mask_ratio
        has_decoder = m.use_crops and m.use_image_decoder
        self.image_decoder = IMAGE_DECODERS[cfg.variant](
            c1, c2, m.image_decoder_width, m.image_decoder_layers, m.image_decoder_heads, P,
            self.image_encoder.patch_size) if has_decoder else None
        self.aggregator = build_aggregator(cfg.variant, m.image_decoder_width, E, m.use_aggregator) \
            if has_decoder else None
        self.text_decoder = ImageGuidedTextDecoder(c1, c2, m.text_decoder_width, m.text_decoder_layers,
                                                   m.text_decoder_heads, cfg.variant, m.text_decoder_output_dim)
        self.head = HEADS[cfg.variant](self.text_decoder.output_width, num_classes(task), m.head_dropout)
        self.itc_t = nn.Parameter(torch.tensor(m.itc_t_init))          # L_itc scale = exp(t)
        self.dc_scale = nn.Parameter(torch.tensor(m.dc_scale_init))    # L_dc scale, used as is
        if code:
            for part in (self.image_norm, self.image_latent, self.text_latent, self.image_decoder,
                         self.aggregator, self.text_decoder, self.head):
                if part is not None:
                    init_code_variant(part)
        if m.text_decoder_pretrained:
            load_coca_decoder(self.text_decoder.decoder, m.text_decoder_pretrained, m.coca_model, m.coca_tag)

    # -- the named steps of forward -------------------------------------------------
    def encode_images(self, global_view: torch.Tensor, crops: torch.Tensor | None,
                      mask_ratio: float = 0.0, generator: torch.Generator | None = None) -> ImageFeatures:
        """global_view [B, 3, 224, 224], crops [B, 4, 3, 224, 224] -> ImageFeatures (crops MAE-masked)."""
        g_tokens, _, _ = self.image_encoder(global_view)
        if not self.use_crops or crops is None:
            return ImageFeatures(g_tokens, None, None, None)
        B = crops.shape[0]
        tokens, mask, ids = self.image_encoder(crops.flatten(0, 1), mask_ratio, generator)  # [B*4, 1+P', C1]
        return ImageFeatures(g_tokens, tokens.unflatten(0, (B, 4)), mask.unflatten(0, (B, 4)),
                             ids.unflatten(0, (B, 4)))

    def normalise(self, f: ImageFeatures) -> ImageFeatures:
        """The code variant's LayerNorm on every image token (identity in the paper variant)."""
        crops = None if f.crop_tokens is None else self.image_norm(f.crop_tokens)
        return ImageFeatures(self.image_norm(f.global_tokens), crops, f.mask, f.ids_restore)

    def decode_image(self, f: ImageFeatures, text_tokens: torch.Tensor, text_valid: torch.Tensor):
        """-> pixels [B*4, P, p*p*3], z [B, 4, Cd] (paper 3.2.3)."""
        B = f.crop_tokens.shape[0]
        pixels, z = self.image_decoder(f.crop_tokens.flatten(0, 1), f.ids_restore.flatten(0, 1),
                                       text_tokens, text_valid)
        return pixels, z.unflatten(0, (B, 4))

    def image_keys(self, f: ImageFeatures):
        """Patch tokens of the five views in patch order -> keys [B, 5*P, C1], hidden [B, 5*P] (True = masked)."""
        patches = f.global_tokens[:, 1:]                                         # [B, P, C1]
        keys, hidden = [patches], [torch.zeros(patches.shape[:2], dtype=torch.bool, device=patches.device)]
        if f.crop_tokens is not None:
            B, _, _, C = f.crop_tokens.shape
            fill = torch.zeros(C, device=patches.device)
            crops = unshuffle(f.crop_tokens.flatten(0, 1)[:, 1:], f.ids_restore.flatten(0, 1), fill)  # [B*4, P, C1]
            keys.append(crops.reshape(B, -1, C))                                   # [B, 4*P, C1]
            hidden.append(f.mask.reshape(B, -1).bool())                            # [B, 4*P]
        return torch.cat(keys, 1), torch.cat(hidden, 1)

    def decode_text(self, f: ImageFeatures, queries: torch.Tensor, valid: torch.Tensor, need_attn: bool):
        """queries W^{1:S} [B, L-1, C2] -> logits [B, K] and attention [B, L-1, 5*P] (paper 3.2.4 + head)."""
        keys, hidden = self.image_keys(f)
        decoded, attn = self.text_decoder(queries, keys, hidden, need_attn)
        return self.head(decoded, valid), attn

    def forward(self, global_view, crops, text, *, mask_ratio: float | None = None,
                decode_image: bool = True, decode_text: bool = True, need_attn: bool = False,
                features: ImageFeatures | None = None, generator: torch.Generator | None = None) -> SyDESOutput:
        """global_view [B, 3, 224, 224], crops [B, 4, 3, 224, 224], text [B, L] -> SyDESOutput.

        ``mask_ratio`` defaults to the config's (pretraining); pass 0 for fine-tuning.
        ``features`` skips the image encoder (cached fine-tuning). The two
        ``decode_*`` flags skip modules whose outputs no loss of the stage uses.
        """
        ratio = self.mask_ratio if mask_ratio is None else mask_ratio
        f = features if features is not None else self.encode_images(global_view, crops, ratio, generator)
        f = self.normalise(f)
        text_tokens, w_cls = self.text_encoder(text)                     # [B, L, C2], [B, C2]
        queries, valid = without_eot(text_tokens, text)                  # [B, L-1, C2], [B, L-1]
        out = SyDESOutput(v=self.image_latent(f.global_tokens[:, 0]), w=self.text_latent(w_cls),
                          itc_scale=self.itc_t.exp(), dc_scale=self.dc_scale)
        if decode_image and self.image_decoder is not None and f.crop_tokens is not None:
            # the authors' decoder reads W^{1:S}; the paper's Gate_img reads all of W (eq. under 3.2.3)
            guide = (queries, valid) if self.variant == "code" else (text_tokens, text != 0)
            out.pixels, out.z = self.decode_image(f, *guide)
            out.mask = f.mask.flatten(0, 1)
            out.p_agg, out.alpha = self.aggregator(out.z)
        if decode_text:
            out.logits, out.attention = self.decode_text(f, queries, valid, need_attn)
        return out


def build_model(cfg: Config, task: str = "desire") -> SyDES:
    """The SyDES model of a config; ``task`` sets the number of classes of the head."""
    return contiguous_attention(SyDES(cfg, task))     # a speed fix only, see model/layout.py


def count_params(module: nn.Module | None) -> int:
    return 0 if module is None else sum(p.numel() for p in module.parameters())


__all__ = ["AUTHORS_PARAMS", "SyDES", "SyDESOutput", "ImageFeatures", "Latent", "build_model", "count_params", "init_code_variant"]
