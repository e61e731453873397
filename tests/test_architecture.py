"""The model picture (sydes_mini.plots.architecture): shapes traced from the live model, parts highlighted."""
import matplotlib
import pytest
from matplotlib.colors import to_hex
from matplotlib.patches import FancyBboxPatch

from sydes_mini.config import get_config
from sydes_mini.model import build_model
from sydes_mini.plots.architecture import CHAPTER_PARTS, LOSSES, PARTS, model_figure, trace_shapes

matplotlib.use("Agg")


@pytest.fixture(scope="module")
def smoke_shapes():
    return trace_shapes(build_model(get_config("smoke")).eval())


def test_traced_shapes_follow_the_config(smoke_shapes):
    m = get_config("smoke").model
    P = (224 // 16) ** 2                                   # sydes-smoke: 16-px patches
    kept = int((1 - m.mask_ratio) * P)                     # the crops keep int((1 - m) P) patches (+ CLS)
    assert smoke_shapes["image_encoder"] == f"[B, {P + 1}, 64] / [4B, {kept + 1}, 64]"
    assert smoke_shapes["image_decoder"] == f"[4B, {P}, {16 * 16 * 3}] + [4B, {m.image_decoder_width}]"
    assert smoke_shapes["aggregator"] == f"[B, {m.latent_dim}]"
    # the caption's length is named: L tokens; the decoder reads all but the end-of-text position
    assert smoke_shapes["text_encoder"] == "[B, L, 64]"
    assert smoke_shapes["text_decoder"] == f"[B, L-1, {m.text_decoder_output_dim}]"
    assert smoke_shapes["head"] == "[B, 7]"                # 7 desire classes


def test_every_part_is_drawn_and_only_the_highlighted_ones_are_yellow(smoke_shapes):
    fig = model_figure(smoke_shapes, highlight=("head",))
    texts = [t.get_text() for t in fig.axes[0].texts]
    for label, _, _ in PARTS.values():
        assert label in texts
    for loss in LOSSES:
        assert loss in texts
    assert smoke_shapes["head"] in texts
    yellow = [p for p in fig.axes[0].patches if isinstance(p, FancyBboxPatch) and to_hex(p.get_facecolor()) == "#ffe08a"]
    assert len(yellow) == 1 and yellow[0].get_x() == pytest.approx(PARTS["head"][1] - 1.2)


def test_each_chapter_highlights_real_parts():
    assert sorted(CHAPTER_PARTS) == [3, 4, 5, 6, 7, 8]
    for names in CHAPTER_PARTS.values():
        assert names and set(names) <= set(PARTS) | set(LOSSES) | {"stages"}   # "stages": chapter 8
