"""One batch -> the loss of a stage: the single place where a batch meets the model and eq. 7 / eq. 8.

The trainer, the benchmark, the evaluation and the chapters all call these two
functions, so "what a training step computes" is written once.

Each stage runs only the modules its loss needs (SPEC "Speed"):

* pretraining (eq. 7) skips the text decoder and the head: their only consumer
  would be L_cls, whose weight is 0 in pretraining;
* fine-tuning (eq. 8) skips the image decoder and the aggregator (frozen, and
  no fine-tuning loss reads them), uses no masking, and can take the image
  encoder's output from a cache (``batch["features"]``, see ``sydes_mini.cache``).
"""
from __future__ import annotations

import torch
from torch import nn

from .config import Config
from .model.sydes import SyDES, SyDESOutput
from .objectives import finetune_objective, pretrain_objective


def to_device(batch: dict, device: torch.device | str) -> dict:
    """Move every tensor of a (nested) batch to ``device``; other values are kept."""
    def move(x):
        if isinstance(x, torch.Tensor):
            return x.to(device, non_blocking=True)
        if isinstance(x, dict):
            return {k: move(v) for k, v in x.items()}
        if hasattr(x, "__dataclass_fields__"):
            return type(x)(**{k: move(getattr(x, k)) for k in x.__dataclass_fields__})
        return x
    return move(batch)


def pretrain_loss(model: SyDES, batch: dict, cfg: Config, generator: torch.Generator | None = None
                  ) -> tuple[torch.Tensor, dict[str, torch.Tensor], SyDESOutput]:
    """Eq. 7 on one batch -> (total loss, {term: value}, model output).

    batch: ``global_view [B,3,224,224]``, ``crops [B,4,3,224,224]``, ``text [B,L]``.
    """
    out = model(batch["global_view"], batch["crops"], batch["text"], decode_text=False, generator=generator)
    loss, terms = pretrain_objective(out, batch["crops"], cfg, model.image_encoder.patch_size)
    return loss, terms, out


def finetune_loss(model: SyDES, batch: dict, cfg: Config, task: str, need_attn: bool = False
                  ) -> tuple[torch.Tensor, dict[str, torch.Tensor], SyDESOutput]:
    """Eq. 8 on one batch -> (total loss, {term: value}, model output with ``logits [B, K]``).

    batch: as for :func:`pretrain_loss` plus ``labels {task: [B]}``; with
    ``features`` (cached :class:`~sydes_mini.model.sydes.ImageFeatures`) the
    views are not needed and the image encoder is not run.
    """
    features = batch.get("features")
    out = model(batch.get("global_view"), batch.get("crops"), batch["text"], mask_ratio=0.0,
                decode_image=False, need_attn=need_attn, features=features)
    loss, terms = finetune_objective(out, batch["labels"][task], cfg)
    return loss, terms, out


class StageLoss(nn.Module):
    """``model`` and the loss of one stage as a module: ``forward(batch, generator) -> (loss, terms)``.

    What ``DistributedDataParallel`` wraps in multi-process training: its outputs are exactly the
    loss and its terms, so DDP's search for parameters without gradient (``find_unused_parameters``)
    sees which parameters the active losses use (a SyDESOutput also holds tensors no loss reads).
    """

    def __init__(self, model: SyDES, cfg: Config, stage: str, task: str | None = None):
        super().__init__()
        self.model, self.cfg, self.stage, self.task = model, cfg, stage, task

    def forward(self, batch: dict, generator: torch.Generator | None = None):
        if self.stage == "pretrain":
            loss, terms, _ = pretrain_loss(self.model, batch, self.cfg, generator)
        else:
            loss, terms, _ = finetune_loss(self.model, batch, self.cfg, self.task)
        return loss, terms
