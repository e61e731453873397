"""Cached fine-tuning (issue 5, "Speed"): the cache changes the cost of a step, not its result."""
import pytest
import torch

from sydes_mini import cache, step
from sydes_mini.config import get_config
from sydes_mini.data import load_split, make_loader
from sydes_mini.model import build_model
from sydes_mini.model.image_encoder import random_masking
from sydes_mini.stages import set_stage
from sydes_mini.toy import synth

N = 4   # samples in the toy train split = the batch compared below


def assert_same(a: torch.Tensor, b: torch.Tensor) -> None:
    """Bit-identical: at mask ratio 0 the encoder keeps patch order and draws no random numbers."""
    assert torch.equal(a, b), (a - b).abs().max()


@pytest.fixture(scope="module")
def toy(tmp_path_factory):
    return synth(tmp_path_factory.mktemp("toy"), n_train=N, n_dev=2, n_test=2)


def setup(toy, overrides=()):
    cfg = get_config("smoke", list(overrides))
    torch.manual_seed(0)
    model = build_model(cfg).eval()
    set_stage(model, "finetune", cfg)
    return cfg, model, load_split(toy, "train", cfg.data)


def loss_and_grads(model, batch, cfg):
    loss, terms, out = step.finetune_loss(model, batch, cfg, "desire")
    params = [p for p in model.parameters() if p.requires_grad]
    return loss, terms, out.logits, torch.autograd.grad(loss, params)


@pytest.mark.parametrize("overrides", [[], ["model.use_crops=false"], ["data.modality=text"]],
                         ids=["mixed-scale", "global-only", "text-only"])
def test_cached_step_equals_uncached_step(toy, overrides):
    cfg, model, dataset = setup(toy, overrides)
    features = cache.cached_dataset(model, dataset, batch_size=N)
    assert ("crop_tokens" in features[0]) == cfg.model.use_crops      # global-only stores no crops
    cached = cache.collate([features[i] for i in range(N)])
    plain = next(iter(make_loader(dataset, batch_size=N)))
    assert torch.equal(cached["text"], plain["text"]) and torch.equal(cached["index"], plain["index"])
    assert all(torch.equal(cached["labels"][t], plain["labels"][t]) for t in plain["labels"])
    loss_c, terms_c, logits_c, grads_c = loss_and_grads(model, cached, cfg)
    loss_u, terms_u, logits_u, grads_u = loss_and_grads(model, plain, cfg)
    assert_same(logits_c, logits_u)
    assert_same(loss_c, loss_u)
    assert terms_c.keys() == terms_u.keys() == {"cls", "itc"}
    for g_c, g_u in zip(grads_c, grads_u):
        assert_same(g_c, g_u)
    assert any(g.abs().sum() > 0 for g in grads_c)


def test_mask_ratio_zero_keeps_patch_order_and_draws_nothing():
    x = torch.randn(3, 196, 8)
    state = torch.get_rng_state()
    kept, mask, ids_restore = random_masking(x, 0.0)
    assert torch.equal(torch.get_rng_state(), state)
    assert torch.equal(kept, x) and not mask.any()
    assert torch.equal(ids_restore, torch.arange(196).expand(3, 196))


def test_collate_rebuilds_unmasked_features(toy):
    _, model, dataset = setup(toy)
    features = cache.cached_dataset(model, dataset, batch_size=N)
    item = features[0]
    assert "mask" not in item and "ids_restore" not in item           # not stored: rebuilt below
    assert item["crop_tokens"].shape == (4, 197, 64) and item["global_tokens"].shape == (197, 64)
    f = cache.collate([features[i] for i in range(3)])["features"]
    assert f.crop_tokens.shape == (3, 4, 197, 64) and f.global_tokens.shape == (3, 197, 64)
    assert f.mask.shape == (3, 4, 196) and not f.mask.any()
    assert torch.equal(f.ids_restore, torch.arange(196).expand(3, 4, 196))
    assert features.nbytes == N * 5 * 197 * 64 * 4                     # fp32, 5 views x 197 tokens


def test_cache_does_not_depend_on_encoding_batch_size(toy):
    _, model, dataset = setup(toy)
    one, all_ = cache.cached_dataset(model, dataset, 1).features, cache.cached_dataset(model, dataset, N).features
    for name in one:
        torch.testing.assert_close(one[name], all_[name], rtol=1e-5, atol=1e-5)


def test_disk_cache_and_half_precision(toy, tmp_path):
    _, model, dataset = setup(toy)
    ram = cache.cached_dataset(model, dataset, batch_size=N)
    disk = cache.cached_dataset(model, dataset, batch_size=N, cache_dir=tmp_path / "features")
    for name, t in ram.features.items():
        assert_same(disk.features[name], t)
    assert list((tmp_path / "features").iterdir()) == []               # mapped files have no name left
    model.train()
    half = cache.cached_dataset(model, dataset, batch_size=N, dtype=torch.bfloat16)
    assert model.training                                              # mode restored after encoding
    assert half.nbytes * 2 == ram.nbytes and half[0]["crop_tokens"].dtype == torch.float32
    torch.testing.assert_close(half[0]["crop_tokens"], ram[0]["crop_tokens"], rtol=1e-2, atol=1e-2)


def test_empty_dataset_is_an_error(toy):
    _, model, dataset = setup(toy)
    dataset.records = []
    with pytest.raises(ValueError, match="empty"):
        cache.cached_dataset(model, dataset)


def test_shared_features_reuse_only_the_same_split_and_encoder(toy):
    cfg, model, train = setup(toy)
    assert cache.cached_split(model, train, ("train",)) is not cache.cached_split(model, train, ("train",))
    with cache.shared_features():
        first = cache.cached_split(model, train, ("train",))
        assert cache.cached_split(model, train, ("train",)) is first                # encoded once
        assert cache.cached_split(model, train, ("dev",)) is not first              # another split key
        with torch.no_grad():
            next(model.image_encoder.parameters()).add_(1.0)                        # another encoder
        changed = cache.cached_split(model, train, ("train",))
        assert changed is not first and not torch.equal(changed.features["global_tokens"],
                                                         first.features["global_tokens"])
    assert cache._shared is None                                                    # freed after the block
