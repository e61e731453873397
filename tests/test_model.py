"""Each model component: shapes, masking conventions, agreement with open_clip."""
import open_clip
import pytest
import torch

from sydes_mini.config import get_config
from sydes_mini.model import build_model, create_clip
from sydes_mini.model.aggregator import build_aggregator
from sydes_mini.model.head import HEADS
from sydes_mini.model.image_decoder import patchify, unpatchify, unshuffle
from sydes_mini.model.image_encoder import ImageEncoder, random_masking
from sydes_mini.model.text_decoder import ImageGuidedTextDecoder, cross_attention_block
from sydes_mini.model.text_encoder import TextEncoder

TOKENIZER = open_clip.get_tokenizer("ViT-B-16")


@pytest.fixture(scope="module")
def clip():
    torch.manual_seed(0)
    return create_clip("sydes-smoke").eval()


@pytest.fixture(scope="module")
def model():
    torch.manual_seed(0)
    return build_model(get_config("smoke")).eval()


@pytest.fixture(scope="module")
def batch():
    g = torch.Generator().manual_seed(1)
    text = TOKENIZER(["a dog with a red ball in the park", "two people at a wedding"])
    return torch.randn(2, 3, 224, 224, generator=g), torch.randn(2, 4, 3, 224, 224, generator=g), text


def test_smoke_config_is_registered_with_open_clip():
    assert "sydes-smoke" in open_clip.list_models()


def test_random_masking_keeps_49_of_196():
    x = torch.randn(3, 196, 8)
    kept, mask, ids_restore = random_masking(x, 0.75, torch.Generator().manual_seed(0))
    assert kept.shape == (3, 49, 8) and mask.shape == (3, 196)
    assert (mask.sum(1) == 147).all()
    for i in range(3):   # the kept tokens are exactly the unmasked patches, in some order
        visible = x[i][mask[i] == 0]
        assert sorted(map(tuple, visible.tolist())) == sorted(map(tuple, kept[i].tolist()))
    # ids_restore is a permutation of 0..P-1
    assert (ids_restore.sort(1).values == torch.arange(196)).all()


def test_random_masking_is_per_sample_and_seeded():
    x = torch.randn(4, 196, 2)
    _, m1, _ = random_masking(x, 0.75, torch.Generator().manual_seed(3))
    _, m2, _ = random_masking(x, 0.75, torch.Generator().manual_seed(3))
    assert torch.equal(m1, m2) and not torch.equal(m1[0], m1[1])


def test_unshuffle_puts_visible_tokens_back():
    x = torch.randn(2, 196, 4)
    kept, mask, ids = random_masking(x, 0.5)
    fill = torch.full((4,), -7.0)
    back = unshuffle(kept, ids, fill)                                     # [2, 196, 4]
    assert torch.equal(back[mask == 0], x[mask == 0])
    assert (back[mask == 1] == -7.0).all()


def test_image_encoder_matches_open_clip(clip):
    images = torch.randn(2, 3, 224, 224)
    with torch.no_grad():
        expected = clip.encode_image(images)
    proj = clip.visual.proj.detach().clone()
    tokens, mask, _ = ImageEncoder(clip.visual)(images)              # (takes the projection out of the tower)
    assert tokens.shape == (2, 197, 64) and mask.sum() == 0
    assert torch.allclose(tokens[:, 0] @ proj, expected, atol=1e-5)
    clip.visual.proj = torch.nn.Parameter(proj)
    tokens, mask, _ = ImageEncoder(clip.visual)(images, 0.75)
    assert tokens.shape == (2, 1 + 49, 64) and (mask.sum(1) == 147).all()
    clip.visual.proj = torch.nn.Parameter(proj)


def test_text_encoder_matches_open_clip(clip, batch):
    tokens, w_cls = TextEncoder(clip)(batch[2])
    assert tokens.shape == (2, 77, 64) and w_cls.shape == (2, 64)
    with torch.no_grad():
        assert torch.allclose(w_cls @ clip.text_projection, clip.encode_text(batch[2]), atol=1e-5)


@pytest.mark.parametrize("variant", ["code", "paper"])
def test_paper_variant_latents_are_clips_projections(variant):
    torch.manual_seed(0)
    m = build_model(get_config("smoke", [f"variant={variant}"]))
    torch.manual_seed(0)
    reference = create_clip("sydes-smoke")          # same seed: the same random CLIP
    same = torch.equal(m.image_latent.proj.weight, reference.visual.proj.t()) and \
        torch.equal(m.text_latent.proj.weight, reference.text_projection.t())
    assert same == (variant == "paper")             # the code variant has new (Xavier) projections
    assert m.image_latent.proj.bias is None and m.text_latent.proj.bias is None


def test_patchify_round_trip():
    images = torch.randn(3, 3, 224, 224)
    patches = patchify(images, 16)
    assert patches.shape == (3, 196, 768)
    assert torch.equal(patches[0, 1], images[0, :, :16, 16:32].permute(1, 2, 0).reshape(-1))  # row-major patches
    assert torch.equal(unpatchify(patches, 16), images)


def test_forward_outputs(model, batch):
    out = model(*batch, need_attn=True)
    assert out.v.shape == out.w.shape == out.p_agg.shape == (2, 64)
    assert out.pixels.shape == (2 * 4, 196, 16 * 16 * 3) and out.mask.shape == (8, 196)
    assert out.z.shape == (2, 4, 64) and torch.allclose(out.alpha.sum(1), torch.ones(2))
    assert out.logits.shape == (2, 7)
    assert out.attention.shape == (2, 76, 5 * 196)                      # queries W^{1:S}: no end-of-text token
    assert torch.allclose(out.attention.sum(-1), torch.ones(2, 76), atol=1e-5)
    assert torch.allclose(out.v.norm(dim=-1), torch.ones(2)) and torch.allclose(out.w.norm(dim=-1), torch.ones(2))
    # masked crop positions are excluded from the text decoder's keys (SPEC difference 11)
    hidden = torch.cat([torch.zeros(2, 196), out.mask.reshape(2, -1)], 1).bool()   # [B, 5P]
    assert out.attention.masked_select(hidden[:, None, :].expand_as(out.attention)).abs().max() == 0
    assert itc_scale_is_exp_t(out, model)


def itc_scale_is_exp_t(out, model):
    return torch.isclose(out.itc_scale, model.itc_t.exp()) and model.itc_t.item() == 1.0 and \
        abs(model.dc_scale.item() - 1 / 0.07) < 1e-5


def test_fine_tuning_forward_sees_all_patches(model, batch):
    out = model(*batch, mask_ratio=0.0, decode_image=False, need_attn=True)
    assert out.pixels is None and out.logits.shape == (2, 7)
    assert (out.attention > 0).all()          # no key is hidden when nothing is masked


def test_image_decoder_is_text_guided(model, batch):
    g = torch.Generator().manual_seed(5)
    a = model(*batch, decode_text=False, generator=g)
    other = TOKENIZER(["an angry crowd in the rain", "a quiet lake at dawn"])
    g = torch.Generator().manual_seed(5)
    b = model(batch[0], batch[1], other, decode_text=False, generator=g)
    assert torch.equal(a.mask, b.mask) and not torch.allclose(a.pixels, b.pixels)


def test_global_only_ablation_uses_five_times_fewer_keys(batch):
    m = build_model(get_config("smoke", ["model.use_crops=false"])).eval()
    out = m(*batch, need_attn=True)
    assert m.image_decoder is None and out.pixels is None and out.attention.shape == (2, 76, 196)



@pytest.mark.parametrize("masked", [False, True])
def test_cross_attention_block_is_open_clips_block(masked):
    """The written-out cross-attention layer equals open_clip's block with k_x = v_x: outputs and gradients."""
    torch.manual_seed(0)
    block = open_clip.transformer.ResidualAttentionBlock(32, 4, is_cross_attention=True).train()
    with torch.no_grad():                       # no zero biases or unit norms that could hide a mix-up
        for p in block.parameters():
            p.add_(0.3 * torch.randn_like(p))
    x, kv = torch.randn(2, 5, 32, requires_grad=True), torch.randn(2, 7, 32, requires_grad=True)
    mask = theirs = None
    if masked:                                  # hide keys 4..6 of the first post
        hidden = torch.zeros(2, 7, dtype=torch.bool)
        hidden[0, 4:] = True
        mask = ImageGuidedTextDecoder.key_mask(hidden, torch.float32)               # [B, 1, 1, K]
        theirs = mask.expand(-1, 4, 5, -1).flatten(0, 1)                             # open_clip's [B*heads, L, K]
    results = []
    for forward in (lambda: block(x, k_x=kv, v_x=kv, attn_mask=theirs),
                    lambda: cross_attention_block(block, x, kv, mask)):
        block.zero_grad(set_to_none=True)
        x.grad = kv.grad = None
        out = forward()
        (out * torch.linspace(-1, 1, 32)).sum().backward()
        results.append([out, x.grad, kv.grad] + [p.grad for p in block.parameters()])
    assert len(results[0]) == 3 + len(list(block.parameters()))
    for ours, theirs in zip(results[1], results[0]):
        torch.testing.assert_close(ours, theirs, rtol=1e-5, atol=1e-5)
    if masked:                                  # a hidden key gets no gradient
        assert results[1][2][0, 4:].abs().max() == 0 and results[1][2][1, 4:].abs().max() > 0

@pytest.mark.parametrize("variant, width_out", [("code", 16), ("paper", 8)])
def test_aggregator_weights(variant, width_out):
    z = torch.randn(3, 4, 16)
    p, alpha = build_aggregator(variant, 16, width_out)(z)
    assert p.shape == (3, width_out) and torch.allclose(alpha.sum(1), torch.ones(3)) and (alpha >= 0).all()
    p, alpha = build_aggregator(variant, 16, width_out, use_attention=False)(z)
    assert torch.equal(alpha, torch.full((3, 4), 0.25))


@pytest.mark.parametrize("variant", ["code", "paper"])
def test_head_ignores_padding(variant):
    head = HEADS[variant](16, 5).eval()
    x, valid = torch.randn(2, 10, 16), torch.ones(2, 10, dtype=torch.bool)
    valid[:, 6:] = False
    changed = x.clone()
    changed[:, 6:] = 99.0
    assert head(x, valid).shape == (2, 5)
    assert torch.allclose(head(x, valid), head(changed, valid), atol=1e-6)
