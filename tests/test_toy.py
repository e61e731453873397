"""The toy world: MSED format, determinism, label dependencies, cue placement, caption mentions."""
import numpy as np
import pytest
import torch
from PIL import Image

from sydes_mini.data import check_root, read_split
from sydes_mini.toy import (COLOUR_OF, EMOTION_WORD, Scene, ToyWorldConfig, glyph_box, glyph_patches, paint_out_glyph,
                            render, sample_scene, synth)
from sydes_mini.views import denormalize, mixed_scale_views

SMALL = dict(n_train=150, n_dev=8, n_test=8)


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    return synth(tmp_path_factory.mktemp("toy"), seed=3, **SMALL)


def test_msed_format_with_no_problems(world):
    report = check_root(world)
    assert report["problems"] == []
    assert {s: report["splits"][s]["n"] for s in ("train", "dev", "test")} == {"train": 150, "dev": 8, "test": 8}
    assert Image.open(world / "train" / "images" / "1.jpg").size == (612, 408)


def test_same_seed_same_bytes_and_pixels(world, tmp_path):
    again = synth(tmp_path / "again", seed=3, **SMALL)
    assert (again / "dev" / "dev.csv").read_bytes() == (world / "dev" / "dev.csv").read_bytes()
    for k in (1, 8):
        a, b = (np.asarray(Image.open(d / "test" / "images" / f"{k}.jpg")) for d in (world, again))
        assert np.array_equal(a, b)
    other = synth(tmp_path / "other", seed=4, **SMALL)
    assert (other / "dev" / "dev.csv").read_bytes() != (world / "dev" / "dev.csv").read_bytes()
    with pytest.raises(FileExistsError, match="--overwrite"):
        synth(other, seed=4, **SMALL)


def test_label_dependencies(world):
    records = read_split(world, "train")
    raw = [r.raw_labels for r in records]
    expected = {"happiness": "positive", "neutral": "neutral"}
    assert all(l["sentiment"] == expected.get(l["emotion"], "negative") for l in raw)
    none_rate = np.mean([l["desire"] == "none" for l in raw])
    assert 0.35 < none_rate < 0.65
    assert all(l["desire"] in ("vengeance", "none") for l in raw if l["emotion"] == "anger")
    emotions = [l["emotion"] for l in raw]
    assert emotions.count("happiness") > emotions.count("disgust")


def test_caption_mention_rate_near_configured(world):
    records = read_split(world, "train")
    rate = np.mean([f"feeling {EMOTION_WORD[r.raw_labels['emotion']]}" in r.caption for r in records])
    assert abs(rate - ToyWorldConfig().p_text_names_label) < 0.12


def test_glyph_only_in_its_crop_and_cut_from_the_code_global_view():
    cfg = ToyWorldConfig()
    with_glyph = Scene((150, 150, 150), "family", corner=0, noise_seed=1)
    without = Scene((150, 150, 150), None, corner=0, noise_seed=1)
    a, b = render(with_glyph, cfg), render(without, cfg)
    x0, y0, x1, y1 = glyph_box(0, cfg)
    assert np.abs(np.asarray(a, int) - np.asarray(b, int))[y0:y1, x0:x1].mean() > 50
    (ga, ca), (gb, cb) = mixed_scale_views(a, "code"), mixed_scale_views(b, "code")
    assert (ca[0] - cb[0]).abs().max() > 2                    # clear in the top-left crop
    assert torch.equal(ca[1:], cb[1:])                        # and nowhere else
    assert torch.equal(ga, gb)                                # the centre crop cuts the corner away
    (pa, pca), (pb, pcb) = mixed_scale_views(a, "paper"), mixed_scale_views(b, "paper")
    changed = lambda x, y: int((x - y).abs().amax(0).gt(0.5).sum())   # pixels the glyph touches
    assert 0 < changed(pa, pb) < changed(pca[0], pcb[0]) / 2  # paper global view: a speck; crop: 4x the area


@pytest.mark.parametrize("variant", ["code", "paper"])
def test_global_cue_is_the_colour_of_the_224_global_view(variant):
    cfg = ToyWorldConfig(p_global_cue=1.0)
    rng = np.random.default_rng(0)
    colours = torch.tensor(list(COLOUR_OF.values()), dtype=torch.float32)           # [6, 3]
    for emotion in COLOUR_OF:
        scene = sample_scene(rng, {"emotion": emotion, "desire": "none"}, cfg)     # with distractors
        global_view, _ = mixed_scale_views(render(scene, cfg), variant)
        median = (denormalize(global_view).reshape(-1, 3) * 255).median(0).values  # [3]
        assert list(COLOUR_OF)[int((colours - median).norm(dim=1).argmin())] == emotion
        assert (median - colours[list(COLOUR_OF).index(emotion)]).abs().max() < 6


@pytest.mark.parametrize("corner", [0, 3])
def test_glyph_is_a_few_tens_of_px_in_its_crop_and_a_speck_or_nothing_in_the_global_view(corner):
    """Glyph tile side s on 612 x 408: code crop s*448/612 (both axes; padded square), paper crop
    s*448/612 wide and s*448/408 high, paper global view half of that, code global view cut away."""
    cfg = ToyWorldConfig()
    s = cfg.glyph_size
    a = render(Scene((150, 150, 150), "family", corner, noise_seed=1), cfg)
    b = render(Scene((150, 150, 150), None, corner, noise_seed=1), cfg)

    def extent(x, y):   # (width, height) in px of the pixels the glyph changes, or None
        ys, xs = torch.nonzero((x - y).abs().amax(0).gt(0.5), as_tuple=True)
        return (int(xs.max() - xs.min() + 1), int(ys.max() - ys.min() + 1)) if len(xs) else None

    sizes = {}
    for variant in ("code", "paper"):
        (ga, ca), (gb, cb) = mixed_scale_views(a, variant), mixed_scale_views(b, variant)
        sizes[variant] = extent(ga, gb), extent(ca[corner], cb[corner])
    near = lambda got, want: want - 1 <= got <= want + 3                         # resampling blur
    (code_global, code_crop), (paper_global, paper_crop) = sizes["code"], sizes["paper"]
    assert code_global is None
    assert near(code_crop[0], s * 448 / 612) and near(code_crop[1], s * 448 / 612)
    assert near(paper_crop[0], s * 448 / 612) and near(paper_crop[1], s * 448 / 408)
    assert near(paper_global[0], s * 224 / 612) and near(paper_global[1], s * 224 / 408)
    assert 15 <= code_crop[0] <= 60                                              # "a few tens of pixels"


def test_glyph_patches_are_found_in_the_glyphs_crop_only():
    cfg = ToyWorldConfig()
    rng = np.random.default_rng(3)
    for corner in range(4):
        scene = sample_scene(rng, {"emotion": "happiness", "desire": "family"}, ToyWorldConfig(p_local_cue=1.0))
        scene.corner = corner                                     # with its random distractors
        _, crops = mixed_scale_views(render(scene, cfg), "code")
        found = glyph_patches(crops)                              # [4, 196]
        assert found[corner].sum() >= 2 and found.sum() == found[corner].sum()
        _, cols = found[corner].reshape(14, 14).nonzero(as_tuple=True)
        assert (cols.max() < 3) if corner in (0, 2) else (cols.min() > 10)   # the image's outer edge
    empty = sample_scene(rng, {"emotion": "sad", "desire": "none"}, cfg)
    assert not glyph_patches(mixed_scale_views(render(empty, cfg), "code")[1]).any()


def test_paint_out_glyph_removes_the_tile_and_nothing_else():
    cfg = ToyWorldConfig()
    scene = Scene((150, 150, 150), "romance", corner=3, noise_seed=2)
    painted = paint_out_glyph(render(scene, cfg))
    without = render(Scene((150, 150, 150), None, corner=3, noise_seed=2), cfg)
    assert not glyph_patches(mixed_scale_views(painted, "code")[1]).any()
    diff = np.abs(np.asarray(painted, int) - np.asarray(without, int)).max(-1)    # [H, W]
    x0, y0, x1, y1 = glyph_box(3, cfg)
    outside = np.ones_like(diff, dtype=bool)
    outside[y0 - 5:y1 + 5, x0 - 5:x1 + 5] = False
    assert diff[outside].max() == 0                                  # only the tile's box changed
    assert np.array_equal(np.asarray(paint_out_glyph(without)), np.asarray(without))


def test_find_glyph_names_the_corner_box_and_ignores_pale_distractors():
    from sydes_mini.toy import find_glyph
    cfg = ToyWorldConfig()
    for corner in range(4):
        assert find_glyph(render(Scene((150, 150, 150), "family", corner=corner, noise_seed=1), cfg)) == \
            glyph_box(corner, cfg)
    pale = [("ellipse", (200, 100, 260, 160), (250, 250, 250))]                 # near-white, not in a corner
    assert find_glyph(render(Scene((150, 150, 150), None, corner=0, distractors=pale, noise_seed=1), cfg)) is None
