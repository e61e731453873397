"""``describe``: a JSON summary of the model's components, their sizes and what a stage trains.

Per component: ``params`` and ``trainable`` (how many of them the stage trains);
per learning-rate group of the stage (sydes_mini.stages): its rate and size.
"""
from __future__ import annotations

import json

from ._common import EXIT_STATUS, add_overrides, add_profile, clean_errors

COMPONENTS = ["image_encoder", "image_norm", "image_latent", "text_encoder", "text_latent", "image_decoder",
              "aggregator", "text_decoder", "head", "itc_t", "dc_scale"]


def describe(profile: str = "smoke", stage: str = "pretrain", pretrained: bool = False,
             overrides: list[str] = ()) -> dict:
    """Build the model of a profile (random weights unless ``pretrained``) and summarise it."""
    from torch import nn

    from ..config import get_config
    from ..model import build_model, count_params
    from ..stages import set_stage
    cfg = get_config(profile, overrides)
    if not pretrained:
        cfg.model.clip_pretrained = cfg.model.text_decoder_pretrained = None
    model = build_model(cfg)
    groups = set_stage(model, stage, cfg)
    modules = {}
    for name in COMPONENTS:
        part = getattr(model, name)
        params = list(part.parameters()) if isinstance(part, nn.Module) else [part] if part is not None else []
        if params:
            modules[name] = {"params": sum(p.numel() for p in params),
                             "trainable": sum(p.numel() for p in params if p.requires_grad)}
    return {"profile": profile, "variant": cfg.variant, "stage": stage, "modules": modules,
            "groups": {g["name"]: {"lr": g["lr"], "params": sum(p.numel() for p in g["params"])} for g in groups},
            "total_params": count_params(model),
            "trainable_params": sum(p.numel() for p in model.parameters() if p.requires_grad)}


@clean_errors
def run(args) -> int:
    if args.pretrained:
        from ..checks import check_weights
        from ..config import get_config
        check_weights(get_config(args.profile, args.overrides))
    print(json.dumps(describe(args.profile, args.stage, args.pretrained, args.overrides), indent=2))
    return 0


def register(sub) -> None:
    p = sub.add_parser("describe", help="print the model's components, parameter counts and trainable parts",
                       description="Builds the model of a profile and prints JSON: every component "
                                   f"({', '.join(COMPONENTS)}) with its parameter count and whether the stage "
                                   "trains it, and the totals. Random weights unless --pretrained.",
                       epilog=EXIT_STATUS)
    add_profile(p)
    p.add_argument("--stage", default="pretrain", choices=["pretrain", "finetune"],
                   help="which stage's trainable parts to mark (paper 3.4; default pretrain)")
    p.add_argument("--pretrained", dest="pretrained", action="store_true",
                   help="load the profile's pretrained weights (needs them in the local cache or internet)")
    p.add_argument("--no-pretrained", dest="pretrained", action="store_false",
                   help="random weights (default; works offline)")
    add_overrides(p, "model.mask_ratio=0.5")
    p.set_defaults(func=run, pretrained=False)
