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
from matplotlib.ticker import LogLocator, MaxNLocator, NullFormatter

from ..labels import LABELS
from .style import LOSS_COLOURS, overlap_styles


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
            term = "total" if col == "loss" else col
            ax.plot(train["step"], train[col], marker="o" if len(train) < 30 else None, ms=3, alpha=0.85,
                    lw=2.2 if term == "total" else 1.2,   # a term equal to the total still shows inside it
                    label=term, color=LOSS_COLOURS[term])
        if len(dev):
            ax.scatter(dev["step"], dev["loss"], s=40, facecolors="none", edgecolors="black", label="dev total",
                       zorder=3)
        ax.set(title=name, xlabel="optimiser step", ylabel="loss (each term unweighted)")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.grid(alpha=0.3)
        ax.legend(fontsize=9, loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=3, frameon=False)
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
    """One heat-map per task, two a row: rows = true class, columns = predicted; ``normalize`` divides each row by
    its count."""
    axes = _grid([len(cm) for cm in matrices.values()], inch_per_class=0.45, margin=1.4)
    for ax, (task, cm) in zip(axes, matrices.items()):
        cm = np.asarray(cm, dtype=float)                                   # [K, K]
        shown = cm / np.maximum(cm.sum(1, keepdims=True), 1) if normalize else cm
        sns.heatmap(shown, annot=True, fmt=".2f" if normalize else ".0f", cmap="Blues", vmin=0,
                    vmax=1 if normalize else None, cbar=False, ax=ax, annot_kws={"fontsize": 10},
                    xticklabels=LABELS[task], yticklabels=LABELS[task])
        ax.set(title=task, xlabel="predicted", ylabel="true")
        ax.tick_params(labelsize=9)
        plt.setp(ax.get_yticklabels(), rotation=0)                     # seaborn stands long class names upright
        plt.setp(ax.get_xticklabels(), rotation=45, ha="right", rotation_mode="anchor")
    return axes[0].figure


def per_class_f1(scores: dict[str, dict[str, float]]) -> Figure:
    """Per-class F1 bars, one panel per task, two a row: {task: {class: f1 in [0, 1]}}."""
    axes = _grid([len(f1) for f1 in scores.values()], inch_per_class=0.28, margin=0.9)
    for ax, (task, f1) in zip(axes, scores.items()):
        sns.barplot(x=list(f1.values()), y=list(f1.keys()), ax=ax, color="tab:blue", orient="h")
        ax.set(title=task, xlabel="F1", xlim=(0, 1))
        ax.tick_params(labelsize=9)
    return axes[0].figure


def _grid(classes: list[int], inch_per_class: float, margin: float) -> list:
    """One axes per task, two a row (readable at a book's page width), each row as tall as its task with the most
    ``classes`` needs (``inch_per_class`` each) plus ``margin`` inches for the titles and tick labels."""
    rows = [max(classes[i:i + 2]) for i in range(0, len(classes), 2)]
    fig, axes = plt.subplots(len(rows), 2, figsize=(8, sum(inch_per_class * k + margin for k in rows)),
                             height_ratios=rows, squeeze=False, layout="constrained")
    axes = list(axes.flat)
    for extra in axes[len(classes):]:
        extra.remove()
    return axes[:len(classes)]


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
            ax.text(min(v + 0.02, 0.8), i, f"{v:.2f}", va="center", fontsize=10)
        if truth and task in truth:
            ax.get_yticklabels()[names.index(truth[task])].set_fontweight("bold")
        ax.set(title=task, xlim=(0, 1), xlabel="probability")
        ax.invert_yaxis()
        ax.tick_params(labelsize=10)
    fig.suptitle(title, fontsize=12)
    fig.tight_layout()
    return fig


def style_table(frame: pd.DataFrame, caption: str = ""):
    """A comparison frame from :func:`sydes_mini.paper_tables.compare`, styled: 2 decimals, '–' for missing,
    our columns shaded, cells padded so that neighbouring numbers do not run together, and a smaller font so that
    more of the 24 number columns fit the page (the rest scrolls). The caption sits above the table, on the left
    and wrapped to a page's width, so that a table wider than the page does not hide it; 1.25 × 0.8em brings it
    back to the page's font size."""
    ours = [c for c in frame.columns if c[-1] == "ours"]
    return (frame.style.format("{:.2f}", na_rep="–")
            .set_properties(subset=ours, **{"background-color": "#eef4fb"})
            .set_table_styles([{"selector": "", "props": [("font-size", "0.8em")]},
                               {"selector": "td, th", "props": [("padding", "0.15em 0.5em")]},
                               {"selector": "td", "props": [("text-align", "right")]},
                               {"selector": "caption", "props": [("caption-side", "top"), ("text-align", "left"),
                                                                 ("font-size", "1.25em"), ("max-width", "36em")]}])
            .set_caption(caption))


def run_history(stages: dict[str, tuple[pd.DataFrame, dict[str, float]]], title: str = "") -> Figure:
    """A finished run as it happened, one row per stage: each loss term times its weight in the stage's
    objective (eq. 7 or 8), the learning rate, and the dev score the best checkpoint was chosen by
    (pretraining: lowest dev loss; fine-tuning: highest dev macro-F1), the chosen evaluation ringed.

    stages: {row title: (:func:`read_log` of its ``metrics.jsonl``, {loss term: weight})}.
    """
    fig = plt.figure(figsize=(8.5, 3.6 * len(stages)), layout="constrained")
    rows = fig.subfigures(len(stages), 1, squeeze=False)[:, 0]
    for row, (name, (log, weights)) in zip(rows, stages.items()):
        terms_ax, lr_ax, dev_ax = row.subplots(1, 3)
        row.suptitle(name, fontweight="bold")
        dev = log[log["eval"] == "dev"] if "eval" in log else log.iloc[:0]
        train = log.drop(dev.index)
        weighted = {term: w * train[term] for term, w in weights.items() if term in train}
        for term, loss in weighted.items():
            terms_ax.plot(train["step"], loss, lw=1.1, alpha=0.85, color=LOSS_COLOURS[term],
                          label=f"{weights[term]:g} × L_{term}")
        if all((loss > 0).all() for loss in weighted.values()):
            terms_ax.set_yscale("log")           # a term weighted 0.025 is not a flat line at 0
            terms_ax.yaxis.set_major_locator(LogLocator(subs=(1, 3)))   # 0.01, 0.03, 0.1, 0.3, 1, 3
            terms_ax.yaxis.set_major_formatter("{x:g}")
            terms_ax.yaxis.set_minor_formatter(NullFormatter())
        terms_ax.set(title="weighted loss terms", xlabel="optimiser step")
        terms_ax.legend(fontsize=9, ncol=2, loc="upper center", bbox_to_anchor=(0.5, -0.22), frameon=False)
        lr_ax.plot(train["step"], train["lr"], color="black", lw=1.1)
        lr_ax.set(title="learning rate\n(first parameter group)", xlabel="optimiser step")
        key, best = ("f1", dev["f1"].idxmax()) if "f1" in dev else ("loss", dev["loss"].idxmin())
        scale = 100 if key == "f1" else 1
        dev_ax.plot(dev["step"], scale * dev[key], color="black", marker="o", ms=3, lw=1.1)
        dev_ax.scatter([dev.loc[best, "step"]], [scale * dev.loc[best, key]], s=140, facecolors="none",
                       edgecolors="crimson", lw=2, label="best checkpoint", zorder=3)
        dev_ax.set(title="dev macro-F1 (%)" if key == "f1" else "dev loss (eq. 7)", xlabel="optimiser step")
        dev_ax.legend(fontsize=9)
        for ax in (terms_ax, lr_ax, dev_ax):
            ax.grid(alpha=0.3)
            ax.xaxis.set_major_locator(MaxNLocator(4, integer=True))
    fig.suptitle(title, fontsize=12)       # constrained layout keeps it above the rows' titles
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
    fig, axes = plt.subplots(1, len(tasks), figsize=(8, 0.32 * len(labels) + 1.6), sharey=True,
                             squeeze=False, layout="constrained")
    styles = ["--", ":", "-."]
    for ax, task in zip(axes[0], tasks):
        part = results[results.task == task].set_index("label").reindex(labels)
        y = np.arange(len(labels))
        ax.barh(y, part["mean"], xerr=part["std"], color="tab:blue", alpha=0.75, capsize=3)
        for k, seeds in enumerate(part["seeds"]):
            ax.scatter(seeds, [k] * len(seeds), s=12, color="black", zorder=3)
        for (name, values), ls in zip(floors.items(), styles):
            if task in values:
                ax.axvline(values[task], color="tab:red", ls=ls, lw=1.5, label=name)
        ax.set(title=task, xlabel="test macro-F1 (%)", xlim=(0, 100), xticks=[0, 50, 100], yticks=y)
        ax.set_yticklabels(labels, fontsize=10)
        ax.invert_yaxis()
    if floors:   # below the panels, where it hides no bar
        fig.legend(*axes[0][0].get_legend_handles_labels(), loc="outside lower center", ncol=len(floors), fontsize=10)
    return fig
