"""``bench``: samples/s of full training steps per stage, over all timed steps (random weights, synthetic
batch), as JSON."""
from __future__ import annotations

import json

from ._common import EXIT_STATUS, add_device, add_overrides, add_profile, clean_errors, positive_int


@clean_errors
def run(args) -> int:
    from ..bench import bench
    from ..checks import check_device
    from ..config import get_config
    check_device(args.device)
    get_config(args.profile, args.overrides)                  # a bad --set fails here, before the model is built
    print(json.dumps(bench(args.profile, args.device, args.batch_size, args.steps, args.overrides), indent=2))
    return 0


def register(sub) -> None:
    p = sub.add_parser("bench", help="samples/s of pretraining, fine-tuning and cached fine-tuning steps (JSON)",
                       description="Times full training steps (forward, loss, backward, AdamW step) on a "
                                   "synthetic batch with random weights (works offline) and prints the "
                                   "samples/s over all timed steps: pretrain_samples_per_s, "
                                   "finetune_samples_per_s (image encoder runs), "
                                   "finetune_cached_samples_per_s (cached image features), plus peak "
                                   "memory, device, threads and torch version.", epilog=EXIT_STATUS)
    add_profile(p)
    add_device(p)
    p.add_argument("--batch-size", type=positive_int, default=8, metavar="N", help="samples per step (default 8)")
    p.add_argument("--steps", type=positive_int, default=5, metavar="N",
                   help="timed steps after one warm-up (default 5)")
    add_overrides(p, "train.precision=tf32 or model.use_crops=false")
    p.set_defaults(func=run)
