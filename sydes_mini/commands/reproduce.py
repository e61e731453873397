"""``reproduce``: pretrain once, fine-tune three tasks, test, write ``OUT/summary.json``."""
from __future__ import annotations

from pathlib import Path

from ._common import add_common, clean_errors, explicit_overrides, positive_int


@clean_errors
def run(args) -> int:
    from ..reproduce import format_summary, reproduce
    summary = reproduce(args.profile, args.out, args.data, args.seeds, explicit_overrides(args, skip=("data",)),
                        args.init)
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
                                   "ones resumed (when made with the same settings), so re-running a finished "
                                   "run only prints its summary. Options, data (every split), weights and "
                                   "--out are checked before any work.")
    add_common(p, "run folder, e.g. runs/smoke", resume=False)
    p.add_argument("--seeds", type=positive_int, default=1, metavar="N",
                   help="run N seeds (--seed, --seed + 1, ...); summary.json then holds means and <metric>_std")
    p.add_argument("--init", default="pretrain", choices=["pretrain", "none"],
                   help="pretrain: fine-tune from this run's pretraining (SyDES); "
                        "none: skip pretraining, fine-tune from the initial weights (SyDES-B, Table 3)")
    p.set_defaults(func=run)
