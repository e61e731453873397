"""torchrun with 2 CPU processes (gloo) reaches the same weights as 1 process with the same global batch."""
import json
import os
import subprocess
import sys

import pytest

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
