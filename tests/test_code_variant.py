"""variant="code" is the authors' network module for module (github especiallyW/SyDES, chapter 10).

Each test checks, on tiny inputs, a behaviour their code has; the parameter
counts at full size are in test_full_size.py.
"""
import math

import open_clip
import pytest
import torch

from sydes_mini.config import get_config
from sydes_mini.model import build_model
from sydes_mini.model.aggregator import CodeAggregator
from sydes_mini.model.head import CodeHead
from sydes_mini.model.image_decoder import CodeImageDecoder, GateKV
from sydes_mini.model.image_encoder import random_masking
from sydes_mini.model.pos_embed import sincos_2d
from sydes_mini.model.text_encoder import without_eot
from sydes_mini.views import CLIP_MEAN_RGB

TOKENIZER = open_clip.get_tokenizer("ViT-B-16")


@pytest.fixture(scope="module")
def model():
    torch.manual_seed(0)
    return build_model(get_config("smoke")).eval()


def test_aggregator_output_is_a_convex_combination_of_the_projected_views():
    torch.manual_seed(0)
    agg = CodeAggregator(16).eval()
    z = torch.randn(3, 4, 16)
    p, alpha = agg(z)
    values = agg.value(agg.norm(z))                                      # [3, 4, 16] projected LayerNorm'd views
    assert torch.allclose(p, (alpha.unsqueeze(-1) * values).sum(1), atol=1e-6)
    assert (alpha > 0).all() and torch.allclose(alpha.sum(1), torch.ones(3))
    assert torch.equal(agg.view_logits.detach(), torch.ones(4))         # static weights start uniform
    assert agg.mlp[0].out_features == 8 and isinstance(agg.mlp[1], torch.nn.ReLU)   # half-width hidden layer


def test_head_concatenates_mean_max_and_attention_pools():
    torch.manual_seed(0)
    head = CodeHead(8, 5).eval()
    x, valid = torch.randn(2, 6, 8), torch.tensor([[1, 1, 1, 0, 0, 0], [1, 1, 1, 1, 1, 0]]).bool()
    pooled = head.pool(x, valid)
    assert pooled.shape == (2, 24) and head.fuse[0].normalized_shape == (24,)
    for b in range(2):
        real = x[b][valid[b]]                                            # [n, 8]
        weights = (real @ head.query).softmax(0)                         # one query, no projections, no scaling
        expected = torch.cat([real.mean(0), real.max(0).values, weights @ real])
        assert torch.allclose(pooled[b], expected, atol=1e-6)
    assert head(x, valid).shape == (2, 5) and head.classifier[0].out_features == 4   # proj2: half-width hidden


def test_gate_starts_at_sigmoid_minus_3_but_the_authors_init_makes_it_one_half(model):
    assert torch.allclose(GateKV(4).alpha(), torch.full((4,), 1 / (1 + math.e ** 3)))
    assert torch.equal(model.image_decoder.gate.alpha().detach(), torch.full((2,), 0.5))   # smoke: 2 heads


def test_gate_mixes_text_and_image_per_head():
    gate = GateKV(2)
    with torch.no_grad():
        gate.bias.copy_(torch.tensor([100.0, -100.0]))                  # head 0: all text, head 1: all image
    image, text = torch.zeros(1, 3, 4), torch.ones(1, 3, 4)
    assert torch.equal(gate(image, text), torch.tensor([1.0, 1.0, 0.0, 0.0]).expand(1, 3, 4))


def test_fixed_sin_cos_positions():
    pe = sincos_2d(8, 3)                                                 # [1 + 9, 8]
    assert torch.equal(pe[0], torch.zeros(8))                            # the CLS row
    col, row = 1, 2                                                      # patch 7 = (row 2, column 1)
    omega = torch.tensor([1.0, 0.01])                                    # 10000^(-k/2), k = 0, 1
    expected = torch.cat([torch.sin(col * omega), torch.cos(col * omega), torch.sin(row * omega),
                          torch.cos(row * omega)])
    assert torch.allclose(pe[1 + 3 * row + col], expected)
    decoder = CodeImageDecoder(8, 8, 8, 1, 2, 9, 16)
    assert "pos_embed" not in dict(decoder.named_parameters()) and torch.equal(decoder.pos_embed, pe)


def test_z_is_a_linear_pooling_over_the_patch_outputs_and_text_padding_is_ignored():
    torch.manual_seed(0)
    dec = CodeImageDecoder(16, 12, 8, 1, 2, 9, 4).eval()
    assert dec.to_z.in_features == 9 and dec.to_z.out_features == 1
    tokens, ids = torch.randn(8, 1 + 3, 16), torch.stack([torch.randperm(9) for _ in range(8)])
    text, valid = torch.randn(2, 5, 12), torch.tensor([[1, 1, 1, 0, 0], [1, 1, 1, 1, 0]]).bool()
    pixels, z = dec(tokens, ids, text, valid)
    assert pixels.shape == (8, 9, 4 * 4 * 3) and z.shape == (8, 8)
    changed = text.clone()
    changed[~valid] = 50.0                                               # padding rows must not matter
    assert torch.allclose(dec(tokens, ids, changed, valid)[1], z, atol=1e-6)


def test_decoder_queries_drop_the_end_of_text_token():
    text = TOKENIZER(["a cat", "a dog on a sofa"])                       # [SOT a cat EOT], [SOT a dog on a sofa EOT]
    tokens = torch.randn(2, 77, 4)
    queries, valid = without_eot(tokens, text)
    assert queries.shape == (2, 76, 4) and valid.sum(1).tolist() == [3, 6]     # SOT + words, no EOT
    assert not valid[0, 3] and text[0, 3] == text[0].max()               # position 3 of row 0 is its EOT


def test_latents_are_new_bias_free_normalised_projections(model):
    assert model.image_latent.proj.bias is None and model.text_latent.proj.bias is None
    assert isinstance(model.image_norm, torch.nn.LayerNorm)
    x = torch.randn(3, 64)
    assert torch.allclose(model.image_latent(x).norm(dim=-1), torch.ones(3))


def test_new_matrices_are_xavier_uniform_with_zero_biases(model):
    for name, p in model.text_decoder.decoder.named_parameters():
        if name.endswith("in_proj_weight"):
            bound = math.sqrt(6 / (p.shape[0] + p.shape[1]))
            assert p.abs().max() <= bound and p.abs().max() > 0.9 * bound, name
        if name.endswith("bias"):
            assert torch.equal(p, torch.zeros_like(p)), name


def test_small_differences_padding_colour_and_kept_patches():
    assert CLIP_MEAN_RGB == (122, 116, 104)                              # int(255 * mean), truncated
    kept, _, _ = random_masking(torch.randn(2, 196, 3), 0.9, torch.Generator().manual_seed(0))
    assert kept.shape[1] == 19                                           # int((1 - 0.9) * 196) = int(19.59...)


@pytest.mark.parametrize("variant", ["code", "paper"])
def test_both_variants_train_end_to_end(tmp_path, variant):
    from sydes_mini.toy import synth
    from sydes_mini.train import train_stage
    toy = synth(tmp_path / "toy", n_train=8, n_dev=4, n_test=4, seed=1)
    cfg = get_config("smoke", [f"data.root={toy}", "train.batch_size=4", "train.epochs_pretrain=1", "train.epochs_finetune=1", f"variant={variant}"])
    pretrain = train_stage(cfg, "pretrain", tmp_path / "run" / "pretrain")
    finetune = train_stage(cfg, "finetune", tmp_path / "run" / "desire", "desire", tmp_path / "run" / "pretrain")
    assert pretrain["steps"] == finetune["steps"] == 2
    assert math.isfinite(pretrain["dev"]["loss"]) and 0.0 <= finetune["test"]["f1"] <= 1.0
