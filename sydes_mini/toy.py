"""The toy world: a generated dataset in exact MSED format that a CPU can learn in minutes.

It is built so that each part of SyDES has something to find:

* **Global cue -> emotion (and so sentiment).** The background colour is the
  emotion's colour (with probability ``p_global_cue``); any view sees it.
* **Local cue -> desire.** A small black glyph on a white tile (``glyph_size``
  pixels on the 612 x 408 image), one shape per desire, in a random corner.
  In the authors' global view (shortest side -> 224, centre crop) the corners
  are cut away entirely; in the paper's global view the glyph is ~10 px wide;
  in the 448 crops it is ~20 px and clear. This is why the crops (eq. 1) exist.
* **Text.** Captions come from templates with distractor words; only a
  fraction ``p_text_names_label`` of them name the emotion (and, independently,
  the desire), so text alone is not enough.
* **Labels** are drawn like MSED's: emotion first (imbalanced: happiness most
  common, disgust rare), sentiment follows emotion exactly (happiness ->
  positive, neutral -> neutral, the rest -> negative), desire depends on the
  emotion and is ``none`` about half of the time.

Default sizes (600 / 120 / 240) generate in a few seconds and are enough for
the smoke model to learn emotion and desire in about a minute of CPU training.
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


@dataclass
class ToyWorldConfig:
    n_train: int = 600
    n_dev: int = 120
    n_test: int = 240
    seed: int = 0
    p_global_cue: float = 0.9         # P(background = the emotion's colour); else a random emotion's colour
    p_local_cue: float = 0.9          # P(a desire other than none draws its glyph); else no glyph
    p_text_names_label: float = 0.3   # P(caption names the emotion); independently, the desire
    glyph_size: int = 28              # px on the 612 x 408 image: ~20 px in a 448 crop
    n_distractors: int = 6            # shapes with no meaning, away from the corners
    noise_std: float = 8.0            # Gaussian grain (same for R, G, B), 0..255 scale
    size: tuple[int, int] = (612, 408)  # W x H, MSED's typical size
    jpeg_quality: int = 90


EMOTION_P = {"happiness": 0.38, "sad": 0.16, "neutral": 0.20, "disgust": 0.05, "anger": 0.11, "fear": 0.10}
SENTIMENT_OF = {"happiness": "positive", "neutral": "neutral"}   # every other emotion -> negative
DESIRES_OF = {  # desires an emotion leads to when the desire is not "none"
    "happiness": ("family", "romance", "social-contact", "tranquility", "curiosity"),
    "sad": ("family", "social-contact", "tranquility"), "neutral": ("curiosity", "tranquility"),
    "disgust": ("vengeance", "tranquility"), "anger": ("vengeance",),
    "fear": ("tranquility", "family", "curiosity")}
COLOUR_OF = {"happiness": (235, 200, 60), "sad": (60, 90, 170), "neutral": (150, 150, 150),
             "disgust": (110, 150, 60), "anger": (200, 50, 40), "fear": (100, 60, 130)}
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
MARGIN = 12  # px between a glyph tile and the image border


@dataclass
class Scene:
    """Everything an image shows; :func:`render` turns it into pixels."""
    background: tuple[int, int, int]
    glyph: str | None                 # a desire name, or None for no glyph
    corner: int                       # 0 TL, 1 TR, 2 BL, 3 BR (the crop order of eq. 1)
    distractors: list[tuple] = field(default_factory=list)  # (kind, box, colour)
    noise_seed: int = 0


def sample_labels(rng: np.random.Generator) -> dict[str, str]:
    """Emotion ~ EMOTION_P; sentiment from emotion; desire "none" w.p. 0.5, else one the emotion leads to."""
    emotion = str(rng.choice(list(EMOTION_P), p=list(EMOTION_P.values())))
    desire = "none" if rng.random() < 0.5 else str(rng.choice(DESIRES_OF[emotion]))
    return {"sentiment": SENTIMENT_OF.get(emotion, "negative"), "emotion": emotion, "desire": desire}


def sample_scene(rng: np.random.Generator, labels: dict[str, str], cfg: ToyWorldConfig) -> Scene:
    """The global cue (background) and the local cue (glyph) with their probabilities, plus distractors."""
    emotion = labels["emotion"] if rng.random() < cfg.p_global_cue else str(rng.choice(list(COLOUR_OF)))
    shows_glyph = labels["desire"] != "none" and rng.random() < cfg.p_local_cue
    w, h = cfg.size
    distractors = []
    for _ in range(cfg.n_distractors):
        x, y, s = rng.integers(110, w - 190), rng.integers(20, h - 100), rng.integers(30, 80)
        colour = tuple(int(c) for c in rng.integers(0, 256, 3))
        distractors.append((str(rng.choice(["ellipse", "rectangle"])), (int(x), int(y), int(x + s), int(y + s)),
                            colour))
    return Scene(COLOUR_OF[emotion], labels["desire"] if shows_glyph else None, int(rng.integers(4)),
                 distractors, int(rng.integers(2**31)))


def draw_glyph(draw: ImageDraw.ImageDraw, desire: str, box: tuple[int, int, int, int]) -> None:
    """One black shape per desire on a white tile; the shapes differ, the colours do not."""
    x0, y0, x1, y1 = box
    draw.rectangle(box, fill=(255, 255, 255))
    s, lw = x1 - x0, max(2, (x1 - x0) // 8)
    a, b, c = x0 + s // 5, x0 + s // 2, x1 - s // 5                 # inner left, centre, inner right
    ay, by, cy = y0 + s // 5, y0 + s // 2, y1 - s // 5
    shapes = {
        "vengeance": lambda: (draw.line((a, ay, c, cy), 0, lw), draw.line((a, cy, c, ay), 0, lw)),   # X
        "curiosity": lambda: draw.ellipse((a, ay, c, cy), outline=0, width=lw),                     # ring
        "social-contact": lambda: (draw.ellipse((a, by - lw, a + 2 * lw, by + lw), 0),
                                   draw.ellipse((c - 2 * lw, by - lw, c, by + lw), 0)),             # two dots
        "family": lambda: draw.polygon((b, ay, c, cy, a, cy), 0),                                   # triangle
        "tranquility": lambda: [draw.line((a, yy, c, yy), 0, lw) for yy in (ay, by, cy)],           # 3 bars
        "romance": lambda: (draw.line((b, ay, b, cy), 0, lw), draw.line((a, by, c, by), 0, lw)),   # plus
    }
    shapes[desire]()


def glyph_box(corner: int, cfg: ToyWorldConfig) -> tuple[int, int, int, int]:
    """The glyph tile's box (x0, y0, x1, y1) in a corner, ``MARGIN`` px from the borders."""
    w, h, s = *cfg.size, cfg.glyph_size
    x0 = MARGIN if corner in (0, 2) else w - MARGIN - s
    y0 = MARGIN if corner in (0, 1) else h - MARGIN - s
    return x0, y0, x0 + s, y0 + s


def glyph_patches(crops, patch_size: int = 16, cover: float = 0.1):
    """The patches of four crops that the glyph's white tile covers: crops [4, 3, 224, 224] (CLIP-normalised,
    as ``views.mixed_scale_views`` returns them) -> bool [4, P]. Toy world only: its backgrounds, distractors
    and padding are never near-white, the tile is (a patch counts when ``cover`` of its pixels are white)."""
    from .views import denormalize
    white = (denormalize(crops) > 0.9).all(-1).float()                   # [4, 224, 224]
    n = white.shape[-1] // patch_size
    per_patch = white.reshape(4, n, patch_size, n, patch_size).mean((2, 4))   # [4, n, n]
    return per_patch.flatten(1) > cover                                   # [4, P]


def find_glyph(image: Image.Image, cfg: ToyWorldConfig | None = None) -> tuple[int, int, int, int] | None:
    """Toy world only: the glyph's box (x0, y0, x1, y1), the corner box (:func:`glyph_box`) that is mostly the
    glyph's near-white tile, or None when no corner shows a glyph. (A pale distractor is never in a corner.)"""
    cfg = cfg or ToyWorldConfig()
    white = (np.asarray(image.convert("RGB")) > 230).all(-1)             # [H, W]
    for corner in range(4):
        x0, y0, x1, y1 = glyph_box(corner, cfg)
        if white[y0:y1 + 1, x0:x1 + 1].mean() > 0.3:
            return x0, y0, x1, y1
    return None


def paint_out_glyph(image: Image.Image, margin: int = 3) -> Image.Image:
    """Toy world only: a copy of ``image`` with the glyph tile (:func:`find_glyph`, plus ``margin`` px)
    painted in the image's median colour, the background. No glyph: the same image."""
    box = find_glyph(image)
    if box is None:
        return image.copy()
    out = image.convert("RGB").copy()
    background = tuple(int(c) for c in np.median(np.asarray(out).reshape(-1, 3), axis=0))
    x0, y0, x1, y1 = box
    ImageDraw.Draw(out).rectangle((x0 - margin, y0 - margin, x1 + margin, y1 + margin), fill=background)
    return out


def render(scene: Scene, cfg: ToyWorldConfig) -> Image.Image:
    """Scene -> RGB image of ``cfg.size`` (background, distractors, glyph, Gaussian noise)."""
    image = Image.new("RGB", cfg.size, scene.background)
    draw = ImageDraw.Draw(image)
    for kind, box, colour in scene.distractors:
        getattr(draw, kind)(box, fill=colour)
    if scene.glyph:
        draw_glyph(draw, scene.glyph, glyph_box(scene.corner, cfg))
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
            labels = sample_labels(rng)
            scene = sample_scene(rng, labels, cfg)
            title, text = caption(rng, labels, cfg)
            writer.writerow([title, text, labels["sentiment"], labels["emotion"], labels["desire"],
                             f"{labels['emotion']} -> {labels['desire']}"])
            render(scene, cfg).save(folder / "images" / f"{k}.jpg", quality=cfg.jpeg_quality)


def synth(out: str | Path, overwrite: bool = False, **fields) -> Path:
    """Write a toy world to ``out`` (fields of :class:`ToyWorldConfig`, e.g. ``n_train=100, seed=1``)."""
    cfg, out = ToyWorldConfig(**fields), Path(out)
    assert set(EMOTION_P) == set(LABELS["emotion"]) and set(DESIRE_PHRASE) | {"none"} == set(LABELS["desire"])
    for split, n in (("train", cfg.n_train), ("dev", cfg.n_dev), ("test", cfg.n_test)):
        folder = out / split
        if folder.exists():
            if not overwrite:
                raise FileExistsError(f"{folder} exists; choose another --out or pass --overwrite")
            shutil.rmtree(folder)
        write_split(folder, split, n, cfg)
    (out / "toy_world.json").write_text(json.dumps(asdict(cfg), indent=2) + "\n")
    return out
