"""MSED-format data: CSV rows -> records -> tensors (SPEC "Data: MSED").

Layout of a root folder (the real MSED and the generated toy world alike)::

    <root>/<split>/<split>.csv        Title, Caption, Sentiment, Emotion, Desire[, Inference Sequence]
    <root>/<split>/images/<k>.jpg     the image of CSV row k (k = 1, 2, ..., header excluded)

Two ways to read a split: :func:`scan_split` collects *every* problem (for
``data check``), :func:`read_split` raises the first one as a :class:`DataError`.
A batch from :func:`collate` is a dict (B batch, V = 4 crops, L <= 77 tokens: the batch's longest
caption, see :func:`trim_padding`)::

    global_view [B, 3, 224, 224]   crops [B, 4, 3, 224, 224]   text [B, L] (long)
    labels {"desire": [B], "emotion": [B], "sentiment": [B]} (long)   index [B] (CSV row)
"""
from __future__ import annotations

import csv
import functools
import io
import random
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import open_clip
import torch
from torch.utils.data import DataLoader, Dataset

from .config import DataConfig
from .images import DataError, format_problem, load_image
from .labels import LABELS, TASKS
from .views import resampled, views_from

__all__ = ["DataError", "Record", "read_split", "scan_split", "MSEDDataset", "collate", "trim_padding", "make_loader",
           "load_split", "check_root", "format_summary", "tokenize", "SPLITS"]

SPLITS = ("train", "dev", "test")
REQUIRED_COLUMNS = ("Title", "Caption", "Sentiment", "Emotion", "Desire")
OPTIONAL_COLUMNS = ("Inference Sequence",)   # read by nobody; tolerated when present
COLUMN_OF_TASK = {"sentiment": "Sentiment", "emotion": "Emotion", "desire": "Desire"}
CONTEXT_LENGTH = 77                          # CLIP text length L
SMALL_SIDE = 448                             # images smaller than this are upscaled for the crops


@dataclass
class Record:
    """One CSV row. ``index`` is the 1-based row number, which names the image ``images/<index>.jpg``."""
    index: int
    image_path: Path
    title: str
    caption: str
    labels: dict[str, int]       # task -> class index in LABELS order
    raw_labels: dict[str, str]   # task -> the string as written in the CSV


def csv_path(root: str | Path, split: str) -> Path:
    return Path(root) / split / f"{split}.csv"


def read_rows(path: Path) -> tuple[list[str], list[list[str]]]:
    """CSV -> (header, rows). UTF-8 with optional BOM; bad bytes survive as surrogates to be reported per row."""
    if not path.is_file():
        raise DataError(path, "CSV file is missing", "use a folder with train/train.csv, dev/dev.csv and "
                        "test/test.csv (--data DIR), or make one: `python -m sydes_mini data synth --out DIR` "
                        "(toy world) or `python -m sydes_mini data download --to DIR` (MSED)")
    text = path.read_bytes().decode("utf-8-sig", errors="surrogateescape")
    rows = [row for row in csv.reader(io.StringIO(text, newline="")) if row]  # blank lines skipped
    if not rows:
        raise DataError(path, "CSV file is empty", "restore the original CSV")
    return [name.strip() for name in rows[0]], rows[1:]


def check_header(path: Path, header: list[str]) -> None:
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    if missing:
        raise DataError(path, f"missing column(s) {missing}; expected {list(REQUIRED_COLUMNS)} "
                        f"(optionally {list(OPTIONAL_COLUMNS)}), found {header}",
                        "rename the header row to the expected column names")


def parse_label(path: Path, row: int, task: str, raw: str) -> int:
    """Label string -> class index (case-insensitive, spaces stripped)."""
    name = raw.strip().lower()
    if name not in LABELS[task]:
        raise DataError(path, f"unknown {task} label {raw!r}; allowed: {', '.join(LABELS[task])}",
                        f"correct the {COLUMN_OF_TASK[task]} value of this row", row)
    return LABELS[task].index(name)


def parse_row(path: Path, row: int, header: list[str], values: list[str]) -> Record:
    """One CSV row (1-based ``row``) -> :class:`Record`, or a :class:`DataError`."""
    if len(values) != len(header):
        raise DataError(path, f"row has {len(values)} fields, header has {len(header)}",
                        "quote captions that contain commas or newlines", row)
    fields = dict(zip(header, values))
    bad = [c for c, v in fields.items() if re.search("[\udc80-\udcff]", v)]
    if bad:
        raise DataError(path, f"non-UTF-8 bytes in column(s) {bad}", "re-save the CSV as UTF-8", row)
    labels = {task: parse_label(path, row, task, fields[COLUMN_OF_TASK[task]]) for task in TASKS}
    raw = {task: fields[COLUMN_OF_TASK[task]] for task in TASKS}
    image = path.parent / "images" / f"{row}.jpg"
    return Record(row, image, fields["Title"], fields["Caption"], labels, raw)


def empty_split_error(root: str | Path, split: str) -> DataError:
    """A split whose CSV has a header but no rows (a run would have nothing to train or evaluate on)."""
    return DataError(csv_path(root, split), f"the {split} split has no rows",
                     "add rows to the CSV, or write a toy world with rows in every split: "
                     "`python -m sydes_mini data synth --out DIR --overwrite`")


def find_errors(root: str | Path, split: str) -> tuple[list[Record], list[DataError]]:
    """Every good row of a split as a Record and every problem (an empty split is one) as a DataError."""
    path = csv_path(root, split)
    try:
        header, rows = read_rows(path)
        check_header(path, header)
    except DataError as e:
        return [], [e]
    records, errors = [], []
    for row, values in enumerate(rows, start=1):
        try:
            records.append(parse_row(path, row, header, values))
        except DataError as e:
            errors.append(e)
    if not rows:
        errors.append(empty_split_error(root, split))
    return records, errors


def scan_split(root: str | Path, split: str) -> tuple[list[Record], list[dict]]:
    """Lenient reading: every good row as a Record, every problem as ``{"split","row","file","message"}``."""
    records, errors = find_errors(root, split)
    return records, [e.as_problem(split) for e in errors]


def read_split(root: str | Path, split: str) -> list[Record]:
    """Strict reading: the split's records, or the first problem raised as :class:`DataError`."""
    records, errors = find_errors(root, split)
    if errors:
        raise errors[0]
    return records


@functools.lru_cache(maxsize=1)
def get_tokenizer():
    """The real CLIP BPE tokenizer (open_clip, ships with the package: no download)."""
    return open_clip.get_tokenizer("ViT-B-16")


def tokenize(texts: list[str]) -> torch.Tensor:
    """Strings -> token ids [N, 77] (start, BPE, end, zero padding; longer texts are truncated)."""
    return get_tokenizer()(texts).long()


def token_count(text: str) -> int:
    """Tokens a text needs including start and end; more than 77 means it will be truncated."""
    return len(get_tokenizer().encode(text)) + 2


def text_of(record: Record, text_field: str) -> str:
    """The text the model reads: the caption (authors, SPEC difference 9), the title, or both."""
    parts = {"caption": [record.caption], "title": [record.title],
             "title+caption": [record.title, record.caption]}[text_field]
    return " ".join(p.strip() for p in parts if p.strip())


class MSEDDataset(Dataset):
    """Records -> items ``{global_view [3,224,224], crops [4,3,224,224], text [77], labels, index}``.

    ``modality`` (paper Table 9): "both"; "text" = every view is an all-ones
    tensor; "image" = every caption is the empty string. ``cache_images`` keeps each image's
    resampling (:func:`~sydes_mini.views.resampled`, uint8: 0.75 MB per image) after its first use, so
    later epochs only normalise it: the same tensors, without decoding and resizing again (useful with
    ``num_workers=0``, where the dataset lives as long as the run; the smoke profile turns it on).
    """

    def __init__(self, records: list[Record], text_field: str = "caption", modality: str = "both",
                 variant: str = "code", max_pixels: int = 50_000_000, cache_images: bool = False):
        if modality not in ("both", "text", "image"):
            raise ValueError(f"modality={modality!r}; use both, text or image")
        self.records, self.modality, self.variant, self.max_pixels = records, modality, variant, max_pixels
        self.resampled = {} if cache_images else None                  # {record index: resampled arrays}
        texts = ["" if modality == "image" else text_of(r, text_field) for r in records]
        self.text = tokenize(texts)                                    # [N, 77], once per dataset

    def __len__(self) -> int:
        return len(self.records)

    def views(self, record: Record) -> tuple[torch.Tensor, torch.Tensor]:
        if self.modality == "text":
            return torch.ones(3, 224, 224), torch.ones(4, 3, 224, 224)
        arrays = self.resampled.get(record.index) if self.resampled is not None else None
        if arrays is None:
            arrays = resampled(load_image(record.image_path, self.max_pixels, record.index), self.variant)
            if self.resampled is not None:
                self.resampled[record.index] = arrays
        return views_from(*arrays)                                       # = mixed_scale_views(image)

    def __getitem__(self, i: int) -> dict:
        record = self.records[i]
        global_view, crops = self.views(record)
        labels = {task: torch.tensor(record.labels[task]) for task in TASKS}
        return {"global_view": global_view, "crops": crops, "text": self.text[i],
                "labels": labels, "index": record.index}


def trim_padding(text: torch.Tensor) -> torch.Tensor:
    """Token ids [B, 77] -> [B, L], L = the longest caption's length (start and end tokens included).

    Every batch is cut this way (training, evaluation, the feature cache, predict): the
    columns dropped hold padding only, which no output reads (the text encoder is causal,
    both decoders mask padding keys and the text decoder is causal, pooling reads real
    tokens only), so logits, losses and gradients are those of the padded batch, without
    the work on padding. The end token has the largest id, so ``argmax`` finds it (the
    text encoder's rule for w_cls).
    """
    return text[:, : int(text.argmax(-1).max()) + 1]                    # [B, L]


def collate(batch: list[dict]) -> dict:
    """Stack items into ``global_view [B,3,224,224]``, ``crops [B,4,3,224,224]``, ``text [B,L]``
    (:func:`trim_padding`), ``labels {task: [B]}``, ``index [B]``."""
    return {"global_view": torch.stack([b["global_view"] for b in batch]),
            "crops": torch.stack([b["crops"] for b in batch]),
            "text": trim_padding(torch.stack([b["text"] for b in batch])),
            "labels": {t: torch.stack([b["labels"][t] for b in batch]) for t in TASKS},
            "index": torch.tensor([b["index"] for b in batch])}


def seed_worker(worker_id: int) -> None:
    """Give each loader worker its own numpy/random seed derived from the loader's seed."""
    seed = torch.initial_seed() % 2**32
    np.random.seed(seed)
    random.seed(seed)


def make_loader(dataset: Dataset, batch_size: int = 16, shuffle: bool = False, seed: int = 42,
                num_workers: int = 0) -> DataLoader:
    """A DataLoader whose order depends only on ``seed`` (same seed -> same batches, any num_workers)."""
    generator = torch.Generator().manual_seed(seed)
    return DataLoader(dataset, batch_size=batch_size, shuffle=shuffle, num_workers=num_workers,
                      collate_fn=collate, generator=generator, worker_init_fn=seed_worker)


def load_split(root: str | Path, split: str, cfg: DataConfig | None = None,
               variant: str = "code") -> MSEDDataset:
    """``read_split`` + :class:`MSEDDataset` with the options of a :class:`DataConfig`."""
    cfg = cfg or DataConfig(root=str(root))
    return MSEDDataset(read_split(root, split), cfg.text_field, cfg.modality, variant, cfg.max_image_pixels,
                       cfg.cache_images)


# ---------------------------------------------------------------- data check

def check_image(record: Record, max_pixels: int) -> tuple[bool, DataError | None]:
    """Open one record's image fully -> (is it smaller than 448 on a side, its problem or None)."""
    try:
        image = load_image(record.image_path, max_pixels, record.index)
    except DataError as e:
        return False, e
    return min(image.size) < SMALL_SIDE, format_problem(record.image_path, record.index)


def extra_images(root: str | Path, split: str, n_rows: int) -> list[dict]:
    """Files in ``images/`` that no CSV row points to (rows are 1..n_rows)."""
    folder = Path(root) / split / "images"
    expected = {f"{k}.jpg" for k in range(1, n_rows + 1)}
    extra = sorted(p for p in folder.glob("*") if p.name not in expected) if folder.is_dir() else []
    return [DataError(p, f"image file has no CSV row (the CSV has {n_rows} rows)",
                      "remove the file or add its row to the CSV").as_problem(split) for p in extra]


def check_split(root: str | Path, split: str, max_pixels: int) -> tuple[dict, list[dict]]:
    """Summary ``{"n", "labels", "counts"}`` of one split and all of its problems."""
    records, problems = scan_split(root, split)
    csv_readable = all(p["row"] is not None for p in problems)
    n_rows = len(records) + len(problems) if csv_readable else 0
    counts = Counter(small_images=0, empty_captions=0, long_captions=0)
    for record in records:
        small, problem = check_image(record, max_pixels)
        counts["small_images"] += small
        counts["empty_captions"] += not record.caption.strip()
        counts["long_captions"] += token_count(record.caption) > CONTEXT_LENGTH
        if problem:
            problems.append(problem.as_problem(split))
    if csv_readable:
        problems += extra_images(root, split, n_rows)
    labels = {task: dict.fromkeys(LABELS[task], 0) for task in ("sentiment", "emotion", "desire")}
    for record in records:
        for task, names in labels.items():
            names[LABELS[task][record.labels[task]]] += 1
    return {"n": n_rows, "labels": labels, "counts": dict(counts)}, problems


def check_root(root: str | Path, max_pixels: int = 50_000_000, splits=SPLITS) -> dict:
    """``data check``: ``{"splits": {split: summary}, "problems": [...]}`` over every split."""
    report = {"splits": {}, "problems": []}
    for split in splits:
        summary, problems = check_split(root, split, max_pixels)
        report["splits"][split] = summary
        report["problems"] += problems
    return report


def format_summary(report: dict) -> str:
    """A :func:`check_root` report as text: per split rows, label counts and counts, then every problem."""
    lines = []
    for split, s in report["splits"].items():
        c = s["counts"]
        lines.append(f"{split}: {s['n']} rows; {c['small_images']} images with a side under {SMALL_SIDE} px, "
                     f"{c['empty_captions']} empty captions, {c['long_captions']} captions over "
                     f"{CONTEXT_LENGTH} tokens (truncated)")
        for task, counts in s["labels"].items():
            lines.append(f"  {task:9} " + " ".join(f"{name}={k}" for name, k in counts.items()))
    problems = report["problems"]
    lines.append(f"{len(problems)} problem(s)" + (":" if problems else ""))
    for p in problems:
        where = f"{p['split']} row {p['row']}" if p["row"] is not None else p["split"]
        lines.append(f"  {where}: {p['file']}: {p['message']}")
    return "\n".join(lines)
