"""``pretrain``: stage 1 of paper 3.4 (eq. 7) into ``OUT/pretrain``; also the options every training command shares."""
from __future__ import annotations

import argparse
import functools
import json
import sys
from pathlib import Path

from ..config import Config, get_config

# command-line option -> config field (applied after --set, so an explicit option wins)
OPTION_FIELDS = {"epochs": "train.epochs", "batch_size": "train.batch_size", "grad_accum": "train.grad_accum",
                 "seed": "seed", "device": "train.device", "precision": "train.precision",
                 "num_workers": "data.num_workers", "save_every_steps": "train.save_every_steps",
                 "max_steps": "train.max_steps", "data": "data.root"}


def add_common(p: argparse.ArgumentParser, out_help: str) -> None:
    """The options shared by pretrain, finetune and reproduce; defaults (None) come from the profile."""
    p.add_argument("--profile", default="smoke", choices=["smoke", "full"],
                   help="smoke: tiny random model, toy world, CPU minutes; full: the paper's model and recipe")
    p.add_argument("--data", metavar="DIR", help="MSED-format folder (default: the profile's data.root)")
    p.add_argument("--out", required=True, metavar="RUN", help=out_help)
    p.add_argument("--epochs", type=int, metavar="N", help="epochs per stage (paper: 50)")
    p.add_argument("--batch-size", type=int, metavar="N",
                   help="global batch per optimiser micro-step, split over torchrun processes (authors: 32)")
    p.add_argument("--grad-accum", type=int, metavar="N",
                   help="micro-batches summed per optimiser step (authors: 2, so 64 samples a step)")
    p.add_argument("--seed", type=int, metavar="N", help="seeds weights, data order and masks (authors: 42)")
    p.add_argument("--device", metavar="DEV", help="auto (cuda if present), cpu or cuda[:i]")
    p.add_argument("--precision", choices=["fp32", "fp16", "bf16"],
                   help="autocast precision on CUDA (fp16 uses a grad scaler); CPU always runs fp32")
    p.add_argument("--num-workers", type=int, metavar="N", help="data-loading processes (0 = in the main one)")
    p.add_argument("--save-every-steps", type=int, metavar="N",
                   help="also write last.safetensors every N optimiser steps (0 = only at evaluations)")
    p.add_argument("--max-steps", type=int, metavar="N", help="stop after N optimiser steps (0 = no limit)")
    p.add_argument("--resume", action="store_true",
                   help="continue the interrupted run in --out from its last.safetensors, exactly")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help="override any config field, e.g. model.mask_ratio=0.5, train.pretrain_losses=rec,itc, "
                        "model.use_crops=false, data.modality=text, variant=paper (repeatable)")


def config_from(args: argparse.Namespace) -> Config:
    """Profile, then ``--set`` overrides, then the explicit options."""
    explicit = [f"{field}={getattr(args, opt)}" for opt, field in OPTION_FIELDS.items()
                if getattr(args, opt, None) is not None]
    return get_config(args.profile, [*args.overrides, *explicit])


def clean_errors(func):
    """Expected failures (bad checkpoint, bad data, non-finite loss, existing run) -> one line on stderr, exit 2."""
    @functools.wraps(func)
    def wrapper(args):
        from ..checkpoint import CheckpointError
        from ..images import DataError
        from ..train import NonFiniteLoss
        try:
            return func(args)
        except (CheckpointError, DataError, NonFiniteLoss, FileExistsError, ValueError) as e:
            print(f"error: {e}", file=sys.stderr)
            return 2
    return wrapper


@clean_errors
def run(args: argparse.Namespace) -> int:
    from ..train import train_stage
    out = Path(args.out) / "pretrain"
    result = train_stage(config_from(args), "pretrain", out, resume=args.resume)
    print(json.dumps({"out": str(out), "best_dev": result["dev"]}, indent=2))
    return 0


def register(sub) -> None:
    p = sub.add_parser("pretrain", help="stage 1 (eq. 7): train encoders and image decoder into OUT/pretrain",
                       description="Pretraining (paper 3.4, eq. 7). Writes OUT/pretrain/{config.json, "
                                   "best.safetensors, last.safetensors, metrics.jsonl, dev_metrics.json}. "
                                   "Under torchrun it trains data-parallel (gradients all-reduced; gloo on CPU, nccl on CUDA).")
    add_common(p, "run folder; this stage writes OUT/pretrain")
    p.set_defaults(func=run)
