"""``python -m sydes_mini <command> ...``: every command is one module in ``sydes_mini.commands``.

Each command module defines ``register(subparsers)``, which adds its parser and
sets ``func`` to the function that runs it (returning an exit status). Modules
are found by name, so adding a command is adding one file.
"""
from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys

from . import commands

# --help order for the known commands; any other module in sydes_mini.commands follows
ORDER = ["reproduce", "data", "pretrain", "finetune", "evaluate", "baseline", "bench", "describe"]


def command_names() -> list[str]:
    found = {m.name for m in pkgutil.iter_modules(commands.__path__) if not m.name.startswith("_")}
    return [n for n in ORDER if n in found] + sorted(found - set(ORDER))


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """All commands (for --help), or just ``only``: a broken or slow command never affects the others."""
    parser = argparse.ArgumentParser(prog="python -m sydes_mini", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    for name in command_names():
        if only in (None, name):
            importlib.import_module(f"sydes_mini.commands.{name}").register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    only = argv[0] if argv and argv[0] in command_names() else None
    args = build_parser(only).parse_args(argv)
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
