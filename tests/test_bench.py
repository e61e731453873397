"""bench: the JSON contract (no timing assertions: timing is what bench reports, not what tests check)."""
import json

import numpy as np
import pytest

from sydes_mini.bench import msed_caption_lengths
from sydes_mini.cli import main


def test_bench_json_has_every_key(capsys):
    assert main(["bench", "--profile", "smoke", "--device", "cpu", "--batch-size", "2", "--steps", "1"]) == 0
    out = json.loads(capsys.readouterr().out)
    for key in ("pretrain", "finetune", "finetune_cached", "finetune_cached_b32"):
        assert out[f"{key}_samples_per_s"] > 0 and out[f"{key}_gflops_per_sample"] > 0
    # the image encoder's forward is the difference between the uncached and the cached fine-tune step
    assert out["finetune_gflops_per_sample"] > out["finetune_cached_gflops_per_sample"]
    assert out["batch"] == 2 and out["threads"] >= 1 and out["torch"] and out["peak_cpu_rss_mb"] > 0
    assert len(out["text_lengths"]["batch"]) == 1 and 4 <= out["text_lengths"]["batch_32"][0] <= 77
    assert "device" in out


def test_caption_lengths_follow_msed():
    lengths = msed_caption_lengths(6127)
    assert abs(lengths.mean() - 15.3) < 0.2 and np.median(lengths) == 13 and np.percentile(lengths, 90) == 27
    assert 10 <= (lengths == 77).sum() <= 20 and lengths.min() >= 4
    longest = msed_caption_lengths(32 * 200, seed=1).reshape(200, 32).max(1)
    assert 40 <= longest.mean() <= 56                                    # ~48 tokens in a batch of 32


# Building the fp16 context on a machine without CUDA makes torch warn that it will be a no-op: expected here.
@pytest.mark.filterwarnings("ignore:CUDA is not available:UserWarning")
def test_tf32_is_fp32_with_tf32_matrix_products_and_no_autocast():
    import torch
    from sydes_mini.config import get_config
    from sydes_mini.device import autocast, grad_scaler, set_matmul_precision
    assert get_config("smoke", ["train.precision=tf32"]).train.precision == "tf32"
    cuda = torch.device("cuda")                 # the context objects only; nothing runs on a GPU
    assert not isinstance(autocast(cuda, "tf32"), torch.autocast)       # fp32 tensors, no casts
    assert isinstance(autocast(cuda, "fp16"), torch.autocast)
    assert not grad_scaler(torch.device("cpu"), "tf32").is_enabled()    # no loss scaling
    try:
        set_matmul_precision("tf32")
        assert torch.backends.cuda.matmul.allow_tf32                      # for the backward pass too
        set_matmul_precision("fp16")
        assert not torch.backends.cuda.matmul.allow_tf32
    finally:
        set_matmul_precision("fp32")


# In a child process, since the setting is process-wide: the page faults of a step-like computation whose
# 64 MB intermediates are above glibc's largest mmap threshold (32 MB), before and after the call.
ALLOCATOR_PROBE = """
import json, resource, torch
from sydes_mini.device import keep_freed_memory

x, w = torch.randn(2048, 1024), torch.randn(1024, 8192)

def step_faults():
    start = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    hidden = (x @ w).relu()                                   # [2048, 8192]: 64 MB, freed at the end
    (hidden @ w.T).sum()
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt - start

default = [step_faults() for _ in range(4)]
applied = keep_freed_memory()
kept = [step_faults() for _ in range(4)]
print(json.dumps({"applied": applied, "default": default, "kept": kept}))
"""


def test_keep_freed_memory_saves_page_faults_of_repeated_steps():
    import subprocess
    import sys
    from sydes_mini.device import on_glibc
    if not on_glibc():
        pytest.skip("glibc only (keep_freed_memory does nothing elsewhere)")
    out = json.loads(subprocess.run([sys.executable, "-c", ALLOCATOR_PROBE], capture_output=True, text=True,
                                    check=True).stdout)
    pages = 64 * 2**20 // 4096                                   # one 64 MB intermediate
    assert out["applied"]
    assert min(out["default"][1:]) >= pages                     # by default every step maps it afresh ...
    assert sum(out["kept"][1:]) < sum(out["default"][1:]) / 2    # ... after the call freed blocks are reused
