"""``python -m sydes_mini <command> ...``: every command is one module in ``sydes_mini.commands``.

Each command module defines ``register(subparsers)``, which adds its parser and
sets ``func`` to the function that runs it (returning an exit status).
"""
from __future__ import annotations

import argparse
import importlib
import sys

COMMANDS = ["describe", "data"]  # modules of sydes_mini.commands, in --help order


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m sydes_mini", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    for name in COMMANDS:
        importlib.import_module(f"sydes_mini.commands.{name}").register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
