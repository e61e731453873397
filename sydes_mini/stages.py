"""Two-stage training (paper 3.4): what each stage trains, at which learning rate (Table 8), and the optimiser.

``variant="code"`` trains what the authors' code trains (their ``_freeze_modules``
and the substring-matched learning-rate groups of their ``set_lr_scheduler``):

=====================  ===========================  ==============================
module                 pretraining (eq. 7)           fine-tuning (eq. 8)
=====================  ===========================  ==============================
image_encoder          image_encoder, 5e-6           frozen
text_encoder           text_encoder, 5e-5            text_encoder, 1e-4
image_decoder          image_decoder, 1e-4           frozen
aggregator             others, 1e-4                  frozen
image_norm, latents    others, 1e-4                  others, 1e-4 (L_itc keeps training them)
itc_t                  others, 1e-4                  others, 1e-4
dc_scale               others, 1e-4                  unused (no L_dc)
text_decoder.decoder   frozen                        text_decoder, 2e-4
its input projection,  frozen (*)                    others, 1e-4
  key/query norms
head                   frozen (*)                    head, 1e-4
=====================  ===========================  ==============================

(*) In the authors' code these are not frozen in pretraining, but L_cls has weight
0 there, so their gradient is exactly zero and only AdamW's weight decay moves them
(a factor 1 - lr * 0.01 per step, about 0.5 % over 50 epochs). We freeze them.

``variant="paper"`` follows Table 8's three groups per stage: the CLIP projections
(``image_latent``, ``text_latent``) train with their encoders, and the aggregator,
``itc_t`` and ``dc_scale`` with the image decoder (pretraining) or the text decoder (``itc_t``, fine-tuning).
"""
from __future__ import annotations

import torch
from torch import nn

from .config import Config

# variant -> stage -> {learning-rate group: [module attribute paths]}
STAGE_GROUPS = {
    "code": {
        "pretrain": {"image_encoder": ["image_encoder"], "text_encoder": ["text_encoder"],
                     "image_decoder": ["image_decoder"],
                     "others": ["aggregator", "image_norm", "image_latent", "text_latent", "itc_t", "dc_scale"]},
        "finetune": {"text_encoder": ["text_encoder"], "text_decoder": ["text_decoder.decoder"], "head": ["head"],
                     "others": ["text_decoder.key_proj", "text_decoder.key_norm", "text_decoder.text_proj",
                                "text_decoder.query_norm", "image_norm", "image_latent", "text_latent", "itc_t"]},
    },
    "paper": {
        "pretrain": {"image_encoder": ["image_encoder", "image_latent"], "text_encoder": ["text_encoder", "text_latent"],
                     "image_decoder": ["image_decoder", "aggregator", "itc_t", "dc_scale"]},
        "finetune": {"text_encoder": ["text_encoder", "text_latent"], "text_decoder": ["text_decoder", "itc_t"],
                     "head": ["head"]},
    },
}
ADAM_BETAS = {"code": (0.9, 0.95), "paper": (0.9, 0.999)}   # the authors' choice; PyTorch's default


def _params(model: nn.Module, path: str) -> list[nn.Parameter]:
    """Parameters under a dotted attribute path (a module or a single parameter); [] if it is absent."""
    part = model
    for name in path.split("."):
        part = getattr(part, name, None)
    if part is None:
        return []
    return [part] if isinstance(part, nn.Parameter) else list(part.parameters())


def set_stage(model: nn.Module, stage: str, cfg: Config) -> list[dict]:
    """Freeze/unfreeze for ``stage`` ("pretrain" or "finetune") and return AdamW parameter groups.

    Weight decay applies to every trained parameter (the authors' code and the paper name no exclusions).
    """
    if stage not in ("pretrain", "finetune"):
        raise ValueError(f"unknown stage {stage!r}; use pretrain or finetune")
    lrs = cfg.train.lr_pretrain if stage == "pretrain" else cfg.train.lr_finetune
    model.requires_grad_(False)
    groups = []
    for group, paths in STAGE_GROUPS[cfg.variant][stage].items():
        params = [p for path in paths for p in _params(model, path)]
        for p in params:
            p.requires_grad_(True)
        if params:
            groups.append({"name": group, "params": params, "lr": lrs[group], "weight_decay": cfg.train.weight_decay})
    return groups


def make_optimizer(model: nn.Module, stage: str, cfg: Config) -> torch.optim.AdamW:
    """AdamW over :func:`set_stage`'s groups; betas (0.9, 0.95) and eps 1e-8 in the code variant (Table 8 + code).

    Built with torch's fused kernel (one pass over each tensor) where this torch has one for the parameters'
    device (CUDA; the CPU from torch 2.4): the same update up to float rounding as the default per-tensor
    loop, which on the CPU reads and writes each tensor a dozen times. Full profile, 2-core CPU: 0.17 s
    instead of 1.2 s per fine-tuning step (236 M trained parameters). Older torch builds get the loop.
    """
    groups = set_stage(model, stage, cfg)
    options = dict(lr=0.0, betas=ADAM_BETAS[cfg.variant], eps=1e-8)
    try:      # copies: a failed constructor has already written fused=True into the group dicts
        return torch.optim.AdamW([dict(g) for g in groups], fused=True, **options)
    except RuntimeError:      # torch < 2.4 on the CPU: "`fused=True` requires ... supported devices"
        return torch.optim.AdamW(groups, **options)


def trainable_modules(stage: str, variant: str = "code") -> list[str]:
    """Attribute paths of the modules (and scalars) a stage trains."""
    return [p for paths in STAGE_GROUPS[variant][stage].values() for p in paths]
