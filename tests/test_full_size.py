"""The full profile (paper sizes, random weights) builds offline and trains one step on this CPU."""
import open_clip
import torch

from sydes_mini.commands.describe import describe
from sydes_mini.config import get_config
from sydes_mini.model import build_model
from sydes_mini.objectives import pretrain_objective
from sydes_mini.stages import set_stage


def test_describe_full_sizes():
    d = describe("full", "finetune")
    mods = d["modules"]
    assert 85e6 < mods["image_encoder"]["params"] < 87e6        # CLIP ViT-B/16 visual tower
    assert 160e6 < mods["text_decoder"]["params"] < 180e6       # CoCa decoder without its vocabulary projection
    assert not mods["image_encoder"]["trainable"] and mods["text_decoder"]["trainable"]
    assert d["total_params"] == sum(m["params"] for m in mods.values())
    assert d["trainable_params"] == sum(m["params"] for m in mods.values() if m["trainable"])


def test_full_size_forward_backward_on_two_samples():
    torch.manual_seed(0)
    cfg = get_config("full", ["model.clip_pretrained=none", "model.text_decoder_pretrained=none"])
    model = build_model(cfg)
    set_stage(model, "pretrain", cfg)
    g = torch.Generator().manual_seed(0)
    views = torch.randn(2, 3, 224, 224, generator=g), torch.randn(2, 4, 3, 224, 224, generator=g)
    text = open_clip.get_tokenizer("ViT-B-16")(["a cat", "a dog on a sofa"])
    out = model(*views, text, need_attn=True)
    assert out.pixels.shape == (8, 196, 768) and out.z.shape == (2, 4, 512) and out.logits.shape == (2, 7)
    assert out.attention.shape == (2, 77, 980)
    loss, terms = pretrain_objective(out, views[1], cfg, 16)
    loss.backward()
    assert set(terms) == {"rec", "si", "dc", "itc"} and torch.isfinite(loss)
    assert model.image_encoder.visual.conv1.weight.grad.abs().sum() > 0
