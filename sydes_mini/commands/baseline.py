"""``baseline``: the text-only TF-IDF + logistic-regression reference row (C picked on dev), as JSON."""
from __future__ import annotations

import json
from pathlib import Path

from ._common import EXIT_STATUS, clean_errors

C_VALUES = "0.01, 0.1, 1, 10, 100"     # sydes_mini.baseline.C_GRID (not imported here: --help stays fast)


@clean_errors
def run(args) -> int:
    from ..baseline import run_baseline
    from ..checks import check_data, check_out_file
    check_out_file(args.out)
    check_data(args.data, ("train", "dev", "test"), images=False)      # it reads the CSVs only
    results = run_baseline(args.data, args.text_field)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2) + "\n")
    for task, r in results.items():
        print(f"{task:9s} test macro-F1 {r['test']['f1']:.3f}  accuracy {r['test']['accuracy']:.3f}  (C={r['C']})")
    print(f"wrote {out}")
    return 0


def register(sub) -> None:
    p = sub.add_parser("baseline", help="text-only TF-IDF + logistic regression baseline (C picked on dev) -> JSON",
                       description="The text-only reference row: TF-IDF of word uni- and bigrams, then logistic "
                                   "regression, one per task, fitted on train; C is chosen by dev macro-F1 from "
                                   f"{C_VALUES}; writes dev and test metrics as JSON.", epilog=EXIT_STATUS)
    p.add_argument("--data", required=True, metavar="DIR", help="MSED-format folder with train/, dev/ and test/")
    p.add_argument("--out", required=True, metavar="FILE.json",
                   help='results, {task: {"test": metrics, "dev": metrics, "C": best C, ...}} (folder created)')
    p.add_argument("--text-field", default="caption", choices=["caption", "title", "title+caption"],
                   help="which CSV text the classifier reads (default: caption, like the model)")
    p.set_defaults(func=run)
