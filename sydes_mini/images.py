"""Loading one MSED image safely: full decode, EXIF orientation, any mode -> 8-bit RGB.

Rules (each one is tested in ``tests/test_data.py``):

* Truncated or corrupt files are an error, never silently half-loaded (we do
  not set ``ImageFile.LOAD_TRUNCATED_IMAGES``; ``.load()`` forces a full decode).
* Images with more than ``max_pixels`` pixels are refused before decoding
  (decompression bombs); the error says how to raise the limit.
* The EXIF orientation tag is applied, so the pixels are the way a viewer shows them.
* Transparent pixels (RGBA, LA, palette with transparency) are composited on
  white; 16-bit grayscale is scaled by 255/65535 (not clipped); CMYK uses
  Pillow's plain conversion (no ICC profile).
* A PNG/GIF/WebP file with a ``.jpg`` name still loads (Pillow reads the
  content); :func:`format_problem` names it so ``data check`` can list it.

Every failure is a :class:`DataError` naming the file, the CSV row when known,
and a one-line fix.
"""
from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

MAGIC = {b"\x89PNG": "PNG", b"GIF8": "GIF", b"\xff\xd8\xff": "JPEG", b"BM": "BMP"}


class DataError(Exception):
    """A problem with one input file: ``file``, ``row`` (1-based CSV row or None) and a one-line ``fix``."""

    def __init__(self, file, message: str, fix: str, row: int | None = None):
        self.file, self.row, self.reason, self.fix = str(file), row, message, fix
        self.message = f"{message}. Fix: {fix}"
        where = f"{self.file}, row {row}" if row is not None else self.file
        super().__init__(f"{where}: {self.message}")

    def as_problem(self, split: str) -> dict:
        """The ``{"split", "row", "file", "message"}`` entry that ``data check`` prints."""
        return {"split": split, "row": self.row, "file": self.file, "message": self.message}


def sniff_format(path: str | Path) -> str | None:
    """The file's real format from its first bytes: "JPEG", "PNG", "GIF", "WEBP", "BMP" or None."""
    with open(path, "rb") as f:
        head = f.read(12)
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "WEBP"
    return next((fmt for magic, fmt in MAGIC.items() if head.startswith(magic)), None)


def format_problem(path: str | Path, row: int | None = None) -> DataError | None:
    """A :class:`DataError` when a ``.jpg`` file holds PNG/GIF/WebP/BMP data, else None."""
    fmt = sniff_format(path)
    if Path(path).suffix.lower() in (".jpg", ".jpeg") and fmt not in (None, "JPEG"):
        return DataError(path, f"file is {fmt} data with a .jpg name (it loads, but other tools may not)",
                         "re-save it as JPEG or rename it", row)
    return None


def open_checked(path: Path, max_pixels: int, row: int | None) -> Image.Image:
    """Open (header only) and refuse missing, empty, unreadable or too large files."""
    if not path.is_file():
        raise DataError(path, "image file is missing", f"put the image of row {row} at this path", row)
    if path.stat().st_size == 0:
        raise DataError(path, "image file is empty (0 bytes)", "replace it with the original image", row)
    limit, Image.MAX_IMAGE_PIXELS = Image.MAX_IMAGE_PIXELS, max_pixels  # Pillow's own bomb check
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image = Image.open(path)
    except (UnidentifiedImageError, Image.DecompressionBombError, OSError) as e:
        raise _open_error(path, e, max_pixels, row) from e
    finally:
        Image.MAX_IMAGE_PIXELS = limit
    if image.width * image.height > max_pixels:
        raise _too_large(path, image.width * image.height, max_pixels, row)
    return image


def _open_error(path, error: Exception, max_pixels: int, row) -> DataError:
    if isinstance(error, Image.DecompressionBombError):
        return _too_large(path, None, max_pixels, row)
    return DataError(path, f"image is unreadable, truncated or corrupt ({error})", "replace it with the original image", row)


def _too_large(path, pixels, max_pixels: int, row) -> DataError:
    size = f"{pixels:,} pixels" if pixels else "too many pixels"
    return DataError(path, f"image has {size}, over the limit of {max_pixels:,} (decompression bomb guard)",
                     "if the image is genuine, raise the limit with --max-pixels N or "
                     "--set data.max_image_pixels=N", row)


def to_rgb(image: Image.Image) -> Image.Image:
    """Any Pillow mode -> 8-bit RGB (transparency on white, 16-bit scaled, not clipped)."""
    if image.mode in ("I;16", "I;16L", "I;16B", "I"):
        arr = np.asarray(image, dtype=np.float64)                    # [H, W] in 0..65535
        gray = np.clip(np.round(arr * 255 / 65535), 0, 255).astype(np.uint8)
        return Image.fromarray(gray, "L").convert("RGB")
    if image.mode == "P" and "transparency" in image.info:
        image = image.convert("RGBA")
    if image.mode in ("RGBA", "LA", "PA", "La", "RGBa"):
        rgba = image.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(white, rgba).convert("RGB")
    return image.convert("RGB")


def load_image(path: str | Path, max_pixels: int = 50_000_000, row: int | None = None) -> Image.Image:
    """Read one image file fully and return it upright in 8-bit RGB (W x H as on screen)."""
    path = Path(path)
    image = open_checked(path, max_pixels, row)
    try:
        with image:
            image.load()                      # full decode: a truncated file raises here
            upright = ImageOps.exif_transpose(image)
            return to_rgb(upright)
    except (OSError, SyntaxError, ValueError) as e:
        raise DataError(path, f"image is unreadable, truncated or corrupt ({e})",
                        "replace it with the original image", row) from e
