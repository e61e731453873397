"""Checkpoints: safetensors round trips, clear errors, exact training state (no pickle anywhere)."""
import random

import numpy as np
import pytest
import torch
from torch import nn

from sydes_mini.checkpoint import CheckpointError, load_last, load_weights, save_last, save_weights
from sydes_mini.device import grad_scaler

META = {"profile": "smoke", "stage": "pretrain", "task": None, "step": 3}


def tiny_training_state(seed=0):
    torch.manual_seed(seed)
    model = nn.Sequential(nn.Linear(4, 3), nn.LayerNorm(3))
    opt = torch.optim.AdamW(model.parameters(), lr=0.1)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: 1 / (s + 1))
    return model, opt, sched, grad_scaler(torch.device("cpu"), "fp32"), torch.Generator().manual_seed(seed)


def take_steps(model, opt, sched, n=2):
    for _ in range(n):
        model(torch.randn(5, 4)).pow(2).mean().backward()
        opt.step()
        opt.zero_grad()
        sched.step()


def test_weights_round_trip_and_meta(tmp_path):
    model = tiny_training_state()[0]
    save_weights(model, tmp_path / "best.safetensors", META)
    weights, meta = load_weights(tmp_path / "best.safetensors", profile="smoke", stage="pretrain")
    assert meta == META
    assert all(torch.equal(weights[k], v) for k, v in model.state_dict().items())
    assert [p.name for p in tmp_path.iterdir()] == ["best.safetensors"]     # no temporary file left behind


@pytest.mark.parametrize("wrong, words", [({"profile": "full"}, "profile='full' is needed"),
                                          ({"stage": "finetune"}, "stage='finetune' is needed")])
def test_wrong_profile_or_stage_is_a_clear_error(tmp_path, wrong, words):
    save_weights(tiny_training_state()[0], tmp_path / "best.safetensors", META)
    with pytest.raises(CheckpointError, match=words):
        load_weights(tmp_path / "best.safetensors", **wrong)


@pytest.mark.parametrize("damage", ["truncate", "garbage", "missing"])
def test_damaged_file_names_itself(tmp_path, damage):
    path = tmp_path / "best.safetensors"
    save_weights(tiny_training_state()[0], path, META)
    if damage == "truncate":
        path.write_bytes(path.read_bytes()[:-20])
    elif damage == "garbage":
        path.write_bytes(b"\x00" * 64)
    else:
        path.unlink()
    with pytest.raises(CheckpointError, match=str(path)):
        load_weights(path)


def test_training_state_resumes_exactly(tmp_path):
    """Two steps, save, two more steps == two steps, load into a fresh state, two more steps."""
    model, opt, sched, scaler, gen = tiny_training_state()
    take_steps(model, opt, sched)
    random.seed(5)
    np.random.seed(5)
    save_last(tmp_path / "last.safetensors", model, opt, sched, scaler, gen, META, {"step": 2})
    expected_draws = (torch.rand(3), torch.rand(3, generator=gen), np.random.rand(), random.random())
    take_steps(model, opt, sched)

    model2, opt2, sched2, scaler2, gen2 = tiny_training_state(seed=1)       # different start on purpose
    progress = load_last(tmp_path / "last.safetensors", model2, opt2, sched2, scaler2, gen2, stage="pretrain")
    assert progress == {"step": 2}
    draws = (torch.rand(3), torch.rand(3, generator=gen2), np.random.rand(), random.random())
    assert torch.equal(draws[0], expected_draws[0]) and torch.equal(draws[1], expected_draws[1])
    assert draws[2:] == expected_draws[2:]
    take_steps(model2, opt2, sched2)
    assert all(torch.equal(a, b) for a, b in zip(model.state_dict().values(), model2.state_dict().values()))
    assert sched2.get_last_lr() == sched.get_last_lr()


def test_last_checkpoint_also_loads_as_weights(tmp_path):
    model, opt, sched, scaler, gen = tiny_training_state()
    take_steps(model, opt, sched)
    save_last(tmp_path / "last.safetensors", model, opt, sched, scaler, gen, META, {})
    weights, _ = load_weights(tmp_path / "last.safetensors")
    assert set(weights) == set(model.state_dict())           # optimiser and RNG entries kept apart
