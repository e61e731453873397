"""The two training objectives: eq. 7 (pretraining) and eq. 8 (fine-tuning).

Each returns the weighted total and a dict of the individual loss terms, so
logs and ablations (Tables 4 and 10) see every term. Terms left out of the
config's loss list, or with weight 0, are not computed at all.
"""
from __future__ import annotations

import torch

from .config import Config
from .losses import (classification_loss, contrastive_loss, distribution_consistency_loss,
                     reconstruction_loss, similarity_loss)
from .model.image_decoder import patchify
from .model.sydes import SyDESOutput


def active_terms(cfg: Config, stage: str) -> dict[str, float]:
    """{term: weight} of the losses a stage actually uses (listed and weight != 0)."""
    names = cfg.train.pretrain_losses if stage == "pretrain" else cfg.train.finetune_losses
    weights = cfg.train.pretrain_weights if stage == "pretrain" else cfg.train.finetune_weights
    return {n: weights[n] for n in names if weights.get(n, 0.0) != 0.0}


def pretrain_objective(out: SyDESOutput, crops: torch.Tensor, cfg: Config, patch_size: int):
    """Eq. 7: L_p = l_rec L_rec + l_si L_si + l_dc L_dc + l_itc L_itc.

    crops [B, 4, 3, 224, 224] are the (CLIP-normalised) reconstruction targets.
    """
    terms = {}
    active = active_terms(cfg, "pretrain")
    if out.pixels is None:      # no crops or no image decoder: only L_itc is defined
        active = {k: w for k, w in active.items() if k == "itc"}
    if "rec" in active:
        target = patchify(crops.flatten(0, 1), patch_size)               # [B*4, P, p*p*3]
        terms["rec"] = reconstruction_loss(out.pixels, target, out.mask, cfg.variant)
    if "si" in active:
        terms["si"] = similarity_loss(out.v, out.p_agg, cfg.variant)
    if "dc" in active:
        terms["dc"] = distribution_consistency_loss(out.p_agg, out.v, out.w, out.dc_scale, variant=cfg.variant)
    if "itc" in active:
        terms["itc"] = contrastive_loss(out.v, out.w, out.itc_scale)
    return sum(active[k] * v for k, v in terms.items()), terms


def finetune_objective(out: SyDESOutput, labels: torch.Tensor, cfg: Config):
    """Eq. 8: L_f = l_cls L_cls + l_itc L_itc. labels [B]."""
    active = active_terms(cfg, "finetune")
    terms = {}
    if "cls" in active:
        terms["cls"] = classification_loss(out.logits, labels)
    if "itc" in active:
        terms["itc"] = contrastive_loss(out.v, out.w, out.itc_scale)
    return sum(active[k] * v for k, v in terms.items()), terms
