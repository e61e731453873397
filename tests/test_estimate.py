"""Estimates on fake tensors: the FLOPs equal those counted on a real step, the peak memory is plausible."""
import torch
import torch.nn.functional as F
from torch.utils.flop_counter import FlopCounterMode

from sydes_mini.bench import SyntheticItems
from sydes_mini.config import get_config
from sydes_mini.data import collate
from sydes_mini.estimate import (MSED, PeakMemory, fits_t4, flop_counter, gpu_hours, map_tensors, measured_hours,
                                 peak_at, step_cost)
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
            with flop_counter() as counter:
                finetune_loss(model, batch, cfg, "desire")[0].backward()
            optimizer.step()
            optimizer.zero_grad(set_to_none=True)
    assert cost["flops"] == counter.get_total_flops() > 0
    assert cost["peak_bytes"] == memory.peak
    trained = sum(p.numel() * 4 for g in params for p in g["params"])
    assert cost["peak_bytes"] > 3 * trained                               # weights' gradients + AdamW's 2 moments


def test_cpu_attention_counts_as_its_two_matrix_products():
    # torch's FlopCounterMode counts the CPU attention kernel as 0; flop_counter counts what the same
    # attention written as two matrix products costs (softmax and scaling are not counted)
    g = torch.Generator().manual_seed(0)
    q, k, v = (torch.randn(2, 3, n, 8, generator=g, requires_grad=True) for n in (5, 7, 7))   # [B, H, L, E]
    with FlopCounterMode(display=False) as plain:
        F.scaled_dot_product_attention(q, k, v)
    with flop_counter() as counted:
        F.scaled_dot_product_attention(q, k, v)
    with flop_counter() as explicit:
        torch.softmax(q @ k.transpose(-2, -1) / 8 ** 0.5, -1) @ v
    assert plain.get_total_flops() == 0
    assert counted.get_total_flops() == explicit.get_total_flops() == 2 * (2 * 2 * 3 * 5 * 7 * 8)
    with flop_counter() as backward:
        F.scaled_dot_product_attention(q, k, v).sum().backward()
    assert backward.get_total_flops() > 2 * counted.get_total_flops()            # the backward is counted too


def test_t4_fit_and_hours():
    assert fits_t4({32: 20.0, 16: 12.0, 8: 7.0}) == {"batch": 16, "grad_accum": 4}          # 12 x 1.1 + 1.5 <= 15
    assert fits_t4({32: 20.0}) == {"batch": None, "grad_accum": None}
    hours = gpu_hours(3600e12 * 25)                                       # 25 TFLOP/s for one hour
    assert abs(hours["A100"] - 1.0) < 1e-9


def test_measured_hours_follow_the_recipe():
    # 50 epochs of 6,127 samples at 50 * 6127 / 3600 samples/s is one hour; twice the rate, half an hour
    bench = {"pretrain_samples_per_s": 50 * MSED["train"] / 3600, "pretrain_gflops_per_sample": 300.0,
             "finetune_cached_samples_per_s": 50 * MSED["train"] / 1800, "finetune_cached_gflops_per_sample": 100.0}
    no_forward = {"pretrain_forward": 0.0, "finetune_cached_forward": 0.0, "encode": 0.0}
    hours = measured_hours(bench, no_forward)
    assert abs(hours["pretrain"] - 1.0) < 1e-9 and abs(hours["finetune_per_task"] - 0.5) < 1e-9
    assert abs(hours["table2_run"] - 2.5) < 1e-9                          # pretraining once, three tasks
    # a dev pass as costly per sample as a training step: 50 epochs x 1,021 dev samples at the same rate
    hours = measured_hours(bench, {**no_forward, "pretrain_forward": 300e9})
    assert abs(hours["pretrain"] - 1.0 - MSED["dev"] / MSED["train"]) < 1e-9


def test_peak_grows_linearly_with_the_batch():
    assert peak_at({32: 13.0, 8: 7.0}, 16) == 9.0                         # 5 GB fixed + 0.25 GB per sample


def test_estimate_runs_end_to_end_with_the_caches_feature_shapes():
    from sydes_mini import cache
    from sydes_mini.estimate import estimate, fake_features
    cfg = get_config("smoke")
    torch.manual_seed(0)
    model = build_model(cfg).eval()
    items = SyntheticItems(2)
    batch = collate([items[i] for i in range(2)])
    real = cache.collate([cache.cached_dataset(model, items, 2)[i] for i in range(2)])["features"]
    fake = fake_features(model, batch)
    for name in ("global_tokens", "crop_tokens", "mask", "ids_restore"):  # the cached step sees these shapes
        assert getattr(fake, name).shape == getattr(real, name).shape, name
    out = estimate("smoke", batches=(2, 1), log=lambda _: None)
    f = out["flops_per_sample"]
    assert f["encode"] > 0 and f["finetune"] > f["finetune_cached"]       # the cache saves the encoder's work
    assert out["peak_gb"]["pretrain"][2] > out["peak_gb"]["pretrain"][1]
    assert out["hours_table2_run"].keys() == {"Colab T4 (16 GB)", "A100"}
