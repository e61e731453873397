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


def resolve_weights(model_name: str, pretrained: str | None, what: str) -> str | None:
    """Return ``pretrained`` unchanged if usable (local file or reachable tag), else raise.

    A local path must exist; an open_clip tag needs the network (open_clip caches
    the download, so the first run needs internet and later ones do not).
    """
    if pretrained is None:
        return None
    looks_like_path = os.sep in pretrained or pretrained.endswith((".pt", ".pth", ".bin", ".safetensors"))
    if looks_like_path:
        if not Path(pretrained).is_file():
            raise WeightsUnavailable(f"{what}: weights file {pretrained!r} does not exist.")
        return pretrained
    if not open_clip.get_pretrained_cfg(model_name, pretrained):
        tags = [t for m, t in open_clip.list_pretrained() if m == model_name]
        raise WeightsUnavailable(f"{what}: open_clip has no tag {pretrained!r} for {model_name!r}; known: {tags}")
    if not _online():
        raise WeightsUnavailable(
            f"{what}: pretrained weights {model_name}/{pretrained} are needed but this machine is offline.\n"
            f"  Fix: run once with internet (open_clip caches them), or download them elsewhere and pass the\n"
            f"  local file, e.g. --set model.clip_pretrained=/path/to/{model_name}.pt (any open_clip state dict),\n"
            f"  or use --no-pretrained / --profile smoke for random weights.")
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
