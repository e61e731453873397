"""Predict desire, emotion and sentiment for one image and one caption (paper Fig. 3).

A run has one fine-tuned model per task (``RUN/finetune/<task>/best.safetensors``,
paper 3.4.2: one pretrained checkpoint, three fine-tunes). :class:`Predictor`
holds the three and answers ``predict(image, caption)`` with a probability for
every class of every task, plus the last cross-attention of the text decoder
(text tokens over the 5 x P patch tokens) for the attention overlay of
chapter 11 (paper Fig. 4).
"""
from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

import torch
from PIL import Image

from .checkpoint import CheckpointError, load_weights
from .config import Config, get_config
from .data import get_tokenizer, tokenize, trim_padding
from .labels import LABELS, TASKS
from .model import SyDES, build_model
from .views import mixed_scale_views


@dataclass
class Prediction:
    probabilities: dict[str, dict[str, float]]   # {task: {label: probability}}, each task sums to 1
    attention: torch.Tensor                      # [L-1, 5*P] cross-attention of ``attention_task``'s model
                                                 # (L = len(tokens); row k: token k; end-of-text is no query)
    global_view: torch.Tensor                    # [3, 224, 224]  (CLIP-normalised, what the model saw)
    crops: torch.Tensor                          # [4, 3, 224, 224]
    tokens: list[str]                            # the caption's tokens, start and end included

    def top(self) -> dict[str, tuple[str, float]]:
        """{task: (most probable label, its probability)}."""
        return {t: max(p.items(), key=lambda kv: kv[1]) for t, p in self.probabilities.items()}


class Predictor:
    """The three task models of one run behind one call; ``source`` says where their weights came from."""

    def __init__(self, models: dict[str, SyDES], cfg: Config, source: str, device: str | torch.device = "cpu"):
        missing = set(TASKS) - set(models)
        if missing:
            raise ValueError(f"Predictor needs a model for every task; missing {sorted(missing)}")
        self.device = torch.device(device)
        self.models = {task: m.to(self.device).eval() for task, m in models.items()}
        self.cfg, self.source = cfg, source

    @classmethod
    def untrained(cls, profile: str = "smoke", seed: int = 0, device: str | torch.device = "cpu") -> "Predictor":
        """Random weights (no download): what the demo shows before any run exists."""
        cfg = get_config(profile, ["model.clip_pretrained=none", "model.text_decoder_pretrained=none"])
        torch.manual_seed(seed)
        return cls({task: build_model(cfg, task) for task in TASKS}, cfg, "untrained (random weights)", device)

    @classmethod
    def from_run(cls, run: str | Path, device: str | torch.device = "cpu") -> "Predictor":
        """The three fine-tuned models of a run: ``RUN/finetune/<task>/{config.json, best.safetensors}``."""
        found = finetune_checkpoints(run)
        missing = [str(Path(run) / "finetune" / task / "best.safetensors") for task in TASKS if task not in found]
        if missing:
            raise CheckpointError(f"{run}: no fine-tuned checkpoint {', '.join(missing)}; train them first "
                                  f"(`python -m sydes_mini reproduce --out {run}`), or use load_predictor(run), "
                                  "which falls back to random weights")
        models, cfg = {}, None
        for task, path in found.items():
            weights, meta = load_weights(path, stage="finetune", task=task)
            cfg = Config.load(path.parent / "config.json")
            cfg.model.clip_pretrained = cfg.model.text_decoder_pretrained = None   # every weight is in the file
            models[task] = build_model(cfg, task)
            models[task].load_state_dict(weights)
        return cls(models, cfg, f"fine-tuned ({cfg.profile} profile) from {Path(run)}", device)

    @torch.no_grad()
    def predict(self, image: Image.Image, caption: str, attention_task: str = "desire") -> Prediction:
        """One RGB image and its caption -> :class:`Prediction` (the views of the run's ``variant``)."""
        if attention_task not in TASKS:
            raise ValueError(f"attention_task={attention_task!r}; choose one of {TASKS}")
        global_view, crops = mixed_scale_views(image.convert("RGB"), self.cfg.variant)  # [3,224,224], [4,3,224,224]
        text = trim_padding(tokenize([caption]))                                        # [1, L]
        probs, attention = {}, None
        for task, model in self.models.items():
            out = model(global_view[None].to(self.device), crops[None].to(self.device), text.to(self.device),
                        mask_ratio=0.0, decode_image=False, need_attn=task == attention_task)
            p = out.logits.float().softmax(-1)[0].cpu()                                 # [K]
            probs[task] = dict(zip(LABELS[task], p.tolist()))
            if task == attention_task:
                attention = out.attention[0].float().cpu()                              # [L-1, 5*P]
        return Prediction(probs, attention, global_view, crops, token_strings(text[0]))


def token_strings(ids: torch.Tensor) -> list[str]:
    """Token ids [77] -> their text, up to and including the end token (padding dropped)."""
    tok = get_tokenizer()
    n = int((ids != 0).sum())
    return [tok.decode([i]).strip() for i in ids[:n].tolist()]


def finetune_checkpoints(run: str | Path) -> dict[str, Path]:
    """{task: RUN/finetune/<task>/best.safetensors} for the tasks whose checkpoint exists."""
    found = {task: Path(run) / "finetune" / task / "best.safetensors" for task in TASKS}
    return {task: path for task, path in found.items() if path.exists()}


def load_predictor(run: str | Path, profile: str = "smoke", seed: int = 0,
                   device: str | torch.device = "cpu") -> Predictor:
    """The three fine-tuned models of ``run`` when all exist; otherwise untrained ones, and ``source`` says why."""
    found = finetune_checkpoints(run)
    if len(found) == len(TASKS):
        return Predictor.from_run(run, device)
    predictor = Predictor.untrained(profile, seed, device)
    have = ", ".join(found) or "none"
    predictor.source = f"untrained (random weights): {run} has fine-tuned checkpoints for {have} of {', '.join(TASKS)}"
    return predictor


def image_from_upload(value) -> Image.Image | None:
    """The image in an ipywidgets ``FileUpload`` value, or None when nothing was uploaded.

    ipywidgets 8 (Jupyter today) gives a tuple of dicts with a ``content`` memoryview; ipywidgets 7
    (long Colab's version) a dict {file name: {"metadata": ..., "content": bytes}}: both are read.
    """
    if not value:
        return None
    item = next(iter(value.values())) if isinstance(value, dict) else value[0]
    return Image.open(io.BytesIO(bytes(item["content"]))).convert("RGB")
