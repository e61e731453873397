"""The main job: one pretraining, three fine-tunes, test metrics and ``summary.json`` (paper 3.4, Tables 2-3).

Layout of ``RUN`` (with ``seeds > 1``, each seed gets ``RUN/seed-<s>/`` with the same inside)::

    RUN/pretrain/                       stage 1 (eq. 7)
    RUN/finetune/{desire,emotion,sentiment}/   stage 2 (eq. 8), metrics_test.json
    RUN/summary.json                    {task: {"test": {precision, recall, f1, accuracy, n[, <m>_std]},
                                                "majority": {f1, accuracy}, "seeds": [...]}}
    RUN/reproduce.json                  profile, data, seeds, wall time of every stage

A stage with ``done.json`` is skipped and one with only ``last.safetensors`` is
resumed, so re-running a finished ``reproduce`` just prints its summary.
"""
from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np

from .config import Config, get_config
from .data import read_split
from .labels import TASKS
from .metrics import majority_metrics
from .train import check_resume_config, train_stage, write_json

METRICS = ("precision", "recall", "f1", "accuracy")
TOY_ROOT = "data/toy"


def ensure_toy_world(root: str | Path = TOY_ROOT) -> Path:
    """The smoke profile's data: generate the toy world unless a complete one is already there."""
    from .toy import synth
    root = Path(root)
    if not (root / "toy_world.json").exists():     # written last by synth: its absence means incomplete
        print(f"generating the toy world in {root} ...", flush=True)
        synth(root, overwrite=True)
    return root


def data_root(profile: str, data: str | Path | None = None, overrides: list[str] = ()) -> Path:
    """The data a run reads: ``data`` when given; else the toy world for smoke (generated when missing),
    else the profile's ``data.root`` (``data/MSED`` for full)."""
    if data:
        return Path(data)
    return ensure_toy_world() if profile == "smoke" else Path(get_config(profile, overrides).data.root)


def run_stage(cfg: Config, stage: str, out: Path, **kwargs) -> dict:
    """Train a stage unless ``out/done.json`` says it is finished (then its config must match)."""
    if (out / "done.json").exists():
        check_resume_config(Config.load(out / "config.json"), cfg, out)
        print(f"{out}: already complete, skipped", flush=True)
        return json.loads((out / "done.json").read_text())
    resume = (out / "last.safetensors").exists()
    if resume:
        print(f"{out}: resuming the interrupted run", flush=True)
    return train_stage(cfg, stage, out, resume=resume, **kwargs)


def one_seed(cfg: Config, run: Path, pretrain: bool = True) -> dict:
    """Pretrain once, fine-tune each task from it -> {"pretrain": done, task: done}.

    ``pretrain=False`` is SyDES-B (Table 3): each task is fine-tuned from the initial weights.
    """
    done = {"pretrain": run_stage(cfg, "pretrain", run / "pretrain")} if pretrain else {}
    init = run / "pretrain" if pretrain else None
    for task in TASKS:
        done[task] = run_stage(cfg, "finetune", run / "finetune" / task, task=task, init=init)
    return done


def summarise(per_seed: list[dict], root: str | Path) -> dict:
    """Test metrics per task (mean, and ``<metric>_std`` over seeds when there are several) + the majority floor."""
    train, test = read_split(root, "train"), read_split(root, "test")
    summary = {}
    for task in TASKS:
        values = {m: [d[task]["test"][m] for d in per_seed] for m in METRICS}
        row = {m: float(np.mean(v)) for m, v in values.items()}
        if len(per_seed) > 1:
            row.update({f"{m}_std": float(np.std(v, ddof=1)) for m, v in values.items()})
        majority = majority_metrics([r.labels[task] for r in train], [r.labels[task] for r in test], task)
        summary[task] = {"test": {**row, "n": per_seed[0][task]["test"]["n"]},
                         "majority": {"f1": majority["f1"], "accuracy": majority["accuracy"]},
                         "seeds": [d[task]["test"]["f1"] for d in per_seed]}
    return summary


def reproduce(profile: str = "smoke", out: str | Path = "runs/smoke", data: str | Path | None = None,
              seeds: int = 1, overrides: list[str] = (), init: str = "pretrain") -> dict:
    """The whole paper recipe for a profile -> ``summary.json`` (also returned).

    ``init="none"`` skips pretraining and fine-tunes from the initial weights (SyDES-B, Table 3).
    """
    if init not in ("pretrain", "none"):
        raise ValueError(f"init must be 'pretrain' or 'none', got {init!r}")
    start, out = time.perf_counter(), Path(out)
    base, root = get_config(profile, overrides), data_root(profile, data, overrides)
    per_seed = []
    for i in range(seeds):
        cfg = get_config(profile, [*overrides, f"data.root={root}", f"seed={base.seed + i}"])
        per_seed.append(one_seed(cfg, out if seeds == 1 else out / f"seed-{cfg.seed}", init == "pretrain"))
    summary = summarise(per_seed, root)
    write_json(out / "summary.json", summary)
    stages = [{name: d["wall_s"] for name, d in s.items()} for s in per_seed]
    write_json(out / "reproduce.json", {"profile": profile, "data": str(root), "seeds": seeds, "init": init,
                                        "overrides": list(overrides), "stage_wall_s": stages,
                                        "wall_s_this_call": time.perf_counter() - start})
    return summary


def format_summary(summary: dict) -> str:
    """summary.json as a few lines of percentages, with the majority-class floor."""
    lines = [f"{'task':10} {'P':>6} {'R':>6} {'F1':>6} {'Acc':>6}   majority F1"]
    for task, s in summary.items():
        t = s["test"]
        lines.append(f"{task:10} " + " ".join(f"{100 * t[m]:6.1f}" for m in METRICS) +
                     f"   {100 * s['majority']['f1']:6.1f}")
    return "\n".join(lines)
