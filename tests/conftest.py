"""Shared fixtures: tiny MSED-format folders written in tmp_path."""
import csv

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
