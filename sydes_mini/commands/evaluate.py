"""``evaluate``: one checkpoint on one split -> a metrics JSON file."""
from __future__ import annotations

import json
from pathlib import Path

from .pretrain import clean_errors


@clean_errors
def run(args) -> int:
    from ..evaluate import evaluate_checkpoint
    from ..train import write_json
    metrics = evaluate_checkpoint(args.checkpoint, args.data, args.split, args.device)
    write_json(Path(args.out), metrics)
    keys = ("loss", "precision", "recall", "f1", "accuracy")
    print(json.dumps({"out": args.out, **{k: metrics[k] for k in keys if k in metrics}}, indent=2))
    return 0


def register(sub) -> None:
    p = sub.add_parser("evaluate", help="metrics of a checkpoint on dev or test, as JSON",
                       description="Loads CKPT (a best/last.safetensors with config.json beside it) and writes "
                                   "its dev/test metrics: fine-tuned -> macro P/R/F1, accuracy, per class, "
                                   "confusion matrix; pretrained -> the eq. 7 loss terms.")
    p.add_argument("--checkpoint", required=True, metavar="CKPT", help="e.g. RUN/finetune/desire/best.safetensors")
    p.add_argument("--data", required=True, metavar="DIR", help="MSED-format folder")
    p.add_argument("--split", default="test", choices=["dev", "test"], help="which split (default: test)")
    p.add_argument("--out", required=True, metavar="FILE.json", help="where to write the metrics")
    p.add_argument("--device", default="auto", help="auto (cuda if present), cpu or cuda[:i]")
    p.set_defaults(func=run)
