"""The model in one picture (paper Fig. 2, re-drawn): every part of SyDES, the tensor that leaves it, and
where each loss attaches - traced from a live model, so the picture cannot drift from the code.

``trace_shapes(model)`` (or ``profile_shapes("full")``) runs one pretraining forward (masked crops, both
decoders) on a batch of two random samples and records the first tensor each part returns (the image
decoder: its two, pixels and z); ``model_figure(shapes, highlight=...)``
draws the parts as boxes with those shapes, the data flow as arrows and the five losses as red tags.
Chapters 3-8 open with it and ``highlight`` their part ("you are here"; chapter 8: the stage that trains each).
"""
from __future__ import annotations

import re

import torch
from matplotlib import pyplot as plt
from matplotlib.figure import Figure
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

from ..stages import trainable_modules

B = 2   # the traced batch; a leading dimension of B or 4 B is printed as "B" or "4B"

# The picture is laid out in inches (the axes fill the figure, one unit = one inch), so boxes and text keep
# their proportions: the image side in the left column, the text side in the right one, rows top to bottom.
IMAGE_SIDE, TEXT_SIDE, MIDDLE = 2.75, 7.55, 5.15   # column centres
HALF_W, GAP = 1.2, 0.85                           # half a box's width; the space between two rows
# part -> (label, column, row); the part is the SyDES attribute that holds the module
PARTS = {
    "views": ("five views (eq. 1)", IMAGE_SIDE, 0),
    "image_encoder": ("image encoder\n(shared, crops masked)", IMAGE_SIDE, 1),
    "text_encoder": ("text encoder", TEXT_SIDE, 1),
    "image_decoder": ("text-guided\nimage decoder", IMAGE_SIDE, 2),
    "text_decoder": ("image-guided\ntext decoder", TEXT_SIDE, 2),
    "aggregator": ("aggregator", IMAGE_SIDE, 3),
    "head": ("head", TEXT_SIDE, 3),
}
SHOWN_OUTPUTS = {"image_decoder": 2}   # pixels and z; every other part: its first output
ARROWS = [("views", "image_encoder"), ("image_encoder", "image_decoder"), ("image_decoder", "aggregator"),
          ("image_encoder", "text_decoder"), ("text_encoder", "text_decoder"), ("text_encoder", "image_decoder"),
          ("text_decoder", "head")]
# loss -> ((column, row) of its tag, {part whose output it compares: where its dashed line meets the box}); the
# meeting point (fx, fy) runs from -1 to 1 across the box: (1, 0) is the middle of its right edge
LOSSES = {
    "L_rec (eq. 2)": ((0.7, 2), {"image_decoder": (-1, 0)}),
    "L_si, L_dc (eqs. 4-5)": ((MIDDLE, 1), {"image_encoder": (1, 0), "text_encoder": (-1, 0), "aggregator": (1, 0)}),
    "L_itc (eq. 3)": ((MIDDLE, 0.5), {"image_encoder": (0.6, 1), "text_encoder": (-0.6, 1)}),
    "L_cls (eq. 6)": ((TEXT_SIDE, 3.5), {"head": (0, -1)}),
}
STAGES = {"pretrain": "pretraining", "finetune": "fine-tuning"}   # sydes_mini.stages names -> the book's
# which chapter explains which parts (the "you are here" of chapters 3-8); "stages": which stage trains each part
CHAPTER_PARTS = {3: ("views",), 4: ("image_encoder", "text_encoder"), 5: ("image_decoder", "L_rec (eq. 2)"),
                 6: ("text_decoder", "head"), 7: ("aggregator", *LOSSES), 8: ("stages", *LOSSES)}


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


def _edge(x, y, x_to, y_to, half_h) -> tuple[float, float]:
    """Where the segment from a box centre (x, y) towards (x_to, y_to) leaves the box (with a small gap)."""
    dx, dy = x_to - x, y_to - y
    s = min((HALF_W + 0.1) / abs(dx) if dx else float("inf"), (half_h + 0.1) / abs(dy) if dy else float("inf"))
    return x + s * dx, y + s * dy


def _shape_lines(profiles: dict[str, dict[str, str]], part: str) -> str:
    """The shapes printed in a part's box: a line per tensor, each profile's first line led by its name."""
    pad = max(map(len, profiles))                          # 0 for one unnamed profile
    lines = []
    for p, s in profiles.items():
        for i, t in enumerate(re.split(r"(?<=[+/])\s", s[part]) if part in s else ()):
            lines.append(f"{'' if i else p:{pad}} {t}" if pad else t)
    return "\n".join(lines)


def _trained_in(part: str) -> str:
    """The training stages that update ``part`` (:func:`sydes_mini.stages.trainable_modules`), "" for none."""
    stages = [name for stage, name in STAGES.items()
              if any(m.split(".")[0] == part for m in trainable_modules(stage))]
    return "both stages" if len(stages) == 2 else "".join(stages)


def model_figure(shapes: dict[str, str] | dict[str, dict[str, str]], highlight=(), title: str = "") -> Figure:
    """The architecture with each part's output shape. ``shapes``: one profile's :func:`trace_shapes`, or
    {profile: shapes} to print several in each box; ``highlight``: parts and losses to colour, and "stages" to
    write above each part the training stage that updates it."""
    profiles = shapes if isinstance(next(iter(shapes.values())), dict) else {"": shapes}
    text = {name: _shape_lines(profiles, name) for name in PARTS}
    h = 0.62 + 0.17 * max(t.count("\n") + 1 for t in text.values())   # a box: two lines of name, then the shapes
    step = h + GAP                                                     # from one row to the next
    pos = {name: (x, -row * step) for name, (_, x, row) in PARTS.items()}
    top, bottom, width = h / 2 + (0.6 if title else 0.2), -3.5 * step - 0.3, 9.0
    fig = plt.figure(figsize=(width, top - bottom))
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_xlim(0, width)
    ax.set_ylim(bottom, top)
    ax.axis("off")
    lit = set(highlight)
    for name, (label, _, _) in PARTS.items():
        (x, y), on = pos[name], name in lit
        ax.add_patch(FancyBboxPatch((x - HALF_W, y - h / 2), 2 * HALF_W, h, boxstyle="round,pad=0.05", zorder=2,
                                    fc="#ffe08a" if on else "#e8eef7", ec="#c07000" if on else "#5a6b85",
                                    lw=2.5 if on else 1))
        ax.text(x, y + h / 2 - 0.25, label, ha="center", va="center", fontsize=11, weight="bold" if on else "normal")
        ax.text(x, y + h / 2 - 0.52, text[name], ha="center", va="top", multialignment="left", fontsize=10,
                family="monospace", color="#333333")
        if "stages" in lit:                                  # above the box, on the side no arrow uses
            left = x < MIDDLE
            ax.text(x - HALF_W if left else x + HALF_W, y + h / 2 + 0.1, _trained_in(name),
                    ha="left" if left else "right", va="bottom", fontsize=10, style="italic", weight="bold",
                    color="#8a5a00")
    for a, b in ARROWS:
        (xa, ya), (xb, yb) = pos[a], pos[b]
        ax.add_patch(FancyArrowPatch(_edge(xa, ya, xb, yb, h / 2), _edge(xb, yb, xa, ya, h / 2),
                                     arrowstyle="-|>", mutation_scale=14, color="#5a6b85", lw=1.2))
    for loss, ((x, row), reads) in LOSSES.items():
        on = loss in lit
        for part, (fx, fy) in reads.items():                 # dashed: the outputs the loss compares
            xp, yp = pos[part]
            ax.plot([x, xp + fx * HALF_W], [-row * step, yp + fy * h / 2], "--", lw=1.2, zorder=1,
                    color="#c0392b" if on else "#e6a19a")
        ax.text(x, -row * step, loss, ha="center", va="center", fontsize=10, weight="bold", zorder=3,
                color="white" if on else "#7b241c",
                bbox=dict(boxstyle="round,pad=0.3", fc="#c0392b" if on else "#f6d5d1", ec="none"))
    ax.text(0.15, 0, "image", ha="left", va="center", fontsize=10.5)
    ax.add_patch(FancyArrowPatch((0.75, 0), (IMAGE_SIDE - HALF_W - 0.1, 0), arrowstyle="-|>",
                                 mutation_scale=14, color="#5a6b85", lw=1.2))
    ax.text(TEXT_SIDE, 0, "caption", ha="center", va="center", fontsize=10.5)
    ax.add_patch(FancyArrowPatch((TEXT_SIDE, -0.15), (TEXT_SIDE, -step + h / 2 + 0.1),
                                 arrowstyle="-|>", mutation_scale=14, color="#5a6b85", lw=1.2))
    if "stages" in lit:
        ax.text(IMAGE_SIDE - HALF_W, -3.5 * step, "above a box: the stage that trains it\n(in the other it is frozen)",
                ha="left", va="center", fontsize=10, style="italic", color="#8a5a00")
    if title:
        ax.text(width / 2, top - 0.3, title, ha="center", va="center", fontsize=12)
    return fig


def you_are_here(chapter: int, profile: str = "smoke") -> Figure:
    """The picture that opens chapters 3-8: ``profile``'s shapes, the chapter's parts highlighted."""
    title = f"Chapter {chapter}: you are here (highlighted; output shapes of the {profile} profile)"
    return model_figure(profile_shapes(profile), highlight=CHAPTER_PARTS[chapter], title=title)
