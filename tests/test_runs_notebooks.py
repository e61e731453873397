"""The papermill reproduction notebooks (notebooks/runs): pretrain, fine-tune and tables on a tiny toy world.

They are run exactly as `make reproduce` runs them, with papermill and parameters, into tmp_path.
"""
import json
import re
from pathlib import Path

import nbformat
import papermill as pm
import pytest

from sydes_mini import paper_tables
from sydes_mini.labels import TASKS
from sydes_mini.toy import synth

ROOT = Path(__file__).resolve().parent.parent
RUNS = ROOT / "notebooks" / "runs"


def execute(name: str, out: Path, **parameters):
    """Run notebooks/runs/<name>.ipynb with papermill (cwd = repository root) -> its executed copy."""
    pm.execute_notebook(str(RUNS / f"{name}.ipynb"), str(out), parameters=parameters, kernel_name="python3",
                        cwd=str(ROOT), progress_bar=False)
    return nbformat.read(out, as_version=4)


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """One tiny main run made through the notebooks: pretrain, three fine-tunes, tables."""
    tmp = tmp_path_factory.mktemp("runs")
    data = synth(tmp / "toy", n_train=8, n_dev=4, n_test=4)
    out = tmp / "smoke"
    tiny = {"profile": "smoke", "data_dir": str(data), "out_dir": str(out), "epochs": 1, "batch_size": 4,
            "max_steps": 1, "overrides": ["model.image_decoder_layers=1", "model.text_decoder_layers=1"]}
    out.mkdir()
    execute("pretrain", out / "pretrain.ipynb", **tiny)
    for task in TASKS:
        execute("finetune", out / f"finetune_{task}.ipynb", **tiny, task=task)
    execute("tables", out / "tables.ipynb", profile="smoke", runs_dir=str(out))
    return out


def test_pretrain_and_finetune_write_the_reproduce_layout(run):
    for stage in ["pretrain", *(f"finetune/{t}" for t in TASKS)]:
        folder = run / stage
        assert {"config.json", "best.safetensors", "metrics.jsonl", "done.json"} <= {p.name for p in folder.iterdir()}
        assert json.loads((folder / "config.json").read_text())["model"]["image_decoder_layers"] == 1
    metrics = json.loads((run / "finetune" / "desire" / "metrics_test.json").read_text())
    assert metrics["n"] == 4 and len(metrics["confusion_matrix"]) == 7


def test_the_last_finetune_writes_a_summary_the_tables_read(run):
    summary = paper_tables.load_summary(run / "summary.json")
    assert set(summary) == set(TASKS)
    for task in TASKS:
        done = json.loads((run / "finetune" / task / "done.json").read_text())
        assert summary[task]["f1"] == pytest.approx(done["test"]["f1"])
    table2 = [line.split(",") for line in (run / "tables" / "table2.csv").read_text().splitlines()]
    sydes = next(row for row in table2 if row[0] == "SyDES")
    paper_col, ours_col = [i for i, col in enumerate(zip(table2[0], table2[1])) if col == ("desire", "F1")]
    assert float(sydes[ours_col]) == pytest.approx(100 * summary["desire"]["f1"], abs=0.01)
    missing = (run / "tables" / "missing.txt").read_text().splitlines()
    assert len(missing) == len(set(r for n in paper_tables.TABLES for r in paper_tables.runs_of(n))) - 1
    assert (run / "tables" / "tables.html").read_text().count("<table") == len(paper_tables.TABLES)


def test_a_finished_stage_is_skipped_not_retrained(run, tmp_path):
    before = (run / "pretrain" / "best.safetensors").stat().st_mtime_ns
    nb = execute("pretrain", tmp_path / "again.ipynb", profile="smoke", out_dir=str(run),
                 data_dir=json.loads((run / "pretrain" / "config.json").read_text())["data"]["root"],
                 epochs=1, batch_size=4, max_steps=1,
                 overrides=["model.image_decoder_layers=1", "model.text_decoder_layers=1"])
    text = "".join(o.get("text", "") for c in nb.cells for o in c.get("outputs", []))
    assert "already complete, skipped" in text
    assert (run / "pretrain" / "best.safetensors").stat().st_mtime_ns == before


@pytest.mark.parametrize("name, parameters, words", [
    ("finetune", {"task": "foo"}, "task='foo'; use one of desire, emotion, sentiment"),
    ("tables", {"runs_dir": "runs/no-such-run"}, "runs_dir='runs/no-such-run' is not a folder"),
])
def test_bad_parameters_stop_before_anything_is_written(name, parameters, words, tmp_path):
    """Issue 14: a mistyped papermill parameter fails in the first code cell and leaves no folder behind."""
    out = tmp_path / "run"
    params = {"out_dir": str(out)} if name == "finetune" else {"out_dir": str(out / "tables")}
    with pytest.raises(pm.PapermillExecutionError, match=re.escape(words)):
        execute(name, tmp_path / "executed.ipynb", **params, **parameters)
    assert not out.exists() and not (ROOT / "runs" / "no-such-run").exists()
