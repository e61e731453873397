"""Figures and tables for the training and results chapters (book chapters 8-11).

Inputs are what a run writes (``metrics.jsonl``, ``metrics_test.json``,
``summary.json``) or what :mod:`sydes_mini.predict` returns; every function
returns a matplotlib ``Figure`` (or a pandas ``Styler`` for tables).
"""
from __future__ import annotations

import json
import math
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from ..labels import LABELS
from .style import overlap_styles


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


LOSS_COLUMNS = ("loss", "rec", "itc", "si", "dc", "cls")   # total and the terms of eqs. 7-8, as the trainer logs them


def training_curves(logs: dict[str, pd.DataFrame], title: str = "") -> Figure:
    """Loss per optimiser step, one panel per run (e.g. pretrain, finetune/desire).

    logs: {panel title: :func:`read_log` of a ``metrics.jsonl``}. Training records
    give one line per loss column (total and each term); dev evaluations
    (records with ``"eval": "dev"``) are drawn as black dots on the total.
    """
    fig, axes = plt.subplots(1, len(logs), figsize=(4.2 * len(logs), 3.8), squeeze=False, layout="constrained")
    for ax, (name, log) in zip(axes[0], logs.items()):
        dev = log[log["eval"] == "dev"] if "eval" in log else log.iloc[:0]
        train = log.drop(dev.index)
        for col in [c for c in LOSS_COLUMNS if c in train]:
            ax.plot(train["step"], train[col], marker="o" if len(train) < 30 else None, ms=3, lw=1.2,
                    label="total" if col == "loss" else col, color="black" if col == "loss" else None)
        if len(dev):
            ax.scatter(dev["step"], dev["loss"], s=40, facecolors="none", edgecolors="black", label="dev total",
                       zorder=3)
        ax.set(title=name, xlabel="optimiser step", ylabel="loss (each term unweighted)")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.22), ncol=4, frameon=False)
    fig.suptitle(title)
    return fig


def lr_schedule(schedules: dict[str, dict[str, np.ndarray]], title: str = "") -> Figure:
    """Learning rate per optimiser step, one panel per stage: {stage: {group name: [lr at step 0, 1, ...]}}."""
    fig, axes = plt.subplots(1, len(schedules), figsize=(4.6 * len(schedules), 3.2), squeeze=False)
    for ax, (stage, groups) in zip(axes[0], schedules.items()):
        for (name, lrs), style in zip(groups.items(), overlap_styles(len(groups))):   # groups at one rate overlap
            ax.plot(np.arange(len(lrs)), lrs, label=name, markevery=max(1, len(lrs) // 8), **style)
        ax.set(title=stage, xlabel="optimiser step", ylabel="learning rate")
        ax.ticklabel_format(axis="y", style="sci", scilimits=(0, 0))
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    fig.suptitle(title)
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
                     title: str = "", image=None) -> Figure:
    """Paper Fig. 3 re-created: the post's ``image`` (if given), then one panel per task with a bar per class;
    the top class in orange, the truth (if given) in bold."""
    n = len(predictions) + (image is not None)
    rows = math.ceil(n / 2)                              # two panels a row: readable at a book's page width
    fig, axes = plt.subplots(rows, 2, figsize=(8, 2.7 * rows), squeeze=False)
    axes = list(axes.flat)
    for extra in axes[n:]:
        extra.remove()
    if image is not None:
        image_ax = axes.pop(0)
        image_ax.imshow(image)
        image_ax.axis("off")
    for ax, (task, probs) in zip(axes, predictions.items()):
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
    our columns shaded, cells padded so that neighbouring numbers do not run together."""
    ours = [c for c in frame.columns if c[-1] == "ours"]
    return (frame.style.format("{:.2f}", na_rep="–")
            .set_properties(subset=ours, **{"background-color": "#eef4fb"})
            .set_table_styles([{"selector": "td, th", "props": [("padding", "0.15em 0.6em")]},
                               {"selector": "td", "props": [("text-align", "right")]}])
            .set_caption(caption))


def run_history(stages: dict[str, tuple[pd.DataFrame, dict[str, float]]], title: str = "") -> Figure:
    """A finished run as it happened, one row per stage: each loss term times its weight in the stage's
    objective (eq. 7 or 8), the learning rate, and the dev score the best checkpoint was chosen by
    (pretraining: lowest dev loss; fine-tuning: highest dev macro-F1), the chosen evaluation ringed.

    stages: {row title: (:func:`read_log` of its ``metrics.jsonl``, {loss term: weight})}.
    """
    fig, axes = plt.subplots(len(stages), 3, figsize=(13, 2.9 * len(stages)), squeeze=False, layout="constrained")
    for (terms_ax, lr_ax, dev_ax), (name, (log, weights)) in zip(axes, stages.items()):
        dev = log[log["eval"] == "dev"] if "eval" in log else log.iloc[:0]
        train = log.drop(dev.index)
        for term, w in weights.items():
            if term in train:
                terms_ax.plot(train["step"], w * train[term], lw=1.1, label=f"{w:g} × L_{term}")
        terms_ax.set(title=f"{name}: weighted loss terms", xlabel="optimiser step", ylabel="weighted loss")
        terms_ax.legend(fontsize=7)
        lr_ax.plot(train["step"], train["lr"], color="black", lw=1.1)
        lr_ax.set(title="learning rate (first parameter group)", xlabel="optimiser step")
        key, best = ("f1", dev["f1"].idxmax()) if "f1" in dev else ("loss", dev["loss"].idxmin())
        scale = 100 if key == "f1" else 1
        dev_ax.plot(dev["step"], scale * dev[key], marker="o", ms=3, lw=1.1)
        dev_ax.scatter([dev.loc[best, "step"]], [scale * dev.loc[best, key]], s=140, facecolors="none",
                       edgecolors="crimson", lw=2, label="best checkpoint", zorder=3)
        dev_ax.set(title="dev macro-F1 (%)" if key == "f1" else "dev loss (eq. 7)", xlabel="optimiser step")
        dev_ax.legend(fontsize=7)
        for ax in (terms_ax, lr_ax, dev_ax):
            ax.grid(alpha=0.3)
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    fig.suptitle(title)       # constrained layout keeps it clear of the top row's titles
    return fig


__all__ = ["read_log", "training_curves", "lr_schedule", "confusion_matrices", "per_class_f1",
           "probability_bars", "style_table", "run_history"]


def suite_bars(results: pd.DataFrame, floors: dict[str, dict[str, float]]) -> Figure:
    """Test macro-F1 of the ablation suite's rows, one panel per task, mean with a ±1 std error bar and each
    seed as a dot; ``floors`` {name: {task: F1 %}} draws reference lines (majority class, TF-IDF).

    ``results``: one row per (row label, task) with columns ``label``, ``task``, ``mean``, ``std``, ``seeds``
    (a list of per-seed F1, %)."""
    tasks = list(dict.fromkeys(results.task))
    labels = list(dict.fromkeys(results.label))
    fig, axes = plt.subplots(1, len(tasks), figsize=(4.2 * len(tasks), 0.45 * len(labels) + 1.9), sharey=True,
                             squeeze=False, layout="constrained")
    styles = ["--", ":", "-."]
    for ax, task in zip(axes[0], tasks):
        part = results[results.task == task].set_index("label").reindex(labels)
        y = np.arange(len(labels))
        ax.barh(y, part["mean"], xerr=part["std"], color="tab:blue", alpha=0.75, capsize=3)
        for k, seeds in enumerate(part["seeds"]):
            ax.scatter(seeds, [k] * len(seeds), s=9, color="black", zorder=3)
        for (name, values), ls in zip(floors.items(), styles):
            if task in values:
                ax.axvline(values[task], color="tab:red", ls=ls, lw=1.2, label=name)
        ax.set(title=task, xlabel="test macro-F1 (%)", xlim=(0, 100), yticks=y)
        ax.set_yticklabels(labels, fontsize=8)
        ax.invert_yaxis()
    if floors:   # below the panels, where it hides no bar
        fig.legend(*axes[0][0].get_legend_handles_labels(), loc="outside lower center", ncol=len(floors), fontsize=8)
    return fig
