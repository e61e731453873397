"""Configuration: small typed dataclasses and two named profiles.

* ``smoke`` (the default): a tiny CLIP-shaped model (``sydes-smoke``, shipped in
  ``sydes_mini/model_configs``), random weights, the generated toy world, a few
  CPU minutes end to end.
* ``full``: the paper's model (ViT-B/16 OpenAI weights, decoders at the sizes
  of paper 3.2, CoCa weights for the text decoder) and recipe (Table 8).

Every field can be overridden by its dotted name (``--set model.mask_ratio=0.5``
on the command line, ``overrides=[...]`` from Python or a papermill cell), and
every run saves its config as JSON next to its checkpoints.
"""
from __future__ import annotations

import dataclasses
import json
import typing
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Iterable

from .labels import TASKS  # noqa: F401  (re-exported)
VARIANTS = ("code", "paper")  # SPEC "Where the authors' code differs from the paper"


@dataclass
class ModelConfig:
    clip_model: str = "sydes-smoke"      # open_clip architecture name
    clip_pretrained: str | None = None   # open_clip tag ("openai") or a local file; None = random init
    quick_gelu: bool = False             # OpenAI CLIP weights were trained with QuickGELU
    image_decoder_width: int = 64        # paper 3.2.3: 512
    image_decoder_layers: int = 2        # paper 3.2.3: 8
    image_decoder_heads: int = 2         # paper 3.2.3: 8
    text_decoder_width: int = 64         # paper 3.2.4: 768 (CoCa ViT-L-14 multimodal decoder)
    text_decoder_layers: int = 2         # paper 3.2.4: 12
    text_decoder_heads: int = 2          # paper 3.2.4: 12
    text_decoder_output_dim: int = 64    # code variant: text decoder output projection (authors: 512)
    latent_dim: int = 64                 # code variant: width of the L_itc/L_si/L_dc latents (authors: 512);
                                         # must equal image_decoder_width (z is compared with it directly)
    text_decoder_pretrained: str | None = None  # "coca" (open_clip download) or a local file; None = random
    coca_model: str = "coca_ViT-L-14"
    coca_tag: str = "mscoco_finetuned_laion2b_s13b_b90k"
    mask_ratio: float = 0.75             # pretraining mask ratio m of the 4 crops (Table 6); 0 in fine-tuning
    head_dropout: float = 0.1
    itc_t_init: float = 1.0              # L_itc logits scaled by exp(t) (SPEC difference 2)
    dc_scale_init: float = 1 / 0.07      # L_dc logits scaled by this, used as is (SPEC difference 4)
    use_crops: bool = True               # False = global view only (Table 5, step 0)
    use_image_decoder: bool = True       # False = no reconstruction decoder (Table 5, step 1)
    use_aggregator: bool = True          # False = plain mean over the 4 crops (Table 5, step 2)


@dataclass
class DataConfig:
    root: str = "data/toy"               # an MSED-format folder
    text_field: str = "caption"          # "caption" (authors), "title" or "title+caption"
    modality: str = "both"               # "both", "text" (images -> all ones) or "image" (captions -> "") (Table 9)
    num_workers: int = 0
    max_image_pixels: int = 50_000_000   # refuse larger images (decompression bombs) unless raised
    cache_images: bool = False           # keep each image's resampling between epochs (smoke: on; 0.75 MB/image)


PRECISIONS = ("fp32", "tf32", "fp16", "bf16")   # sydes_mini.device: TF32 and autocast on CUDA only


@dataclass
class TrainConfig:
    epochs_pretrain: int = 3             # eq. 7 stage (paper: 50)
    epochs_finetune: int = 3             # eq. 8 stage, per task (paper: 50)
    batch_size: int = 16                 # authors: 32 x grad_accum 2 = 64 (Table 8)
    grad_accum: int = 1
    weight_decay: float = 0.01
    warmup_pretrain: float = 0.15
    warmup_finetune: float = 0.10
    grad_clip: float = 1.0
    precision: str = "fp32"              # fp32 | tf32 | fp16 | bf16 (TF32 and autocast on CUDA only)
    device: str = "auto"
    eval_every_steps: int = 96           # authors evaluate on dev every 96 optimiser steps (+ every epoch end)
    save_every_steps: int = 0            # 0 = only at evaluations
    max_steps: int = 0                   # 0 = no limit (for quick tries)
    cache_features: bool = True          # fine-tuning: encode the frozen image views once per split (sydes_mini.cache)
    # Table 8 learning rates, per module and stage
    # ("others": every other trained parameter, the authors' catch-all group; see sydes_mini.stages)
    lr_pretrain: dict[str, float] = field(default_factory=lambda: {
        "image_encoder": 5e-6, "text_encoder": 5e-5, "image_decoder": 1e-4, "others": 1e-4})
    lr_finetune: dict[str, float] = field(default_factory=lambda: {
        "text_encoder": 1e-4, "text_decoder": 2e-4, "head": 1e-4, "others": 1e-4})
    # Loss weights, eq. 7 and eq. 8 (Table 8)
    pretrain_weights: dict[str, float] = field(default_factory=lambda: {
        "rec": 1.0, "si": 0.5, "dc": 0.025, "itc": 0.5})
    finetune_weights: dict[str, float] = field(default_factory=lambda: {"cls": 1.0, "itc": 0.4})
    pretrain_losses: list[str] = field(default_factory=lambda: ["rec", "itc", "si", "dc"])  # Table 4/10
    finetune_losses: list[str] = field(default_factory=lambda: ["cls", "itc"])


@dataclass
class Config:
    profile: str = "smoke"
    variant: str = "code"                # "code" = the authors' code, "paper" = the paper's equations
    seed: int = 42
    model: ModelConfig = field(default_factory=ModelConfig)
    data: DataConfig = field(default_factory=DataConfig)
    train: TrainConfig = field(default_factory=TrainConfig)

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> "Config":
        return from_dict(json.loads(text))

    def save(self, path: str | Path) -> None:
        Path(path).write_text(self.to_json() + "\n")

    @classmethod
    def load(cls, path: str | Path) -> "Config":
        return cls.from_json(Path(path).read_text())


def full_profile() -> Config:
    """The paper's model and recipe (paper 3.2, Table 8, SPEC differences)."""
    model = ModelConfig(
        clip_model="ViT-B-16-quickgelu", clip_pretrained="openai", quick_gelu=True,
        image_decoder_width=512, image_decoder_layers=8, image_decoder_heads=8,
        text_decoder_width=768, text_decoder_layers=12, text_decoder_heads=12, text_decoder_output_dim=512,
        latent_dim=512,
        text_decoder_pretrained="coca")
    train = TrainConfig(epochs_pretrain=50, epochs_finetune=50, batch_size=32, grad_accum=2, precision="fp16")
    return Config(profile="full", model=model, data=DataConfig(root="data/MSED", num_workers=4), train=train)


def smoke_profile() -> Config:
    """The tiny random-init model on the toy world. Its learning rates are far above Table 8's: the paper's
    (5e-6 ... 2e-4) fine-tune pretrained CLIP/CoCa weights, while the smoke model starts from random
    weights and has only a few hundred optimiser steps to learn anything. As in Table 8, the image
    encoder pretrains 20x slower than the new modules (5e-6 vs 1e-4 there): at the same rate as the
    decoders, smoke pretraining reshaped the encoder so that desire fell from 66 to 51 test F1 (one seed,
    notes/issue11_diagnosis.md section 9). Fine-tuning runs 8 epochs per task, pretraining 5: with 5 the
    text decoder was still finding the banners when fine-tuning stopped (dev F1 of desire still climbing;
    two of three seeds of Table 5's mixed-scale row far behind), a fine-tuning epoch costs about a sixth
    of a pretraining epoch (cached image features), and 8 keeps ``reproduce`` within 6 CPU minutes
    (section 10 of the same notes)."""
    train = TrainConfig(
        epochs_pretrain=5, epochs_finetune=8,
        lr_pretrain={"image_encoder": 5e-5, "text_encoder": 1e-3, "image_decoder": 1e-3, "others": 1e-3},
        lr_finetune={"text_encoder": 1e-3, "text_decoder": 1e-3, "head": 1e-3, "others": 1e-3})
    return Config(data=DataConfig(cache_images=True), train=train)   # the toy world: 0.45 GB of images


PROFILES = {"smoke": smoke_profile, "full": full_profile}


def get_config(profile: str = "smoke", overrides: Iterable[str] = ()) -> Config:
    """Build a profile and apply ``key=value`` overrides, e.g. ``model.mask_ratio=0.5``."""
    if profile not in PROFILES:
        raise ValueError(f"unknown profile {profile!r}; choose one of {sorted(PROFILES)}")
    cfg = PROFILES[profile]()
    for item in overrides:
        apply_override(cfg, item)
    if cfg.profile != profile:
        raise ValueError(f"--set profile={cfg.profile}: a profile is a whole set of values, chosen with "
                         f"--profile {cfg.profile} (or profile={cfg.profile!r} in a notebook), not with --set")
    validate(cfg)
    return cfg


# papermill / notebook parameter -> config field(s); ``None`` keeps the profile's value
PARAMETERS = {"data_root": "data.root", "epochs": ("train.epochs_pretrain", "train.epochs_finetune"), "batch_size": "train.batch_size",
              "max_steps": "train.max_steps", "seed": "seed", "device": "train.device"}


def fields_of(target: str | tuple[str, ...]) -> tuple[str, ...]:
    """A parameter's or option's config field(s): ``epochs`` sets the epochs of both stages."""
    return (target,) if isinstance(target, str) else target


def config_from_parameters(profile: str, overrides: Iterable[str] = (), **parameters: Any) -> Config:
    """A notebook's ``parameters`` cell -> Config: ``overrides`` first, then each parameter that is not None,
    e.g. ``config_from_parameters("smoke", [], epochs=1, seed=None)`` (names in :data:`PARAMETERS`)."""
    unknown = sorted(set(parameters) - set(PARAMETERS))
    if unknown:
        raise ValueError(f"unknown notebook parameter(s) {unknown}; known: {sorted(PARAMETERS)}")
    fields = [f"{field}={v}" for k, v in parameters.items() if v is not None for field in fields_of(PARAMETERS[k])]
    return get_config(profile, [*overrides, *fields])


def apply_override(cfg: Config, item: str) -> None:
    """Set one dotted field from a ``key=value`` string, parsed by the field's type."""
    if "=" not in item:
        raise ValueError(f"override {item!r} must look like section.field=value")
    key, raw = item.split("=", 1)
    *path, name = key.strip().split(".")
    target = cfg
    for part in path:
        if not dataclasses.is_dataclass(target) or not hasattr(target, part):
            raise ValueError(f"unknown config section {part!r} in {key!r}")
        target = getattr(target, part)
    hints = typing.get_type_hints(type(target))
    if name not in hints:
        known = ", ".join(sorted(hints))
        raise ValueError(f"unknown config field {key!r}; fields here: {known}")
    setattr(target, name, _parse(raw.strip(), hints[name], key))


def _parse(raw: str, hint: Any, key: str) -> Any:
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if args and type(None) in args:  # Optional[X]
        if raw.lower() in ("none", "null", ""):
            return None
        hint = next(a for a in args if a is not type(None))
        origin, args = typing.get_origin(hint), typing.get_args(hint)
    try:
        if hint is bool:
            if raw.lower() not in ("true", "false", "1", "0", "yes", "no"):
                raise ValueError
            return raw.lower() in ("true", "1", "yes")
        if hint in (int, float, str):
            return hint(raw)
        if origin is list:
            return [args[0](x) for x in raw.split(",") if x] if not raw.startswith("[") else json.loads(raw)
        if origin is dict:
            return json.loads(raw)
    except (ValueError, json.JSONDecodeError):
        raise ValueError(f"cannot read {raw!r} as {hint} for {key!r}") from None
    raise ValueError(f"unsupported field type {hint} for {key!r}")


def from_dict(d: dict) -> Config:
    """Inverse of ``dataclasses.asdict`` for :class:`Config` (unknown keys are an error)."""
    def build(kind, values):
        names = {f.name for f in dataclasses.fields(kind)}
        unknown = set(values) - names
        if unknown:
            raise ValueError(f"unknown {kind.__name__} fields in saved config: {sorted(unknown)}")
        return kind(**values)
    d = dict(d)
    train = dict(d.get("train", {}))
    if "epochs" in train:   # configs saved before the stages had their own epochs (2026-11-26)
        epochs = train.pop("epochs")
        train.update(epochs_pretrain=epochs, epochs_finetune=epochs)
        d["train"] = train
    sections = {"model": ModelConfig, "data": DataConfig, "train": TrainConfig}
    for key, kind in sections.items():
        d[key] = build(kind, d.get(key, {}))
    return build(Config, d)


def validate(cfg: Config) -> None:
    """Fail early, with the field name, on values that would only break later."""
    if cfg.variant not in VARIANTS:
        raise ValueError(f"variant={cfg.variant!r}; choose one of {VARIANTS}")
    if not 0.0 <= cfg.model.mask_ratio < 1.0:
        raise ValueError(f"model.mask_ratio={cfg.model.mask_ratio} must be in [0, 1)")
    if cfg.data.text_field not in ("caption", "title", "title+caption"):
        raise ValueError(f"data.text_field={cfg.data.text_field!r}; use caption, title or title+caption")
    if cfg.data.modality not in ("both", "text", "image"):
        raise ValueError(f"data.modality={cfg.data.modality!r}; use both, text or image")
    if cfg.train.precision not in PRECISIONS:
        raise ValueError(f"train.precision={cfg.train.precision!r}; use one of {', '.join(PRECISIONS)}")
    m = cfg.model
    if cfg.variant == "code" and m.use_crops and m.use_image_decoder and m.image_decoder_width != m.latent_dim:
        raise ValueError(f"variant=code compares z (model.image_decoder_width={m.image_decoder_width}) with "
                         f"the latents directly: set model.latent_dim={m.image_decoder_width}")
    from .stages import STAGE_GROUPS          # (stages imports this module)
    for stage, lrs in (("pretrain", cfg.train.lr_pretrain), ("finetune", cfg.train.lr_finetune)):
        missing = sorted(set(STAGE_GROUPS[cfg.variant][stage]) - set(lrs))
        if missing:
            raise ValueError(f"train.lr_{stage} has no learning rate for {missing}")
    if not 0 <= cfg.seed < 2**32:
        raise ValueError(f"seed={cfg.seed} must be in 0 ... 2**32 - 1")
    for section, name, least in (("train", "epochs_pretrain", 1), ("train", "epochs_finetune", 1), ("train", "batch_size", 1), ("train", "grad_accum", 1),
                                 ("train", "max_steps", 0), ("train", "save_every_steps", 0),
                                 ("train", "eval_every_steps", 0), ("data", "num_workers", 0)):
        value = getattr(getattr(cfg, section), name)
        if value < least:
            raise ValueError(f"{section}.{name}={value} must be at least {least}")
    for name in cfg.train.pretrain_losses:
        if name not in ("rec", "itc", "si", "dc"):
            raise ValueError(f"train.pretrain_losses has {name!r}; allowed: rec, itc, si, dc")
    for name in cfg.train.finetune_losses:
        if name not in ("cls", "itc"):
            raise ValueError(f"train.finetune_losses has {name!r}; allowed: cls, itc")
