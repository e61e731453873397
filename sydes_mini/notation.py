"""The paper's symbols -> the names they have in the code -> their shapes in each profile (the notation page).

:data:`SYMBOLS` is written by hand (the paper's symbol, what it is, the code's name, the equation or
section); every shape and size is read off a live model by :func:`traced_shapes` and :func:`sizes`, so the
page cannot drift from the code. B is the batch; the other letters are the sizes :func:`sizes` lists.
"""
from __future__ import annotations

from dataclasses import fields

import torch

from .labels import LABELS
from .plots.architecture import B, dims

# (symbol, meaning, code name, shape: a key of traced_shapes, a fixed shape, or None for a scalar, where in the paper)
SYMBOLS = [
    (r"$I_i^{(g)}$", "global view: the whole image down-sampled", 'batch["global_view"]', "global_view", "eq. 1"),
    (r"$I_{i,n}^{(l)}$", "the four 224 × 224 crops, n = 1…4", 'batch["crops"]', "crops", "eq. 1"),
    (r"$T_i$", "the caption, as token ids (cut to the batch's longest)", 'batch["text"]', "text", "3.2.1"),
    (r"$V_i^{(g)}$", "image-encoder tokens of the global view (class token first)",
     "ImageFeatures.global_tokens", "global_tokens", "3.2.1"),
    (r"$V_{i,n}^{(l)}$", "image-encoder tokens of the crops' visible patches", "ImageFeatures.crop_tokens",
     "crop_tokens", "3.2.2"),
    (r"$\bar{M}_{i,n}$", "which crop patches are masked (1 = masked)", "SyDESOutput.mask", "mask", "eq. 2"),
    (r"$W_i$", "text-encoder tokens", "model.text_encoder(text)[0]", "text_tokens", "3.2.1"),
    (r"$v_i^{cls}$", "global image latent (normalised)", "SyDESOutput.v", "v", "eq. 3"),
    (r"$w_i^{cls}$", "text latent (normalised)", "SyDESOutput.w", "w", "eq. 3"),
    (r"$\Pi_{v \rightarrow t}$", "projection of the crop tokens into the decoder's width (paper variant; the code "
     "variant projects the image decoder's keys and values instead)", "PaperImageDecoder.image_proj",
     "Linear C1 → Cd", "3.2.3"),
    (r"$U$", "Gate_img(W, D): the decoder tokens D with the caption W mixed in (paper variant)",
     "u in PaperImageDecoder.forward", "[4B, 1+P, Cd]", "3.2.3"),
    (r"$\tilde{X}_{i,n}^p$", "predicted pixels of every crop patch", "SyDESOutput.pixels", "pixels", "eq. 2"),
    (r"$z_{i,n}$", "sub-image representation of crop n", "SyDESOutput.z", "z", "3.2.3"),
    (r"$\alpha_{i,n}$", "aggregator weight of crop n", "SyDESOutput.alpha", "alpha", "3.3.3"),
    (r"$P_{agg,i}$", "aggregated crops in the image latent space", "SyDESOutput.p_agg", "p_agg", "eq. 4"),
    (r"$\tilde{W}_i$ attention", "text decoder's last cross-attention, text tokens → image tokens",
     "SyDESOutput.attention", "attention", "3.2.4"),
    (r"$\hat{y}_i$", "class scores (logits) of the task", "SyDESOutput.logits", "logits", "eq. 6"),
    (r"$1/\tau$", "scale of the contrastive logits, exp(t)", "SyDESOutput.itc_scale", "itc_scale", "eq. 3"),
    (r"$S_{t2l}$, $S_{t2g}$", "scaled similarities of the captions to the aggregated crops and to the global views",
     "a, g in losses.distribution_consistency_loss", "[B, B]", "eq. 5"),
    (r"$p_T$, $K_T$", "class probabilities of task T (softmax of the logits), its number of classes",
     "predict.Predictor", "[B, K]", "3.4.2"),
    (r"$\mathcal{L}_{rec}$", "reconstruction loss", "losses.reconstruction_loss", None, "eq. 2"),
    (r"$\mathcal{L}_{itc}$", "image–text contrastive loss", "losses.contrastive_loss", None, "eq. 3"),
    (r"$\mathcal{L}_{si}$", "local–global similarity loss", "losses.similarity_loss", None, "eq. 4"),
    (r"$\mathcal{L}_{dc}$", "distribution-consistency loss", "losses.distribution_consistency_loss", None, "eq. 5"),
    (r"$\mathcal{L}_{cls}$", "classification loss", "losses.classification_loss", None, "eq. 6"),
    (r"$\mathcal{L}_p$, $\lambda$", "pretraining objective and its weights",
     "objectives.pretrain_objective, cfg.train.pretrain_weights", None, "eq. 7"),
    (r"$\mathcal{L}_f$, $\lambda$", "fine-tuning objective and its weights",
     "objectives.finetune_objective, cfg.train.finetune_weights", None, "eq. 8"),
]


@torch.no_grad()
def traced_shapes(model) -> dict[str, str]:
    """{name: shape} of the inputs, the image and text tokens and every field of one pretraining forward."""
    g = torch.Generator().manual_seed(0)
    batch = {"global_view": torch.randn(B, 3, 224, 224, generator=g),
             "crops": torch.randn(B, 4, 3, 224, 224, generator=g),
             "text": torch.tensor([[49406, 320, 1929, 530, 518, 2867, 49407]] * B)}   # "a man in the rain"
    f = model.encode_images(batch["global_view"], batch["crops"], model.mask_ratio, g)
    out = model(batch["global_view"], batch["crops"], batch["text"], need_attn=True, generator=g)
    tensors = {**batch, "global_tokens": f.global_tokens, "crop_tokens": f.crop_tokens,
               "text_tokens": model.text_encoder(batch["text"])[0],
               **{k.name: getattr(out, k.name) for k in fields(out)}}
    text_dim = {"text": "L", "text_tokens": "L", "attention": "L-1"}     # the caption's length, in tokens
    shapes = {}
    for name, t in tensors.items():
        if t is None:
            continue
        d = dims(t)
        if name in text_dim:
            d[1] = text_dim[name]
        shapes[name] = "[" + ", ".join(d) + "]" if d else "scalar"
    return shapes


def sizes(cfg, model) -> dict[str, int | float]:
    """The letters of the shapes: P patches per view, P' visible crop patches, C1/C2 encoder widths,
    Cd image-decoder width, E latent size, K classes (desire), m mask ratio."""
    P = model.image_encoder.num_patches
    return {"P": P, "P'": int(P * (1 - model.mask_ratio)), "C1": model.image_encoder.width,
            "C2": model.text_encoder.width, "Cd": cfg.model.image_decoder_width, "E": cfg.model.latent_dim,
            "K": len(LABELS["desire"]), "m": model.mask_ratio}
