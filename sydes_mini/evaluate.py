"""Evaluation of a model on a split: dev loss terms (both stages) and, for fine-tuning, the metrics of 4.1.2.

Pretraining's dev loss masks crops at random, so it draws its masks from a
generator seeded the same way at every evaluation: dev losses of different
steps are then comparable and the training generator is left untouched.
"""
from __future__ import annotations

from pathlib import Path

import torch
from torch.utils.data import DataLoader

from .checkpoint import CheckpointError, load_weights
from .config import Config
from .data import collate, load_split
from .device import autocast, get_device, set_matmul_precision
from .metrics import compute_metrics
from .model import build_model
from .step import finetune_loss, pretrain_loss, to_device

EVAL_MASK_SEED = 1234


def is_better(value: float, best: float | None, stage: str) -> bool:
    """Lower dev loss wins in pretraining, higher dev macro-F1 in fine-tuning (SPEC difference 10)."""
    return best is None or (value < best if stage == "pretrain" else value > best)


@torch.no_grad()
def evaluate(model, loader: DataLoader, cfg: Config, stage: str, task: str | None, device) -> dict:
    """-> {"loss", <term>: mean over samples, and for fine-tuning compute_metrics(...) of the predictions}."""
    was_training = model.training
    model.eval()
    generator = torch.Generator().manual_seed(EVAL_MASK_SEED)
    sums, n, y_true, y_pred = {}, 0, [], []
    for batch in loader:
        batch = to_device(batch, device)
        with autocast(device, cfg.train.precision):
            if stage == "pretrain":
                loss, terms, _ = pretrain_loss(model, batch, cfg, generator)
            else:
                loss, terms, out = finetune_loss(model, batch, cfg, task)
                y_true += batch["labels"][task].tolist()
                y_pred += out.logits.argmax(-1).tolist()
        b = len(batch["index"])
        for name, value in {"loss": loss, **terms}.items():
            sums[name] = sums.get(name, 0.0) + float(value) * b
        n += b
    model.train(was_training)
    result = {name: total / n for name, total in sums.items()}
    return {**result, **compute_metrics(y_true, y_pred, task)} if stage == "finetune" else {**result, "n": n}


def evaluate_checkpoint(checkpoint: str | Path, data_root: str | Path, split: str = "test",
                        device: str = "auto") -> dict:
    """``evaluate`` command: a checkpoint (with ``config.json`` beside it) on one split of ``data_root``."""
    checkpoint = Path(checkpoint)
    weights, meta = load_weights(checkpoint)
    if not (checkpoint.parent / "config.json").exists():
        raise CheckpointError(f"{checkpoint.parent / 'config.json'} not found: a checkpoint is read with the "
                              "config.json its run wrote beside it; copy it there")
    cfg = Config.load(checkpoint.parent / "config.json")
    cfg.model.clip_pretrained = cfg.model.text_decoder_pretrained = None   # all weights come from the file
    model = build_model(cfg, meta["task"] or "desire")
    model.load_state_dict(weights)
    dev = get_device(device)
    set_matmul_precision(cfg.train.precision)
    loader = DataLoader(load_split(data_root, split, cfg.data, cfg.variant), cfg.train.batch_size,
                        collate_fn=collate, num_workers=cfg.data.num_workers)
    metrics = evaluate(model.to(dev), loader, cfg, meta["stage"], meta["task"], dev)
    return {**metrics, "split": split, "checkpoint": str(checkpoint), "stage": meta["stage"], "task": meta["task"]}
