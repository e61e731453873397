"""``bench``: samples per second of full training steps (forward, loss, backward, AdamW step), per stage.

Random weights and a synthetic batch (random views, real tokenised captions,
random labels), so it runs offline and measures the model, not the disk.
Three numbers: pretraining (eq. 7), fine-tuning from images (eq. 8, the image
encoder runs) and fine-tuning from cached image features (``sydes_mini.cache``:
the frozen image encoder's output is computed once, outside the timed steps).
"""
from __future__ import annotations

import platform
import resource
import statistics
import time

import torch
from torch.utils.data import Dataset

from . import cache
from .config import get_config
from .data import collate, tokenize
from .device import autocast, get_device, grad_scaler
from .labels import LABELS, TASKS
from .model import build_model
from .stages import make_optimizer
from .step import finetune_loss, pretrain_loss, to_device
from .train import optimiser_step

TASK = "desire"   # the largest head (K = 7); the task changes nothing else


class SyntheticItems(Dataset):
    """``n`` MSEDDataset-like items: random normalised views, a fixed caption, random labels."""

    def __init__(self, n: int, seed: int = 0):
        g = torch.Generator().manual_seed(seed)
        self.global_view = torch.randn(n, 3, 224, 224, generator=g)            # [N, 3, 224, 224]
        self.crops = torch.randn(n, 4, 3, 224, 224, generator=g)               # [N, 4, 3, 224, 224]
        self.text = tokenize(["a man standing in a park, feeling happy, eager to explore."] * n)   # [N, 77]
        self.labels = {t: torch.randint(len(LABELS[t]), (n,), generator=g) for t in TASKS}

    def __len__(self) -> int:
        return len(self.text)

    def __getitem__(self, i: int) -> dict:
        return {"global_view": self.global_view[i], "crops": self.crops[i], "text": self.text[i],
                "labels": {t: y[i] for t, y in self.labels.items()}, "index": i + 1}


def time_steps(model, stage: str, batch: dict, cfg, device, steps: int) -> list[float]:
    """Seconds of ``steps`` training steps on one batch (one untimed warm-up step first)."""
    optimizer = make_optimizer(model, stage, cfg)
    scaler, generator = grad_scaler(device, cfg.train.precision), torch.Generator().manual_seed(0)
    times = []
    for _ in range(steps + 1):
        start = time.perf_counter()
        with autocast(device, cfg.train.precision):
            if stage == "pretrain":
                loss, _, _ = pretrain_loss(model, batch, cfg, generator)
            else:
                loss, _, _ = finetune_loss(model, batch, cfg, TASK)
        scaler.scale(loss).backward()
        optimiser_step(optimizer, scaler, cfg.train.grad_clip)
        if device.type == "cuda":
            torch.cuda.synchronize()
        times.append(time.perf_counter() - start)
    return times[1:]


def bench(profile: str = "smoke", device: str = "cpu", batch: int = 8, steps: int = 5,
          overrides: list[str] = ()) -> dict:
    """-> JSON-ready dict of median samples/s per stage, peak memory and the machine."""
    cfg = get_config(profile, ["model.clip_pretrained=none", "model.text_decoder_pretrained=none", *overrides])
    dev = get_device(device)
    torch.manual_seed(0)
    model = build_model(cfg, TASK).to(dev).train()
    items = SyntheticItems(batch)
    plain = to_device(collate([items[i] for i in range(batch)]), dev)
    cached_set = cache.cached_dataset(model, items, batch, dev)
    cached = to_device(cache.collate([cached_set[i] for i in range(batch)]), dev)
    result = {}
    for key, stage, b in (("pretrain", "pretrain", plain), ("finetune", "finetune", plain),
                          ("finetune_cached", "finetune", cached)):
        result[f"{key}_samples_per_s"] = batch / statistics.median(time_steps(model, stage, b, cfg, dev, steps))
    return {**result, "profile": profile, "batch": batch, "steps": steps, "precision": cfg.train.precision
            if dev.type == "cuda" else "fp32", **machine(dev)}


def machine(device: torch.device) -> dict:
    """Device name, threads, torch version and peak memory of this process."""
    info = {"device": torch.cuda.get_device_name(device) if device.type == "cuda" else platform.processor()
            or platform.machine(), "threads": torch.get_num_threads(), "torch": torch.__version__}
    info["peak_cpu_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024   # Linux: kB
    if device.type == "cuda":
        info["peak_gpu_mb"] = torch.cuda.max_memory_allocated(device) / 2**20
    return info
