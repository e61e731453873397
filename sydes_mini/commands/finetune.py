"""``finetune``: stage 2 of paper 3.4 (eq. 8) for one task into ``OUT/finetune/<task>``, then test."""
from __future__ import annotations

import json
from pathlib import Path

from ..labels import TASKS
from ._common import add_common, clean_errors
from .pretrain import training_config


@clean_errors
def run(args) -> int:
    from ..checks import before_training
    from ..train import train_stage
    init = None if args.init.lower() == "none" else args.init
    out = Path(args.out) / "finetune" / args.task
    cfg = training_config(args)
    before_training(cfg, "finetune", out, init=init, resume=args.resume)
    result = train_stage(cfg, "finetune", out, task=args.task, init=init, resume=args.resume)
    test = {k: result["test"][k] for k in ("precision", "recall", "f1", "accuracy")}
    print(json.dumps({"out": str(out), "test": test, "metrics_test": str(out / "metrics_test.json")}, indent=2))
    return 0


def register(sub) -> None:
    p = sub.add_parser("finetune", help="stage 2 (eq. 8): one task from a pretrained run, then its test metrics",
                       description="Fine-tuning (paper 3.4, eq. 8) of one task. Writes OUT/finetune/TASK/"
                                   "{config.json, best.safetensors, last.safetensors, metrics.jsonl, "
                                   "dev_metrics.json, metrics_test.json}. Options, data (train, dev and test), "
                                   "--init, weights and --out are checked before any work.")
    p.add_argument("--task", required=True, choices=TASKS, help="which label to learn")
    p.add_argument("--init", required=True, metavar="RUN/pretrain|none",
                   help="pretraining folder whose best.safetensors starts every module but the head (same "
                        "--profile and model.* settings as that pretraining); 'none' = no pretraining (SyDES-B)")
    add_common(p, "run folder; this stage writes OUT/finetune/TASK")
    p.set_defaults(func=run)
