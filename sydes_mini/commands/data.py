"""``data``: check an MSED-format folder, write the toy world, or download MSED.

Exit status: 0 done; 1 an unexpected error (a bug); 2 bad input: ``data check``
found problems (all listed), or the command could not do its job (license not
accepted, offline, folder exists, ...), with the reason on stderr and no traceback.
"""
from __future__ import annotations

import argparse
import json
import sys
import time

from ..config import DataConfig
from ..download import DEFAULT_URL
from ..toy import ToyWorldConfig
from ._common import EXIT_STATUS, clean_errors, non_negative_int, positive_float


def check(args) -> int:
    """JSON report on stdout, summary on stderr; 2 when there is any problem."""
    from ..data import check_root, format_summary
    report = check_root(args.root, args.max_pixels)
    print(json.dumps(report, indent=2))
    if not args.json_only:
        print(format_summary(report), file=sys.stderr)
    return 2 if report["problems"] else 0


def write_toy(args) -> int:
    from ..toy import synth
    fields = {k: getattr(args, k) for k in ("n_train", "n_dev", "n_test", "seed", "p_global_cue",
                                            "p_local_cue", "p_text_names_label")}
    start = time.perf_counter()
    out = synth(args.out, args.overwrite, **fields)
    print(f"toy world in {out}: train {args.n_train}, dev {args.n_dev}, test {args.n_test} rows "
          f"(seed {args.seed}, {time.perf_counter() - start:.1f} s); settings in {out / 'toy_world.json'}",
          file=sys.stderr)
    return 0


def download(args) -> int:
    from ..download import download_msed
    download_msed(args.to, args.url, args.accept_license, timeout=args.timeout)
    return 0


def probability(text: str) -> float:
    p = float(text)
    if not 0 <= p <= 1:
        raise argparse.ArgumentTypeError(f"{text} is not a probability in [0, 1]")
    return p


def register(sub) -> None:
    p = sub.add_parser("data", help="check an MSED-format folder, write the toy world, download MSED",
                       description="check: every row and image of a folder; synth: write the toy world; "
                                   "download: fetch MSED (after its license).", epilog=EXIT_STATUS)
    verbs = p.add_subparsers(dest="verb", required=True)

    c = verbs.add_parser("check", help="read every split, open every image, print a JSON report",
                         epilog="exit status: 0 no problem; 2 problems found (all listed); 1 unexpected error")
    c.add_argument("root", help="an MSED-format folder (train/train.csv, train/images/1.jpg, ...)")
    c.add_argument("--json-only", action="store_true", help="no human-readable summary on stderr")
    c.add_argument("--max-pixels", type=non_negative_int, default=DataConfig().max_image_pixels, metavar="N",
                   help="refuse images with more pixels, a decompression bomb guard (default %(default)s)")
    c.set_defaults(func=check)

    defaults = ToyWorldConfig()
    s = verbs.add_parser("synth", help="write the toy world in MSED format (deterministic by seed)")
    s.add_argument("--out", default="data/toy", help="folder to write (default data/toy)")
    for name in ("n_train", "n_dev", "n_test"):
        s.add_argument(f"--{name.replace('_', '-')}", dest=name, type=non_negative_int,
                       default=getattr(defaults, name), metavar="N", help=f"rows of {name[2:]} (default %(default)s)")
    s.add_argument("--seed", type=non_negative_int, default=defaults.seed,
                   help="same seed -> same bytes (default %(default)s)")
    for name, what in (("p_global_cue", "background shows the emotion's colour"),
                       ("p_local_cue", "a desire other than none draws its banners"),
                       ("p_text_names_label", "the caption names the emotion (and, independently, the desire)")):
        s.add_argument(f"--{name.replace('_', '-')}", dest=name, type=probability, default=getattr(defaults, name),
                       metavar="P", help=f"P({what}); default %(default)s")
    s.add_argument("--overwrite", action="store_true", help="replace existing split folders")
    s.set_defaults(func=clean_errors(write_toy))

    d = verbs.add_parser("download", help="fetch MSED from github.com/MSEDdataset/MSED (license first)")
    d.add_argument("--to", default="data/MSED", help="target folder (default data/MSED)")
    d.add_argument("--accept-license", action="store_true", help="accept the MSED license without a prompt")
    d.add_argument("--url", default=DEFAULT_URL, help="archive URL (https://, http:// or file://)")
    d.add_argument("--timeout", type=positive_float, default=30, help="seconds to wait for the server (default 30)")
    d.set_defaults(func=clean_errors(download))
