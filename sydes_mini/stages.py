"""Two-stage training (paper 3.4): what is frozen in each stage, and its learning rates (Table 8).

================  =========================  ========================
module            pretraining (eq. 7)         fine-tuning (eq. 8)
================  =========================  ========================
image_encoder     trained, 5e-6              frozen
text_encoder      trained, 5e-5              trained, 1e-4
image_decoder     trained, 1e-4              frozen
aggregator        trained with image_decoder  frozen
text_decoder      frozen                     trained, 2e-4
head              frozen                     trained, 1e-4
itc_t (L_itc)     trained with image_decoder  trained with text_decoder
dc_scale (L_dc)   trained with image_decoder  frozen
================  =========================  ========================
"""
from __future__ import annotations

from torch import nn

from .config import Config

# stage -> {learning-rate group: [module attribute names]}
STAGE_GROUPS = {
    "pretrain": {"image_encoder": ["image_encoder"], "text_encoder": ["text_encoder"],
                 "image_decoder": ["image_decoder", "aggregator", "itc_t", "dc_scale"]},
    "finetune": {"text_encoder": ["text_encoder"], "text_decoder": ["text_decoder", "itc_t"],
                 "head": ["head"]},
}


def _params(model: nn.Module, name: str):
    part = getattr(model, name)
    if part is None:
        return []
    return [(name, part)] if isinstance(part, nn.Parameter) else list(part.named_parameters(prefix=name))


def no_weight_decay(name: str, param: nn.Parameter) -> bool:
    """Biases, norms, embeddings, tokens and scalars get no weight decay."""
    return param.ndim < 2 or any(k in name for k in ("embedding", "token", "pos_embed", "query"))


def set_stage(model: nn.Module, stage: str, cfg: Config) -> list[dict]:
    """Freeze/unfreeze for ``stage`` ("pretrain" or "finetune") and return AdamW parameter groups."""
    if stage not in STAGE_GROUPS:
        raise ValueError(f"unknown stage {stage!r}; use pretrain or finetune")
    lrs = cfg.train.lr_pretrain if stage == "pretrain" else cfg.train.lr_finetune
    model.requires_grad_(False)
    groups = []
    for group, names in STAGE_GROUPS[stage].items():
        named = [np for n in names for np in _params(model, n)]
        for _, p in named:
            p.requires_grad_(True)
        decay = [p for n, p in named if not no_weight_decay(n, p)]
        plain = [p for n, p in named if no_weight_decay(n, p)]
        groups.append({"name": group, "params": decay, "lr": lrs[group], "weight_decay": cfg.train.weight_decay})
        groups.append({"name": f"{group}/no_decay", "params": plain, "lr": lrs[group], "weight_decay": 0.0})
    return [g for g in groups if g["params"]]


def trainable_modules(stage: str) -> list[str]:
    """Names of the modules (and scalars) a stage trains."""
    return [n for names in STAGE_GROUPS[stage].values() for n in names]
