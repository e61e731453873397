"""The toy world: a generated dataset in exact MSED format that a CPU can learn in minutes.

It is a small laboratory: each part of SyDES has a cue that only it can read.

* **Global cue -> emotion (and so sentiment).** The background colour is the
  emotion's colour (with probability ``p_global_cue``, else another emotion's
  colour); every view sees it.
* **Local cue -> desire: the banners.** Down the left and right edges of the
  image runs a band ``banner_width`` px wide in the desire's colour, drawn with
  probability ``p_local_cue`` when the desire is not ``none``. The authors' global view (shortest side
  -> 224, centre crop) keeps only the middle 408 px of a 612 x 408 image, so it
  never sees the banners; each of the four 224 crops shows one, about 61 px wide
  (84 x 448 / 612). This is why the crops (eq. 1) exist. (The paper's global view
  squeezes the whole image, so there the banners are visible but thin.)
* **Text cue.** Captions are template sentences with distractor words; a
  caption names the emotion with probability ``p_text_names_label`` and,
  independently, the desire, so text alone is not enough.
* **Labels** are drawn like MSED's: emotion first (imbalanced: happiness most
  common, disgust rare), sentiment follows emotion exactly (happiness ->
  positive, neutral -> neutral, the rest -> negative); desire is ``none`` with
  probability ``p_no_desire``, else one of the six desires uniformly,
  independent of the emotion: the banners are the image's only way to it.

Why banners and not a small glyph in one corner: the smoke model's text decoder
starts from random weights and has a few hundred optimiser steps to learn where
to look among its 5 x 196 image keys. A corner glyph covers 20 to 40 of them and
was not found in that budget (desire stayed near the majority floor; measured in
``notes/issue11_diagnosis.md``); banners cover about a sixth of the keys. They are plain colour
because black shapes drawn on them (tried) made desire slower to learn.

Default sizes (600 / 120 / 240) generate in a few seconds.
Same seed -> byte-identical CSVs and identical pixels.
"""
from __future__ import annotations

import csv
import json
import shutil
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from .labels import LABELS

VERSION = 2   # of the generator, saved in toy_world.json: bumped whenever the same settings draw a different world


@dataclass
class ToyWorldConfig:
    n_train: int = 600
    n_dev: int = 120
    n_test: int = 240
    seed: int = 0
    p_global_cue: float = 0.9         # P(background = the emotion's colour); else another emotion's colour
    p_local_cue: float = 0.9          # P(a desire other than none draws its banners); else none
    p_text_names_label: float = 0.3   # P(caption names the emotion); independently, the desire
    p_no_desire: float = 0.3          # P(desire = none); else one of the six desires, uniformly
    banner_width: int = 84            # px on the 612 x 408 image: the authors' global view starts at x = 102,
                                      # and 84 keeps JPEG's 16-px blocks of the right banner (x >= 528) clear of it
    n_distractors: int = 0            # coloured shapes with no meaning between the banners (a harder world)
    noise_std: float = 8.0            # Gaussian grain (same for R, G, B), 0..255 scale
    size: tuple[int, int] = (612, 408)  # W x H, MSED's typical size
    jpeg_quality: int = 90


EMOTION_P = {"happiness": 0.38, "sad": 0.16, "neutral": 0.20, "disgust": 0.05, "anger": 0.11, "fear": 0.10}
SENTIMENT_OF = {"happiness": "positive", "neutral": "neutral"}   # every other emotion -> negative
COLOUR_OF = {"happiness": (235, 200, 60), "sad": (60, 90, 170), "neutral": (150, 150, 150),
             "disgust": (110, 150, 60), "anger": (200, 50, 40), "fear": (100, 60, 130)}
BANNER_COLOUR = {"vengeance": (245, 130, 20), "curiosity": (20, 200, 210), "social-contact": (230, 60, 200),
                 "family": (150, 230, 40), "tranquility": (250, 160, 180), "romance": (245, 245, 245)}
EMOTION_WORD = {"happiness": "happy", "sad": "sad", "neutral": "indifferent", "disgust": "disgusted",
                "anger": "angry", "fear": "afraid"}
DESIRE_PHRASE = {"vengeance": "wanting revenge", "curiosity": "eager to explore",
                 "social-contact": "hoping to meet friends", "family": "missing their family",
                 "tranquility": "seeking peace and quiet", "romance": "longing for love"}
SUBJECTS = ("a man", "a woman", "two friends", "an old couple", "a child", "a group of people", "a dog")
ACTIONS = ("standing", "sitting", "walking", "waiting", "looking around", "talking")
PLACES = ("in a park", "by the sea", "in a kitchen", "on a street", "at a station", "in a garden")
EXTRAS = ("on a bright morning", "under a grey sky", "with a red bag", "near an old tree", "in the evening", "")
SPLIT_IDS = {"train": 0, "dev": 1, "test": 2}


@dataclass
class Scene:
    """Everything an image shows; :func:`render` turns it into pixels."""
    background: tuple[int, int, int]
    banner: str | None                # a desire name, or None for no banners
    distractors: list[tuple] = field(default_factory=list)  # (kind, box, colour)
    noise_seed: int = 0


def sample_labels(rng: np.random.Generator, cfg: ToyWorldConfig) -> dict[str, str]:
    """Emotion ~ EMOTION_P; sentiment from emotion; desire ``none`` w.p. ``p_no_desire``, else uniform over the
    six desires (independent of the emotion)."""
    emotion = str(rng.choice(list(EMOTION_P), p=list(EMOTION_P.values())))
    desire = "none" if rng.random() < cfg.p_no_desire else str(rng.choice(list(DESIRE_PHRASE)))
    return {"sentiment": SENTIMENT_OF.get(emotion, "negative"), "emotion": emotion, "desire": desire}


def sample_scene(rng: np.random.Generator, labels: dict[str, str], cfg: ToyWorldConfig) -> Scene:
    """The global cue (background) and the local cue (banners) with their probabilities, plus distractors."""
    others = [e for e in COLOUR_OF if e != labels["emotion"]]
    emotion = labels["emotion"] if rng.random() < cfg.p_global_cue else str(rng.choice(others))
    shows_banner = labels["desire"] != "none" and rng.random() < cfg.p_local_cue
    w, h = cfg.size
    distractors = []
    for _ in range(cfg.n_distractors):
        x, y, s = rng.integers(110, w - 190), rng.integers(20, h - 100), rng.integers(30, 80)
        colour = tuple(int(c) for c in rng.integers(0, 256, 3))
        distractors.append((str(rng.choice(["ellipse", "rectangle"])), (int(x), int(y), int(x + s), int(y + s)),
                            colour))
    return Scene(COLOUR_OF[emotion], labels["desire"] if shows_banner else None, distractors,
                 int(rng.integers(2**31)))


def draw_banner(draw: ImageDraw.ImageDraw, desire: str, box: tuple[int, int, int, int]) -> None:
    """One banner: ``box`` (x0, y0, x1, y1) filled with the desire's colour."""
    draw.rectangle(box, fill=BANNER_COLOUR[desire])


def banner_box(side: int, cfg: ToyWorldConfig) -> tuple[int, int, int, int]:
    """The box (x0, y0, x1, y1) of the left (``side`` 0) or right (1) banner: full height, ``banner_width`` wide."""
    w, h, b = *cfg.size, cfg.banner_width
    x0 = 0 if side == 0 else w - b
    return x0, 0, x0 + b - 1, h - 1


def banner_patches(crops, patch_size: int = 16, cover: float = 0.25, tolerance: float = 0.12):
    """The patches of views that a banner covers: crops [V, 3, 224, 224] (CLIP-normalised, as
    ``views.mixed_scale_views`` returns them; V = 4 crops, or 1 for a global view) -> bool [V, P]. A patch
    counts when ``cover`` of its pixels are
    within ``tolerance`` (0..1 scale) of a banner colour. Toy world only: its backgrounds (emotion colours) and
    the padding are never near a banner colour; distractors (off by default) could be."""
    from .views import denormalize
    import torch
    pixels = denormalize(crops)                                                       # [V, 224, 224, 3]
    colours = torch.tensor(list(BANNER_COLOUR.values()), dtype=pixels.dtype) / 255   # [6, 3]
    near = ((pixels[..., None, :] - colours).abs().amax(-1) < tolerance).any(-1).float()   # [V, 224, 224]
    n = near.shape[-1] // patch_size
    per_patch = near.reshape(len(near), n, patch_size, n, patch_size).mean((2, 4))  # [V, n, n]
    return per_patch.flatten(1) > cover                                              # [V, P]


def find_banner(image: Image.Image, cfg: ToyWorldConfig | None = None) -> str | None:
    """Toy world only: the desire whose colour the two banner boxes mostly show, or None (no banners)."""
    cfg = cfg or ToyWorldConfig()
    pixels = np.asarray(image.convert("RGB"), dtype=np.int16)                       # [H, W, 3]
    for desire, colour in BANNER_COLOUR.items():
        shares = []
        for side in (0, 1):
            x0, y0, x1, y1 = banner_box(side, cfg)
            band = pixels[y0:y1 + 1, x0:x1 + 1]
            shares.append((np.abs(band - np.array(colour)).max(-1) < 40).mean())
        if min(shares) > 0.4:
            return desire
    return None


def shows_own_emotion(image: Image.Image, emotion: str) -> bool:
    """Toy world only: is ``emotion``'s colour the nearest emotion colour to the background (the image's
    median colour)? False for the tenth of the posts whose background shows another emotion's
    (``p_global_cue``)."""
    background = np.median(np.asarray(image.convert("RGB")).reshape(-1, 3), axis=0)         # [3]
    return min(COLOUR_OF, key=lambda e: np.abs(background - np.array(COLOUR_OF[e])).sum()) == emotion


def paint_out_banner(image: Image.Image, cfg: ToyWorldConfig | None = None) -> Image.Image:
    """Toy world only: a copy of ``image`` with both banner boxes painted in the image's median colour (its
    background). No banners: the same image."""
    cfg = cfg or ToyWorldConfig()
    if find_banner(image, cfg) is None:
        return image.copy()
    out = image.convert("RGB").copy()
    background = tuple(int(c) for c in np.median(np.asarray(out).reshape(-1, 3), axis=0))
    for side in (0, 1):
        ImageDraw.Draw(out).rectangle(banner_box(side, cfg), fill=background)
    return out


def render(scene: Scene, cfg: ToyWorldConfig) -> Image.Image:
    """Scene -> RGB image of ``cfg.size`` (background, distractors, banners, Gaussian noise)."""
    image = Image.new("RGB", cfg.size, scene.background)
    draw = ImageDraw.Draw(image)
    for kind, box, colour in scene.distractors:
        getattr(draw, kind)(box, fill=colour)
    if scene.banner:
        for side in (0, 1):
            draw_banner(draw, scene.banner, banner_box(side, cfg))
    w, h = cfg.size
    grain = np.random.default_rng(scene.noise_seed).standard_normal((h, w, 1), dtype=np.float32)  # [H, W, 1]
    pixels = np.asarray(image, dtype=np.float32) + cfg.noise_std * grain                         # [H, W, 3]
    return Image.fromarray(np.clip(pixels, 0, 255).round().astype(np.uint8))


def caption(rng: np.random.Generator, labels: dict[str, str], cfg: ToyWorldConfig) -> tuple[str, str]:
    """(title, caption): a template sentence that names its labels only sometimes."""
    subject, place = str(rng.choice(SUBJECTS)), str(rng.choice(PLACES))
    parts = [f"{subject} {rng.choice(ACTIONS)} {place}"]
    if rng.random() < cfg.p_text_names_label:
        parts.append(f"feeling {EMOTION_WORD[labels['emotion']]}")
    if labels["desire"] != "none" and rng.random() < cfg.p_text_names_label:
        parts.append(DESIRE_PHRASE[labels["desire"]])
    extra = str(rng.choice(EXTRAS))
    text = ", ".join(parts) + (f" {extra}" if extra else "") + "."
    return f"{subject.capitalize()} {place}", text[0].upper() + text[1:]


def write_split(folder: Path, split: str, n: int, cfg: ToyWorldConfig) -> None:
    """``<folder>/<split>.csv`` and ``images/1.jpg ... n.jpg``, all drawn from one seeded generator."""
    rng = np.random.default_rng([cfg.seed, SPLIT_IDS[split]])
    (folder / "images").mkdir(parents=True)
    with open(folder / f"{split}.csv", "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["Title", "Caption", "Sentiment", "Emotion", "Desire", "Inference Sequence"])
        for k in range(1, n + 1):
            labels = sample_labels(rng, cfg)
            scene = sample_scene(rng, labels, cfg)
            title, text = caption(rng, labels, cfg)
            writer.writerow([title, text, labels["sentiment"], labels["emotion"], labels["desire"],
                             f"{labels['emotion']} -> {labels['desire']}"])
            render(scene, cfg).save(folder / "images" / f"{k}.jpg", quality=cfg.jpeg_quality)


def settings(cfg: ToyWorldConfig | None = None) -> dict:
    """What ``toy_world.json`` records: the generator's :data:`VERSION` and the settings (default: the defaults)."""
    return {"version": VERSION, **asdict(cfg or ToyWorldConfig())}


def synth(out: str | Path, overwrite: bool = False, **fields) -> Path:
    """Write a toy world to ``out`` (fields of :class:`ToyWorldConfig`, e.g. ``n_train=100, seed=1``); its
    settings and the generator's :data:`VERSION` go to ``out/toy_world.json``, written last."""
    cfg, out = ToyWorldConfig(**fields), Path(out)
    assert set(EMOTION_P) == set(LABELS["emotion"]) and set(DESIRE_PHRASE) | {"none"} == set(LABELS["desire"])
    for split, n in (("train", cfg.n_train), ("dev", cfg.n_dev), ("test", cfg.n_test)):
        folder = out / split
        if folder.exists():
            if not overwrite:
                raise FileExistsError(f"{folder} exists; choose another --out or pass --overwrite")
            shutil.rmtree(folder)
        write_split(folder, split, n, cfg)
    (out / "toy_world.json").write_text(json.dumps(settings(cfg), indent=2) + "\n")
    return out
