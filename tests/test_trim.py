"""No work on padding: a batch cut to its longest caption computes what the padded-to-77 batch computes (issue 13).

Written against the public API (build_model, the stage losses, set_stage), so it holds whatever
the model's modules look like inside: logits, every loss term and every gradient agree to float
tolerance, in both variants and both stages.
"""
import pytest
import torch

from sydes_mini import cache
from sydes_mini.config import get_config
from sydes_mini.data import collate, tokenize, trim_padding
from sydes_mini.labels import TASKS
from sydes_mini.model import build_model
from sydes_mini.stages import set_stage
from sydes_mini.step import finetune_loss, pretrain_loss

CAPTIONS = ["wow! a dog!", "two friends at a station, waiting for the last train home tonight", "calm"]


def batch_of(text):
    g = torch.Generator().manual_seed(3)
    B = len(text)
    return {"global_view": torch.randn(B, 3, 224, 224, generator=g), "crops": torch.randn(B, 4, 3, 224, 224, generator=g),
            "text": text, "labels": {t: torch.tensor([0, 1, 2]) for t in TASKS}, "index": torch.arange(1, B + 1)}


def run(model, cfg, stage, batch):
    """-> (total loss, {term: value}, logits or None, {parameter: gradient})."""
    model.zero_grad(set_to_none=True)
    torch.manual_seed(7)                                   # the head's dropout draws the same masks
    if stage == "pretrain":
        loss, terms, out = pretrain_loss(model, batch, cfg, torch.Generator().manual_seed(5))
    else:
        loss, terms, out = finetune_loss(model, batch, cfg, "desire")
    loss.backward()
    grads = {n: p.grad.clone() for n, p in model.named_parameters() if p.grad is not None}
    return loss.detach(), {k: v.detach() for k, v in terms.items()}, out.logits, grads


def test_trim_padding_cuts_to_the_longest_caption():
    text = tokenize(CAPTIONS)                                               # [3, 77]
    lengths = (text.argmax(-1) + 1).tolist()                                # end token position + 1
    trimmed = trim_padding(text)
    assert trimmed.shape == (3, max(lengths)) and torch.equal(trimmed, text[:, :max(lengths)])
    assert text[:, max(lengths):].eq(0).all()                               # only padding was dropped
    full = tokenize(["word " * 100])                                        # truncated: the end token at 76
    assert trim_padding(full).shape == (1, 77)


def test_every_batch_is_trimmed():
    items = [{"global_view": torch.zeros(3, 224, 224), "crops": torch.zeros(4, 3, 224, 224), "text": t,
              "labels": {k: torch.tensor(0) for k in TASKS}, "index": i} for i, t in enumerate(tokenize(CAPTIONS))]
    L = int(tokenize(CAPTIONS).argmax(-1).max()) + 1
    assert collate(items)["text"].shape == (3, L)
    cfg = get_config("smoke")
    torch.manual_seed(0)
    cached = cache.cached_dataset(build_model(cfg), items, batch_size=2)
    assert cache.collate([cached[i] for i in range(3)])["text"].shape == (3, L)


@pytest.mark.parametrize("variant", ["code", "paper"])
@pytest.mark.parametrize("stage", ["pretrain", "finetune"])
def test_trimmed_batch_equals_padded_batch(variant, stage):
    cfg = get_config("smoke", [f"variant={variant}"])
    torch.manual_seed(0)
    model = build_model(cfg).train()
    set_stage(model, stage, cfg)
    padded = tokenize(CAPTIONS)                                             # [3, 77]
    assert trim_padding(padded).shape[1] < 77
    a = run(model, cfg, stage, batch_of(padded))
    b = run(model, cfg, stage, batch_of(trim_padding(padded)))
    assert a[1].keys() == b[1].keys() and len(a[1]) >= 2                    # every active term of the stage
    torch.testing.assert_close(b[0], a[0], rtol=1e-5, atol=1e-6)
    for name in a[1]:
        torch.testing.assert_close(b[1][name], a[1][name], rtol=1e-5, atol=1e-6, msg=name)
    if stage == "finetune":
        torch.testing.assert_close(b[2], a[2], rtol=1e-5, atol=1e-6)
    assert a[3].keys() == b[3].keys() and len(a[3]) > 10
    for name in a[3]:
        torch.testing.assert_close(b[3][name], a[3][name], rtol=1e-4, atol=1e-6, msg=name)
