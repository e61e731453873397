"""reproduce: one pretraining, three fine-tunes, summary.json; a finished run is not trained again."""
import contextlib
import json

import pytest

from sydes_mini.labels import TASKS
from sydes_mini.paper_tables import load_summary
from sydes_mini.reproduce import data_fingerprint, format_summary, reproduce
from sydes_mini.toy import synth

TINY = ["train.epochs_pretrain=1", "train.epochs_finetune=1", "train.batch_size=6"]


@pytest.fixture(scope="module")
def toy(tmp_path_factory):
    return synth(tmp_path_factory.mktemp("toy"), n_train=12, n_dev=6, n_test=6, seed=1)


def test_reproduce_writes_a_summary_the_book_reads_and_reruns_for_free(toy, tmp_path, capsys):
    out = tmp_path / "run"
    summary = reproduce("smoke", out, toy, overrides=TINY)
    assert set(summary) == set(TASKS)
    for task, s in summary.items():
        t = s["test"]
        assert all(0.0 <= t[m] <= 1.0 for m in ("precision", "recall", "f1", "accuracy")) and t["n"] == 6
        assert 0.0 < s["majority"]["f1"] <= 1.0 and s["seeds"] == [t["f1"]]
        done = json.loads((out / "finetune" / task / "done.json").read_text())
        assert done["test"]["f1"] == t["f1"]
    assert json.loads((out / "summary.json").read_text()) == summary
    assert set(load_summary(out / "summary.json")) == set(TASKS)            # what paper_tables/book read
    info = json.loads((out / "reproduce.json").read_text())
    assert info["seeds"] == 1 and set(info["stage_wall_s"][0]) == {"pretrain", *TASKS}
    assert "majority F1" in format_summary(summary)

    stamps = {p: p.stat().st_mtime_ns for p in out.rglob("*.safetensors")}
    capsys.readouterr()
    assert reproduce("smoke", out, toy, overrides=TINY) == summary        # nothing trained again
    assert {p: p.stat().st_mtime_ns for p in out.rglob("*.safetensors")} == stamps
    assert capsys.readouterr().out.count("already complete, skipped") == 4


def test_a_finished_run_with_other_settings_is_refused(toy, tmp_path):
    out = tmp_path / "run"
    reproduce("smoke", out, toy, overrides=[*TINY, "train.max_steps=1"])
    with pytest.raises(Exception, match="model.mask_ratio"):
        reproduce("smoke", out, toy, overrides=[*TINY, "train.max_steps=1", "model.mask_ratio=0.5"])


def test_several_seeds_report_mean_and_std(toy, tmp_path):
    summary = reproduce("smoke", tmp_path / "run", toy, seeds=2, overrides=[*TINY, "train.max_steps=1"])
    for s in summary.values():
        assert len(s["seeds"]) == 2 and s["test"]["f1"] == pytest.approx(sum(s["seeds"]) / 2)
        assert s["test"]["f1_std"] >= 0 and "accuracy_std" in s["test"]
    assert (tmp_path / "run" / "seed-42" / "finetune" / "desire" / "metrics_test.json").exists()
    assert (tmp_path / "run" / "seed-43" / "pretrain" / "best.safetensors").exists()


def test_init_none_is_sydes_b_without_pretraining(toy, tmp_path):
    out = tmp_path / "run"
    summary = reproduce("smoke", out, toy, overrides=[*TINY, "train.max_steps=1"], init="none")
    assert set(summary) == set(TASKS) and not (out / "pretrain").exists()
    info = json.loads((out / "reproduce.json").read_text())
    assert info["init"] == "none" and set(info["stage_wall_s"][0]) == set(TASKS)
    with pytest.raises(ValueError, match="'pretrain' or 'none'"):
        reproduce("smoke", out, toy, init="scratch")


def test_the_three_fine_tunes_encode_each_split_once(toy, tmp_path, monkeypatch):
    from sydes_mini import cache
    calls = []
    encode = cache.cached_dataset
    monkeypatch.setattr(cache, "cached_dataset", lambda *a, **k: calls.append(1) or encode(*a, **k))
    shared = reproduce("smoke", tmp_path / "shared", toy, overrides=[*TINY, "train.max_steps=2"])
    assert len(calls) == 3                                                  # train, dev, test: not 3 x 3
    monkeypatch.setattr(cache, "shared_features", contextlib.nullcontext)
    alone = reproduce("smoke", tmp_path / "alone", toy, overrides=[*TINY, "train.max_steps=2"])
    assert len(calls) == 3 + 9 and alone == shared                          # the same numbers, each task its own


def test_a_run_is_never_reused_for_other_data(tmp_path):
    """data.json records the data a run was made from; another toy world (or an old run that does not say)
    is refused before any work, with the fix."""
    out, world = tmp_path / "run", synth(tmp_path / "world", n_train=12, n_dev=6, n_test=6, seed=1)
    reproduce("smoke", out, world, overrides=[*TINY, "train.max_steps=1"])
    assert json.loads((out / "data.json").read_text())["fingerprint"] == data_fingerprint(world)
    synth(world, overwrite=True, n_train=12, n_dev=6, n_test=6, seed=2)   # the same folder, redrawn
    with pytest.raises(FileExistsError, match="trained on other data.*delete"):
        reproduce("smoke", out, world, overrides=[*TINY, "train.max_steps=1"])
    synth(world, overwrite=True, n_train=12, n_dev=6, n_test=6, seed=1)
    (out / "data.json").unlink()                                     # a finished run made before runs recorded it
    with pytest.raises(FileExistsError, match="do not record their data"):
        reproduce("smoke", out, world, overrides=[*TINY, "train.max_steps=1"])


def test_an_older_toy_world_is_redrawn_and_a_current_one_kept(tmp_path, monkeypatch, capsys):
    from sydes_mini import reproduce as module
    from sydes_mini import toy as toy_module
    calls = []
    monkeypatch.setattr(toy_module, "synth", lambda root, overwrite: calls.append(root) or
                        (root / "toy_world.json").write_text(json.dumps({"version": toy_module.VERSION})))
    root = tmp_path / "toy"
    root.mkdir()
    (root / "toy_world.json").write_text(json.dumps({"n_train": 600}))          # version 1 wrote no version
    assert module.ensure_toy_world(root) == root and calls == [root]
    assert "version 1; redrawing it" in capsys.readouterr().out
    module.ensure_toy_world(root)
    assert calls == [root]                                                       # current: kept
