"""The model in one picture (paper Fig. 2, re-drawn): every part of SyDES, the tensor that leaves it, and
where each loss attaches - traced from a live model, so the picture cannot drift from the code.

``trace_shapes(model)`` (or ``profile_shapes("full")``) runs one pretraining forward (masked crops, both
decoders) on a batch of two random samples and records the first tensor each part returns (the image
decoder: its two, pixels and z); ``model_figure(shapes, highlight=...)``
draws the parts as boxes with those shapes, the data flow as arrows and the five losses as red tags.
Chapters 3-8 open with it and ``highlight`` their part ("you are here").
"""
from __future__ import annotations

import torch
from matplotlib import pyplot as plt
from matplotlib.figure import Figure
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

B = 2   # the traced batch; a leading dimension of B or 4 B is printed as "B" or "4B"

# part -> (label, centre x, centre y); the part is the SyDES attribute that holds the module
PARTS = {
    "views": ("five views (eq. 1)", 1.3, 3.0),
    "image_encoder": ("image encoder\n(shared, crops masked)", 4.4, 3.0),
    "image_decoder": ("text-guided\nimage decoder", 7.6, 4.7),
    "aggregator": ("aggregator", 10.8, 4.7),
    "text_encoder": ("text encoder", 4.4, 0.7),
    "text_decoder": ("image-guided\ntext decoder", 7.6, 1.6),
    "head": ("head", 10.8, 1.6),
}
SHOWN_OUTPUTS = {"image_decoder": 2}   # pixels and z; every other part: its first output
ARROWS = [("views", "image_encoder"), ("image_encoder", "image_decoder"), ("image_decoder", "aggregator"),
          ("image_encoder", "text_decoder"), ("text_encoder", "text_decoder"), ("text_encoder", "image_decoder"),
          ("text_decoder", "head")]
# loss -> (where its tag sits, the parts whose outputs it compares); equation numbers of the paper
LOSSES = {
    "L_rec (eq. 2)": ((7.6, 5.85), ("image_decoder",)),
    "L_si, L_dc (eqs. 4-5)": ((10.8, 5.85), ("aggregator", "image_encoder", "text_encoder")),
    "L_itc (eq. 3)": ((2.6, 1.3), ("image_encoder", "text_encoder")),
    "L_cls (eq. 6)": ((13.0, 1.6), ("head",)),
}
# which chapter explains which parts (the "you are here" of chapters 3-8)
CHAPTER_PARTS = {3: ("views",), 4: ("image_encoder", "text_encoder"), 5: ("image_decoder", "L_rec (eq. 2)"),
                 6: ("text_decoder", "head"), 7: ("aggregator", *LOSSES), 8: tuple(LOSSES)}


def dims(t: torch.Tensor) -> list[str]:
    """A traced tensor's dimensions as text, the leading B or 4 B named."""
    out = [str(d) for d in t.shape]
    if out:
        out[0] = {B: "B", 4 * B: "4B"}.get(t.shape[0], out[0])
    return out


# the parts whose outputs run along the caption: their second dimension is its length in tokens (L), which
# training cuts to each batch's longest caption, so the picture names it instead of the traced caption's 8
TEXT_DIM = {"text_encoder": "L", "text_decoder": "L-1"}


def _shape(t: torch.Tensor, part: str = "") -> str:
    d = dims(t)
    if part in TEXT_DIM and len(d) > 2:
        d[1] = TEXT_DIM[part]
    return "[" + ", ".join(d) + "]"


@torch.no_grad()
def trace_shapes(model) -> dict[str, str]:
    """{part: the shapes of what it returns (:data:`SHOWN_OUTPUTS`)} for one pretraining forward of ``model``."""
    device = next(model.parameters()).device
    shapes: dict[str, list[str]] = {}

    def record(name):
        def hook(module, inputs, output):
            outputs = output if isinstance(output, (tuple, list)) else (output,)
            shown = outputs[:SHOWN_OUTPUTS.get(name, 1)]
            shapes.setdefault(name, []).append(" + ".join(_shape(t, name) for t in shown))
        return hook

    handles = [getattr(model, name).register_forward_hook(record(name))
               for name in PARTS if getattr(model, name, None) is not None]
    g = torch.Generator().manual_seed(0)
    global_view = torch.randn(B, 3, 224, 224, generator=g).to(device)
    crops = torch.randn(B, 4, 3, 224, 224, generator=g).to(device)
    text = torch.tensor([[49406, 320, 1929, 49407] + [0] * 4] * B, device=device)   # "<start> a man <end>"
    try:
        model(global_view, crops, text, generator=g)
    finally:
        for h in handles:
            h.remove()
    out = {name: " / ".join(s) for name, s in shapes.items()}
    out["views"] = "[B, 3, 224, 224] +\n[B, 4, 3, 224, 224]"
    return out


def profile_model(profile: str):
    """(config, model) of a profile with random weights, in eval mode. Shapes do not depend on the number of
    decoder layers, so the decoders are built one layer deep: the full profile builds in seconds."""
    from ..config import get_config
    from ..model import build_model
    cfg = get_config(profile, ["model.clip_pretrained=none", "model.text_decoder_pretrained=none",
                               "model.image_decoder_layers=1", "model.text_decoder_layers=1"])
    return cfg, build_model(cfg, task="desire").eval()


def profile_shapes(profile: str) -> dict[str, str]:
    """:func:`trace_shapes` of a profile's model (:func:`profile_model`)."""
    return trace_shapes(profile_model(profile)[1])


def _edge(x, y, x_to, y_to, half_w=1.3, half_h=0.55) -> tuple[float, float]:
    """Where the segment from a box centre (x, y) towards (x_to, y_to) leaves the box (with a small gap)."""
    dx, dy = x_to - x, y_to - y
    s = min(half_w / abs(dx) if dx else float("inf"), half_h / abs(dy) if dy else float("inf"))
    return x + s * dx, y + s * dy


def model_figure(shapes: dict[str, str] | dict[str, dict[str, str]], highlight=(), title: str = "") -> Figure:
    """The architecture with each part's output shape. ``shapes``: one profile's :func:`trace_shapes`, or
    {profile: shapes} to print several under each box; ``highlight``: parts and losses to colour."""
    profiles = shapes if isinstance(next(iter(shapes.values())), dict) else {"": shapes}
    fig, ax = plt.subplots(figsize=(13, 6.4))
    ax.set_xlim(-0.4, 13.9)
    ax.set_ylim(-0.3, 6.3)
    ax.axis("off")
    lit = set(highlight)
    for name, (label, x, y) in PARTS.items():
        on = name in lit
        ax.add_patch(FancyBboxPatch((x - 1.2, y - 0.45), 2.4, 0.9, boxstyle="round,pad=0.05",
                                    fc="#ffe08a" if on else "#e8eef7", ec="#c07000" if on else "#5a6b85",
                                    lw=2.5 if on else 1))
        ax.text(x, y + 0.12, label, ha="center", va="center", fontsize=9.5, weight="bold" if on else "normal")
        lines = [f"{p + ': ' if p else ''}{s[name]}" for p, s in profiles.items() if name in s]
        ax.text(x, y - 0.62, "\n".join(lines), ha="center", va="top", fontsize=7, family="monospace",
                color="#333333")
    for a, b in ARROWS:
        (_, xa, ya), (_, xb, yb) = PARTS[a], PARTS[b]
        ax.add_patch(FancyArrowPatch(_edge(xa, ya, xb, yb), _edge(xb, yb, xa, ya), arrowstyle="-|>",
                                     mutation_scale=12, color="#5a6b85", lw=1))
    for loss, ((x, y), reads) in LOSSES.items():
        on = loss in lit
        for part in reads:                                   # dashed: the tensors the loss compares
            _, xp, yp = PARTS[part]
            ax.add_patch(FancyArrowPatch((x, y), (xp, yp), arrowstyle="-", linestyle="--", shrinkA=8, shrinkB=30,
                                         color="#c0392b" if on else "#e6a19a", lw=0.8, zorder=0))
        ax.text(x, y, loss, ha="center", va="center", fontsize=9, color="white", weight="bold",
                bbox=dict(boxstyle="round,pad=0.3", fc="#c0392b" if on else "#e6a19a", ec="none"))
    ax.text(-0.3, 0.7, "caption", ha="left", va="center", fontsize=9)
    ax.add_patch(FancyArrowPatch((0.35, 0.7), (3.2, 0.7), arrowstyle="-|>", mutation_scale=12, color="#5a6b85"))
    ax.text(-0.3, 4.1, "image", ha="left", va="center", fontsize=9)
    ax.add_patch(FancyArrowPatch((0.1, 3.95), (0.5, 3.5), arrowstyle="-|>", mutation_scale=12, color="#5a6b85"))
    if title:
        ax.set_title(title, fontsize=11)
    return fig


def you_are_here(chapter: int, profile: str = "smoke") -> Figure:
    """The picture that opens chapters 3-8: ``profile``'s shapes, the chapter's parts in yellow."""
    return model_figure(profile_shapes(profile), highlight=CHAPTER_PARTS[chapter],
                        title=f"Chapter {chapter}: you are here (yellow; output shapes of the {profile} profile)")
