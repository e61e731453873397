"""The text-only TF-IDF + logistic-regression baseline: JSON format, C on dev, learns what the text says."""
import json

import pytest

from sydes_mini.baseline import C_GRID, run_baseline
from sydes_mini.cli import main
from sydes_mini.labels import LABELS, TASKS
from sydes_mini.toy import synth

from conftest import row, write_split

SCALARS = ("precision", "recall", "f1", "accuracy")


def check_format(results: dict) -> None:
    assert set(results) == set(TASKS)
    for task, r in results.items():
        assert r["C"] in C_GRID and set(r["dev_f1_by_C"]) == {str(C) for C in C_GRID}
        assert r["dev"]["f1"] == max(r["dev_f1_by_C"].values())
        for split in ("dev", "test"):
            assert all(0.0 <= r[split][k] <= 1.0 for k in SCALARS), (task, split, r[split])


def test_toy_world_results_have_the_main_runs_format(tmp_path):
    root = synth(tmp_path / "toy", n_train=60, n_dev=20, n_test=20)
    check_format(run_baseline(root))


def naming_rows(n: int, offset: int = 0) -> list[list[str]]:
    """Rows whose caption names all three labels with task-specific words (e.g. ``emotion_sad``)."""
    rows = []
    for i in range(offset, offset + n):
        labels = {t: LABELS[t][i % len(LABELS[t])] for t in TASKS}
        text = " ".join(f"{t}_{labels[t]}" for t in TASKS) + " seen in a photo"
        rows.append(row(text, labels["sentiment"], labels["emotion"], labels["desire"]))
    return rows


def test_captions_that_name_the_label_are_learned_perfectly(tmp_path):
    for split, n, offset in (("train", 42, 0), ("dev", 21, 5), ("test", 21, 11)):
        write_split(tmp_path, split, naming_rows(n, offset))
    out = tmp_path / "runs" / "baseline.json"
    assert main(["baseline", "--data", str(tmp_path), "--out", str(out)]) == 0
    results = json.loads(out.read_text())
    check_format(results)
    assert all(results[t]["test"]["f1"] == 1.0 and results[t]["dev"]["f1"] == 1.0 for t in TASKS)


def test_a_train_split_with_one_class_is_a_clear_error(tmp_path, capsys):
    for split in ("train", "dev", "test"):
        write_split(tmp_path, split, [row("a dog"), row("a cat")])     # every label is the same
    assert main(["baseline", "--data", str(tmp_path), "--out", str(tmp_path / "b.json")]) == 2
    err = capsys.readouterr().err
    assert "train.csv" in err and "same desire label" in err
    with pytest.raises(ValueError, match="at least two classes"):
        run_baseline(tmp_path)
