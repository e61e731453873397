"""python -m sydes_mini COMMAND ... (or sydes-mini COMMAND ...): every command is one module in sydes_mini.commands.

Each command module defines ``register(subparsers)``, which adds its parser and
sets ``func`` to the function that runs it (returning an exit status). Modules
are found by name, so adding a command is adding one file. Command modules import
torch and friends only when they run, so ``--help`` and option errors are instant.
"""
from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys

from . import commands
from .commands._common import EXIT_STATUS

# --help order for the known commands; any other module in sydes_mini.commands follows
ORDER = ["reproduce", "data", "pretrain", "finetune", "evaluate", "baseline", "bench", "describe"]
DESCRIPTION = ("SyDES mini: the paper's model and two-stage training, the data tools and the reproduction. "
               "`python -m sydes_mini COMMAND --help` explains a command.")


class Parser(argparse.ArgumentParser):
    """No abbreviated options (``--seed`` never turns into ``--seeds``); a usage error is one line, exit 2."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("allow_abbrev", False)
        super().__init__(*args, **kwargs)
        self.set_defaults(parser=self)           # the innermost (sub)command's parser ends up in args.parser

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message} (see `{self.prog} --help`)\n")


def command_names() -> list[str]:
    found = {m.name for m in pkgutil.iter_modules(commands.__path__) if not m.name.startswith("_")}
    return [n for n in ORDER if n in found] + sorted(found - set(ORDER))


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(prog="python -m sydes_mini", description=DESCRIPTION, epilog=EXIT_STATUS)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in command_names():
        importlib.import_module(f"sydes_mini.commands.{name}").register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    args, unknown = build_parser().parse_known_args(argv)
    if unknown:                                  # reported by the command that got them, with its --help
        args.parser.error(f"unrecognized arguments: {' '.join(unknown)}")
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
