"""Cheap checks before any work: a run either stops at once, with one line naming the fix, or starts.

Every training route (the commands, ``reproduce`` and the run notebooks) calls
:func:`before_training` before it builds a model or writes a file:

* the device exists (``--device cuda`` on a machine without a GPU);
* every split the run will read has rows, a readable CSV and readable images
  (the rules of ``data check``; images are skipped when the run never reads them);
* pretrained weights are on this machine or reachable (full profile);
* the output folder is a folder, and holds no other run (or the run to resume);
* a fine-tuning's ``--init`` checkpoint exists and was trained with the same model settings.
"""
from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict
from pathlib import Path

from .checkpoint import CheckpointError
from .config import Config
from .images import DataError, load_image

CLI = "python -m sydes_mini"
# model.* fields a fine-tuning may set differently from its pretraining (no weight depends on them)
INIT_MAY_DIFFER = ("mask_ratio", "head_dropout", "clip_pretrained", "text_decoder_pretrained",
                   "itc_t_init", "dc_scale_init")


def check_device(name: str) -> None:
    """``auto``, ``cpu``, ``cuda`` or ``cuda:i`` that torch can use, else ValueError naming the option."""
    import torch
    if name == "auto":
        return
    try:
        device = torch.device(name)
    except (RuntimeError, ValueError):
        raise ValueError(f"--device {name}: not a device; use auto, cpu, cuda or cuda:i") from None
    if device.type not in ("cpu", "cuda"):
        raise ValueError(f"--device {name}: only cpu and cuda are supported; use auto, cpu, cuda or cuda:i")
    if device.type == "cuda":
        count = torch.cuda.device_count() if torch.cuda.is_available() else 0
        if count == 0:
            raise ValueError(f"--device {name}: torch sees no GPU on this machine; use --device cpu "
                             "(or --device auto, which picks cuda only when there is one)")
        if device.index is not None and device.index >= count:
            raise ValueError(f"--device {name}: torch sees {count} GPU(s), cuda:0 to cuda:{count - 1}")


def split_errors(root: str | Path, split: str, max_pixels: int, images: bool = True) -> list[DataError]:
    """What would stop a run reading ``split``: CSV problems, an empty split, unreadable images."""
    from .data import find_errors
    records, errors = find_errors(root, split)
    if images and records:
        def load(record):
            try:
                load_image(record.image_path, max_pixels, record.index)
            except DataError as e:
                return e
        with ThreadPoolExecutor(max_workers=min(8, os.cpu_count() or 1)) as pool:   # decoding frees the GIL
            errors += [e for e in pool.map(load, records) if e is not None]
    return errors


def check_data(root: str | Path, splits, max_pixels: int = 50_000_000, images: bool = True) -> None:
    """Every split a run reads, checked as ``data check`` does; the first problem is raised, with the count."""
    errors = [e for split in splits for e in split_errors(root, split, max_pixels, images)]
    if len(errors) == 1:
        raise errors[0]
    if errors:
        first = errors[0]
        raise DataError(first.file, first.reason, f"{first.fix}; {len(errors) - 1} more problem(s) in {root}: "
                        f"`{CLI} data check {root}` lists them all", first.row)


def check_weights(cfg: Config) -> None:
    """The profile's pretrained weights are on this machine (a file or open_clip's cache) or reachable."""
    from .model.clip import resolve_weights
    m = cfg.model
    if m.clip_pretrained:
        resolve_weights(m.clip_model, m.clip_pretrained, "CLIP image/text encoders")
    if m.text_decoder_pretrained:
        model, tag = (m.coca_model, m.coca_tag) if m.text_decoder_pretrained == "coca" else \
            (m.coca_model, m.text_decoder_pretrained)
        resolve_weights(model, tag, "CoCa text decoder")


def check_out_folder(out: str | Path, option: str = "--out") -> None:
    """``out`` is a folder or can become one (no file in the way)."""
    for path in (Path(out), *Path(out).parents):
        if path.exists() and not path.is_dir():
            raise NotADirectoryError(f"{option}: {path} is a file, not a folder; choose another {option}")


def check_out_file(out: str | Path, option: str = "--out") -> None:
    """``out`` names a file that can be written (not a folder, no file in the way of its folder)."""
    if Path(out).is_dir():
        raise IsADirectoryError(f"{option} {out} is a folder; give a file name, e.g. {Path(out) / 'metrics.json'}")
    check_out_folder(Path(out).parent, option)


def check_stage_folder(folder: str | Path, resume: bool) -> None:
    """A new run needs a folder without a run in it; ``--resume`` needs the interrupted run's last.safetensors."""
    folder = Path(folder)
    check_out_folder(folder)
    last = folder / "last.safetensors"
    if resume and not last.exists():
        raise CheckpointError(f"--resume: {last} not found; nothing to resume (run without --resume, or point "
                              "--out at the interrupted run)")
    if not resume and last.exists():
        raise FileExistsError(f"{folder} already holds a run; pass --resume to continue it, or choose another --out")


def check_resumable(folder: str | Path, cfg: Config) -> None:
    """A run to resume (or skip) in ``folder`` was made with this config (except the fields that may differ);
    a folder with no run in it (no last.safetensors, no done.json) is simply trained afresh."""
    from .train import check_resume_config
    folder = Path(folder)
    started = (folder / "last.safetensors").exists() or (folder / "done.json").exists()
    if started and (folder / "config.json").exists():
        check_resume_config(Config.load(folder / "config.json"), cfg, folder)


def init_checkpoint(init: str | Path) -> Path:
    """``--init`` (a pretraining folder or its .safetensors file) -> the checkpoint file, which must exist."""
    init = Path(init)
    path = init if init.suffix == ".safetensors" else init / "best.safetensors"
    if not path.is_file():
        raise CheckpointError(f"--init {init}: {path} not found; run `{CLI} pretrain --out RUN` first and pass "
                              "--init RUN/pretrain, or --init none to fine-tune from scratch (SyDES-B)")
    return path


def check_init(init: str | Path, cfg: Config) -> None:
    """The pretraining checkpoint exists, is a pretraining of this profile, and has this model's settings."""
    from .checkpoint import read
    path = init_checkpoint(init)
    _, header = read(path)
    meta = header["sydes"]
    if meta.get("stage") != "pretrain" or meta.get("profile") != cfg.profile:
        raise CheckpointError(f"--init {init}: {path} is a {meta.get('profile')} {meta.get('stage')} checkpoint; "
                              f"fine-tuning starts from a {cfg.profile} pretraining (RUN/pretrain)")
    saved = path.parent / "config.json"
    if not saved.exists():
        return                                     # no config beside it: its tensors are checked when loaded
    theirs, ours = asdict(Config.load(saved).model), asdict(cfg.model)
    diff = [k for k in ours if k not in INIT_MAY_DIFFER and theirs.get(k) != ours[k]]
    if diff:
        differ = ", ".join(f"model.{k}={theirs.get(k)} there, {ours[k]} here" for k in diff)
        fix = " ".join(f"--set model.{k}={theirs.get(k)}" for k in diff)
        raise CheckpointError(f"--init {init}: its pretraining has other model settings ({differ}); fine-tune "
                              f"with the same settings ({fix}) or pretrain again with this run's settings")


def splits_read(stage: str) -> tuple[str, ...]:
    """The splits a stage reads: pretraining train and dev; fine-tuning also test (its final metrics)."""
    return ("train", "dev") if stage == "pretrain" else ("train", "dev", "test")


def before_training(cfg: Config, stage: str, out: str | Path, init: str | Path | None = None,
                    resume: bool = False, splits=None) -> None:
    """All the cheap checks of one stage into ``out`` (the stage's folder), in the order a user fixes them."""
    from .config import validate
    validate(cfg)
    check_device(cfg.train.device)
    check_stage_folder(out, resume)
    if resume:
        check_resumable(out, cfg)
    check_data(cfg.data.root, splits or splits_read(stage), cfg.data.max_image_pixels,
               images=cfg.data.modality != "text")
    if stage == "finetune" and init is not None:
        check_init(init, cfg)
    check_weights(cfg)
