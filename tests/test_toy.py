"""The toy world: MSED format, determinism, label dependencies, cue placement, caption mentions."""
import io

import numpy as np
import pytest
import torch
from PIL import Image

from sydes_mini.data import check_root, read_split
from sydes_mini.labels import LABELS
from sydes_mini.toy import (BANNER_COLOUR, COLOUR_OF, EMOTION_WORD, Scene, ToyWorldConfig, banner_box, banner_patches, find_banner,
                            paint_out_banner, render, sample_scene, shows_own_emotion, synth)
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
    assert abs(none_rate - ToyWorldConfig().p_no_desire) < 0.12
    assert {l["desire"] for l in raw} == set(LABELS["desire"])
    # desire is drawn independently of emotion: happy and unhappy posts share the same desires
    happy = {l["desire"] for l in raw if l["emotion"] == "happiness"}
    assert {"vengeance", "romance", "tranquility"} <= happy
    emotions = [l["emotion"] for l in raw]
    assert emotions.count("happiness") > emotions.count("disgust")


def test_caption_mention_rate_near_configured(world):
    records = read_split(world, "train")
    rate = np.mean([f"feeling {EMOTION_WORD[r.raw_labels['emotion']]}" in r.caption for r in records])
    assert abs(rate - ToyWorldConfig().p_text_names_label) < 0.12


def jpeg(image: Image.Image, quality: int) -> Image.Image:
    """The image as the toy world stores it: through a JPEG file."""
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=quality)
    return Image.open(buffer).convert("RGB")


@pytest.mark.parametrize("background", ["happiness", "sad", "anger"])
def test_banners_are_in_every_crop_and_cut_from_the_code_global_view(background):
    cfg = ToyWorldConfig()
    a, b = (jpeg(render(Scene(COLOUR_OF[background], desire, noise_seed=1), cfg), cfg.jpeg_quality)
            for desire in ("family", None))
    for side in (0, 1):
        x0, y0, x1, y1 = banner_box(side, cfg)
        assert np.abs(np.asarray(a, int)[y0:y1, x0:x1] - BANNER_COLOUR["family"]).max(-1).mean() < 20
    (ga, ca), (gb, cb) = mixed_scale_views(a, "code"), mixed_scale_views(b, "code")
    assert banner_patches(ca).sum(1).min() >= 12 and not banner_patches(cb).any()   # a banner in every crop
    assert torch.equal(ga, gb)                                       # the centre crop cuts both away, JPEG blocks too
    (pa, _), (pb, _) = mixed_scale_views(a, "paper"), mixed_scale_views(b, "paper")
    assert banner_patches(pa[None]).sum() >= 2 * 14 and not banner_patches(pb[None]).any()   # the paper keeps them


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


def test_banner_width_in_each_view():
    """Banner width b on 612 x 408: code crops b*448/612 (padded square), paper crops the same, paper global
    view b*224/612, code global view cut away."""
    cfg = ToyWorldConfig()
    b = cfg.banner_width
    a = render(Scene((150, 150, 150), "family", noise_seed=1), cfg)
    without = render(Scene((150, 150, 150), None, noise_seed=1), cfg)

    def width(x, y):   # px of the widest row the banner changes, counted from the view's left edge, or 0
        changed = (x - y).abs().amax(0).gt(0.5)                          # [H, W]
        cols = torch.nonzero(changed.any(0)).flatten()
        return int((cols < x.shape[-1] // 2).sum())

    near = lambda got, want: want - 1 <= got <= want + 3                 # resampling blur
    for variant in ("code", "paper"):
        (ga, ca), (gb, cb) = mixed_scale_views(a, variant), mixed_scale_views(without, variant)
        assert near(width(ca[0], cb[0]), b * 448 / 612)                  # the top-left crop
        assert width(ga, gb) == 0 if variant == "code" else near(width(ga, gb), b * 224 / 612)


@pytest.mark.parametrize("desire", ["vengeance", "romance", "tranquility"])
def test_banner_patches_are_the_outer_columns_of_every_crop(desire):
    cfg = ToyWorldConfig()
    _, crops = mixed_scale_views(render(Scene(COLOUR_OF["happiness"], desire, noise_seed=2), cfg), "code")
    found = banner_patches(crops)                                        # [4, 196]
    n_cols = int(np.ceil(cfg.banner_width * 448 / 612 / 16))             # columns the banner reaches
    for k in range(4):
        rows, cols = found[k].reshape(14, 14).nonzero(as_tuple=True)
        assert len(rows) >= 3 * 4                                        # several rows of the band
        assert (cols < n_cols).all() if k in (0, 2) else (cols >= 14 - n_cols).all()
    for emotion, colour in COLOUR_OF.items():                            # no background is taken for a banner
        _, crops = mixed_scale_views(render(Scene(colour, None, noise_seed=2), cfg), "code")
        assert not banner_patches(crops).any(), emotion


def test_paint_out_banner_removes_the_banners_and_nothing_else():
    cfg = ToyWorldConfig()
    painted = paint_out_banner(render(Scene((150, 150, 150), "romance", noise_seed=2), cfg))
    without = render(Scene((150, 150, 150), None, noise_seed=2), cfg)
    assert not banner_patches(mixed_scale_views(painted, "code")[1]).any()
    diff = np.abs(np.asarray(painted, int) - np.asarray(without, int)).max(-1)    # [H, W]
    b = cfg.banner_width
    assert diff[:, b:-b].max() == 0                                   # only the banner boxes changed
    assert np.array_equal(np.asarray(paint_out_banner(without)), np.asarray(without))


def test_find_banner_names_the_desire():
    cfg = ToyWorldConfig()
    for desire in LABELS["desire"]:
        shown = None if desire == "none" else desire
        for emotion, colour in COLOUR_OF.items():
            assert find_banner(render(Scene(colour, shown, noise_seed=1), cfg)) == shown, (desire, emotion)


def test_shows_own_emotion_reads_the_background_with_or_without_banners():
    cfg = ToyWorldConfig()
    for emotion, colour in COLOUR_OF.items():
        for banner in (None, "romance", "vengeance"):
            image = render(Scene(colour, banner, noise_seed=4), cfg)
            assert [e for e in COLOUR_OF if shows_own_emotion(image, e)] == [emotion], (emotion, banner)
