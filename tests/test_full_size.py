"""The full profile (paper sizes, random weights) builds offline and trains one step on this CPU."""
import open_clip
import torch

from sydes_mini.commands.describe import describe
from sydes_mini.config import get_config
from sydes_mini.model import build_model
from sydes_mini.model.sydes import AUTHORS_PARAMS
from sydes_mini.objectives import pretrain_objective
from sydes_mini.stages import set_stage


# Ours may differ from the authors' counts by their fixed position table (a frozen Parameter there, a buffer
# here: 197 x 512) and CLIP's final LayerNorm, unused in their code and removed here (768 x 2).
AUTHORS = {k: v for k, v in AUTHORS_PARAMS.items() if k != "total"}
AUTHORS_TOTAL = AUTHORS_PARAMS["total"]


def test_code_variant_has_the_authors_parameter_counts():
    d = describe("full", "finetune")
    mods = d["modules"]
    for name, theirs in AUTHORS.items():
        assert abs(mods[name]["params"] - theirs) <= 0.01 * theirs, (name, mods[name]["params"], theirs)
    assert abs(d["total_params"] - AUTHORS_TOTAL) <= 0.005 * AUTHORS_TOTAL
    assert d["total_params"] == AUTHORS_TOTAL - 197 * 512 - 2 * 768
    assert mods["aggregator"]["params"] == AUTHORS["aggregator"] and mods["head"]["params"] == AUTHORS["head"]
    assert mods["image_decoder"]["params"] == AUTHORS["image_decoder"] - 197 * 512
    assert 85e6 < mods["image_encoder"]["params"] < 87e6        # CLIP ViT-B/16 visual tower
    assert not mods["image_encoder"]["trainable"] and mods["text_decoder"]["trainable"]
    assert mods["image_norm"]["trainable"] and mods["image_latent"]["trainable"]   # L_itc keeps them training
    assert d["total_params"] == sum(m["params"] for m in mods.values())


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
    assert out.attention.shape == (2, 76, 980)
    loss, terms = pretrain_objective(out, views[1], cfg, 16)
    loss.backward()
    assert set(terms) == {"rec", "si", "dc", "itc"} and torch.isfinite(loss)
    assert model.image_encoder.visual.conv1.weight.grad.abs().sum() > 0
