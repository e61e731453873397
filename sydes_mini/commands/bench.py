"""``bench``: median samples/s of full training steps per stage (random weights, synthetic batch), as JSON."""
from __future__ import annotations

import json

from .pretrain import clean_errors


@clean_errors
def run(args) -> int:
    from ..bench import bench
    print(json.dumps(bench(args.profile, args.device, args.batch, args.steps, args.overrides), indent=2))
    return 0


def register(sub) -> None:
    p = sub.add_parser("bench", help="samples/s of pretraining, fine-tuning and cached fine-tuning steps (JSON)",
                       description="Times full training steps (forward, loss, backward, AdamW step) on a "
                                   "synthetic batch with random weights (works offline) and prints the median "
                                   "samples/s: pretrain_samples_per_s, finetune_samples_per_s (image encoder "
                                   "runs), finetune_cached_samples_per_s (cached image features), plus peak "
                                   "memory, device, threads and torch version.")
    p.add_argument("--profile", default="smoke", choices=["smoke", "full"], help="model size (default smoke)")
    p.add_argument("--device", default="cpu", choices=["cpu", "cuda"], help="where to run (default cpu)")
    p.add_argument("--batch", type=int, default=8, metavar="N", help="samples per step (default 8)")
    p.add_argument("--steps", type=int, default=5, metavar="N", help="timed steps after one warm-up (default 5)")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help="override a config field, e.g. train.precision=bf16 or model.use_crops=false")
    p.set_defaults(func=run)
