"""Each stage runs only what its loss reads (issue 5, "Speed"): skipping changes the cost, not the result."""
import open_clip
import pytest
import torch

from sydes_mini import step
from sydes_mini.config import get_config
from sydes_mini.model import build_model
from sydes_mini.objectives import finetune_objective, pretrain_objective
from sydes_mini.stages import set_stage


@pytest.fixture(scope="module")
def batch():
    g = torch.Generator().manual_seed(1)
    text = open_clip.get_tokenizer("ViT-B-16")(["a dog with a red ball", "two people at a wedding", "a cat"])
    return {"global_view": torch.randn(3, 3, 224, 224, generator=g),
            "crops": torch.randn(3, 4, 3, 224, 224, generator=g), "text": text,
            "labels": {"desire": torch.tensor([0, 6, 3])}}


def trained_model(stage, overrides=()):
    cfg = get_config("smoke", list(overrides))
    torch.manual_seed(0)
    model = build_model(cfg).train()                    # train mode: the head's dropout is on
    set_stage(model, stage, cfg)
    return cfg, model, [p for p in model.parameters() if p.requires_grad]


def test_pretraining_skips_text_decoder_and_head_with_same_losses_and_grads(batch):
    cfg, model, params = trained_model("pretrain")
    torch.manual_seed(5)
    loss, terms, out = step.pretrain_loss(model, batch, cfg, torch.Generator().manual_seed(2))
    assert out.logits is None                           # the text decoder and head did not run
    grads = torch.autograd.grad(loss, params)
    torch.manual_seed(5)
    full = model(batch["global_view"], batch["crops"], batch["text"], decode_text=True,
                 generator=torch.Generator().manual_seed(2))
    assert full.logits is not None
    loss_full, terms_full = pretrain_objective(full, batch["crops"], cfg, model.image_encoder.patch_size)
    assert terms.keys() == terms_full.keys() == {"rec", "si", "dc", "itc"}
    assert all(torch.equal(terms[k], terms_full[k]) for k in terms) and torch.equal(loss, loss_full)
    grads_full = torch.autograd.grad(loss_full, params)
    assert all(torch.equal(a, b) for a, b in zip(grads, grads_full))
    assert all(g.abs().sum() > 0 for g in grads[:3])    # the image encoder's first parameters learn


@pytest.mark.parametrize("ratio", [0.75, 0.6])
def test_pretraining_encodes_only_the_visible_crop_patches(batch, ratio):
    cfg, model, _ = trained_model("pretrain", [f"model.mask_ratio={ratio}"])
    seen = []                                           # [N, tokens] of every encoder call
    hook = model.image_encoder.visual.transformer.register_forward_hook(
        lambda module, args, output: seen.append(tuple(args[0].shape[:2])))
    with torch.no_grad():
        step.pretrain_loss(model, batch, cfg)
    hook.remove()
    P = model.image_encoder.num_patches
    assert seen == [(3, 1 + P), (3 * 4, 1 + round((1 - ratio) * P))]   # global view whole, crops masked


def test_finetuning_without_image_decoder_has_same_loss_and_grads(batch):
    cfg, model, params = trained_model("finetune")
    torch.manual_seed(5)
    loss, terms, out = step.finetune_loss(model, batch, cfg, "desire")
    assert out.pixels is None and out.z is None         # the image decoder and aggregator did not run
    grads = torch.autograd.grad(loss, params)
    torch.manual_seed(5)
    full = model(batch["global_view"], batch["crops"], batch["text"], mask_ratio=0.0, decode_image=True)
    assert full.z is not None
    loss_full, terms_full = finetune_objective(full, batch["labels"]["desire"], cfg)
    assert terms.keys() == terms_full.keys() == {"cls", "itc"}
    assert all(torch.equal(terms[k], terms_full[k]) for k in terms) and torch.equal(loss, loss_full)
    grads_full = torch.autograd.grad(loss_full, params)
    assert all(torch.equal(a, b) for a, b in zip(grads, grads_full))
    assert all(g.abs().sum() > 0 for g in grads)
