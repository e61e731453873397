"""The trainer: schedule, data order, what each stage changes, init rules, non-finite losses."""
import json
import math

import pytest
import torch

from sydes_mini import step as step_module
from sydes_mini.checkpoint import CheckpointError, load_weights
from sydes_mini.config import get_config
from sydes_mini.toy import synth
from sydes_mini.train import (NonFiniteLoss, Trainer, cosine_with_warmup, epoch_order, rank_indices,
                              train_stage)


@pytest.fixture(scope="module")
def toy(tmp_path_factory):
    return synth(tmp_path_factory.mktemp("toy"), n_train=12, n_dev=6, n_test=6, seed=3)


def cfg_for(toy, *extra):
    return get_config("smoke", [f"data.root={toy}", "train.batch_size=4", "train.epochs_pretrain=1", "train.epochs_finetune=1", *extra])


@pytest.fixture(scope="module")
def pretrained(toy, tmp_path_factory):
    out = tmp_path_factory.mktemp("run") / "pretrain"
    train_stage(cfg_for(toy, "train.eval_every_steps=2"), "pretrain", out)
    return out


def test_cosine_schedule_with_linear_warmup():
    f = cosine_with_warmup(total_steps=20, warmup=0.10)            # 2 warm-up steps
    assert [f(0), f(1)] == [0.5, 1.0]                               # linear up to the peak
    assert f(2) == 1.0 and f(11) == pytest.approx(0.5) and f(20) == pytest.approx(0.0)
    assert all(f(s) >= f(s + 1) for s in range(1, 20))             # then only down


def test_epoch_order_depends_only_on_seed_and_epoch():
    a = epoch_order(10, seed=42, epoch=3)
    assert a == epoch_order(10, seed=42, epoch=3) and sorted(a) == list(range(10))
    assert a != epoch_order(10, seed=42, epoch=4) and a != epoch_order(10, seed=43, epoch=3)


def test_two_processes_see_the_global_batch_of_one():
    order, per_rank = epoch_order(12, 0, 0), 2
    shards = [rank_indices(order, r, 2) for r in range(2)]
    for step in range(3):                                         # global batch 4 = 2 ranks x 2
        together = sorted(i for s in shards for i in s[step * per_rank:(step + 1) * per_rank])
        assert together == sorted(order[step * 4:(step + 1) * 4])


def test_pretraining_run_folder_and_log(pretrained):
    assert {p.name for p in pretrained.iterdir()} >= {"config.json", "best.safetensors", "last.safetensors",
                                                       "metrics.jsonl", "dev_metrics.json", "done.json"}
    records = [json.loads(line) for line in (pretrained / "metrics.jsonl").read_text().splitlines()]
    steps = [r for r in records if "eval" not in r]
    evals = [r for r in records if r.get("eval") == "dev"]
    assert [r["step"] for r in steps] == [1, 2, 3]                 # 12 samples / batch 4
    assert {"loss", "rec", "si", "dc", "itc", "lr", "grad_norm", "samples_per_s"} <= set(steps[0])
    assert [r["step"] for r in evals] == [2, 3]                    # every 2 steps and at the epoch end
    f = cosine_with_warmup(3, 0.15)
    lr = get_config("smoke").train.lr_pretrain["image_encoder"]                    # the first group's, logged
    assert [r["lr"] for r in steps] == pytest.approx([lr * f(s) for s in range(3)])
    best = json.loads((pretrained / "dev_metrics.json").read_text())
    assert best["loss"] == min(r["loss"] for r in evals)          # best = lowest dev loss


def test_pretraining_leaves_frozen_modules_unchanged(toy, pretrained):
    torch.manual_seed(42)                                          # the trainer's seed builds the same init
    fresh = Trainer(cfg_for(toy), "pretrain", pretrained.parent / "again").model.state_dict()
    trained, _ = load_weights(pretrained / "last.safetensors")
    for name, value in fresh.items():
        same = torch.equal(value, trained[name])
        assert same == name.startswith(("text_decoder.", "head.")), name


def test_finetune_starts_from_pretraining_except_the_head(toy, pretrained, tmp_path):
    trainer = Trainer(cfg_for(toy, "train.cache_features=false"), "finetune", tmp_path / "ft", "sentiment",
                      init=pretrained)
    start, _ = load_weights(pretrained / "best.safetensors")
    mine = trainer.model.state_dict()
    assert all(torch.equal(mine[k], v) for k, v in start.items() if not k.startswith("head."))
    assert mine["head.classifier.3.weight"].shape[0] == 3                 # a new head with K = 3 sentiment classes


@pytest.mark.parametrize("cache", ["true", "false"])
def test_finetune_trains_then_tests_and_keeps_frozen_parts(toy, pretrained, tmp_path, cache):
    out = tmp_path / "finetune" / "emotion"
    result = train_stage(cfg_for(toy, f"train.cache_features={cache}"), "finetune", out, "emotion", pretrained)
    test = json.loads((out / "metrics_test.json").read_text())
    assert test["n"] == 6 and 0 <= test["f1"] <= 1 and test["labels"][0] == "happiness"
    assert result["test"]["f1"] == test["f1"]
    start, _ = load_weights(pretrained / "best.safetensors")
    end, _ = load_weights(out / "last.safetensors", stage="finetune", task="emotion")
    assert all(torch.equal(end[k], v) for k, v in start.items() if k.startswith(("image_encoder.", "image_decoder.")))
    assert not all(torch.equal(end[k], v) for k, v in start.items() if k.startswith("text_decoder."))


def test_init_must_exist_and_be_a_pretraining(toy, pretrained, tmp_path):
    with pytest.raises(CheckpointError, match="not found.*--init none"):
        Trainer(cfg_for(toy), "finetune", tmp_path / "a", "desire", init=tmp_path / "nowhere")
    fine = tmp_path / "ft"
    train_stage(cfg_for(toy, "train.max_steps=1"), "finetune", fine, "desire", init=None)   # SyDES-B
    with pytest.raises(CheckpointError, match="stage='pretrain' is needed"):
        Trainer(cfg_for(toy), "finetune", tmp_path / "b", "desire", init=fine)
    with pytest.raises(CheckpointError, match="profile='full' is needed"):
        Trainer(get_config("full", [f"data.root={toy}", "model.clip_pretrained=none",
                                    "model.text_decoder_pretrained=none"]), "finetune", tmp_path / "c",
                "desire", init=pretrained)


def test_existing_run_needs_resume_and_resume_needs_a_run(toy, pretrained, tmp_path):
    with pytest.raises(FileExistsError, match="--resume"):
        Trainer(cfg_for(toy), "pretrain", pretrained)
    with pytest.raises(CheckpointError, match="nothing to resume"):
        Trainer(cfg_for(toy), "pretrain", tmp_path / "empty", resume=True)
    with pytest.raises(CheckpointError, match="model.mask_ratio"):
        Trainer(cfg_for(toy, "model.mask_ratio=0.5"), "pretrain", pretrained, resume=True)


def test_non_finite_loss_stops_with_step_rows_and_terms_and_keeps_last_good(toy, tmp_path, monkeypatch):
    calls = []
    real = step_module.pretrain_loss

    def poisoned(model, batch, cfg, generator=None):
        loss, terms, out = real(model, batch, cfg, generator)
        calls.append(1)
        if len(calls) == 3:                                   # the third batch goes wrong
            terms["rec"] = terms["rec"] * math.nan
            loss = loss * math.nan
        return loss, terms, out
    monkeypatch.setattr(step_module, "pretrain_loss", poisoned)           # what the trainer's StageLoss calls
    out = tmp_path / "pretrain"
    with pytest.raises(NonFiniteLoss, match=r"step 2, batch indices \(CSV rows\) \[\d+, \d+, \d+, \d+\].*'rec': nan"):
        train_stage(cfg_for(toy, "train.save_every_steps=1"), "pretrain", out)
    weights, meta = load_weights(out / "last.safetensors")
    assert meta["step"] == 2 and all(torch.isfinite(w).all() for w in weights.values())


def test_a_terminal_sees_one_line_per_epoch_and_a_notebook_none(toy, pretrained, tmp_path, monkeypatch):
    """make book sets TQDM_DISABLE=1 (no bars in notebook outputs); on a terminal each epoch still prints a line."""
    import io
    import sys

    class Terminal(io.StringIO):
        def isatty(self):
            return True

    for stream, expected in ((Terminal(), 2), (io.StringIO(), 0)):
        monkeypatch.setattr(sys, "stderr", stream)
        out = tmp_path / f"ft{expected}"
        train_stage(cfg_for(toy, "train.epochs_finetune=2"), "finetune", out, task="emotion", init=pretrained)
        lines = [l for l in stream.getvalue().replace("\r", "\n").splitlines() if l.startswith(f"{out}: epoch")]
        assert len(lines) == expected, stream.getvalue()
        if expected:
            assert lines[0].startswith(f"{out}: epoch 1/2, optimiser step 3, dev f1 ")
            assert lines[1].startswith(f"{out}: epoch 2/2, optimiser step 6, dev f1 ")
