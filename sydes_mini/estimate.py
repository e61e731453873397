"""FLOPs and peak memory of one training step, counted on fake tensors (nothing is computed), and the GPU time
of the paper's full reproduction estimated from them (issue 13).

A fake tensor (``torch._subclasses.fake_tensor``) has a shape, a dtype and a device but no data, so a
step of the paper-sized model at the authors' batch 32 can be "run" on any laptop in seconds:

* :func:`flop_counter` (torch's :class:`~torch.utils.flop_counter.FlopCounterMode`) counts the FLOPs of
  every matrix product, convolution and attention of the forward and backward pass (the elementwise
  work, a few per cent, is not counted);
* :class:`PeakMemory` adds up the bytes of every tensor while it is alive (weights, gradients,
  AdamW's two moments, activations kept for the backward) and keeps the peak.

These are **estimates**: the peak ignores the CUDA context, cuBLAS/cuDNN workspaces and allocator
fragmentation (:data:`CUDA_OVERHEAD_GB` is added for them), and time = FLOPs / an assumed sustained
throughput (:data:`GPUS`). ``bench --device cuda`` measures the real figures on a GPU.
"""
from __future__ import annotations

import copy
import math
import weakref

import torch
from torch import nn
from torch._subclasses.fake_tensor import FakeTensorMode
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils._pytree import tree_leaves
from torch.utils.flop_counter import FlopCounterMode, sdpa_backward_flop_count, sdpa_flop_count

from .config import Config
from .stages import set_stage
from .step import finetune_loss, pretrain_loss

# Assumed *sustained* mixed-precision training throughput (TFLOP/s) of one GPU, for the GPUs nobody has
# measured yet (``book/gpu_bench.json`` holds what was measured). An H100 measured 27 TFLOP/s (fp16) and
# 39 (bf16) on a pretraining step at batch 32: the step launches ~3,300 small kernels and waits on the
# host, not on the tensor cores, so a slower card (A100) is assumed to reach about as much; a T4 (65 dense
# fp16 peak) is assumed to sustain 23 % of its peak.
GPUS = {"Colab T4 (16 GB)": 15.0, "A100": 25.0}
CUDA_OVERHEAD_GB = 1.5          # CUDA context + cuBLAS/cuDNN workspaces, added to the peak
FRAGMENTATION = 1.1             # the caching allocator needs ~10 % more than the live tensors
T4_USABLE_GB = 15.0             # a 16 GB T4 shows about 15 GiB to PyTorch
CANDIDATE_BATCHES = (32, 16, 8, 4, 2)

# MSED (paper 4.1.1) and the recipe (Table 8): samples per split, epochs per stage, global batch
MSED = {"train": 6127, "dev": 1021, "test": 2024}
RECIPE = {"epochs": 50, "global_batch": 64, "batch": 32, "tasks": 3, "runs_for_tables_2_to_10": 20}


def _cpu_attention(query, key, value, *args, out_shape=None, **kwargs) -> int:
    return sdpa_flop_count(query, key, value)


def _cpu_attention_backward(grad_out, query, key, value, *args, out_shape=None, **kwargs) -> int:
    return sdpa_backward_flop_count(grad_out, query, key, value)


# torch's counter has formulas for the CUDA attention kernels only: the CPU's (which fake CPU tensors run
# too) would count as 0 FLOPs. These are the same formulas (2 products forward, 4 or 5 backward).
CPU_ATTENTION = {getattr(torch.ops.aten, name): formula for name, formula in (
    ("_scaled_dot_product_flash_attention_for_cpu", _cpu_attention),
    ("_scaled_dot_product_flash_attention_for_cpu_backward", _cpu_attention_backward))
    if hasattr(torch.ops.aten, name)}


def flop_counter() -> FlopCounterMode:
    """torch's FLOP counter, taught the CPU attention kernel (:data:`CPU_ATTENTION`); use it as a context."""
    return FlopCounterMode(display=False, custom_mapping=CPU_ATTENTION)


class PeakMemory(TorchDispatchMode):
    """Live bytes of tensor storages (real or fake) created inside the mode or :meth:`add`-ed, and their peak.

    A storage is counted once, when first seen, and uncounted when it is freed (a weak reference).
    Data-dependent Python values (``bool(t.any())``, ``t.item()``) cannot come from fake tensors: they
    read as 0 (False) for integer and boolean tensors and 1 for floating ones (only used in branches
    that do not change the memory of a fine-tuning step, and in AdamW's bias correction).
    """

    def __init__(self):
        super().__init__()
        self.refs, self.live, self.peak = {}, 0, 0

    def add(self, t: torch.Tensor) -> None:
        storage = t.untyped_storage()
        key = id(storage)
        if key in self.refs and self.refs[key]() is storage:
            return
        nbytes = storage.nbytes()

        def freed(_, key=key, nbytes=nbytes):
            self.live -= nbytes
            self.refs.pop(key, None)
        self.refs[key] = weakref.ref(storage, freed)
        self.live += nbytes
        self.peak = max(self.peak, self.live)

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        if func is torch.ops.aten._local_scalar_dense.default:
            return 1 if args[0].dtype.is_floating_point else 0
        out = func(*args, **(kwargs or {}))
        for t in tree_leaves(out):
            if isinstance(t, torch.Tensor):
                self.add(t)
        return out


def fake_copy(model: nn.Module, mode: FakeTensorMode) -> nn.Module:
    """A copy of ``model`` whose parameters and buffers are fake tensors (no memory, no data copied)."""
    memo = {id(p): nn.Parameter(mode.from_tensor(p.detach()), requires_grad=p.requires_grad)
            for p in model.parameters()}
    memo.update({id(b): mode.from_tensor(b) for b in model.buffers()})
    return copy.deepcopy(model, memo)


def map_tensors(x, fn):
    """``fn`` applied to every tensor of a (nested) batch: dicts and dataclasses (ImageFeatures) are rebuilt."""
    if isinstance(x, torch.Tensor):
        return fn(x)
    if isinstance(x, dict):
        return {k: map_tensors(v, fn) for k, v in x.items()}
    if hasattr(x, "__dataclass_fields__"):
        return type(x)(**{k: map_tensors(getattr(x, k), fn) for k in x.__dataclass_fields__})
    return x


def step_cost(model: nn.Module, stage: str, batch: dict, cfg: Config, task: str = "desire",
              low_precision: torch.dtype | None = None, steps: int = 2) -> dict:
    """FLOPs and peak bytes of one training step (forward, loss, backward, AdamW step) on ``batch``.

    ``batch`` is a real batch (its shapes are used); ``model`` is not changed. ``low_precision``
    (torch.float16 / bfloat16) runs the step under autocast as CUDA mixed precision does (CPU autocast's
    op list, close to CUDA's). -> ``{"flops", "forward_flops" (what an evaluation pass costs),
    "peak_bytes", "samples"}`` of the last of ``steps`` steps: the second one has AdamW's moments
    (the peak of training); one step suffices for the FLOPs.
    """
    mode = FakeTensorMode(allow_non_fake_inputs=True)
    fake = fake_copy(model, mode).train()
    with mode:
        params = set_stage(fake, stage, cfg)
        optimizer = torch.optim.AdamW(params, lr=1e-5, foreach=False)
        inputs = []
        fake_batch = map_tensors(batch, lambda t: inputs.append(mode.from_tensor(t)) or inputs[-1])
        memory = PeakMemory()
        for t in [*fake.parameters(), *fake.buffers(), *inputs]:
            memory.add(t)
        autocast = torch.autocast("cpu", dtype=low_precision, enabled=low_precision is not None)
        with memory:
            for _ in range(steps):
                forward, backward = flop_counter(), flop_counter()
                with forward, autocast:
                    if stage == "pretrain":
                        loss = pretrain_loss(fake, fake_batch, cfg, torch.Generator().manual_seed(0))[0]
                    else:
                        loss = finetune_loss(fake, fake_batch, cfg, task)[0]
                with backward:
                    loss.backward()
                del loss
                optimizer.step()
                optimizer.zero_grad(set_to_none=True)
    fwd, bwd = forward.get_total_flops(), backward.get_total_flops()
    return {"flops": fwd + bwd, "forward_flops": fwd, "peak_bytes": memory.peak, "samples": len(batch["index"])}


def reproduction_flops(flops_per_sample: dict[str, float], eval_flops_per_sample: dict[str, float]) -> dict:
    """FLOPs of one reproduction of Table 2 (pretraining once, fine-tuning three tasks), the recipe's step counts.

    ``flops_per_sample``: {"pretrain", "finetune_cached", "encode"} training FLOPs per sample per step
    (encode: the frozen image encoder's forward on the five views, run once per sample to fill the cache);
    ``eval_flops_per_sample``: {"pretrain", "finetune_cached"} of a dev/test forward pass.
    Dev evaluation runs once per epoch (every 96 optimiser steps = one MSED epoch at batch 64).
    """
    e, n = RECIPE["epochs"], MSED
    pretrain = e * (n["train"] * flops_per_sample["pretrain"] + n["dev"] * eval_flops_per_sample["pretrain"])
    one_task = (e * (n["train"] * flops_per_sample["finetune_cached"] + n["dev"] * eval_flops_per_sample["finetune_cached"])
                + (n["train"] + n["dev"] + n["test"]) * flops_per_sample["encode"]
                + n["test"] * eval_flops_per_sample["finetune_cached"])
    return {"pretrain": pretrain, "finetune_per_task": one_task, "table2_run": pretrain + RECIPE["tasks"] * one_task}


def gpu_hours(total_flops: float) -> dict[str, float]:
    """{GPU: hours} at the assumed sustained throughput of :data:`GPUS`."""
    return {gpu: total_flops / (tflops * 1e12) / 3600 for gpu, tflops in GPUS.items()}


def measured_hours(bench: dict, flops_per_sample: dict) -> dict:
    """Hours of one Table 2 run from a ``bench --device cuda`` JSON measured at the authors' batch 32.

    Training steps take the measured samples/s (pretraining; fine-tuning from cached features); the
    forward-only work (dev/test evaluation, filling the cache) is timed at the FLOP rate that training
    step achieved; ``flops_per_sample`` gives their FLOPs (``book/gpu_estimates.json``'s: ``pretrain_forward``,
    ``finetune_cached_forward``, ``encode``). -> ``{"pretrain", "finetune_per_task", "table2_run"}`` in hours.
    """
    step = {stage: bench[f"{stage}_gflops_per_sample"] * 1e9 for stage in ("pretrain", "finetune_cached")}
    rate = {stage: step[stage] * bench[f"{stage}_samples_per_s"] for stage in step}           # FLOP/s
    f = flops_per_sample
    flops = reproduction_flops({**step, "encode": f["encode"]}, {"pretrain": f["pretrain_forward"],
                                                                 "finetune_cached": f["finetune_cached_forward"]})
    hours = {"pretrain": flops["pretrain"] / rate["pretrain"] / 3600,
             "finetune_per_task": flops["finetune_per_task"] / rate["finetune_cached"] / 3600}
    return {**hours, "table2_run": hours["pretrain"] + RECIPE["tasks"] * hours["finetune_per_task"]}


def peak_at(measured: dict[int, float], batch: int) -> float:
    """Peak GB at ``batch`` from two measured batches: weights, gradients and AdamW's moments are fixed,
    the activations grow linearly with the batch."""
    (b1, g1), (b2, g2) = sorted(measured.items())[:2]
    per_sample = (g2 - g1) / (b2 - b1)
    return g1 + per_sample * (batch - b1)


def fits_t4(peak_gb_at: dict[int, float]) -> dict:
    """The largest per-step batch whose estimated peak fits a T4, and the accumulation to reach 64.

    ``peak_gb_at``: {batch: estimated peak GB of the step (worst stage)}; a batch fits when
    peak x FRAGMENTATION + CUDA_OVERHEAD_GB <= T4_USABLE_GB.
    """
    fitting = [b for b, gb in sorted(peak_gb_at.items())
               if gb * FRAGMENTATION + CUDA_OVERHEAD_GB <= T4_USABLE_GB]
    batch = max(fitting) if fitting else None
    return {"batch": batch, "grad_accum": math.ceil(RECIPE["global_batch"] / batch) if batch else None}


def estimate(profile: str = "full", batches: tuple[int, ...] = (32, 8), precision: torch.dtype = torch.float16,
             log=print) -> dict:
    """The JSON of ``book/gpu_estimates.json``: FLOPs per sample of each step at the authors' batch 32 with
    MSED-like captions, peak memory per stage and batch, the T4 batch x accumulation and GPU hours."""
    from .bench import TASK, SyntheticItems
    from .config import get_config
    from .data import collate
    from .model import build_model

    cfg = get_config(profile, ["model.clip_pretrained=none", "model.text_decoder_pretrained=none"])
    torch.manual_seed(0)
    model = build_model(cfg, TASK)
    items = SyntheticItems(max(batches))
    out = {"profile": profile, "precision": str(precision).replace("torch.", ""), "flops_per_sample": {},
           "peak_gb": {}, "text_length": None}
    for b in batches:
        plain = collate([items[i] for i in range(b)])                    # text cut to its longest caption
        features = fake_features(model, plain)
        cached = {**plain, "features": features}
        cached.pop("global_view"), cached.pop("crops")
        for key, stage, batch in (("pretrain", "pretrain", plain), ("finetune", "finetune", plain),
                                  ("finetune_cached", "finetune", cached)):
            cost = step_cost(model, stage, batch, cfg, TASK, precision)
            out["peak_gb"].setdefault(key, {})[b] = cost["peak_bytes"] / 1e9
            if b == max(batches):
                out["flops_per_sample"][key] = cost["flops"] / b
                out["flops_per_sample"][f"{key}_forward"] = cost["forward_flops"] / b
                out["text_length"] = int(plain["text"].shape[1])
            log(f"{key} batch {b}: {cost['flops'] / b / 1e9:.1f} GFLOP/sample, peak {cost['peak_bytes'] / 1e9:.2f} GB")
    return summarise(out)


def summarise(out: dict) -> dict:
    """Add to the measured ``flops_per_sample`` and ``peak_gb`` of :func:`estimate` what follows from them:
    the reproduction's FLOPs and GPU hours, the peak at other batches, the T4 batch x accumulation."""
    f = out["flops_per_sample"]
    f["encode"] = f["finetune_forward"] - f["finetune_cached_forward"]   # the frozen image encoder, 5 views
    per_run = reproduction_flops({"pretrain": f["pretrain"], "finetune_cached": f["finetune_cached"],
                                  "encode": f["encode"]},
                                 {"pretrain": f["pretrain_forward"], "finetune_cached": f["finetune_cached_forward"]})
    measured = {stage: {int(b): gb for b, gb in peaks.items()} for stage, peaks in out["peak_gb"].items()}
    worst = {b: max(peak_at(m, b) for m in measured.values()) for b in CANDIDATE_BATCHES}
    out.update(reproduction_pflop=({k: v / 1e15 for k, v in per_run.items()}),
               hours_table2_run=gpu_hours(per_run["table2_run"]),
               hours_tables_2_to_10=gpu_hours(per_run["table2_run"] * RECIPE["runs_for_tables_2_to_10"]),
               assumed_sustained_tflops=GPUS, peak_gb_worst_stage=worst, cuda_overhead_gb=CUDA_OVERHEAD_GB,
               fragmentation=FRAGMENTATION, t4_usable_gb=T4_USABLE_GB, t4=fits_t4(worst), recipe=RECIPE, msed=MSED)
    return out


def fake_features(model, batch: dict):
    """ImageFeatures of a batch as the cache stores them (m = 0), on fake tensors: only their shapes matter."""
    from .model.sydes import ImageFeatures
    mode = FakeTensorMode(allow_non_fake_inputs=True)
    fake = fake_copy(model, mode)
    with mode, torch.no_grad():
        f = fake.encode_images(mode.from_tensor(batch["global_view"]), mode.from_tensor(batch["crops"]), 0.0)
    B, P1, C = f.global_tokens.shape                                        # P1 = 1 + P (the class token)
    return ImageFeatures(torch.zeros(B, P1, C), torch.zeros(f.crop_tokens.shape), torch.zeros(f.mask.shape),
                         torch.arange(P1 - 1).expand(B, 4, P1 - 1))


if __name__ == "__main__":     # python -m sydes_mini.estimate [OUT.json]
    import json
    import sys
    result = estimate(log=lambda s: print(s, file=sys.stderr, flush=True))
    text = json.dumps(result, indent=2)
    if len(sys.argv) > 1:
        open(sys.argv[1], "w").write(text + "\n")
    print(text)
