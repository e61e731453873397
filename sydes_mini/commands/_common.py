"""What the commands share: option types, the training options, and one way to fail.

Exit status of every command: 0 done; 1 an unexpected error (a bug: the traceback is
printed, please report it); 2 bad input or usage: one line on stderr names the
problem and the fix, and nothing was written.

Heavy modules (torch, open_clip, scikit-learn) are imported inside the functions
that run a command, so ``--help`` and option errors answer at once.
"""
from __future__ import annotations

import argparse
import functools
import sys

from ..config import PRECISIONS

# command-line option -> config field(s) (applied after --set, so an explicit option wins)
OPTION_FIELDS = {"epochs": ("train.epochs_pretrain", "train.epochs_finetune"), "batch_size": "train.batch_size", "grad_accum": "train.grad_accum",
                 "seed": "seed", "device": "train.device", "precision": "train.precision",
                 "num_workers": "data.num_workers", "save_every_steps": "train.save_every_steps",
                 "max_steps": "train.max_steps", "data": "data.root"}

EXIT_STATUS = ("exit status: 0 done; 1 unexpected error (a bug: please report the traceback); "
               "2 bad input or usage (one line on stderr says what to fix; nothing was written)")


def whole_number_at_least(low: int, words: str):
    """An argparse type: an integer >= ``low``; ``words`` says the bound in the error message."""
    def parse(text: str) -> int:
        try:
            n = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
        if n < low:
            raise argparse.ArgumentTypeError(f"{text} must be {words}")
        return n
    return parse


positive_int = whole_number_at_least(1, "at least 1")
non_negative_int = whole_number_at_least(0, "0 or more")


def positive_float(text: str) -> float:
    """argparse type: a number > 0."""
    try:
        x = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not x > 0:
        raise argparse.ArgumentTypeError(f"{text} must be more than 0")
    return x


def add_device(p: argparse.ArgumentParser, default: str | None = "auto") -> None:
    p.add_argument("--device", default=default, metavar="DEV",
                   help="auto (cuda when torch sees a GPU, else cpu; the default), cpu, cuda or cuda:i")


def add_profile(p: argparse.ArgumentParser) -> None:
    p.add_argument("--profile", default="smoke", choices=["smoke", "full"],
                   help="smoke (default): tiny random model, toy world, CPU minutes; "
                        "full: the paper's model, weights and recipe")


def add_overrides(p: argparse.ArgumentParser, example: str) -> None:
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help=f"override a config field, e.g. {example} (repeatable)")


def add_common(p: argparse.ArgumentParser, out_help: str, resume: bool = True) -> None:
    """The options shared by pretrain, finetune and reproduce; defaults (None) come from the profile."""
    add_profile(p)
    p.add_argument("--data", metavar="DIR",
                   help="MSED-format folder (default: the profile's, data/toy for smoke, generated when "
                        "missing; data/MSED for full)")
    p.add_argument("--out", required=True, metavar="RUN", help=out_help)
    p.add_argument("--epochs", type=positive_int, metavar="N", help="epochs of each stage it trains (sets train.epochs_pretrain and train.epochs_finetune; paper: 50; smoke: 5 and 8)")
    p.add_argument("--batch-size", type=positive_int, metavar="N",
                   help="global batch per optimiser micro-step, split over torchrun processes (authors: 32)")
    p.add_argument("--grad-accum", type=positive_int, metavar="N",
                   help="micro-batches summed per optimiser step (authors: 2, so 64 samples a step)")
    p.add_argument("--seed", type=non_negative_int, metavar="N",
                   help="seeds weights, data order and masks (authors: 42)")
    add_device(p, default=None)
    p.add_argument("--precision", choices=PRECISIONS,
                   help="on CUDA: fp16/bf16 autocast (fp16 uses a grad scaler) or tf32 (fp32 with TF32 "
                        "matrix products); CPU always runs fp32")
    p.add_argument("--num-workers", type=non_negative_int, metavar="N",
                   help="data-loading processes (0 = in the main one)")
    p.add_argument("--save-every-steps", type=non_negative_int, metavar="N",
                   help="also write last.safetensors every N optimiser steps (0 = only at evaluations)")
    p.add_argument("--max-steps", type=non_negative_int, metavar="N",
                   help="stop after N optimiser steps (0 = no limit)")
    if resume:
        p.add_argument("--resume", action="store_true",
                       help="continue the interrupted run in --out from its last.safetensors, exactly")
    add_overrides(p, "model.mask_ratio=0.5, train.pretrain_losses=rec,itc, model.use_crops=false, "
                     "data.modality=text, variant=paper")
    p.epilog = EXIT_STATUS


def explicit_overrides(args: argparse.Namespace, skip: tuple[str, ...] = ()) -> list[str]:
    """``--set`` items, then the explicit options as ``field=value`` (so an explicit option wins)."""
    from ..config import fields_of
    explicit = [f"{field}={getattr(args, opt)}" for opt, target in OPTION_FIELDS.items()
                if opt not in skip and getattr(args, opt, None) is not None for field in fields_of(target)]
    return [*args.overrides, *explicit]


def config_from(args: argparse.Namespace):
    """Profile, then ``--set`` overrides, then the explicit options -> Config."""
    from ..config import get_config
    return get_config(args.profile, explicit_overrides(args))


def one_line(error: BaseException) -> str:
    """An exception's message on one line (messages are written as one line; this is the safety net)."""
    return " ".join(part.strip() for part in str(error).splitlines() if part.strip())


def expected_errors():
    """The exception types that mean bad input (exit 2), not a bug."""
    from ..checkpoint import CheckpointError
    from ..images import DataError
    from ..model import WeightsUnavailable
    from ..train import NonFiniteLoss
    return (CheckpointError, DataError, WeightsUnavailable, NonFiniteLoss, FileExistsError, FileNotFoundError,
            NotADirectoryError, IsADirectoryError, PermissionError, EOFError, ValueError)


def clean_errors(func):
    """Expected failures (bad option value, data, checkpoint or weights, existing run) -> one line, exit 2."""
    @functools.wraps(func)
    def wrapper(args):
        try:
            return func(args)
        except expected_errors() as e:
            print(f"error: {one_line(e)}", file=sys.stderr)
            return 2
    return wrapper
