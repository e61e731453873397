"""Shared styles: one colour per loss term, and line styles for lines that may lie on top of each other (e.g. two
variants that agree, or two parameter groups at the same learning rate): a line drawn under another must still show."""
from __future__ import annotations

LOSS_COLOURS = {"total": "black", "rec": "tab:blue", "itc": "tab:orange", "si": "tab:green", "dc": "tab:red",
                "cls": "tab:purple"}   # the same in every figure: a term keeps its colour from panel to panel

DASHES = [("-", "o"), ("--", "s"), (":", "^"), ("-.", "D")]


def overlap_styles(n: int) -> list[dict]:
    """``ax.plot`` keyword arguments for ``n`` lines: each its own dash and marker, and the earlier a line is
    drawn the wider it is, so a line that another covers exactly still shows as a band around it."""
    return [{"ls": DASHES[k % len(DASHES)][0], "marker": DASHES[k % len(DASHES)][1], "mfc": "none",
             "lw": 1.2 + 1.3 * (n - 1 - k), "ms": 4 + 1.5 * (n - 1 - k), "alpha": 0.85} for k in range(n)]
