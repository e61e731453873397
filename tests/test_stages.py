"""set_stage (paper 3.4): after one optimiser step, frozen weights are bit-identical, trained ones moved."""
import open_clip
import pytest
import torch

from sydes_mini.config import get_config
from sydes_mini.model import build_model
from sydes_mini.objectives import finetune_objective, pretrain_objective
from sydes_mini.stages import ADAM_BETAS, make_optimizer, set_stage, trainable_modules

FROZEN = {"pretrain": ["text_decoder", "head"], "finetune": ["image_encoder", "image_decoder", "aggregator",
                                                            "dc_scale"]}


def one_step(stage, variant="code"):
    torch.manual_seed(0)
    cfg = get_config("smoke", [f"variant={variant}"])
    model = build_model(cfg, "emotion")
    groups = set_stage(model, stage, cfg)
    before = {n: p.detach().clone() for n, p in model.named_parameters()}
    g = torch.Generator().manual_seed(0)
    views = torch.randn(4, 3, 224, 224, generator=g), torch.randn(4, 4, 3, 224, 224, generator=g)
    text = open_clip.get_tokenizer("ViT-B-16")(["a cat", "a dog on a sofa", "rain", "a happy family dinner"])
    if stage == "pretrain":
        out = model(*views, text, decode_text=False)
        loss, _ = pretrain_objective(out, views[1], cfg, 16)
    else:
        out = model(*views, text, mask_ratio=0.0, decode_image=False)
        loss, _ = finetune_objective(out, torch.tensor([0, 1, 2, 3]), cfg)
    opt = torch.optim.AdamW(groups)
    loss.backward()
    opt.step()
    return model, before, groups


@pytest.mark.parametrize("variant", ["code", "paper"])
@pytest.mark.parametrize("stage", ["pretrain", "finetune"])
def test_frozen_identical_trained_changed(stage, variant):
    model, before, _ = one_step(stage, variant)
    trained = tuple(trainable_modules(stage, variant))
    for name, p in model.named_parameters():
        moved = not torch.equal(p, before[name])
        if name.startswith(trained):
            assert p.requires_grad and moved, f"{stage}: trainable {name} did not change"
        else:
            assert not p.requires_grad and not moved, f"{stage}: frozen {name} changed"
    for part in FROZEN[stage]:
        assert not any(n.startswith(part) for n in trained if n != part)


def test_learning_rates_follow_table_8_and_the_authors_groups():
    # the full profile has Table 8's rates (+ the authors' "others" group); smoke has its own, larger ones
    full = get_config("full")
    assert full.train.lr_pretrain == {"image_encoder": 5e-6, "text_encoder": 5e-5, "image_decoder": 1e-4,
                                      "others": 1e-4}
    assert full.train.lr_finetune == {"text_encoder": 1e-4, "text_decoder": 2e-4, "head": 1e-4, "others": 1e-4}
    for variant in ("code", "paper"):
        cfg = get_config("smoke", [f"variant={variant}"])
        cfg.train.lr_pretrain, cfg.train.lr_finetune = full.train.lr_pretrain, full.train.lr_finetune
        model = build_model(cfg)
        for stage, table in (("pretrain", full.train.lr_pretrain), ("finetune", full.train.lr_finetune)):
            lrs = {g["name"]: g["lr"] for g in set_stage(model, stage, cfg)}
            expected = table if variant == "code" else {k: v for k, v in table.items() if k != "others"}
            assert lrs == expected, (variant, stage)


def test_code_variant_latents_train_in_both_stages_and_its_text_decoder_core_at_2e4():
    cfg = get_config("full")
    cfg.model.clip_pretrained = cfg.model.text_decoder_pretrained = None
    model = build_model(get_config("smoke"))                 # same module layout, smoke sizes
    names = {id(p): n for n, p in model.named_parameters()}
    for stage in ("pretrain", "finetune"):
        groups = {g["name"]: {names[id(p)] for p in g["params"]} for g in set_stage(model, stage, cfg)}
        assert {"image_latent.proj.weight", "text_latent.proj.weight", "image_norm.weight"} <= groups["others"]
    assert all(n.startswith("text_decoder.decoder.") for n in groups["text_decoder"])
    assert "text_decoder.text_proj.weight" in groups["others"]                 # 1e-4, as the authors' "others"


@pytest.mark.parametrize("variant, betas", [("code", (0.9, 0.95)), ("paper", (0.9, 0.999))])
def test_adamw_settings_and_weight_decay_on_every_parameter(variant, betas):
    cfg = get_config("smoke", [f"variant={variant}"])
    model = build_model(cfg)
    optimizer = make_optimizer(model, "pretrain", cfg)
    trained = [p for p in model.parameters() if p.requires_grad]
    assert sum(len(g["params"]) for g in optimizer.param_groups) == len(trained)
    for g in optimizer.param_groups:
        assert g["betas"] == betas and g["eps"] == 1e-8 and g["weight_decay"] == 0.01


def test_unknown_stage():
    cfg = get_config("smoke")
    with pytest.raises(ValueError, match="pretrain or finetune"):
        set_stage(build_model(cfg), "warmup", cfg)


def test_fused_adamw_takes_the_per_tensor_loops_steps():
    # make_optimizer builds torch's fused AdamW (on the CPU from torch 2.4): three steps on the same
    # gradients move every trained weight as the default per-tensor loop does, up to float rounding
    cfg = get_config("smoke")
    torch.manual_seed(0)
    fused_model, loop_model = build_model(cfg), build_model(cfg)
    loop_model.load_state_dict(fused_model.state_dict())
    fused = make_optimizer(fused_model, "finetune", cfg)
    loop = torch.optim.AdamW(set_stage(loop_model, "finetune", cfg), betas=ADAM_BETAS[cfg.variant], eps=1e-8,
                             foreach=False)
    if torch.torch_version.TorchVersion(torch.__version__) >= "2.4":
        assert all(g["fused"] for g in fused.param_groups)
    pairs = [(a, b) for a, b in zip(fused_model.parameters(), loop_model.parameters()) if a.requires_grad]
    start = [a.detach().clone() for a, _ in pairs]
    g = torch.Generator().manual_seed(1)
    for _ in range(3):
        for a, b in pairs:
            a.grad = torch.randn(a.shape, generator=g)
            b.grad = a.grad.clone()
        fused.step()
        loop.step()
    for (a, b), a0 in zip(pairs, start):
        moved = (a - a0).abs().max()
        assert moved > 1e-4                                        # lr 1e-3: each weight moved
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-7)     # ... and where the loop moved it
