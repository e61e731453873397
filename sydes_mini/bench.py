"""``bench``: samples per second of full training steps (forward, loss, backward, AdamW step), per stage.

Random weights and synthetic batches that look like MSED's (random views, captions with MSED's length
distribution, random labels), so it runs offline and measures the model, not the disk. Batches are
formed as in training (padded to 77, then cut to their longest caption by ``data.collate``).
Three steps: pretraining (eq. 7), fine-tuning from images (eq. 8, the image encoder runs) and
fine-tuning from cached image features (``sydes_mini.cache``: the frozen image encoder's output is
computed once, outside the timed steps); the cached step also at the authors' batch 32. Next to the
timings: the FLOPs per sample of each step (``torch.utils.flop_counter``), and on CUDA the achieved
TFLOP/s, the number the GPU estimates of the README assume (``sydes_mini.estimate``).
"""
from __future__ import annotations

import platform
import resource
import time
from contextlib import nullcontext

import numpy as np
import torch
from torch.utils.data import Dataset, Subset

from . import cache
from .config import get_config
from .data import CONTEXT_LENGTH, collate
from .device import autocast, get_device, grad_scaler, keep_freed_memory, set_matmul_precision
from .estimate import flop_counter
from .labels import LABELS, TASKS
from .model import build_model
from .stages import make_optimizer
from .step import finetune_loss, pretrain_loss, to_device
from .train import optimiser_step

TASK = "desire"   # the largest head (K = 7); the task changes nothing else
AUTHORS_BATCH = 32
START, END = 49406, 49407   # CLIP's start- and end-of-text token ids

# MSED train captions (open_clip tokenizer, start and end tokens included): mean 15.3 tokens, median 13,
# 90th percentile 27, 15 of 6,127 reach 77 (truncated). A piecewise-linear quantile function through
# these knots (u, tokens) reproduces them, and a batch of 32 has a longest caption of ~48 tokens on average.
LENGTH_QUANTILES = ((0.0, 4), (0.25, 9), (0.5, 13), (0.75, 17), (0.9, 27), (0.98, 40), (1 - 15 / 6127, 77), (1.0, 77))


def msed_caption_lengths(n: int, seed: int = 0) -> np.ndarray:
    """``n`` caption lengths (tokens, start and end included) with MSED's distribution.

    Stratified: the i-th length is the quantile at (i + 0.5) / n, then shuffled, so even a small
    ``n`` has the distribution's mean and tail.
    """
    u, tokens = zip(*LENGTH_QUANTILES)
    lengths = np.rint(np.interp((np.arange(n) + 0.5) / n, u, tokens)).astype(int)
    return np.random.default_rng(seed).permutation(lengths)


def synthetic_tokens(lengths: np.ndarray, generator: torch.Generator) -> torch.Tensor:
    """Token rows [N, 77]: start, random word ids, end, zero padding (what ``data.tokenize`` returns)."""
    text = torch.zeros(len(lengths), CONTEXT_LENGTH, dtype=torch.long)
    for row, n in zip(text, lengths):
        row[0], row[n - 1] = START, END
        row[1:n - 1] = torch.randint(1, START, (n - 2,), generator=generator)
    return text


class SyntheticItems(Dataset):
    """``n`` MSEDDataset-like items: random normalised views, MSED-like captions, random labels."""

    def __init__(self, n: int, seed: int = 0):
        g = torch.Generator().manual_seed(seed)
        self.global_view = torch.randn(n, 3, 224, 224, generator=g)            # [N, 3, 224, 224]
        self.crops = torch.randn(n, 4, 3, 224, 224, generator=g)               # [N, 4, 3, 224, 224]
        self.text = synthetic_tokens(msed_caption_lengths(n, seed), g)         # [N, 77]
        self.labels = {t: torch.randint(len(LABELS[t]), (n,), generator=g) for t in TASKS}

    def __len__(self) -> int:
        return len(self.text)

    def __getitem__(self, i: int) -> dict:
        return {"global_view": self.global_view[i], "crops": self.crops[i], "text": self.text[i],
                "labels": {t: y[i] for t, y in self.labels.items()}, "index": i + 1}


def time_steps(model, stage: str, batches: list[dict], cfg, device) -> tuple[float, float]:
    """-> (seconds of one training step per batch of ``batches``, summed; FLOPs of the step on ``batches[0]``).

    An untimed warm-up step on ``batches[0]`` comes first; ``estimate.flop_counter`` counts its
    FLOPs (matrix products, convolutions and attention of forward and backward).
    """
    optimizer = make_optimizer(model, stage, cfg)
    scaler, generator = grad_scaler(device, cfg.train.precision), torch.Generator().manual_seed(0)
    total, counter = 0.0, flop_counter()
    for k, batch in enumerate([batches[0], *batches]):
        start = time.perf_counter()
        batch = to_device(batch, device)          # as training does: one batch on the device at a time
        with counter if k == 0 else nullcontext():
            with autocast(device, cfg.train.precision):
                if stage == "pretrain":
                    loss, _, _ = pretrain_loss(model, batch, cfg, generator)
                else:
                    loss, _, _ = finetune_loss(model, batch, cfg, TASK)
            scaler.scale(loss).backward()
        optimiser_step(optimizer, scaler, cfg.train.grad_clip)
        if device.type == "cuda":
            torch.cuda.synchronize()
        total += (time.perf_counter() - start) if k else 0.0
    return total, counter.get_total_flops()


def batches_of(items, batch: int, steps: int, collate_fn) -> list[dict]:
    """``steps`` consecutive batches of ``items`` (cycled), collated as in training (on the CPU)."""
    return [collate_fn([items[i % len(items)] for i in range(k * batch, (k + 1) * batch)]) for k in range(steps)]


def bench(profile: str = "smoke", device: str = "cpu", batch: int = 8, steps: int = 5,
          overrides: list[str] = ()) -> dict:
    """-> JSON-ready dict: samples/s per stage (samples / seconds over ``steps`` timed steps, each on its
    own batch), the cached fine-tune step also at batch 32, FLOPs per sample of each step (on the first
    batch, whose longest caption is the first of ``text_lengths``), peak memory and the machine."""
    cfg = get_config(profile, ["model.clip_pretrained=none", "model.text_decoder_pretrained=none", *overrides])
    dev = get_device(device)
    set_matmul_precision(cfg.train.precision)
    keep_freed_memory()                            # as training does
    torch.manual_seed(0)
    model = build_model(cfg, TASK).to(dev).train()
    big = max(batch, AUTHORS_BATCH)
    items = SyntheticItems(big * steps)
    with autocast(dev, cfg.train.precision):       # the image features of the first `big` items only:
        cached_set = cache.cached_dataset(model, Subset(items, range(big)), big, dev)   # the step does not
    cached = [{**cached_set[i % big], "text": items.text[i]} for i in range(len(items))]  # read their values
    runs = {"pretrain": ("pretrain", batches_of(items, batch, steps, collate)),
            "finetune": ("finetune", batches_of(items, batch, steps, collate)),
            "finetune_cached": ("finetune", batches_of(cached, batch, steps, cache.collate)),
            f"finetune_cached_b{AUTHORS_BATCH}": ("finetune", batches_of(cached, AUTHORS_BATCH, steps,
                                                                         cache.collate))}
    result = {}
    for key, (stage, batches) in runs.items():
        if dev.type == "cuda":
            torch.cuda.reset_peak_memory_stats(dev)
        seconds, flops = time_steps(model, stage, batches, cfg, dev)
        per_sample = flops / len(batches[0]["index"])
        result[f"{key}_samples_per_s"] = sum(len(b["index"]) for b in batches) / seconds
        result[f"{key}_gflops_per_sample"] = per_sample / 1e9
        if dev.type == "cuda":     # what the README's GPU estimates assume (sydes_mini.estimate.GPUS)
            result[f"{key}_achieved_tflops"] = per_sample * result[f"{key}_samples_per_s"] / 1e12
            result[f"{key}_peak_gpu_mb"] = torch.cuda.max_memory_allocated(dev) / 2**20   # this step's
    lengths = {key: [int(b["text"].shape[1]) for b in batches] for key, (_, batches) in runs.items()}
    return {**result, "profile": profile, "batch": batch, "steps": steps,
            "text_lengths": {"batch": lengths["pretrain"], f"batch_{AUTHORS_BATCH}":
                             lengths[f"finetune_cached_b{AUTHORS_BATCH}"]},
            "precision": cfg.train.precision if dev.type == "cuda" else "fp32", **machine(dev)}


def machine(device: torch.device) -> dict:
    """Device name, threads, torch version and peak memory of this process."""
    info = {"device": torch.cuda.get_device_name(device) if device.type == "cuda" else platform.processor()
            or platform.machine(), "threads": torch.get_num_threads(), "torch": torch.__version__}
    info["peak_cpu_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024   # Linux: kB
    if device.type == "cuda":
        info["peak_gpu_mb"] = torch.cuda.max_memory_allocated(device) / 2**20
    return info
