"""set_stage (paper 3.4): after one optimiser step, frozen weights are bit-identical, trained ones moved."""
import open_clip
import pytest
import torch

from sydes_mini.config import get_config
from sydes_mini.model import build_model
from sydes_mini.objectives import finetune_objective, pretrain_objective
from sydes_mini.stages import set_stage, trainable_modules

FROZEN = {"pretrain": ["text_decoder", "head"], "finetune": ["image_encoder", "image_decoder", "aggregator",
                                                            "dc_scale"]}


def one_step(stage):
    torch.manual_seed(0)
    cfg = get_config("smoke")
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


@pytest.mark.parametrize("stage", ["pretrain", "finetune"])
def test_frozen_identical_trained_changed(stage):
    model, before, _ = one_step(stage)
    trained = tuple(trainable_modules(stage))
    for name, p in model.named_parameters():
        moved = not torch.equal(p, before[name])
        if name.startswith(trained):
            assert p.requires_grad and moved, f"{stage}: trainable {name} did not change"
        else:
            assert not p.requires_grad and not moved, f"{stage}: frozen {name} changed"
    for part in FROZEN[stage]:
        assert not any(n.startswith(part) for n in trained if n != part)


def test_learning_rates_and_weight_decay_follow_table_8():
    # the full profile has Table 8's rates; the smoke model (random init) has its own, larger ones
    cfg, full = get_config("smoke"), get_config("full")
    assert full.train.lr_pretrain == {"image_encoder": 5e-6, "text_encoder": 5e-5, "image_decoder": 1e-4}
    assert full.train.lr_finetune == {"text_encoder": 1e-4, "text_decoder": 2e-4, "head": 1e-4}
    cfg.train.lr_pretrain, cfg.train.lr_finetune = full.train.lr_pretrain, full.train.lr_finetune
    model = build_model(cfg)
    lrs = {g["name"].split("/")[0]: g["lr"] for g in set_stage(model, "pretrain", cfg)}
    assert lrs == full.train.lr_pretrain
    groups = set_stage(model, "finetune", cfg)
    lrs = {g["name"].split("/")[0]: g["lr"] for g in groups}
    assert lrs == full.train.lr_finetune
    names = {id(p): n for n, p in model.named_parameters()}
    for g in groups:   # no decay on biases, norms, embeddings, tokens and scalars
        for p in g["params"]:
            special = p.ndim < 2 or any(k in names[id(p)] for k in ("embedding", "token", "pos_embed", "query"))
            assert g["weight_decay"] == (0.0 if special else 0.01), names[id(p)]


def test_unknown_stage():
    cfg = get_config("smoke")
    with pytest.raises(ValueError, match="pretrain or finetune"):
        set_stage(build_model(cfg), "warmup", cfg)
