"""Shared fixtures: tiny MSED-format folders written in tmp_path."""
import csv

import numpy as np
import pytest
from PIL import Image

HEADER = ["Title", "Caption", "Sentiment", "Emotion", "Desire", "Inference Sequence"]


def row(caption="a dog in a park", sentiment="positive", emotion="happiness", desire="none", title="t"):
    """One CSV row in MSED column order."""
    return [title, caption, sentiment, emotion, desire, "seq"]


def write_split(root, split="train", rows=None, header=HEADER, size=(64, 48), images=True):
    """Write ``<root>/<split>/<split>.csv`` and one small JPEG per row; returns the split folder."""
    rows = [row(), row("a cat", "negative", "sad", "family")] if rows is None else rows
    folder = root / split
    (folder / "images").mkdir(parents=True, exist_ok=True)
    with open(folder / f"{split}.csv", "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(header)
        writer.writerows(rows)
    for k in range(1, len(rows) + 1 if images else 1):
        Image.new("RGB", size, (10 * k % 256, 100, 200)).save(folder / "images" / f"{k}.jpg")
    return folder


@pytest.fixture
def msed(tmp_path):
    """A valid three-split MSED-format root with two rows per split."""
    for split in ("train", "dev", "test"):
        write_split(tmp_path, split)
    return tmp_path


def broken_folder(root):
    """One split with every kind of bad input, one per row (see the dict below)."""
    rows = [row() for _ in range(9)]
    rows[5] = row(caption="")                                     # 6: empty caption (counted)
    rows[6] = row(caption="word " * 100)                          # 7: long caption (counted)
    rows[7] = row(desire="wealth")                                # 8: unknown label
    folder = write_split(root, "train", rows, size=(500, 460))
    images = folder / "images"
    (images / "1.jpg").unlink()                                   # 1: missing
    (images / "2.jpg").write_bytes(b"")                           # 2: zero bytes
    noise = Image.fromarray(np.random.default_rng(0).integers(0, 255, (64, 64, 3), np.uint8))
    noise.save(images / "3.jpg")
    data = (images / "3.jpg").read_bytes()
    (images / "3.jpg").write_bytes(data[:len(data) // 2])          # 3: truncated (header intact)
    Image.new("RGB", (500, 460)).save(images / "4.jpg", format="PNG")       # 4: PNG named .jpg
    Image.new("RGB", (300, 460)).save(images / "5.jpg")          # 5: small (counted)
    Image.new("RGB", (8, 8)).save(images / "10.jpg")             # extra image, no row
    return folder
