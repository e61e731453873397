"""``ablations``: every run of the paper-table registry x seeds, resumable, one results file (issue 11)."""
from __future__ import annotations

from ._common import add_overrides, add_profile, clean_errors, positive_int


@clean_errors
def run(args) -> int:
    from ..suite import format_results, suite
    rows = [r for item in args.rows for r in item.split(",") if r] or None
    report = suite(args.profile, args.out, args.data, args.seeds, rows, args.results, args.overrides)
    print(format_results(report))
    print(f"results: {args.out}/results.json" + (f" and {args.results}" if args.results else ""))
    return 0


def register(sub) -> None:
    p = sub.add_parser("ablations", help="every ablation row of Tables 3-6, 9, 10 x seeds -> OUT/results.json",
                       description="Trains every run of sydes_mini.paper_tables.RUNS (the complete model, "
                                   "SyDES-B, the loss rows, the components, the mask ratios, text/image only, "
                                   "variant=paper, the TF-IDF baseline) for --seeds seeds, sharing one "
                                   "pretraining between rows that differ only in fine-tuning. Finished stages "
                                   "are skipped and interrupted ones resumed. Writes OUT/results.json: per row "
                                   "its command, overrides, seeds, per-seed and mean +- std test metrics (%).")
    add_profile(p)
    p.add_argument("--data", metavar="DIR", help="MSED-format folder (default: data/toy for smoke, data/MSED for full)")
    p.add_argument("--out", default="runs/suite", metavar="DIR", help="suite folder (default: runs/suite)")
    p.add_argument("--seeds", type=positive_int, default=3, metavar="N", help="seeds per row: seed, seed+1, ... (default 3)")
    p.add_argument("--rows", action="append", default=[], metavar="RUN[,RUN]",
                   help="only these runs of the registry, e.g. main,table5/mixed-scale (repeatable; default: all)")
    p.add_argument("--results", metavar="FILE.json",
                   help="also write the results here, e.g. book/results/toy_suite.json (the book's copy)")
    add_overrides(p, "model.mask_ratio=0.5, for every row (quick tries only: the book's results use none)")
    p.set_defaults(func=run)
