"""One trainer for both stages of paper 3.4 (eq. 7 pretraining, eq. 8 fine-tuning) with the recipe of Table 8.

* AdamW on :func:`~sydes_mini.stages.set_stage`'s parameter groups (per-module
  learning rates, no weight decay on biases/norms/embeddings/tokens);
* cosine schedule with linear warm-up (0.15 pretraining, 0.10 fine-tuning),
  stepped once per optimiser step; gradient clipping 1.0; gradient accumulation;
* autocast on CUDA only (fp16 + grad scaler, or bf16), see :mod:`sydes_mini.device`;
* dev evaluation every ``eval_every_steps`` optimiser steps and at each epoch end;
  best checkpoint by lowest dev loss (pretraining) or highest dev macro-F1
  (fine-tuning, then test: ``metrics_test.json``).

**Exact resume.** The data order of an epoch depends only on (seed, epoch);
masking draws from its own seeded generator; both generators' states, the
optimiser, the schedule and the scaler are in ``last.safetensors``. A resumed
run skips exactly the batches already consumed, so a run killed with SIGKILL
and resumed ends with the same weights and log as one never interrupted.

**Several processes** (``torchrun --nproc_per_node N``, gloo on CPU, nccl on CUDA, one GPU per
process): each process takes every N-th sample of the epoch's order (as ``DistributedSampler``) and
the model is wrapped in PyTorch's ``DistributedDataParallel``, which averages the gradients with
bucketed all-reduces overlapped with the backward pass (skipped with ``no_sync`` on all but the last
batch of a gradient-accumulation group). N processes with ``batch_size / N`` each so follow the
one-process run with the global batch. Only process 0 writes files and evaluates. Every process
seeds its generators alike and draws the same numbers (same batch shapes), so the states process 0
saves are every process's, and a resumed multi-process run equals an uninterrupted one.

A stage's folder (``RUN/pretrain`` or ``RUN/finetune/<task>``)::

    config.json  best.safetensors  last.safetensors  metrics.jsonl  dev_metrics.json  [metrics_test.json]
"""
from __future__ import annotations

import json
import math
import os
import random
import signal
import sys
import time
from contextlib import nullcontext
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
import torch.distributed as dist
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DataLoader
from tqdm.auto import tqdm

from . import cache, data
from .checkpoint import CheckpointError, load_last, load_weights, save_last, save_weights
from .config import Config
from .device import autocast, get_device, grad_scaler, keep_freed_memory, set_matmul_precision
from .evaluate import evaluate, is_better
from .model import build_model
from .stages import make_optimizer
from .step import StageLoss, to_device

RESUME_MAY_DIFFER = ("train.device", "data.num_workers", "data.cache_images", "train.save_every_steps")   # speed only


class NonFiniteLoss(RuntimeError):
    """A NaN or inf loss: the run stops, the last good checkpoint stays."""


@dataclass
class Progress:
    """Where a run is; saved in ``last.safetensors``. ``batch`` counts batches consumed in ``epoch``."""
    epoch: int = 0
    batch: int = 0
    step: int = 0
    best: float | None = None
    best_step: int = -1
    log_bytes: int = 0            # length of metrics.jsonl at this point (a resumed run cuts it back here)


# -- small pieces -------------------------------------------------------------------------------

def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def epoch_order(n: int, seed: int, epoch: int) -> list[int]:
    """The shuffled sample order of one epoch: a function of (seed, epoch) only."""
    return np.random.default_rng([seed, epoch]).permutation(n).tolist()


def rank_indices(order: list[int], rank: int, world: int) -> list[int]:
    """This process's share (DistributedSampler-style: every ``world``-th sample, the tail cut to a multiple)."""
    return order[: len(order) - len(order) % world][rank::world] if world > 1 else order


def cosine_with_warmup(total_steps: int, warmup: float):
    """lr multiplier of optimiser step s: linear 0 -> 1 over ``warmup`` of the steps, then cosine 1 -> 0."""
    warm = max(1, round(warmup * total_steps))

    def factor(step: int) -> float:
        if step < warm:
            return (step + 1) / warm
        return 0.5 * (1 + math.cos(math.pi * min(1.0, (step - warm) / max(1, total_steps - warm))))
    return factor


def optimiser_step(optimizer, scaler, grad_clip: float) -> torch.Tensor:
    """Unscale (fp16), clip the global gradient norm to ``grad_clip``, AdamW step, clear grads -> norm before clipping."""
    scaler.unscale_(optimizer)
    params = [p for g in optimizer.param_groups for p in g["params"]]
    norm = torch.nn.utils.clip_grad_norm_(params, grad_clip)
    scaler.step(optimizer)              # skipped by the scaler when fp16 gradients overflowed
    scaler.update()
    optimizer.zero_grad(set_to_none=True)
    return norm


def die_with_launcher() -> None:
    """Under ``torchrun`` each worker runs in a session of its own, so killing the launcher (``kill -9``, a job
    scheduler, the OOM killer) would leave the workers training on and writing into the run folder, racing a
    ``--resume`` of the same run. On Linux, ask the kernel to kill this worker when its launcher dies. Only
    under torchrun's agent (``TORCHELASTIC_RUN_ID``): a rank started by hand from a shell script must not die
    with that script."""
    if not sys.platform.startswith("linux") or "TORCHELASTIC_RUN_ID" not in os.environ:
        return
    import ctypes
    PR_SET_PDEATHSIG = 1
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() == 1:                           # the launcher died before the request was made
        os.kill(os.getpid(), signal.SIGKILL)


def distributed() -> tuple[int, int]:
    """(rank, world size); under ``torchrun`` starts the process group (gloo on CPU, nccl on CUDA) in a worker
    that dies with its launcher."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world > 1 and not dist.is_initialized():
        die_with_launcher()
        dist.init_process_group("nccl" if torch.cuda.is_available() else "gloo")
    return (dist.get_rank(), world) if world > 1 else (0, 1)


def process_device(name: str, world: int) -> torch.device:
    """The device of this process: with several processes on CUDA, GPU number ``LOCAL_RANK``."""
    device = get_device(name)
    if world > 1 and device.type == "cuda":
        device = torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")))
        torch.cuda.set_device(device)
    return device


def data_parallel(step: StageLoss, device: torch.device, world: int) -> torch.nn.Module:
    """A stage's loss module in ``DistributedDataParallel`` (several processes) or as is (one).

    Build it after :func:`~sydes_mini.stages.set_stage`: DDP reduces the gradients of the parameters
    that require them when it is built. ``find_unused_parameters``: a trained parameter may get no
    gradient from the stage's active losses (``itc_t`` without L_itc, ``dc_scale`` without L_dc, the
    text encoder with ``pretrain_losses=si``: ablations of Tables 4 and 10).
    """
    if world == 1:
        return step
    ids = [device.index] if device.type == "cuda" else None
    return DistributedDataParallel(step, device_ids=ids, find_unused_parameters=True)


def check_finite(loss: torch.Tensor, terms: dict, batch: dict, step: int) -> None:
    if not torch.isfinite(loss):
        values = {k: float(v.detach()) for k, v in terms.items()}
        raise NonFiniteLoss(f"non-finite loss {float(loss.detach())} at optimiser step {step}, batch indices (CSV rows) "
                            f"{batch['index'].tolist()}, loss terms {values}; the last good checkpoint is kept. "
                            "Lower the learning rates or use --precision fp32 / bf16.")


def check_resume_config(saved: Config, cfg: Config, folder: Path) -> None:
    """A resumed run must use the saved config (except the fields in RESUME_MAY_DIFFER)."""
    def flat(c):
        d = asdict(c)
        return {f"{s}.{k}": v for s in ("model", "data", "train") for k, v in d.pop(s).items()} | d
    a, b = flat(saved), flat(cfg)
    diff = [k for k in a if a[k] != b.get(k) and k not in RESUME_MAY_DIFFER]
    if diff:
        raise CheckpointError(f"{folder}/config.json differs from this run's config in {diff}; resume with the "
                              "same options, or start a new --out folder")


# -- the trainer --------------------------------------------------------------------------------

class Trainer:
    """Trains one stage into ``out``. ``task`` and ``init`` (a pretrain folder or None) are for fine-tuning."""

    def __init__(self, cfg: Config, stage: str, out: str | Path, task: str | None = None,
                 init: str | Path | None = None, resume: bool = False):
        if stage == "finetune" and task is None:
            raise ValueError("fine-tuning needs a task: desire, emotion or sentiment")
        self.cfg, self.stage, self.task, self.out = cfg, stage, task, Path(out)
        self.rank, self.world = distributed()
        self.device = process_device(cfg.train.device, self.world)
        set_matmul_precision(cfg.train.precision)
        keep_freed_memory()
        self.meta = {"profile": cfg.profile, "stage": stage, "task": task, "variant": cfg.variant}
        self.prepare_folder(resume)
        seed_everything(cfg.seed)
        self.model = self.build(init)
        self.train_set, self.dev_set = self.dataset("train"), self.dataset("dev")
        self.optimizer = make_optimizer(self.model, stage, cfg)
        warmup = cfg.train.warmup_pretrain if stage == "pretrain" else cfg.train.warmup_finetune
        self.scheduler = torch.optim.lr_scheduler.LambdaLR(self.optimizer, cosine_with_warmup(self.total_steps,
                                                                                                warmup))
        self.scaler = grad_scaler(self.device, cfg.train.precision)
        self.mask_generator = torch.Generator().manual_seed(cfg.seed)
        self.progress = self.resume() if resume else Progress()
        self.last_dev: dict | None = None       # the latest dev evaluation (for report_epoch)
        self.parallel = data_parallel(StageLoss(self.model, cfg, stage, task), self.device, self.world)

    def prepare_folder(self, resume: bool) -> None:
        self.out.mkdir(parents=True, exist_ok=True)
        saved = self.out / "config.json"
        if resume:
            if not (self.out / "last.safetensors").exists():
                raise CheckpointError(f"--resume: {self.out}/last.safetensors not found; nothing to resume "
                                      "(run without --resume, or point --out at the interrupted run)")
            check_resume_config(Config.load(saved), self.cfg, self.out)
        elif (self.out / "last.safetensors").exists():
            raise FileExistsError(f"{self.out} already holds a run; pass --resume to continue it, or choose "
                                  "another --out")
        if self.rank == 0:
            self.cfg.save(saved)

    def build(self, init):
        """Fresh model (pretraining, or fine-tuning from scratch = SyDES-B) or the pretrained weights of ``init``."""
        model = build_model(self.cfg, self.task or "desire")
        if self.stage == "finetune" and init is not None:
            load_pretrained(model, init, self.cfg.profile)
        return model.to(self.device)

    def dataset(self, split: str):
        ds = data.load_split(self.cfg.data.root, split, self.cfg.data, self.cfg.variant)
        if self.stage == "finetune" and self.cfg.train.cache_features:
            key = (str(Path(self.cfg.data.root).resolve()), split, repr(self.cfg.data), self.cfg.variant,
                   self.cfg.train.precision, str(self.device))
            ds = cache.cached_split(self.model, ds, key, batch_size=self.cfg.train.batch_size, device=self.device,
                                    num_workers=self.cfg.data.num_workers)
        return ds

    @property
    def collate(self):
        return cache.collate if isinstance(self.train_set, cache.FeatureDataset) else data.collate

    @property
    def batch_size(self) -> int:
        """Per-process batch: the global ``train.batch_size`` split over the processes."""
        if self.cfg.train.batch_size % self.world:
            raise ValueError(f"train.batch_size={self.cfg.train.batch_size} must divide by {self.world} processes")
        return self.cfg.train.batch_size // self.world

    @property
    def batches_per_epoch(self) -> int:
        return math.ceil(len(rank_indices(list(range(len(self.train_set))), 0, self.world)) / self.batch_size)

    @property
    def epochs(self) -> int:
        return self.cfg.train.epochs_pretrain if self.stage == "pretrain" else self.cfg.train.epochs_finetune

    @property
    def total_steps(self) -> int:
        steps = math.ceil(self.batches_per_epoch / self.cfg.train.grad_accum) * self.epochs
        return min(steps, self.cfg.train.max_steps) if self.cfg.train.max_steps else steps

    def loader(self, epoch: int, start_batch: int) -> DataLoader:
        """This epoch's batches from ``start_batch`` on (a resumed run skips the consumed ones exactly)."""
        order = rank_indices(epoch_order(len(self.train_set), self.cfg.seed, epoch), self.rank, self.world)
        return DataLoader(self.train_set, self.batch_size, sampler=order[start_batch * self.batch_size:],
                          num_workers=self.cfg.data.num_workers, collate_fn=self.collate,
                          generator=torch.Generator().manual_seed(self.cfg.seed + epoch),
                          worker_init_fn=data.seed_worker)

    def dev_loader(self) -> DataLoader:
        return DataLoader(self.dev_set, self.cfg.train.batch_size, num_workers=self.cfg.data.num_workers,
                          collate_fn=self.collate)

    # -- one optimiser step ---------------------------------------------------------------------
    def loss(self, batch: dict):
        with autocast(self.device, self.cfg.train.precision):
            return self.parallel(batch, self.mask_generator)

    def step(self, batches: list[dict]) -> dict:
        """Forward/backward over ``batches`` (gradient accumulation), clip, AdamW step, schedule step -> log."""
        start, totals = time.perf_counter(), {}
        for k, batch in enumerate(batches):
            batch = to_device(batch, self.device)
            last = k == len(batches) - 1              # DDP all-reduces the gradients in this backward only
            with nullcontext() if last or self.world == 1 else self.parallel.no_sync():
                loss, terms = self.loss(batch)
                check_finite(loss, terms, batch, self.progress.step)
                self.scaler.scale(loss / len(batches)).backward()
            for name, value in {"loss": loss, **terms}.items():
                totals[name] = totals.get(name, 0.0) + float(value.detach()) / len(batches)
        if self.world > 1:
            totals = mean_over_processes(totals, self.world)
        lr = self.optimizer.param_groups[0]["lr"]
        norm = optimiser_step(self.optimizer, self.scaler, self.cfg.train.grad_clip)
        self.scheduler.step()
        n = sum(len(b["index"]) for b in batches) * self.world
        return {"step": self.progress.step + 1, "epoch": self.progress.epoch, **totals, "lr": lr,
                "grad_norm": float(norm), "samples_per_s": n / (time.perf_counter() - start)}

    # -- the loop -------------------------------------------------------------------------------
    def fit(self) -> dict:
        """Train to the end (or ``max_steps``); returns the best dev record."""
        p, accum = self.progress, self.cfg.train.grad_accum
        while p.epoch < self.epochs and not self.done:
            bar = tqdm(total=self.batches_per_epoch, initial=p.batch, desc=f"{self.stage} epoch {p.epoch + 1}",
                       leave=False, **({"disable": True} if self.rank else {}))   # else TQDM_DISABLE decides
            group = []
            for batch in self.loader(p.epoch, p.batch):
                group.append(batch)
                p.batch += 1
                bar.update(1)
                if len(group) == accum or p.batch == self.batches_per_epoch:
                    record = self.step(group)
                    group, p.step = [], p.step + 1
                    epoch_end = p.batch == self.batches_per_epoch
                    if epoch_end:          # a checkpoint taken now must resume at the next epoch
                        p.epoch, p.batch = p.epoch + 1, 0
                    bar.set_postfix(loss=f"{record['loss']:.4f}", lr=f"{record['lr']:.2e}")
                    self.after_step(record, epoch_end)
                    if self.done:
                        break
            bar.close()
            self.report_epoch()
        return self.best_record()

    def report_epoch(self) -> None:
        """One line per epoch on a terminal, where it stays after the epoch's bar is gone; also when bars are
        off (``make book`` sets ``TQDM_DISABLE=1`` so that notebook outputs stay free of them): a long run
        never sits silent. Not in a notebook or a log file (stderr is not a terminal there)."""
        if self.rank == 0 and sys.stderr.isatty():
            key = "loss" if self.stage == "pretrain" else "f1"
            dev = f", dev {key} {self.last_dev[key]:.4f}" if self.last_dev else ""
            print(f"{self.out}: epoch {self.progress.epoch}/{self.epochs}, optimiser step "
                  f"{self.progress.step}{dev}", file=sys.stderr, flush=True)

    @property
    def done(self) -> bool:
        return bool(self.cfg.train.max_steps) and self.progress.step >= self.cfg.train.max_steps

    def after_step(self, record: dict, epoch_end: bool) -> None:
        self.log(record)
        t = self.cfg.train
        evaluate_now = epoch_end or self.done or (t.eval_every_steps and self.progress.step % t.eval_every_steps == 0)
        if evaluate_now:
            self.evaluate_dev()
        if evaluate_now or (t.save_every_steps and self.progress.step % t.save_every_steps == 0):
            self.save_last()

    def evaluate_dev(self) -> None:
        if self.rank != 0:
            return
        metrics = evaluate(self.model, self.dev_loader(), self.cfg, self.stage, self.task, self.device)
        record = {"eval": "dev", "step": self.progress.step, "epoch": self.progress.epoch, **summary(metrics)}
        self.log(record)
        self.last_dev = record
        key = "loss" if self.stage == "pretrain" else "f1"
        if is_better(metrics[key], self.progress.best, self.stage):
            self.progress.best, self.progress.best_step = metrics[key], self.progress.step
            save_weights(self.model, self.out / "best.safetensors", {**self.meta, "step": self.progress.step})
            write_json(self.out / "dev_metrics.json", {**metrics, "step": self.progress.step})

    def log(self, record: dict) -> None:
        if self.rank == 0:
            with open(self.out / "metrics.jsonl", "a") as f:
                f.write(json.dumps(record) + "\n")

    def save_last(self) -> None:
        if self.rank != 0:
            return
        self.progress.log_bytes = (self.out / "metrics.jsonl").stat().st_size
        save_last(self.out / "last.safetensors", self.model, self.optimizer, self.scheduler, self.scaler,
                  self.mask_generator, {**self.meta, "step": self.progress.step}, asdict(self.progress))

    def resume(self) -> Progress:
        progress = Progress(**load_last(self.out / "last.safetensors", self.model, self.optimizer, self.scheduler,
                                        self.scaler, self.mask_generator, **self.meta_expected))
        log = self.out / "metrics.jsonl"
        if self.rank == 0 and log.exists():
            os.truncate(log, progress.log_bytes)   # drop lines written after the checkpoint
        return progress

    @property
    def meta_expected(self) -> dict:
        return {"profile": self.cfg.profile, "stage": self.stage, "task": self.task}

    def best_record(self) -> dict:
        return json.loads((self.out / "dev_metrics.json").read_text()) if self.rank == 0 else {}

    def test(self) -> dict:
        """Evaluate the best checkpoint on the test split -> ``metrics_test.json``."""
        weights, _ = load_weights(self.out / "best.safetensors", **self.meta_expected)
        self.model.load_state_dict(weights)
        test_set = self.dataset("test")
        loader = DataLoader(test_set, self.cfg.train.batch_size, collate_fn=self.collate,
                            num_workers=self.cfg.data.num_workers)
        metrics = evaluate(self.model, loader, self.cfg, self.stage, self.task, self.device)
        write_json(self.out / "metrics_test.json", {**metrics, "step": self.progress.best_step})
        return metrics


def mean_over_processes(values: dict[str, float], world: int) -> dict[str, float]:
    """Logged loss terms as means over all processes (each process saw 1/world of the batch)."""
    t = torch.tensor(list(values.values()), dtype=torch.float64)
    dist.all_reduce(t)
    return dict(zip(values, (t / world).tolist()))


def summary(metrics: dict) -> dict:
    """The scalar entries of a metrics dict (what goes into metrics.jsonl)."""
    return {k: v for k, v in metrics.items() if isinstance(v, (int, float))}


def write_json(path: Path, obj: dict) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(obj, indent=2) + "\n")
    os.replace(tmp, path)


def load_pretrained(model, init: str | Path, profile: str) -> None:
    """Fine-tuning's start: every weight of ``init``/best.safetensors except the head's.

    The head is frozen in pretraining (so it is still its random initialisation there)
    and its output size K depends on the task, so each fine-tune starts a new head.
    """
    path = Path(init) / "best.safetensors" if Path(init).is_dir() or not str(init).endswith(".safetensors") \
        else Path(init)
    if not path.exists():
        raise CheckpointError(f"--init {init}: {path} not found; run `pretrain --out RUN` first and pass "
                              "--init RUN/pretrain, or --init none to fine-tune from scratch (SyDES-B)")
    weights, _ = load_weights(path, profile=profile, stage="pretrain")
    weights = {k: v for k, v in weights.items() if not k.startswith("head.")}
    missing, unexpected = model.load_state_dict(weights, strict=False)
    wrong = [k for k in missing if not k.startswith("head.")] + list(unexpected)
    if wrong:
        raise CheckpointError(f"{path}: its weights do not fit this model ({wrong[:5]} ...); "
                              "use the same --profile and model.* settings as its pretraining")


def train_stage(cfg: Config, stage: str, out: str | Path, task: str | None = None,
                init: str | Path | None = None, resume: bool = False) -> dict:
    """Train one stage; fine-tuning also evaluates its best checkpoint on test.

    -> ``{"dev": best dev metrics, ["test": test metrics,] "wall_s", "steps"}``, also written to ``done.json``

    A finished stage writes ``done.json`` (best dev record, wall time), which ``reproduce`` uses to skip it.
    """
    start = time.perf_counter()
    trainer = Trainer(cfg, stage, out, task, init, resume)
    result = {"dev": trainer.fit()}
    if stage == "finetune" and trainer.rank == 0:
        result["test"] = trainer.test()
    result.update(wall_s=time.perf_counter() - start, steps=trainer.progress.step)
    if trainer.rank == 0:
        write_json(Path(out) / "done.json", result)
    if trainer.world > 1:
        dist.barrier()
    return result
