"""``reproduce``: pretrain once, fine-tune three tasks, test, write ``OUT/summary.json``."""
from __future__ import annotations

from pathlib import Path

from .pretrain import clean_errors


@clean_errors
def run(args) -> int:
    from ..reproduce import format_summary, reproduce
    summary = reproduce(args.profile, args.out, args.data, args.seeds, args.overrides, args.init)
    print(format_summary(summary))
    out = Path(args.out)
    print(f"results: {out / 'summary.json'} (test metrics per task), {out / 'reproduce.json'} (wall times), "
          f"checkpoints and logs under {out}/pretrain and {out}/finetune/<task>" if args.seeds == 1 else
          f"results: {out / 'summary.json'} (mean and std over {args.seeds} seeds), runs in {out}/seed-*/")
    return 0


def register(sub) -> None:
    p = sub.add_parser("reproduce", help="the main job: pretrain, fine-tune the three tasks, test, summary.json",
                       description="One pretraining (eq. 7), three fine-tunes (eq. 8), test metrics and "
                                   "OUT/summary.json. Stages already complete are skipped and interrupted "
                                   "ones resumed, so re-running a finished run only prints its summary.")
    p.add_argument("--profile", default="smoke", choices=["smoke", "full"],
                   help="smoke: tiny random model on the toy world (CPU minutes); full: the paper's recipe")
    p.add_argument("--data", metavar="DIR",
                   help="MSED-format folder; default: data/toy for smoke (generated if missing), data/MSED for full")
    p.add_argument("--seeds", type=int, default=1, metavar="N",
                   help="run N seeds (seed, seed+1, ...); summary.json then holds means and <metric>_std")
    p.add_argument("--init", default="pretrain", choices=["pretrain", "none"],
                   help="pretrain: fine-tune from this run's pretraining (SyDES); "
                        "none: skip pretraining, fine-tune from the initial weights (SyDES-B, Table 3)")
    p.add_argument("--out", required=True, metavar="RUN", help="run folder, e.g. runs/smoke")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help="override any config field for every stage, e.g. model.use_crops=false (repeatable)")
    p.set_defaults(func=run)
