"""Building the CLIP backbone and loading pretrained weights through open_clip.

The smoke model is an ordinary open_clip architecture: its JSON config ships in
``sydes_mini/model_configs`` and is registered here, so
``open_clip.create_model("sydes-smoke")`` builds it like any other model.
"""
from __future__ import annotations

import logging
import os
import socket
from pathlib import Path

import open_clip
import torch

CONFIG_DIR = Path(__file__).resolve().parent.parent / "model_configs"
open_clip.add_model_config(CONFIG_DIR)

# Where open_clip fetches its weights from (used only to fail fast offline).
_HOSTS = ("huggingface.co", "openaipublic.azureedge.net")


class WeightsUnavailable(RuntimeError):
    """Pretrained weights were asked for but cannot be found or downloaded."""


def _online(timeout: float = 3.0) -> bool:
    if os.environ.get("HF_HUB_OFFLINE") == "1":
        return False
    for host in _HOSTS:
        try:
            socket.create_connection((host, 443), timeout=timeout).close()
            return True
        except OSError:
            continue
    return False


def cached_weights(model_name: str, tag: str) -> str | None:
    """The file of open_clip tag ``tag`` when it is already in a local cache (Hugging Face's, then
    open_clip's ``~/.cache/clip``), else None: cached weights load on a machine without internet."""
    cfg = open_clip.get_pretrained_cfg(model_name, tag)
    if cfg.get("file"):
        return cfg["file"] if Path(cfg["file"]).is_file() else None
    if cfg.get("hf_hub"):
        from huggingface_hub import try_to_load_from_cache
        repo, filename = os.path.split(cfg["hf_hub"])
        names = [filename] if filename else ["open_clip_model.safetensors", "open_clip_pytorch_model.bin"]
        for name in names:
            found = try_to_load_from_cache(repo, name)
            if isinstance(found, str):
                return found
    if cfg.get("url"):
        path = Path("~/.cache/clip").expanduser() / os.path.basename(cfg["url"])
        if path.is_file():
            return str(path)
    return None


def resolve_weights(model_name: str, pretrained: str | None, what: str) -> str | None:
    """What to load: None (random), a local file, a cached tag's file, or a tag to download; else raise.

    A local path must exist; an open_clip tag is looked up in the local caches first (so an
    offline machine loads weights downloaded earlier) and otherwise needs the network.
    """
    if pretrained is None:
        return None
    looks_like_path = os.sep in pretrained or pretrained.endswith((".pt", ".pth", ".bin", ".safetensors"))
    if looks_like_path:
        if not Path(pretrained).is_file():
            raise WeightsUnavailable(f"{what}: weights file {pretrained!r} does not exist; give the path of an "
                                     "existing file")
        return pretrained
    if not open_clip.get_pretrained_cfg(model_name, pretrained):
        tags = [t for m, t in open_clip.list_pretrained() if m == model_name]
        raise WeightsUnavailable(f"{what}: open_clip has no tag {pretrained!r} for {model_name!r}; known: {tags}")
    cached = cached_weights(model_name, pretrained)
    if cached:
        return cached
    if not _online():
        field = "model.clip_pretrained" if what.startswith("CLIP") else "model.text_decoder_pretrained"
        raise WeightsUnavailable(
            f"{what}: pretrained weights {model_name}/{pretrained} are needed, are not in the local caches and "
            f"this machine is offline. Fix: run once with internet (open_clip caches them), or pass a local "
            f"file: --set {field}=/path/to/weights.pt (any open_clip state dict), or use random weights: "
            f"--set {field}=none (or --profile smoke)")
    return pretrained


def create_clip(model_name: str, pretrained: str | None = None, quick_gelu: bool = False) -> torch.nn.Module:
    """An open_clip CLIP model: random init, an open_clip tag, or a local state-dict file."""
    pretrained = resolve_weights(model_name, pretrained, "CLIP image/text encoders")
    root = logging.getLogger()
    level, root.level = root.level, logging.ERROR     # random init is intended: hide open_clip's warning
    try:
        return open_clip.create_model(model_name, pretrained=pretrained, force_quick_gelu=quick_gelu,
                                      weights_only=True)
    finally:
        root.setLevel(level)
