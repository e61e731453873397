"""Classification metrics (paper 4.1.2): macro precision, recall, F1 and accuracy, with scikit-learn.

Every number is a fraction in [0, 1] (the book shows percentages). Macro
averages weigh each class equally, which matters for MSED's imbalance (desire
``none`` is about half of the data). As in the authors' evaluation (scikit-learn's
defaults), a macro average runs over the classes that occur in the true or the
predicted labels (a class absent from both does not count), and a class never
predicted has precision 0 (``zero_division=0``). Their "Weighted Accuracy"
(paper 4.1.2) is this plain accuracy.
"""
from __future__ import annotations

from collections import Counter
from typing import Sequence

import numpy as np
from sklearn.metrics import accuracy_score, confusion_matrix, precision_recall_fscore_support

from .labels import LABELS


def compute_metrics(y_true: Sequence[int], y_pred: Sequence[int], task: str) -> dict:
    """Class indices (SPEC order of ``LABELS[task]``) -> a JSON-ready dict.

    Keys: ``precision``, ``recall``, ``f1`` (macro over the classes present in
    ``y_true`` or ``y_pred``), ``accuracy``, ``n``, ``labels`` (names in index
    order), ``per_class`` {name: {precision, recall, f1, support}} and
    ``confusion_matrix`` [K][K] (rows = true class, columns = predicted).
    """
    names = LABELS[task]
    y_true, y_pred = np.asarray(y_true, dtype=int), np.asarray(y_pred, dtype=int)
    if y_true.shape != y_pred.shape or y_true.ndim != 1 or len(y_true) == 0:
        raise ValueError(f"need two equal-length, non-empty 1-d label lists; got {y_true.shape} and {y_pred.shape}")
    bad = sorted(set(np.concatenate([y_true, y_pred]).tolist()) - set(range(len(names))))
    if bad:
        raise ValueError(f"class indices {bad} are outside 0..{len(names) - 1} for task {task!r}")
    ids = list(range(len(names)))
    p, r, f, s = precision_recall_fscore_support(y_true, y_pred, labels=ids, zero_division=0)
    macro = precision_recall_fscore_support(y_true, y_pred, average="macro", zero_division=0)   # present classes
    return {
        "precision": float(macro[0]), "recall": float(macro[1]), "f1": float(macro[2]),
        "accuracy": float(accuracy_score(y_true, y_pred)), "n": int(len(y_true)), "labels": list(names),
        "per_class": {n: {"precision": float(p[k]), "recall": float(r[k]), "f1": float(f[k]),
                          "support": int(s[k])} for k, n in enumerate(names)},
        "confusion_matrix": confusion_matrix(y_true, y_pred, labels=ids).tolist(),
    }


def majority_class(y_train: Sequence[int]) -> int:
    """The most frequent class of the training labels (ties: the lowest index)."""
    counts = Counter(int(y) for y in y_train)
    return min(counts, key=lambda k: (-counts[k], k))


def majority_metrics(y_train: Sequence[int], y_true: Sequence[int], task: str) -> dict:
    """Metrics of always predicting the training split's majority class: the floor a model must beat.

    Its macro F1 is ``2q / (K (1 + q))`` with q the majority class's share of ``y_true`` and K the number of
    classes in ``y_true`` and the majority class (all of them on a real test split).
    """
    return compute_metrics(y_true, [majority_class(y_train)] * len(y_true), task)
