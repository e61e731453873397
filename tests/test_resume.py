"""A run killed with SIGKILL and resumed with --resume ends exactly like one never interrupted (issue 5)."""
import json
import os
import signal
import subprocess
import sys
import time

import pytest
import torch

from sydes_mini.checkpoint import load_weights
from sydes_mini.cli import main
from sydes_mini.toy import synth

# 24 samples, batch 4, accumulation 2 -> 3 optimiser steps per epoch, 2 epochs: 6 steps, checkpoint after each
ARGS = ["--epochs", "2", "--batch-size", "4", "--grad-accum", "2", "--save-every-steps", "1",
        "--set", "train.eval_every_steps=2", "--device", "cpu"]


@pytest.fixture(scope="module")
def toy(tmp_path_factory):
    return synth(tmp_path_factory.mktemp("toy"), n_train=24, n_dev=4, n_test=4, seed=5)


def command(stage, toy, out, pretrain=None):
    """The command-line arguments of a run (after ``python -m sydes_mini``)."""
    extra = ["--task", "emotion", "--init", str(pretrain)] if stage == "finetune" else []
    return [stage, "--data", str(toy), "--out", str(out), *extra, *ARGS]


def stage_dir(stage, out):
    return out / "pretrain" if stage == "pretrain" else out / "finetune" / "emotion"


def kill_mid_run(cmd, log, after_lines=2, timeout=120):
    """Start ``cmd`` and SIGKILL it once ``log`` has ``after_lines`` step records."""
    proc = subprocess.Popen([sys.executable, "-m", "sydes_mini", *cmd], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    start = time.time()
    while time.time() - start < timeout and proc.poll() is None:
        if log.exists() and sum('"eval"' not in r for r in log.read_text().splitlines()) >= after_lines:
            break
        time.sleep(0.02)
    assert proc.poll() is None, "the run ended before it could be killed"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()


def comparable(log):
    """metrics.jsonl without throughput (wall-clock timing differs between any two runs)."""
    return [{k: v for k, v in json.loads(r).items() if k != "samples_per_s"} for r in log.read_text().splitlines()]


@pytest.fixture(scope="module")
def pretrained(toy, tmp_path_factory):
    out = tmp_path_factory.mktemp("base")
    assert main(command("pretrain", toy, out)) == 0
    return out / "pretrain"


@pytest.mark.parametrize("stage", ["pretrain", "finetune"])
def test_sigkill_then_resume_equals_uninterrupted(stage, toy, pretrained, tmp_path):
    whole, broken = tmp_path / "whole", tmp_path / "broken"
    if stage == "pretrain":
        whole = pretrained.parent
    else:
        assert main(command(stage, toy, whole, pretrained)) == 0
    kill_mid_run(command(stage, toy, broken, pretrained), stage_dir(stage, broken) / "metrics.jsonl")
    assert not (stage_dir(stage, broken) / "done.json").exists()          # really interrupted
    assert main(command(stage, toy, broken, pretrained) + ["--resume"]) == 0      # resumed in this process
    for name in ("last.safetensors", "best.safetensors"):
        a, _ = load_weights(stage_dir(stage, whole) / name)
        b, _ = load_weights(stage_dir(stage, broken) / name)
        assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a), name
    assert comparable(stage_dir(stage, broken) / "metrics.jsonl") == comparable(stage_dir(stage, whole) / "metrics.jsonl")
