"""Estimates on fake tensors: the FLOPs equal those counted on a real step, the peak memory is plausible."""
import torch
from torch.utils.flop_counter import FlopCounterMode

from sydes_mini.bench import SyntheticItems
from sydes_mini.config import get_config
from sydes_mini.data import collate
from sydes_mini.estimate import PeakMemory, fits_t4, gpu_hours, map_tensors, peak_at, step_cost
from sydes_mini.model import build_model
from sydes_mini.stages import set_stage
from sydes_mini.step import finetune_loss


def test_fake_step_counts_the_real_flops_and_memory():
    cfg = get_config("smoke")
    torch.manual_seed(0)
    model = build_model(cfg).train()
    items = SyntheticItems(3)
    batch = collate([items[i] for i in range(3)])
    cost = step_cost(model, "finetune", batch, cfg)                       # nothing computed
    assert all(p.grad is None for p in model.parameters())               # the model is untouched
    params = set_stage(model, "finetune", cfg)
    optimizer = torch.optim.AdamW(params, lr=1e-5, foreach=False)
    memory = PeakMemory()
    for t in [*model.parameters(), *model.buffers()]:
        memory.add(t)
    map_tensors(batch, memory.add)
    with memory:                                                          # the same two steps, computed
        for _ in range(2):
            with FlopCounterMode(display=False) as counter:
                finetune_loss(model, batch, cfg, "desire")[0].backward()
            optimizer.step()
            optimizer.zero_grad(set_to_none=True)
    assert cost["flops"] == counter.get_total_flops() > 0
    assert cost["peak_bytes"] == memory.peak
    trained = sum(p.numel() * 4 for g in params for p in g["params"])
    assert cost["peak_bytes"] > 3 * trained                               # weights' gradients + AdamW's 2 moments


def test_t4_fit_and_hours():
    assert fits_t4({32: 20.0, 16: 12.0, 8: 7.0}) == {"batch": 16, "grad_accum": 4}          # 12 x 1.1 + 1.5 <= 15
    assert fits_t4({32: 20.0}) == {"batch": None, "grad_accum": None}
    hours = gpu_hours(3600e12 * 120)                                      # 120 TFLOP/s for one hour
    assert abs(hours["A100"] - 1.0) < 1e-9


def test_peak_grows_linearly_with_the_batch():
    assert peak_at({32: 13.0, 8: 7.0}, 16) == 9.0                         # 5 GB fixed + 0.25 GB per sample
