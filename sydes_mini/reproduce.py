"""The main job: one pretraining, three fine-tunes, test metrics and ``summary.json`` (paper 3.4, Tables 2-3).

Layout of ``RUN`` (with ``seeds > 1``, each seed gets ``RUN/seed-<s>/`` with the same inside)::

    RUN/pretrain/                       stage 1 (eq. 7)
    RUN/finetune/{desire,emotion,sentiment}/   stage 2 (eq. 8), metrics_test.json
    RUN/summary.json                    {task: {"test": {precision, recall, f1, accuracy, n[, <m>_std]},
                                                "majority": {f1, accuracy}, "seeds": [...]}}
    RUN/reproduce.json                  profile, data, seeds, wall time of every stage

A stage with ``done.json`` is skipped and one with only ``last.safetensors`` is
resumed, so re-running a finished ``reproduce`` just prints its summary. Before any
stage starts, everything cheap is checked (:mod:`sydes_mini.checks`): options, device,
every split, weights, and that a run already in ``RUN`` was made with the same config
and the same ``init``; otherwise nothing is trained and nothing is written.
"""
from __future__ import annotations

import hashlib
import json
import time
from pathlib import Path

import numpy as np

from . import cache
from .config import Config, get_config
from .data import SPLITS, read_split
from .labels import TASKS
from .metrics import majority_metrics
from .train import check_resume_config, train_stage, write_json

METRICS = ("precision", "recall", "f1", "accuracy")
TOY_ROOT = "data/toy"


def ensure_toy_world(root: str | Path = TOY_ROOT) -> Path:
    """The smoke profile's data: generate the toy world unless a complete one of the current generator
    (:data:`toy.VERSION`) is already there; an older one is redrawn, saying so."""
    from .toy import VERSION, synth
    root, stamp = Path(root), Path(root) / "toy_world.json"
    if stamp.exists():                             # written last by synth: its absence means incomplete
        version = json.loads(stamp.read_text()).get("version", 1)
        if version == VERSION:
            return root
        print(f"{root} holds a toy world of generator version {version}; redrawing it with version {VERSION}",
              flush=True)
    else:
        print(f"generating the toy world in {root} ...", flush=True)
    synth(root, overwrite=True)
    return root


def data_root(profile: str, data: str | Path | None = None, overrides: list[str] = ()) -> Path:
    """The data a run reads: ``data`` when given; else the toy world for smoke (generated when missing),
    else the profile's ``data.root`` (``data/MSED`` for full)."""
    if data:
        return Path(data)
    return ensure_toy_world() if profile == "smoke" else Path(get_config(profile, overrides).data.root)


def stage_folders(run: Path, pretrain: bool = True) -> list[Path]:
    """The stage folders of one seed's run: ``pretrain`` (unless SyDES-B) and ``finetune/<task>``."""
    return ([run / "pretrain"] if pretrain else []) + [run / "finetune" / task for task in TASKS]


def check_same_recipe(run: Path, pretrain: bool) -> None:
    """A finished or interrupted run in ``run`` is only reused for the same recipe: with or without pretraining."""
    started = [f for f in stage_folders(run, False) if (f / "done.json").exists() or (f / "last.safetensors").exists()]
    if not pretrain and (run / "pretrain").exists():
        raise FileExistsError(f"{run} holds a run with pretraining ({run / 'pretrain'}); --init none (SyDES-B) "
                              f"needs its own folder: choose another --out")
    if pretrain and started and not (run / "pretrain" / "done.json").exists():
        raise FileExistsError(f"{run} holds fine-tunes made without this run's pretraining ({started[0]}); "
                              "rerun with --init none to reuse them, or choose another --out")


def data_fingerprint(root: str | Path) -> str:
    """sha256 of a data folder's three split CSVs and, for a toy world, its ``toy_world.json`` (settings and
    generator version): what a run folder records so that it is never reused for other data."""
    digest, root = hashlib.sha256(), Path(root)
    for path in [root / s / f"{s}.csv" for s in SPLITS] + [root / "toy_world.json"]:
        if path.exists():
            digest.update(path.name.encode() + path.read_bytes())
    return digest.hexdigest()


def check_same_data(out: Path, root: Path) -> None:
    """A run folder made from other data (``out/data.json``), or a finished one that does not say (made before
    runs recorded it), is not reused: a clear error instead. A new folder, or stages trained by the
    ``pretrain``/``finetune`` commands (their configs are checked stage by stage), pass."""
    saved, out = Path(out) / "data.json", Path(out)
    if saved.exists():
        if json.loads(saved.read_text())["fingerprint"] != data_fingerprint(root):
            raise FileExistsError(f"{out} was trained on other data than {root} (its data.json fingerprint differs; "
                                  f"the toy world may have been redrawn): delete {out} to retrain, or choose "
                                  "another --out")
    elif (out / "summary.json").exists():
        raise FileExistsError(f"{out} holds runs that do not record their data (made by an older sydes_mini, "
                              f"perhaps on an older toy world): delete {out} to retrain, or choose another --out")


def check_before_reproduce(runs: list[tuple[Config, Path]], out: Path, pretrain: bool) -> None:
    """Everything cheap, before any stage starts: options, device, every split, weights, the run folders."""
    from .checks import check_data, check_device, check_out_folder, check_resumable, check_weights
    cfg = runs[0][0]
    check_out_folder(out)
    check_device(cfg.train.device)
    for run_cfg, run in runs:
        check_same_recipe(run, pretrain)
        for folder in stage_folders(run, pretrain):
            check_resumable(folder, run_cfg)
    check_same_data(out, Path(cfg.data.root))
    check_data(cfg.data.root, SPLITS, cfg.data.max_image_pixels, images=cfg.data.modality != "text")
    check_weights(cfg)


def check_stage(cfg: Config, stage: str, out: str | Path, init: str | Path | None = None) -> None:
    """:func:`run_stage`'s checks, before it builds or writes anything (the run notebooks call it;
    :func:`reproduce` checks all its stages at once): a finished or interrupted stage must have this config."""
    from .checks import before_training
    before_training(cfg, stage, out, init=init, resume=(Path(out) / "last.safetensors").exists())


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
    with cache.shared_features():         # the three tasks share one frozen encoder: encode each split once
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
    if seeds < 1:
        raise ValueError(f"seeds={seeds} must be at least 1")
    start, out = time.perf_counter(), Path(out)
    base, root = get_config(profile, overrides), data_root(profile, data, overrides)
    configs = [get_config(profile, [*overrides, f"data.root={root}", f"seed={base.seed + i}"]) for i in range(seeds)]
    runs = [(cfg, out if seeds == 1 else out / f"seed-{cfg.seed}") for cfg in configs]
    check_before_reproduce(runs, out, init == "pretrain")
    out.mkdir(parents=True, exist_ok=True)
    write_json(out / "data.json", {"root": str(root), "fingerprint": data_fingerprint(root)})
    per_seed = [one_seed(cfg, run, init == "pretrain") for cfg, run in runs]
    summary = summarise(per_seed, root)
    write_json(out / "summary.json", summary)
    stages = [{name: d["wall_s"] for name, d in s.items()} for s in per_seed]
    write_json(out / "reproduce.json", {"profile": profile, "data": str(root), "seeds": seeds, "init": init,
                                        "overrides": list(overrides), "stage_wall_s": stages,
                                        "wall_s_this_call": time.perf_counter() - start})
    return summary


def smoke_run(run_dir: str | Path = "../runs/smoke", data: str | Path = "../data/toy") -> Path:
    """The trained smoke run a chapter shows: ``run_dir`` when it holds a finished one (``summary.json``);
    otherwise the chapter says so and trains it there now: the toy world in ``data``, then
    :func:`reproduce` with the smoke profile (minutes on a CPU, a progress bar per epoch; an interrupted
    run resumes). So a fresh clone or Colab shows a trained model, never random weights."""
    run_dir, data = Path(run_dir), ensure_toy_world(data)
    check_same_data(run_dir, data)
    if not (run_dir / "summary.json").exists():
        print(f"no finished smoke run in {run_dir}: training it there now (toy world in {data}, then the "
              f"smoke recipe; a few minutes on a CPU) ...", flush=True)
        reproduce("smoke", run_dir, data=data)
    return run_dir


def format_summary(summary: dict) -> str:
    """summary.json as a few lines of percentages, with the majority-class floor."""
    lines = [f"{'task':10} {'P':>6} {'R':>6} {'F1':>6} {'Acc':>6}   majority F1"]
    for task, s in summary.items():
        t = s["test"]
        lines.append(f"{task:10} " + " ".join(f"{100 * t[m]:6.1f}" for m in METRICS) +
                     f"   {100 * s['majority']['f1']:6.1f}")
    return "\n".join(lines)
