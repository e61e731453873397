"""A text-only reference row: TF-IDF + logistic regression (scikit-learn), C picked on dev (issue 5).

It reads only the text (the caption by default, as the model does, SPEC
difference 9), so it shows how much of each task the words alone give away;
every SyDES number should be read next to it. Per task: fit one pipeline per C
of :data:`C_GRID` on train, keep the C with the highest dev macro-F1 (the
main runs' selection rule), report dev and test with the main runs' metrics::

    {task: {"test": metrics, "dev": metrics, "C": best C, "dev_f1_by_C": {C: macro-F1}}}
"""
from __future__ import annotations

from pathlib import Path

from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline

from .data import csv_path, read_split, text_of
from .labels import TASKS
from .metrics import compute_metrics

__all__ = ["C_GRID", "make_pipeline", "run_baseline"]

C_GRID = (0.01, 0.1, 1.0, 10.0, 100.0)   # inverse regularisation strengths tried on dev


def make_pipeline(C: float) -> Pipeline:
    """Word uni- and bigram TF-IDF -> logistic regression; classes weighted by 1/frequency (macro metrics)."""
    return Pipeline([("tfidf", TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True)),
                     ("logreg", LogisticRegression(C=C, class_weight="balanced", max_iter=5000))])


def load_texts(root: str | Path, split: str, text_field: str) -> tuple[list[str], dict[str, list[int]]]:
    """A split's texts and its labels {task: [class index]}."""
    records = read_split(root, split)
    return [text_of(r, text_field) for r in records], {t: [r.labels[t] for r in records] for t in TASKS}


def fit(texts: list[str], labels: list[int], C: float, where: Path, task: str) -> Pipeline:
    """Fit one pipeline; a training split that cannot be fitted gets an error naming the file and the fix."""
    if len(set(labels)) < 2:
        raise ValueError(f"{where}: every row has the same {task} label; the baseline needs at least two "
                         "classes in train (use a larger or less filtered train split)")
    if not any(t.strip() for t in texts):
        raise ValueError(f"{where}: every text is empty; choose another --text-field (caption, title, "
                         "title+caption)")
    return make_pipeline(C).fit(texts, labels)


def run_task(data: dict, task: str, grid, where: Path) -> dict:
    """C chosen on dev by macro-F1 (first of equals: the strongest regularisation) -> dev and test metrics."""
    (train_x, train_y), (dev_x, dev_y), (test_x, test_y) = (
        (x, y[task]) for x, y in (data["train"], data["dev"], data["test"]))
    models = {C: fit(train_x, train_y, C, where, task) for C in grid}
    dev = {C: compute_metrics(dev_y, m.predict(dev_x), task) for C, m in models.items()}
    best = max(grid, key=lambda C: dev[C]["f1"])
    return {"test": compute_metrics(test_y, models[best].predict(test_x), task), "dev": dev[best],
            "C": best, "dev_f1_by_C": {str(C): dev[C]["f1"] for C in grid}}


def run_baseline(root: str | Path, text_field: str = "caption", grid=C_GRID) -> dict:
    """The baseline on every task of an MSED-format folder -> {task: {"test", "dev", "C", "dev_f1_by_C"}}."""
    data = {split: load_texts(root, split, text_field) for split in ("train", "dev", "test")}
    return {task: run_task(data, task, grid, csv_path(root, "train")) for task in TASKS}
