"""``evaluate``: one checkpoint on one split -> a metrics JSON file."""
from __future__ import annotations

import json
from pathlib import Path

from ._common import EXIT_STATUS, add_device, clean_errors


def checkpoint_data_root(checkpoint: str | Path) -> str:
    """The data folder the checkpoint's run read (``data.root`` of the config.json beside it)."""
    from ..checkpoint import CheckpointError
    from ..config import Config
    saved = Path(checkpoint).parent / "config.json"
    if not saved.exists():
        raise CheckpointError(f"{saved} not found: a checkpoint is read with the config.json its run wrote "
                              "beside it; copy it there")
    return Config.load(saved).data.root


@clean_errors
def run(args) -> int:
    from ..checks import check_data, check_device, check_out_file
    from ..evaluate import evaluate_checkpoint
    from ..train import write_json
    check_out_file(args.out)
    check_device(args.device)
    data = args.data or checkpoint_data_root(args.checkpoint)
    check_data(data, [args.split])
    metrics = evaluate_checkpoint(args.checkpoint, data, args.split, args.device)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    write_json(Path(args.out), metrics)
    keys = ("loss", "precision", "recall", "f1", "accuracy")
    print(json.dumps({"out": args.out, **{k: metrics[k] for k in keys if k in metrics}}, indent=2))
    return 0


def register(sub) -> None:
    p = sub.add_parser("evaluate", help="metrics of a checkpoint on dev or test, as JSON",
                       description="Loads CKPT (a best/last.safetensors with config.json beside it) and writes "
                                   "its dev/test metrics: fine-tuned -> macro P/R/F1, accuracy, per class, "
                                   "confusion matrix; pretrained -> the eq. 7 loss terms.", epilog=EXIT_STATUS)
    p.add_argument("--checkpoint", required=True, metavar="CKPT", help="e.g. RUN/finetune/desire/best.safetensors")
    p.add_argument("--data", metavar="DIR",
                   help="MSED-format folder (default: the one the checkpoint's run read, from its config.json)")
    p.add_argument("--split", default="test", choices=["dev", "test"], help="which split (default: test)")
    p.add_argument("--out", required=True, metavar="FILE.json",
                   help="where to write the metrics (its folder is created)")
    add_device(p)
    p.set_defaults(func=run)
