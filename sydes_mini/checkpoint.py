"""Checkpoints in safetensors, written atomically, never unpickled (issue 5, "Checkpoints and failure").

Two kinds of file, both plain safetensors with a JSON header entry ``sydes``
that names the profile, stage, task and step they belong to:

* ``best.safetensors``: the model's weights only (what ``evaluate``, ``predict``
  and fine-tuning's ``--init`` read);
* ``last.safetensors``: the weights **and** the training state (optimiser
  moments under ``optimizer/``, RNG states under ``rng/``; scheduler, grad
  scaler, progress and Python/numpy RNG states as JSON in the header ``state``).
  One file is one consistent resume point: a SIGKILL leaves either the old or
  the new file, never a mix (temporary file in the same folder, fsync, ``os.replace``).
"""
from __future__ import annotations

import json
import os
import random
from pathlib import Path

import numpy as np
import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import save_file

STATE_PREFIXES = ("optimizer/", "rng/")


class CheckpointError(RuntimeError):
    """A checkpoint that cannot be used: missing, corrupted, or from another profile, stage or task."""


def atomic_save(tensors: dict[str, torch.Tensor], path: str | Path, header: dict) -> None:
    """safetensors file with JSON ``header`` entries, via a temporary file + fsync + rename."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp")
    tensors = {k: v.detach().contiguous().cpu() for k, v in tensors.items()}
    save_file(tensors, tmp, metadata={k: json.dumps(v) for k, v in header.items()})
    with open(tmp, "rb+") as f:
        os.fsync(f.fileno())
    os.replace(tmp, path)
    folder = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(folder)                       # make the rename itself durable
    finally:
        os.close(folder)


def read(path: str | Path, prefix: str | None = "") -> tuple[dict[str, torch.Tensor], dict]:
    """-> (tensors whose name starts with ``prefix``, or model weights for ``prefix=""``; header dict)."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{path}: checkpoint file not found")
    try:
        with safe_open(str(path), framework="pt") as f:
            header = {k: json.loads(v) for k, v in (f.metadata() or {}).items()}
            names = [k for k in f.keys() if (k.startswith(prefix) if prefix else not k.startswith(STATE_PREFIXES))]
            tensors = {k[len(prefix):]: f.get_tensor(k) for k in names}
    except (SafetensorError, OSError, ValueError) as e:
        raise CheckpointError(f"{path}: cannot read this checkpoint ({e}); it is truncated or corrupted. "
                              "Delete it and resume from another checkpoint, or train again.") from None
    if "sydes" not in header:
        raise CheckpointError(f"{path}: not a SyDES mini checkpoint (no 'sydes' header entry)")
    return tensors, header


def check_meta(path: str | Path, meta: dict, **expected) -> None:
    """Raise if the checkpoint's profile/stage/task differ from ``expected`` (None = any)."""
    for key, want in expected.items():
        if want is not None and meta.get(key) != want:
            raise CheckpointError(f"{path}: checkpoint is from {key}={meta.get(key)!r}, but {key}={want!r} is "
                                  f"needed (it holds profile={meta.get('profile')!r}, stage={meta.get('stage')!r}, "
                                  f"task={meta.get('task')!r}); point to the matching run")


def save_weights(model: torch.nn.Module, path: str | Path, meta: dict) -> None:
    """The model's state dict (weights and buffers) -> ``path`` with ``meta`` (profile, stage, task, step)."""
    atomic_save(model.state_dict(), path, {"sydes": meta})


def load_weights(path: str | Path, **expected) -> tuple[dict[str, torch.Tensor], dict]:
    """-> (model state dict, meta), after checking ``expected`` meta (profile=, stage=, task=)."""
    weights, header = read(path)
    check_meta(path, header["sydes"], **expected)
    return weights, header["sydes"]


# -- training state ---------------------------------------------------------------------------

def rng_state(mask_generator: torch.Generator) -> tuple[dict[str, torch.Tensor], dict]:
    """Every random number generator a step draws from -> (tensors, JSON-able)."""
    tensors = {"rng/torch": torch.get_rng_state(), "rng/mask": mask_generator.get_state()}
    if torch.cuda.is_available():
        tensors.update({f"rng/cuda{i}": s for i, s in enumerate(torch.cuda.get_rng_state_all())})
    kind, keys, pos, has_gauss, gauss = np.random.get_state()
    tensors["rng/numpy"] = torch.from_numpy(keys.astype(np.int64))
    return tensors, {"python": random.getstate(), "numpy": [kind, pos, has_gauss, gauss]}


def set_rng_state(tensors: dict[str, torch.Tensor], state: dict, mask_generator: torch.Generator) -> None:
    torch.set_rng_state(tensors["torch"])
    mask_generator.set_state(tensors["mask"])
    if torch.cuda.is_available() and "cuda0" in tensors:
        torch.cuda.set_rng_state_all([tensors[f"cuda{i}"] for i in range(torch.cuda.device_count())])
    kind, pos, has_gauss, gauss = state["numpy"]
    np.random.set_state((kind, tensors["numpy"].numpy().astype(np.uint32), pos, has_gauss, gauss))
    version, internal, gauss_next = state["python"]
    random.setstate((version, tuple(internal), gauss_next))


def optimizer_tensors(optimizer: torch.optim.Optimizer) -> tuple[dict[str, torch.Tensor], list[dict]]:
    """AdamW state dict -> ({optimizer/<param>/<name>: tensor}, param_groups as JSON)."""
    sd = optimizer.state_dict()
    tensors = {f"optimizer/{i}/{name}": t for i, s in sd["state"].items() for name, t in s.items()}
    return tensors, sd["param_groups"]


def load_optimizer(optimizer: torch.optim.Optimizer, tensors: dict[str, torch.Tensor], groups: list[dict]) -> None:
    state: dict[int, dict] = {}
    for key, t in tensors.items():
        i, name = key.split("/")
        state.setdefault(int(i), {})[name] = t
    groups = [{**g, "betas": tuple(g["betas"])} for g in groups]
    optimizer.load_state_dict({"state": state, "param_groups": groups})


def save_last(path: str | Path, model, optimizer, scheduler, scaler, mask_generator, meta: dict,
              progress: dict) -> None:
    """Weights + everything needed to continue exactly -> one atomic ``last.safetensors``."""
    opt_t, groups = optimizer_tensors(optimizer)
    rng_t, rng_json = rng_state(mask_generator)
    state = {"progress": progress, "optimizer_groups": groups, "scheduler": scheduler.state_dict(),
             "scaler": scaler.state_dict(), "rng": rng_json}
    atomic_save({**model.state_dict(), **opt_t, **rng_t}, path, {"sydes": meta, "state": state})


def load_last(path: str | Path, model, optimizer, scheduler, scaler, mask_generator, **expected) -> dict:
    """Restore everything :func:`save_last` wrote; returns the progress dict."""
    weights, meta = load_weights(path, **expected)
    model.load_state_dict(weights)
    opt_t, header = read(path, "optimizer/")
    rng_t, _ = read(path, "rng/")
    state = header["state"]
    load_optimizer(optimizer, opt_t, state["optimizer_groups"])
    scheduler.load_state_dict(state["scheduler"])
    scaler.load_state_dict(state["scaler"])
    set_rng_state(rng_t, state["rng"], mask_generator)
    return state["progress"]
