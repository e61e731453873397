"""The five SyDES losses (paper 3.3, eqs. 2-6) as pure functions.

Every function L2-normalises the embeddings it receives along the last
dimension before use. ``variant="code"`` follows the authors' code,
``variant="paper"`` the paper's equation (SPEC differences 3-5).
"""
from __future__ import annotations

import torch
import torch.nn.functional as F


def _normalize(*xs: torch.Tensor):
    return [F.normalize(x, dim=-1) for x in xs]


def reconstruction_loss(pred: torch.Tensor, target: torch.Tensor, mask: torch.Tensor,
                        variant: str = "code") -> torch.Tensor:
    """L_rec, eq. 2: error on the masked patches only.

    pred, target [N, P, D] (D = 16*16*3 pixels of a patch), mask [N, P] with 1 = masked.
    ``code``: per-patch mean squared error over D, averaged over masked patches.
    ``paper``: per-patch L2 norm of the error, averaged over masked patches.
    """
    if variant == "code":
        per_patch = F.mse_loss(pred, target, reduction="none").mean(-1)  # [N, P]  (x.pow(2)'s backward is slower)
    else:
        per_patch = (pred - target).norm(dim=-1)                         # [N, P]
    return (per_patch * mask).sum() / mask.sum().clamp(min=1)


def contrastive_loss(image_emb: torch.Tensor, text_emb: torch.Tensor, scale: torch.Tensor | float) -> torch.Tensor:
    """L_itc, eq. 3: symmetric InfoNCE over the batch.

    image_emb, text_emb [B, E]; logits = scale * text @ image^T [B, B]; the
    matching pair (the diagonal) is the target in both directions.
    """
    image_emb, text_emb = _normalize(image_emb, text_emb)
    logits = scale * text_emb @ image_emb.t()                            # [B, B] rows = texts
    target = torch.arange(logits.shape[0], device=logits.device)
    return 0.5 * (F.cross_entropy(logits, target) + F.cross_entropy(logits.t(), target))


def similarity_loss(global_emb: torch.Tensor, agg_emb: torch.Tensor, variant: str = "code") -> torch.Tensor:
    """L_si, eq. 4: squared distance between v_cls and P_agg, both [B, E].

    ``code``: mean over all B*E elements. ``paper``: batch mean of the summed
    squared difference (= E times ``code``).
    """
    global_emb, agg_emb = _normalize(global_emb, agg_emb)
    sq = (global_emb - agg_emb).pow(2)                                   # [B, E]
    return sq.mean() if variant == "code" else sq.sum(-1).mean()


def distribution_consistency_loss(agg_emb: torch.Tensor, global_emb: torch.Tensor, text_emb: torch.Tensor,
                                  scale: torch.Tensor | float, entropy_weight: float = 1.0,
                                  variant: str = "code") -> torch.Tensor:
    """L_dc, eq. 5: the text-similarity distributions of P_agg and v_cls should agree.

    agg_emb, global_emb, text_emb [B, E].
    ``code``: rows are images. G = s*global@text^T, A = s*agg@text^T [B, B];
    KL(softmax_row(G) || softmax_row(A)) (batch mean) + weight * mean of -p log p
    over all B*B entries, p = softmax of A over dim 0.
    ``paper``: rows are texts. A' = s*text@agg^T, G' = s*text@global^T;
    KL(softmax_row(A') || softmax_row(G')) (batch mean) + weight * mean row entropy of softmax_row(A').
    """
    agg_emb, global_emb, text_emb = _normalize(agg_emb, global_emb, text_emb)
    if variant == "code":
        g, a = scale * global_emb @ text_emb.t(), scale * agg_emb @ text_emb.t()   # [B, B]
        kl = F.kl_div(a.log_softmax(-1), g.log_softmax(-1), log_target=True, reduction="batchmean")
        p, logp = a.softmax(0), a.log_softmax(0)                                    # over dim 0
        return kl + entropy_weight * (-(p * logp)).mean()
    a, g = scale * text_emb @ agg_emb.t(), scale * text_emb @ global_emb.t()       # [B, B]
    kl = F.kl_div(g.log_softmax(-1), a.log_softmax(-1), log_target=True, reduction="batchmean")
    entropy = -(a.softmax(-1) * a.log_softmax(-1)).sum(-1).mean()
    return kl + entropy_weight * entropy


def classification_loss(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """L_cls, eq. 6: cross-entropy. logits [B, K], labels [B] class indices."""
    return F.cross_entropy(logits, labels)
