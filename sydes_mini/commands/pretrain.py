"""``pretrain``: stage 1 of paper 3.4 (eq. 7) into ``OUT/pretrain``."""
from __future__ import annotations

import argparse
import json
from pathlib import Path

from ._common import add_common, clean_errors, config_from


def training_config(args: argparse.Namespace):
    """The run's config; smoke without --data reads the toy world (generated when missing), as reproduce does."""
    from ..reproduce import data_root
    args.data = str(data_root(args.profile, args.data, args.overrides))
    return config_from(args)


@clean_errors
def run(args: argparse.Namespace) -> int:
    from ..checks import before_training
    from ..train import train_stage
    out = Path(args.out) / "pretrain"
    cfg = training_config(args)
    before_training(cfg, "pretrain", out, resume=args.resume)
    result = train_stage(cfg, "pretrain", out, resume=args.resume)
    print(json.dumps({"out": str(out), "best_dev": result["dev"]}, indent=2))
    return 0


def register(sub) -> None:
    p = sub.add_parser("pretrain", help="stage 1 (eq. 7): train encoders and image decoder into OUT/pretrain",
                       description="Pretraining (paper 3.4, eq. 7). Writes OUT/pretrain/{config.json, "
                                   "best.safetensors, last.safetensors, metrics.jsonl, dev_metrics.json}. "
                                   "Under torchrun it trains data-parallel (gloo on CPU, nccl on CUDA). "
                                   "Options, data (train and dev), weights and --out are checked before any work.")
    add_common(p, "run folder; this stage writes OUT/pretrain")
    p.set_defaults(func=run)
