"""Cached fine-tuning: encode the five views of every sample once, reuse them every epoch (issue 5, "Speed").

In fine-tuning (paper 3.4, eq. 8) the image encoder is frozen, the crops are
not masked (m = 0) and the views of an image are deterministic, so the image
encoder's output for a sample never changes. :func:`cached_dataset` runs the
encoder once per split (no grad, eval mode) and :func:`collate` turns the
stored tokens back into the :class:`~sydes_mini.model.sydes.ImageFeatures` that
``step.finetune_loss`` reads from ``batch["features"]``; the image encoder,
about half of an uncached fine-tune step, is then skipped.

What is stored per sample (C1 encoder width, P patches): the encoder's tokens, before
the code variant's LayerNorm and the latent projections (those keep training in fine-tuning)::

    global_tokens [1+P, C1]    crop_tokens [4, 1+P, C1] (absent with model.use_crops=False)
    text [77]    labels {task: []}    index []

The mask (all zeros at m = 0) and ids_restore (the identity) are not stored;
:func:`collate` rebuilds them. Cost per sample, 5 x 197 tokens:

* smoke (C1 = 64, fp32): 5 x 197 x 64 x 4 B = 0.25 MB; the 600-sample toy train split 151 MB;
* full (C1 = 768, fp32): 5 x 197 x 768 x 4 B = 3.0 MB; MSED train (6,127) 18.5 GB,
  dev 3.1 GB, test 6.2 GB. ``dtype=torch.bfloat16`` or ``float16`` halves this
  (results then change by the rounding of the tokens); ``cache_dir`` keeps the
  tokens in memory-mapped files on disk instead of RAM.

``reproduce`` fine-tunes three tasks from one pretrained encoder: inside :func:`shared_features`,
:func:`cached_split` encodes each split once and hands the same features to the three fine-tunes
(keyed by the split and a hash of the image encoder's weights, so a different encoder never reuses them).
"""
from __future__ import annotations

import hashlib
import math
import tempfile
from contextlib import contextmanager
from pathlib import Path

import torch
import torch.nn.functional as F
from torch.utils.data import Dataset
from tqdm.auto import tqdm

from .data import CONTEXT_LENGTH, make_loader, trim_padding
from .labels import TASKS
from .model.image_decoder import unshuffle
from .model.sydes import ImageFeatures, SyDES

__all__ = ["FeatureDataset", "cached_dataset", "collate"]

FEATURES = ("global_tokens", "crop_tokens")   # the stored fields of ImageFeatures


class FeatureDataset(Dataset):
    """Items ``{global_tokens, [crop_tokens], text, labels, index}`` of precomputed image features.

    ``features`` {name: [N, ...]} are kept in their storage dtype and returned
    in ``compute_dtype`` (the model's), so a half-precision cache feeds an fp32 model.
    """

    def __init__(self, features: dict[str, torch.Tensor], text: torch.Tensor, labels: dict[str, torch.Tensor],
                 index: torch.Tensor, compute_dtype: torch.dtype):
        self.features, self.text, self.labels, self.index = features, text, labels, index
        self.compute_dtype = compute_dtype

    def __len__(self) -> int:
        return len(self.index)

    def __getitem__(self, i: int) -> dict:
        item = {name: t[i].to(self.compute_dtype) for name, t in self.features.items()}
        item.update(text=self.text[i], labels={task: y[i] for task, y in self.labels.items()},
                    index=int(self.index[i]))
        return item

    @property
    def nbytes(self) -> int:
        """Bytes held by the stored image features (RAM, or disk with ``cache_dir``)."""
        return sum(t.numel() * t.element_size() for t in self.features.values())


def collate(items: list[dict]) -> dict:
    """Items -> ``features`` (ImageFeatures, mask and ids_restore of m = 0 rebuilt), ``text [B, L]``
    (``data.trim_padding``), ``labels {task: [B]}``, ``index [B]``: a batch for ``step.finetune_loss``."""
    stacked = {name: torch.stack([it[name] for it in items]) for name in FEATURES if name in items[0]}
    crops = stacked.get("crop_tokens")                                      # [B, 4, 1+P, C1] or None
    mask = ids_restore = None
    if crops is not None:
        B, V, P = crops.shape[0], crops.shape[1], crops.shape[2] - 1
        mask = torch.zeros(B, V, P)                                         # [B, 4, P] nothing masked
        ids_restore = torch.arange(P).expand(B, V, P)                       # [B, 4, P] patch order
    features = ImageFeatures(stacked["global_tokens"], crops, mask, ids_restore)
    return {"features": features,
            "text": trim_padding(torch.stack([it["text"] for it in items])),
            "labels": {t: torch.stack([it["labels"][t] for it in items]) for t in TASKS},
            "index": torch.tensor([it["index"] for it in items])}


def allocate(shape: tuple[int, ...], dtype: torch.dtype, cache_dir: str | Path | None) -> torch.Tensor:
    """An empty tensor in RAM, or memory-mapped on a file in ``cache_dir`` (deleted when the process ends)."""
    if cache_dir is None:
        return torch.empty(shape, dtype=dtype)
    Path(cache_dir).mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=cache_dir, prefix="sydes-features-", suffix=".bin") as f:
        # the mapping outlives the file name: the space is freed with the tensor, even after a crash
        return torch.from_file(f.name, shared=True, size=math.prod(shape), dtype=dtype).view(shape)


def patch_order(f: ImageFeatures) -> dict[str, torch.Tensor]:
    """ImageFeatures of one batch (m = 0) -> {name: tensor}, the crop tokens put back in patch order."""
    out = {"global_tokens": f.global_tokens}                                # [B, 1+P, C1]
    if f.crop_tokens is not None:
        tokens = f.crop_tokens.flatten(0, 1)                                # [B*4, 1+P, C1] CLS first
        patches = unshuffle(tokens[:, 1:], f.ids_restore.flatten(0, 1), tokens.new_zeros(tokens.shape[-1]))
        out["crop_tokens"] = torch.cat([tokens[:, :1], patches], 1).unflatten(0, f.crop_tokens.shape[:2])
    return out


_shared: dict | None = None       # {(split key, encoder hash): FeatureDataset} inside shared_features()


@contextmanager
def shared_features():
    """Within this block :func:`cached_split` reuses the features it already made for the same split and
    the same image-encoder weights (the fine-tunes of one ``reproduce`` seed); they are freed after it."""
    global _shared
    previous, _shared = _shared, {}
    try:
        yield
    finally:
        _shared = previous


def encoder_hash(model: SyDES) -> str:
    """SHA-1 of the image encoder's weights and buffers (what :meth:`SyDES.encode_images` reads)."""
    h = hashlib.sha1(str(model.use_crops).encode())
    for name, t in sorted(model.image_encoder.state_dict().items()):
        h.update(name.encode())
        h.update(t.detach().cpu().contiguous().view(torch.uint8).numpy().tobytes())
    return h.hexdigest()


def cached_split(model: SyDES, dataset: Dataset, key: tuple, **kwargs) -> FeatureDataset:
    """:func:`cached_dataset`, reused inside :func:`shared_features` when ``key`` (what identifies the split:
    folder, split name, data options, precision) and the encoder's weights are the same."""
    if _shared is None:
        return cached_dataset(model, dataset, **kwargs)
    full_key = (key, encoder_hash(model))
    if full_key not in _shared:
        _shared[full_key] = cached_dataset(model, dataset, **kwargs)
    return _shared[full_key]


@torch.no_grad()
def cached_dataset(model: SyDES, dataset: Dataset, batch_size: int = 32, device: str | torch.device = "cpu",
                   dtype: torch.dtype | None = None, cache_dir: str | Path | None = None,
                   num_workers: int = 0) -> FeatureDataset:
    """Encode the five views of every item of ``dataset`` (an MSEDDataset) once -> :class:`FeatureDataset`.

    ``model`` must already be on ``device``; it runs in eval mode with mask ratio 0
    and is put back in its previous mode. ``dtype`` is the storage dtype (default:
    the model's); ``cache_dir`` stores the tokens on disk instead of in RAM. Call it
    inside the same ``torch.autocast`` as training (CUDA) to cache what the uncached
    step would compute.
    """
    if len(dataset) == 0:
        raise ValueError("cannot cache an empty dataset: the split has no rows")
    compute_dtype = next(model.image_encoder.parameters()).dtype
    dtype = dtype or compute_dtype
    was_training = model.training
    model.eval()
    store, text, labels, index, start = {}, [], {t: [] for t in TASKS}, [], 0
    for batch in tqdm(make_loader(dataset, batch_size, num_workers=num_workers), desc="caching image features",
                      unit="batch"):
        crops = batch["crops"].to(device) if model.use_crops else None
        f = model.encode_images(batch["global_view"].to(device), crops, mask_ratio=0.0)
        for name, t in patch_order(f).items():
            if name not in store:
                store[name] = allocate((len(dataset), *t.shape[1:]), dtype, cache_dir)
            store[name][start:start + len(t)] = t.to("cpu", dtype)
        start += len(batch["index"])
        text.append(F.pad(batch["text"], (0, CONTEXT_LENGTH - batch["text"].shape[1])))   # stored as [b, 77]
        index.append(batch["index"])
        for task in TASKS:
            labels[task].append(batch["labels"][task])
    model.train(was_training)
    return FeatureDataset(store, torch.cat(text), {t: torch.cat(y) for t, y in labels.items()},
                          torch.cat(index), compute_dtype)
