"""``baseline``: the text-only TF-IDF + logistic-regression reference row (C picked on dev), as JSON."""
from __future__ import annotations

import json
import sys
from pathlib import Path

from ..baseline import C_GRID, run_baseline
from ..images import DataError


def run(args) -> int:
    try:
        results = run_baseline(args.data, args.text_field)
    except (DataError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2) + "\n")
    for task, r in results.items():
        print(f"{task:9s} test macro-F1 {r['test']['f1']:.3f}  accuracy {r['test']['accuracy']:.3f}  (C={r['C']})")
    print(f"wrote {out}")
    return 0


def register(sub) -> None:
    p = sub.add_parser("baseline", help="text-only TF-IDF + logistic regression baseline (C picked on dev) -> JSON",
                       description=__doc__, epilog=f"C is chosen from {list(C_GRID)} by dev macro-F1.")
    p.add_argument("--data", required=True, metavar="DIR", help="MSED-format folder with train/, dev/ and test/")
    p.add_argument("--out", required=True, metavar="FILE.json",
                   help='results, {task: {"test": metrics, "dev": metrics, "C": best C, ...}}')
    p.add_argument("--text-field", default="caption", choices=["caption", "title", "title+caption"],
                   help="which CSV text the classifier reads (default: caption, like the model)")
    p.set_defaults(func=run)
