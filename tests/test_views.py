"""Mixed-scale views (eq. 1): shapes, exact re-tiling, CLIP normalisation, the two variants."""
import numpy as np
import pytest
import torch
from PIL import Image

from sydes_mini.views import (CLIP_MEAN, CLIP_MEAN_RGB, CLIP_STD, denormalize, mixed_scale_views,
                              split_crops, to_tensor, view_448)


def gradient_image(w=300, h=200):
    """A non-square RGB image whose every pixel differs from its neighbours."""
    xs, ys = np.meshgrid(np.arange(w), np.arange(h))
    arr = np.stack([xs % 256, ys % 256, (xs + ys) % 256], axis=-1).astype(np.uint8)
    return Image.fromarray(arr)


@pytest.mark.parametrize("variant", ["code", "paper"])
def test_shapes_and_dtype(variant):
    g, crops = mixed_scale_views(gradient_image(), variant)
    assert g.shape == (3, 224, 224) and crops.shape == (4, 3, 224, 224)
    assert g.dtype == crops.dtype == torch.float32


@pytest.mark.parametrize("variant", ["code", "paper"])
def test_crops_retile_the_448_image_exactly(variant):
    image = gradient_image()
    x448 = view_448(image, variant)
    _, crops = mixed_scale_views(image, variant)
    top = torch.cat([crops[0], crops[1]], dim=2)       # TL | TR  -> [3, 224, 448]
    bottom = torch.cat([crops[2], crops[3]], dim=2)    # BL | BR
    assert torch.equal(torch.cat([top, bottom], dim=1), x448)
    assert torch.equal(crops[1], x448[:, :224, 224:])  # top-right is the second crop


def test_mean_colour_normalises_to_zero_and_denormalize_inverts():
    image = Image.new("RGB", (500, 300), CLIP_MEAN_RGB)
    for variant in ("code", "paper"):
        g, crops = mixed_scale_views(image, variant)
        assert g.abs().max() < 0.015 and crops.abs().max() < 0.015  # int(255 * mean) truncates: < 1/255 over std
    white = to_tensor(Image.new("RGB", (4, 4), (255, 255, 255)))
    expected = (1 - torch.tensor(CLIP_MEAN)) / torch.tensor(CLIP_STD)
    assert torch.allclose(white[:, 0, 0], expected)
    assert torch.allclose(denormalize(white), torch.ones(4, 4, 3))


def test_code_variant_pads_with_mean_colour_and_keeps_aspect():
    image = Image.new("RGB", (400, 200), (255, 0, 0))   # wide: padding above and below
    x448 = view_448(image, "code")
    assert x448[:, :100].abs().max() < 0.015            # top quarter is padding (mean colour -> 0)
    assert torch.allclose(denormalize(x448[:, 224:225, 224:225])[0, 0], torch.tensor([1.0, 0, 0]), atol=0.01)
    squashed = view_448(image, "paper")                 # paper: no padding, red everywhere
    assert torch.allclose(denormalize(squashed[:, 10:11, 10:11])[0, 0], torch.tensor([1.0, 0, 0]), atol=0.01)


def test_variants_differ_and_code_global_view_is_a_centre_crop():
    image = gradient_image(448, 224)
    g_code, c_code = mixed_scale_views(image, "code")
    g_paper, c_paper = mixed_scale_views(image, "paper")
    assert not torch.allclose(g_code, g_paper, atol=0.1)
    assert not torch.allclose(c_code, c_paper, atol=0.1)
    # shortest side is already 224: the code global view is the exact centre 224 x 224
    assert torch.allclose(g_code, to_tensor(image.crop((112, 0, 336, 224))))


def test_split_crops_rejects_unknown_variant_and_wrong_shape():
    with pytest.raises(ValueError, match="unknown views variant"):
        view_448(gradient_image(), "other")
    with pytest.raises(RuntimeError):
        split_crops(torch.zeros(3, 224, 224))
