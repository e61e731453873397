"""torchrun with 2 CPU processes (gloo, DistributedDataParallel) reaches the same weights as 1 process with the
same global batch, and a 2-process run killed and resumed ends exactly like an uninterrupted one."""
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from sydes_mini.checkpoint import load_weights
from sydes_mini.cli import main
from sydes_mini.toy import synth

# L_si is a mean over samples, so the mean of the two processes' losses (DDP averages gradients) is the
# one-process loss; L_itc and L_dc compare every sample with every other one in the batch, which each
# process sees only half of. Mask ratio 0 makes the masks the same whatever each process's generator draws.
ARGS = ["--epochs", "1", "--batch-size", "4", "--device", "cpu", "--set", "train.pretrain_losses=si",
        "--set", "model.mask_ratio=0"]


@pytest.fixture(scope="module")
def toy(tmp_path_factory):
    return synth(tmp_path_factory.mktemp("toy"), n_train=8, n_dev=4, n_test=4, seed=4)


def test_two_gloo_processes_equal_one(toy, tmp_path):
    one, two = tmp_path / "one", tmp_path / "two"
    assert main(["pretrain", "--data", str(toy), "--out", str(one), *ARGS]) == 0
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    subprocess.run([sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2", "--master_port", "29517",
                    "-m", "sydes_mini", "pretrain", "--data", str(toy), "--out", str(two), *ARGS],
                   check=True, capture_output=True, env=env, timeout=300)
    a, _ = load_weights(one / "pretrain" / "last.safetensors")
    b, meta = load_weights(two / "pretrain" / "last.safetensors")
    assert meta["step"] == 2 and a.keys() == b.keys()
    # The runs differ only in float summation order (gradients summed over two halves, then averaged by
    # all-reduce; 1 vs 2 threads): ~1e-7 relative in every gradient. AdamW divides by sqrt(v), so for
    # weights whose gradient is ~0 this noise can move the update by up to lr = 1e-3 in the worst case;
    # in practice the largest difference is ~1e-5 after 2 steps. 1e-4 still catches a wrong average
    # (summing instead of averaging, or one process's half batch only, moves weights by ~lr = 1e-3).
    worst = max((a[k] - b[k]).abs().max().item() for k in a)
    assert worst < 1e-4, worst
    logs = [[json.loads(r) for r in (d / "pretrain" / "metrics.jsonl").read_text().splitlines()] for d in (one, two)]
    for r1, r2 in zip(*logs):          # losses (means over all 4 samples) and gradient norms agree
        assert r1.get("eval") == r2.get("eval") and r1["loss"] == pytest.approx(r2["loss"], rel=1e-5)
        assert r1.get("grad_norm", 0) == pytest.approx(r2.get("grad_norm", 0), rel=1e-5)


# 16 samples, 2 processes x batch 2, accumulation 2 (no_sync on the first batch of each step): 2 optimiser
# steps per epoch, 3 epochs, a checkpoint after every step; every loss term with masking (mask generator state).
RESUME_ARGS = ["--epochs", "3", "--batch-size", "4", "--grad-accum", "2", "--save-every-steps", "1",
               "--device", "cpu"]


def torchrun(*args, port):
    return [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2", "--master_port", str(port),
            "-m", "sydes_mini", *args]


def children(pid: int) -> list[int]:
    """The processes whose parent is ``pid`` (Linux /proc)."""
    kids = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:                             # the process ended while we looked
            continue
        if int(fields[1]) == pid:
            kids.append(int(stat.parent.name))
    return kids


def alive(pid: int) -> bool:
    """``pid`` exists and is not a zombie."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc; workers die with torchrun on Linux")
def test_two_processes_killed_and_resumed_equal_uninterrupted(tmp_path_factory, tmp_path):
    toy = synth(tmp_path_factory.mktemp("toy16"), n_train=16, n_dev=4, n_test=4, seed=6)
    whole, broken = tmp_path / "whole", tmp_path / "broken"
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    run = ["pretrain", "--data", str(toy), *RESUME_ARGS]
    subprocess.run(torchrun(*run, "--out", str(whole), port=29518), check=True, capture_output=True, env=env,
                   timeout=600)
    log = broken / "pretrain" / "metrics.jsonl"
    proc = subprocess.Popen(torchrun(*run, "--out", str(broken), port=29519), stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, env=env, start_new_session=True)
    start = time.time()
    while time.time() - start < 300 and proc.poll() is None:     # SIGKILL after 2 of the 6 steps
        if log.exists() and sum('"eval"' not in r for r in log.read_text().splitlines()) >= 2:
            break
        time.sleep(0.02)
    assert proc.poll() is None, "the run ended before it could be killed"
    workers = children(proc.pid)
    assert len(workers) == 2, workers
    os.killpg(proc.pid, signal.SIGKILL)         # torchrun only: each worker runs in a session of its own
    proc.wait()
    deadline = time.time() + 60                 # the workers must die with their launcher, not train on
    while any(alive(w) for w in workers) and time.time() < deadline:
        time.sleep(0.05)
    assert not any(alive(w) for w in workers), "workers outlived their killed torchrun"
    assert not (broken / "pretrain" / "done.json").exists()
    assert 1 <= load_weights(broken / "pretrain" / "last.safetensors")[1]["step"] < 6   # resumed mid-run
    resumed = subprocess.run(torchrun(*run, "--out", str(broken), "--resume", port=29520), capture_output=True,
                             text=True, env=env, timeout=600)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    for name in ("last.safetensors", "best.safetensors"):
        a, meta = load_weights(whole / "pretrain" / name)
        b, _ = load_weights(broken / "pretrain" / name)
        assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a), name
    assert load_weights(whole / "pretrain" / "last.safetensors")[1]["step"] == 6
    strip = [[{k: v for k, v in json.loads(r).items() if k != "samples_per_s"}
              for r in (d / "pretrain" / "metrics.jsonl").read_text().splitlines()] for d in (whole, broken)]
    assert strip[0] == strip[1]


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux only")
def test_only_torchrun_workers_ask_to_die_with_their_launcher(monkeypatch):
    import ctypes

    from sydes_mini.train import die_with_launcher
    calls = []

    class Libc:
        def prctl(self, *args):
            calls.append(args)
            return 0

    monkeypatch.setattr(ctypes, "CDLL", lambda *a, **k: Libc())
    monkeypatch.delenv("TORCHELASTIC_RUN_ID", raising=False)
    die_with_launcher()                                  # a rank started by hand: no request
    assert calls == []
    monkeypatch.setenv("TORCHELASTIC_RUN_ID", "test")
    die_with_launcher()                                  # under torchrun: PR_SET_PDEATHSIG (1), SIGKILL
    assert calls == [(1, signal.SIGKILL)]
