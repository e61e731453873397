"""Figures and tables for the training and results chapters (book chapters 8-11).

Inputs are what a run writes (``metrics.jsonl``, ``metrics_test.json``,
``summary.json``) or what :mod:`sydes_mini.predict` returns; every function
returns a matplotlib ``Figure`` (or a pandas ``Styler`` for tables).
"""
from __future__ import annotations

import json
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.figure import Figure

from ..labels import LABELS


def read_log(path: str | Path) -> pd.DataFrame:
    """``metrics.jsonl`` -> one row per logged record (a bad line names the file and line)."""
    rows = []
    for i, line in enumerate(Path(path).read_text().splitlines(), start=1):
        if line.strip():
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError as e:
                raise ValueError(f"{path}, line {i}: not JSON ({e})") from None
    return pd.DataFrame(rows)


def training_curves(logs: dict[str, pd.DataFrame], x: str = "step", title: str = "") -> Figure:
    """Loss curves: one panel per run (e.g. pretrain, finetune/desire), one line per logged loss column.

    logs: {panel title: DataFrame from :func:`read_log`} with a column ``x`` and
    columns ``loss`` and/or ``loss_<term>``.
    """
    fig, axes = plt.subplots(1, len(logs), figsize=(4.2 * len(logs), 3.2), squeeze=False)
    for ax, (name, log) in zip(axes[0], logs.items()):
        for col in [c for c in log.columns if c == "loss" or c.startswith("loss_")]:
            part = log[[x, col]].dropna()
            ax.plot(part[x], part[col], marker="o" if len(part) < 30 else None, ms=3, lw=1.2,
                    label=col.removeprefix("loss_"))
        ax.set(title=name, xlabel=x, ylabel="loss")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def lr_schedule(schedules: dict[str, np.ndarray], title: str = "") -> Figure:
    """Learning rate per optimiser step: {group name: [lr at step 0, 1, ...]} (log scale)."""
    fig, ax = plt.subplots(figsize=(6, 3.2))
    for name, lrs in schedules.items():
        ax.plot(np.arange(len(lrs)), lrs, label=name)
    ax.set(xlabel="optimiser step", ylabel="learning rate", yscale="log", title=title)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def confusion_matrices(matrices: dict[str, np.ndarray], normalize: bool = True) -> Figure:
    """One heat-map per task: rows = true class, columns = predicted; ``normalize`` divides each row by its count."""
    fig, axes = plt.subplots(1, len(matrices), figsize=(4.4 * len(matrices), 4.0), squeeze=False)
    for ax, (task, cm) in zip(axes[0], matrices.items()):
        cm = np.asarray(cm, dtype=float)                                   # [K, K]
        shown = cm / np.maximum(cm.sum(1, keepdims=True), 1) if normalize else cm
        sns.heatmap(shown, annot=True, fmt=".2f" if normalize else ".0f", cmap="Blues", vmin=0,
                    vmax=1 if normalize else None, cbar=False, ax=ax, annot_kws={"fontsize": 7},
                    xticklabels=LABELS[task], yticklabels=LABELS[task])
        ax.set(title=task, xlabel="predicted", ylabel="true")
        ax.tick_params(labelsize=7)
    fig.tight_layout()
    return fig


def per_class_f1(scores: dict[str, dict[str, float]]) -> Figure:
    """Per-class F1 bars, one panel per task: {task: {class: f1 in [0, 1]}}."""
    fig, axes = plt.subplots(1, len(scores), figsize=(4.4 * len(scores), 3.2), squeeze=False)
    for ax, (task, f1) in zip(axes[0], scores.items()):
        sns.barplot(x=list(f1.values()), y=list(f1.keys()), ax=ax, color="tab:blue", orient="h")
        ax.set(title=task, xlabel="F1", xlim=(0, 1))
        ax.tick_params(labelsize=8)
    fig.tight_layout()
    return fig


def probability_bars(predictions: dict[str, dict[str, float]], truth: dict[str, str] | None = None,
                     title: str = "") -> Figure:
    """Paper Fig. 3 re-created: one panel per task, a bar per class; the top class (and the truth, if given) marked."""
    fig, axes = plt.subplots(1, len(predictions), figsize=(4.0 * len(predictions), 2.8), squeeze=False)
    for ax, (task, probs) in zip(axes[0], predictions.items()):
        names, p = list(probs), np.array(list(probs.values()))
        colours = ["tab:orange" if i == p.argmax() else "tab:blue" for i in range(len(p))]
        ax.barh(names, p, color=colours)
        for i, v in enumerate(p):
            ax.text(min(v + 0.02, 0.8), i, f"{v:.2f}", va="center", fontsize=7)
        if truth and task in truth:
            ax.get_yticklabels()[names.index(truth[task])].set_fontweight("bold")
        ax.set(title=task, xlim=(0, 1), xlabel="probability")
        ax.invert_yaxis()
        ax.tick_params(labelsize=8)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig


def style_table(frame: pd.DataFrame, caption: str = ""):
    """A comparison frame from :func:`sydes_mini.paper_tables.compare`, styled: 2 decimals, '–' for missing,
    our columns shaded."""
    ours = [c for c in frame.columns if c[-1] == "ours"]
    return (frame.style.format("{:.2f}", na_rep="–")
            .set_properties(subset=ours, **{"background-color": "#eef4fb"})
            .set_caption(caption))


__all__ = ["read_log", "training_curves", "lr_schedule", "confusion_matrices", "per_class_f1",
           "probability_bars", "style_table"]
