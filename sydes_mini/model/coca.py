"""CoCa weights for the image-guided text decoder (SPEC difference 1).

The authors initialise the text decoder from open_clip's ``coca_ViT-L-14``
(``mscoco_finetuned_laion2b_s13b_b90k``). Only tensors of its multimodal
decoder (``text_decoder.*``) whose shapes match ours are copied; a report of
loaded and skipped keys is printed.
"""
from __future__ import annotations

import open_clip
from open_clip.factory import load_state_dict
from torch import nn

from .clip import WeightsUnavailable, resolve_weights

PREFIX = "text_decoder."


def coca_checkpoint(source: str, coca_model: str, coca_tag: str) -> str:
    """``source`` is "coca" (open_clip's download of ``coca_model``/``coca_tag``) or a local file."""
    if source != "coca":
        return resolve_weights(coca_model, source, "CoCa text decoder")
    found = resolve_weights(coca_model, coca_tag, "CoCa text decoder")   # a cached file, or fails fast offline
    if found != coca_tag:
        return found
    path = open_clip.download_pretrained(open_clip.get_pretrained_cfg(coca_model, coca_tag))
    if not path:
        raise WeightsUnavailable(f"CoCa text decoder: open_clip could not download {coca_model}/{coca_tag}")
    return path


def match_decoder_weights(decoder: nn.Module, state_dict: dict) -> tuple[dict, dict]:
    """Split a CoCa state dict into (tensors to load, {key: reason skipped}) for ``decoder``."""
    ours = decoder.state_dict()
    load, skipped = {}, {}
    for key, tensor in state_dict.items():
        if not key.startswith(PREFIX):
            continue
        name = key[len(PREFIX):]
        if name not in ours:
            skipped[key] = "not in our decoder"
        elif ours[name].shape != tensor.shape:
            skipped[key] = f"shape {tuple(tensor.shape)} != ours {tuple(ours[name].shape)}"
        else:
            load[name] = tensor
    return load, skipped


def load_coca_decoder(decoder: nn.Module, source: str, coca_model: str, coca_tag: str,
                      verbose: bool = True) -> dict:
    """Copy matching CoCa decoder tensors into ``decoder`` (a ``MultimodalTransformer``); returns the report."""
    state_dict = load_state_dict(coca_checkpoint(source, coca_model, coca_tag), weights_only=True)
    load, skipped = match_decoder_weights(decoder, state_dict)
    if not load:
        raise WeightsUnavailable(f"CoCa text decoder: no tensor of {source!r} matches the decoder "
                                 f"(expected keys starting with {PREFIX!r})")
    decoder.load_state_dict(load, strict=False)
    missing = sorted(set(decoder.state_dict()) - set(load))
    report = {"loaded": sorted(load), "skipped": skipped, "missing": missing}
    if verbose:
        print(f"CoCa text decoder: loaded {len(load)} tensors, skipped {len(skipped)}, "
              f"left at random init {len(missing)}")
        for key, why in skipped.items():
            print(f"  skipped {key}: {why}")
    return report
