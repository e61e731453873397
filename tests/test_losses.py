"""The five losses (eqs. 2-6): hand-worked values, gradients, invariants, code vs paper."""
import math

import pytest
import torch

from sydes_mini.losses import (classification_loss, contrastive_loss, distribution_consistency_loss,
                               reconstruction_loss, similarity_loss)

I2 = torch.eye(2)
SWAP = torch.tensor([[0.0, 1.0], [1.0, 0.0]])


# -- eq. 2 ------------------------------------------------------------------------
def test_reconstruction_by_hand():
    pred = torch.tensor([[[3.0, 4.0], [1.0, 1.0]]])      # [N=1, P=2, D=2]
    target = torch.zeros(1, 2, 2)
    only_first = torch.tensor([[1.0, 0.0]])               # patch 1 is visible: ignored
    assert reconstruction_loss(pred, target, only_first, "code").item() == pytest.approx((9 + 16) / 2)
    assert reconstruction_loss(pred, target, only_first, "paper").item() == pytest.approx(5.0)
    both = torch.ones(1, 2)
    assert reconstruction_loss(pred, target, both, "code").item() == pytest.approx((12.5 + 1) / 2)
    assert reconstruction_loss(pred, target, both, "paper").item() == pytest.approx((5 + math.sqrt(2)) / 2)


def test_reconstruction_variants_differ_by_sqrt_d_for_constant_error():
    D, e = 768, 0.3
    pred, target = torch.full((2, 5, D), e), torch.zeros(2, 5, D)
    mask = torch.tensor([[1, 0, 1, 0, 0], [0, 0, 0, 1, 1.0]])
    code = reconstruction_loss(pred, target, mask, "code")
    paper = reconstruction_loss(pred, target, mask, "paper")
    assert code.item() == pytest.approx(e ** 2)
    assert paper.item() == pytest.approx(math.sqrt(D) * e, rel=1e-5)


def test_reconstruction_ignores_visible_patches():
    pred, target = torch.randn(3, 6, 12), torch.randn(3, 6, 12)
    mask = torch.zeros(3, 6)
    mask[:, :2] = 1
    changed = pred.clone()
    changed[:, 2:] += 100                                   # only visible patches change
    assert torch.equal(reconstruction_loss(pred, target, mask), reconstruction_loss(changed, target, mask))


# -- eq. 3 ------------------------------------------------------------------------
def test_contrastive_equal_logits_is_log_b():
    B = 5
    same = torch.randn(1, 8).expand(B, 8)                   # B identical pairs: every logit equal
    assert contrastive_loss(same, same, 3.0).item() == pytest.approx(math.log(B), rel=1e-6)


def test_contrastive_by_hand():
    # orthonormal pairs, scale 1: logits = I, each CE = log(1 + e^-1)
    assert contrastive_loss(I2, I2, 1.0).item() == pytest.approx(math.log(1 + math.exp(-1)))


def test_contrastive_symmetric_and_scale_invariant_inputs():
    img, txt = torch.randn(4, 16), torch.randn(4, 16)
    assert contrastive_loss(img, txt, 2.0).item() == pytest.approx(contrastive_loss(txt, img, 2.0).item())
    # embeddings are L2-normalised inside: rescaling an input changes nothing
    assert contrastive_loss(5 * img, txt, 2.0).item() == pytest.approx(contrastive_loss(img, txt, 2.0).item())


# -- eq. 4 ------------------------------------------------------------------------
def test_similarity_by_hand_and_factor_e():
    g, a = torch.tensor([[2.0, 0.0]]), torch.tensor([[0.0, 3.0]])   # normalised: [1,0] vs [0,1]
    assert similarity_loss(g, a, "code").item() == pytest.approx(1.0)
    assert similarity_loss(g, a, "paper").item() == pytest.approx(2.0)
    g, a = torch.randn(6, 32), torch.randn(6, 32)
    assert similarity_loss(g, a, "paper").item() == pytest.approx(32 * similarity_loss(g, a, "code").item(), rel=1e-5)
    assert similarity_loss(g, g).item() == pytest.approx(0.0, abs=1e-7)


# -- eq. 5 ------------------------------------------------------------------------
def _entropy(p):
    return -(p * p.log()).sum().item()


def test_distribution_consistency_kl_by_hand():
    # global = text = I, agg swapped: row softmaxes are [p, q] vs [q, p] with log(p/q) = 1
    p = math.e / (1 + math.e)
    kl = (p - (1 - p)) * 1.0
    for variant in ("code", "paper"):
        value = distribution_consistency_loss(SWAP, I2, I2, 1.0, entropy_weight=0.0, variant=variant)
        assert value.item() == pytest.approx(kl, rel=1e-6)


def test_distribution_consistency_entropy_by_hand():
    # agg = global: KL = 0, only the entropy term remains
    p = torch.tensor([math.e, 1.0]) / (1 + math.e)          # softmax of [1, 0]
    h = _entropy(p)
    code = distribution_consistency_loss(I2, I2, I2, 1.0, variant="code")
    paper = distribution_consistency_loss(I2, I2, I2, 1.0, variant="paper")
    assert code.item() == pytest.approx(2 * h / 4, rel=1e-6)  # mean over the B*B entries
    assert paper.item() == pytest.approx(h, rel=1e-6)         # mean over rows of the row entropy


def test_distribution_consistency_direction_of_kl():
    """code: KL(S_t2g || S_t2l); paper: KL(S_t2l || S_t2g) (SPEC difference 4)."""
    torch.manual_seed(0)
    a, g, t = torch.randn(4, 8), torch.randn(4, 8), torch.randn(4, 8)
    code = distribution_consistency_loss(a, g, t, 2.0, 0.0, "code")
    an, gn, tn = (torch.nn.functional.normalize(x, dim=-1) for x in (a, g, t))
    G, A = (2.0 * gn @ tn.T).softmax(-1), (2.0 * an @ tn.T).softmax(-1)
    expected = (G * (G.log() - A.log())).sum(-1).mean()
    assert code.item() == pytest.approx(expected.item(), rel=1e-5)


# -- eq. 6 ------------------------------------------------------------------------
def test_classification_uniform_logits_is_log_k():
    assert classification_loss(torch.zeros(4, 7), torch.tensor([0, 3, 6, 2])).item() == pytest.approx(math.log(7))


# -- gradients ---------------------------------------------------------------------
@pytest.mark.parametrize("variant", ["code", "paper"])
def test_gradients_reach_every_input(variant):
    torch.manual_seed(0)
    x = {k: torch.randn(4, 8, requires_grad=True) for k in ("a", "g", "t")}
    scale = torch.tensor(3.0, requires_grad=True)
    pred, target = torch.randn(4, 5, 12, requires_grad=True), torch.randn(4, 5, 12)
    logits = torch.randn(4, 3, requires_grad=True)
    total = (reconstruction_loss(pred, target, torch.ones(4, 5), variant)
             + contrastive_loss(x["g"], x["t"], scale)
             + similarity_loss(x["g"], x["a"], variant)
             + distribution_consistency_loss(x["a"], x["g"], x["t"], scale, variant=variant)
             + classification_loss(logits, torch.tensor([0, 1, 2, 1])))
    total.backward()
    for tensor in [pred, logits, scale, *x.values()]:
        assert tensor.grad is not None and tensor.grad.abs().sum() > 0
