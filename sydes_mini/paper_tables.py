"""The paper's results tables (Tables 2, 3, 4, 5, 6, 9, 10) and the runs that fill our column.

Two things live here, side by side, so that a table in the book is one call:

* **the paper's numbers**, transcribed from arXiv 2509.15540 (percentages, as
  printed; ``None`` where the paper prints "-"). They are reference data, the
  authors', not ours;
* **a registry of runs**: for each row that SyDES mini can reproduce, the
  config overrides and whether it is pretrained. A run lives in
  ``runs/<profile>/<table>/<row>/`` (the complete model is the main run,
  ``runs/<profile>/`` itself, the one ``reproduce --out runs/<profile>``
  writes). A row the paper repeats in several tables names the one run that
  fills all of them (``Row.run``), so nothing is trained twice.

``compare(table, runs_dir)`` reads whatever ``summary.json`` files exist and
puts them beside the paper's numbers; ``commands(...)`` prints how to fill the
missing ones::

    python -m sydes_mini.paper_tables --profile full --commands
"""
from __future__ import annotations

import argparse
import json
import math
import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path

from .config import TASKS, get_config

METRICS = ("precision", "recall", "f1", "accuracy")
SHORT = {"precision": "P", "recall": "R", "f1": "F1", "accuracy": "Acc"}
MAIN = "main"   # the complete model: runs/<profile>/ itself
VARIANT_PAPER = "variants/paper"


# MSED as the paper reports it: samples per split (Table 1) and per class (Table 7, appendix B.1), in the
# order (train, validation, test). The desire rows of Table 7 are printed with merged cells; they are
# paired with the labels in the order the table lists them (train and test then add up to Table 1; the
# validation column adds up to 1,015, not 1,021, in the paper itself).
MSED_SPLITS = {"train": 6127, "validation": 1021, "test": 2042}
MSED_CLASSES = {
    "desire": {"vengeance": (277, 39, 75), "curiosity": (634, 118, 213), "social-contact": (437, 59, 138),
               "family": (873, 152, 288), "tranquility": (245, 39, 87), "romance": (692, 101, 210),
               "none": (2969, 507, 1031)},
    "emotion": {"happiness": (2524, 419, 860), "sad": (666, 102, 186), "neutral": (1664, 294, 569),
                "disgust": (251, 44, 80), "anger": (523, 78, 172), "fear": (499, 84, 175)},
    "sentiment": {"negative": (1939, 308, 613), "neutral": (1664, 294, 569), "positive": (2524, 419, 860)},
}


@dataclass(frozen=True)
class RunSpec:
    """How one of our runs differs from the profile: ``--set`` overrides and whether it is pretrained."""
    overrides: tuple[str, ...] = ()
    pretrain: bool = True          # False: fine-tune from scratch (SyDES-B, paper 4.1.4)
    note: str = ""
    baseline: bool = False         # True: not SyDES but the TF-IDF + logistic-regression text baseline


@dataclass(frozen=True)
class Row:
    """One row of a paper table: its numbers and the run (a key of ``RUNS``) that fills our column."""
    key: str                       # slug, unique within its table
    label: str                     # as printed in the paper
    values: tuple[float | None, ...]   # task-major (desire, emotion, sentiment) x the table's metrics
    run: str | None = None         # None: a method SyDES mini does not re-implement


@dataclass(frozen=True)
class PaperTable:
    number: int
    title: str
    metrics: tuple[str, ...]
    rows: tuple[Row, ...] = field(repr=False)

    def row(self, key: str) -> Row:
        for r in self.rows:
            if r.key == key:
                return r
        raise KeyError(f"Table {self.number} has no row {key!r}; rows: {[r.key for r in self.rows]}")


def _v(text: str) -> tuple[float | None, ...]:
    """'80.77 67.43 -' -> (80.77, 67.43, None): the paper's numbers as printed."""
    return tuple(None if x == "-" else float(x) for x in text.split())


def _losses(pre: str, fine: str) -> tuple[str, ...]:
    return (f"train.pretrain_losses={pre}", f"train.finetune_losses={fine}")


# -- our runs: key -> what differs from the profile --------------------------------------
SYDES_B = RunSpec(("train.finetune_losses=cls",), pretrain=False,
                  note="paper 4.1.4: no pretraining, fine-tuned with L_cls only")
RUNS: dict[str, RunSpec] = {
    MAIN: RunSpec(note="the complete model: eq. 7 then eq. 8 with every loss"),
    "table3/sydes-b": SYDES_B,
    "table3/tfidf": RunSpec(baseline=True, note="not in the paper: a cheap text-only reference, "
                                                "`python -m sydes_mini baseline`"),
    "table4/rec": RunSpec(_losses("rec", "cls,itc")),
    "table4/rec-itc": RunSpec(_losses("rec,itc", "cls,itc")),
    "table4/rec-itc-si": RunSpec(_losses("rec,itc,si", "cls,itc")),
    "table4/no-finetune-itc": RunSpec(_losses("rec,itc,si,dc", "cls")),
    "table5/mixed-scale": RunSpec(("model.use_image_decoder=false", "train.pretrain_losses=itc"),
                                  note="crops enter the text decoder, no reconstruction decoder: only L_itc "
                                       "is defined in pretraining"),
    "table5/global-only": RunSpec(("model.use_crops=false", "train.pretrain_losses=itc"),
                                  note="not in the paper: table5/mixed-scale without the crops, that is the global "
                                       "view only, so the two differ in the mixed-scale views alone"),
    "table5/reconstruction": RunSpec(("model.use_aggregator=false", "train.pretrain_losses=rec,itc"),
                                     note="reconstruction decoder, no aggregator and no consistency losses; "
                                          "the paper adds both in step 3"),
    "table6/mask-0.25": RunSpec(("model.mask_ratio=0.25",)),
    "table6/mask-0.50": RunSpec(("model.mask_ratio=0.5",)),
    "table6/mask-0.90": RunSpec(("model.mask_ratio=0.9",)),
    "table9/sydes-b-image-only": RunSpec(SYDES_B.overrides + ("data.modality=image",), pretrain=False),
    "table9/sydes-b-text-only": RunSpec(SYDES_B.overrides + ("data.modality=text",), pretrain=False),
    "table9/image-only": RunSpec(("data.modality=image",), note="captions are empty strings in both stages"),
    "table9/text-only": RunSpec(("data.modality=text",), note="images are all-ones tensors in both stages"),
    "table10/rec-cls": RunSpec(_losses("rec", "cls")),
    "table10/itc-cls": RunSpec(_losses("itc", "cls")),
    "table10/itc": RunSpec(_losses("itc", "cls,itc")),
    "table10/rec-si-dc": RunSpec(_losses("rec,si,dc", "cls,itc")),
    # not a paper table: the complete model with the paper's equations instead of the authors' code (chapter 10)
    VARIANT_PAPER: RunSpec(("variant=paper",), note="differences 3-8 of chapter 10 as the paper writes them"),
}

# -- the paper's tables (numbers as printed, %) -------------------------------------------
P_R_F1_ACC = METRICS
TABLES: dict[int, PaperTable] = {t.number: t for t in (
    PaperTable(2, "Comparison of SyDES and other SOTA methods on the MSED dataset", P_R_F1_ACC, (
        Row("dcnn-alexnet", "DCNN+AlexNet", _v("59.42 52.02 52.35 - 49.56 42.77 43.76 - 71.02 70.09 70.31 -")),
        Row("dcnn-resnet", "DCNN+ResNet", _v("56.34 50.64 52.89 - 62.93 59.12 60.48 - 74.73 74.73 74.64 -")),
        Row("bilstm-alexnet", "BiLSTM+AlexNet", _v("67.80 68.00 67.67 - 71.17 70.70 70.89 - 78.73 79.22 78.89 -")),
        Row("bert-alexnet", "BERT+AlexNet", _v("80.84 75.50 77.17 - 78.06 78.19 78.10 - 83.22 83.11 83.16 -")),
        Row("multimodal-transformer", "Multimodal Transformer",
            _v("81.92 80.20 80.92 - 81.62 81.61 81.53 - 83.56 83.45 83.50 -")),
        Row("m3gat", "M3GAT", _v("- - - - 82.53 81.51 81.97 - 84.66 85.15 84.85 -")),
        Row("mmtf-des", "MMTF-DES", _v("84.23 82.01 83.11 86.97 84.39 84.64 84.26 84.13 88.27 88.68 88.44 88.44")),
        Row("sydes", "SyDES", _v("84.09 84.07 84.02 88.32 84.92 84.81 84.74 85.96 89.28 89.13 89.19 89.37"), MAIN),
    )),
    PaperTable(3, "Comparison between SyDES and different modality baseline models", ("precision", "recall", "f1"), (
        Row("bertweet", "BERTweet (text)", _v("77.11 81.19 78.86 80.99 77.15 78.34 82.25 83.62 82.49")),
        Row("resnet", "ResNet (image)", _v("49.97 49.35 49.20 58.74 54.67 56.40 70.85 70.61 70.64")),
        Row("tfidf", "TF-IDF + logistic regression (text, ours only)", (None,) * 9, "table3/tfidf"),
        Row("sydes-b", "SyDES-B", _v("80.77 67.43 72.27 81.04 80.66 80.80 89.09 85.58 86.50"), "table3/sydes-b"),
        Row("sydes", "SyDES", _v("84.09 84.07 84.02 84.92 84.81 84.74 89.28 89.13 89.19"), MAIN),
    )),
    PaperTable(4, "Ablation study on the loss functions used in the two training stages", P_R_F1_ACC, (
        Row("sydes-b", "none / cls (SyDES-B)",
            _v("80.77 67.43 72.27 80.51 81.04 80.66 80.80 82.61 89.09 85.58 86.50 87.12"), "table3/sydes-b"),
        Row("rec", "rec / itc+cls",
            _v("76.17 72.56 74.12 81.15 76.78 75.13 75.82 77.62 80.57 81.19 80.79 80.80"), "table4/rec"),
        Row("rec-itc", "rec+itc / itc+cls",
            _v("81.43 81.77 81.44 86.19 84.85 84.95 84.66 85.21 89.26 88.80 88.99 89.18"), "table4/rec-itc"),
        Row("rec-itc-si", "rec+itc+si / itc+cls",
            _v("82.28 82.33 82.24 86.78 84.17 81.91 82.88 84.53 87.45 87.66 87.55 87.71"), "table4/rec-itc-si"),
        Row("no-finetune-itc", "rec+itc+si+dc / cls",
            _v("78.55 75.89 77.09 83.74 84.85 81.75 83.21 84.43 86.46 85.93 86.16 86.44"), "table4/no-finetune-itc"),
        Row("sydes", "rec+itc+si+dc / itc+cls (SyDES)",
            _v("84.09 84.07 84.02 88.32 84.92 84.81 84.74 85.96 89.28 89.13 89.19 89.37"), MAIN),
    )),
    PaperTable(5, "Ablation study of proposed components", ("f1", "accuracy"), (
        Row("baseline", "0 Baseline (SyDES-B)", _v("72.27 80.51 80.80 82.61 86.50 87.12"), "table3/sydes-b"),
        Row("global-only", "1 without its crops: the global view only (ours only)", (None,) * 6,
            "table5/global-only"),
        Row("mixed-scale", "1 + Mixed-scale image strategy", _v("75.49 79.97 78.70 81.49 86.37 86.24"),
            "table5/mixed-scale"),
        Row("reconstruction", "2 + Reconstruction decoder", _v("81.51 84.96 84.40 85.26 89.03 89.08"),
            "table5/reconstruction"),
        Row("aggregator", "3 + Aggregator", _v("84.02 88.32 84.74 85.96 89.19 89.37"), MAIN),
    )),
    PaperTable(6, "Ablation study on the ratio of masked tokens", P_R_F1_ACC, (
        Row("mask-0.25", "0.25", _v("83.13 81.80 82.23 86.82 85.94 85.30 85.55 85.94 88.90 89.05 88.87 88.83"),
            "table6/mask-0.25"),
        Row("mask-0.50", "0.50", _v("81.87 81.69 81.69 86.48 84.36 84.35 84.19 85.06 87.64 88.18 87.88 88.06"),
            "table6/mask-0.50"),
        Row("mask-0.75", "0.75", _v("84.09 84.07 84.02 88.32 84.92 84.81 84.74 85.96 89.28 89.13 89.19 89.37"),
            MAIN),
        Row("mask-0.90", "0.90", _v("81.31 82.82 82.02 86.48 84.32 83.31 83.78 85.41 88.54 87.93 88.17 88.39"),
            "table6/mask-0.90"),
    )),
    PaperTable(9, "Contributions of the modalities (image-only: empty text; text-only: all-ones image)",
               P_R_F1_ACC, (
        Row("sydes-b-image-only", "SyDES-B, image only",
            _v("49.07 28.92 25.16 50.20 69.15 63.25 62.52 72.92 78.71 78.71 78.02 79.04"),
            "table9/sydes-b-image-only"),
        Row("sydes-b-text-only", "SyDES-B, text only",
            _v("40.32 29.05 29.00 58.08 68.01 65.06 62.35 62.14 77.86 74.01 72.89 71.79"),
            "table9/sydes-b-text-only"),
        Row("sydes-b", "SyDES-B, text + image",
            _v("80.77 67.43 72.27 80.51 81.04 80.66 80.80 82.61 89.09 85.58 86.50 87.12"), "table3/sydes-b"),
        Row("image-only", "SyDES, image only",
            _v("75.61 63.35 65.62 77.91 72.47 69.74 70.71 76.10 83.81 81.07 82.02 82.52"), "table9/image-only"),
        Row("text-only", "SyDES, text only",
            _v("43.96 35.82 37.24 58.67 65.08 48.54 49.53 62.49 78.30 74.02 72.46 71.35"), "table9/text-only"),
        Row("sydes", "SyDES, text + image",
            _v("84.09 84.07 84.02 88.32 84.92 84.81 84.74 85.96 89.28 89.13 89.19 89.37"), MAIN),
    )),
    PaperTable(10, "Comprehensive ablation study on the loss functions in the two-stage training", P_R_F1_ACC, (
        Row("row1", "1 none / cls (SyDES-B)",
            _v("80.77 67.43 72.27 80.51 81.04 80.66 80.80 82.61 89.09 85.58 86.50 87.12"), "table3/sydes-b"),
        Row("row2", "2 rec / cls",
            _v("73.01 72.41 72.63 79.33 75.83 73.55 73.99 75.86 80.00 80.90 80.33 80.51"), "table10/rec-cls"),
        Row("row3", "3 rec / itc+cls",
            _v("76.17 72.56 74.12 81.15 76.78 75.13 75.82 77.62 80.57 81.19 80.79 80.80"), "table4/rec"),
        Row("row4", "4 itc / cls",
            _v("78.58 75.97 76.76 82.71 82.02 81.65 81.82 83.38 86.54 86.90 86.70 86.86"), "table10/itc-cls"),
        Row("row5", "5 itc / itc+cls",
            _v("80.26 81.95 80.96 84.19 83.09 82.15 82.57 84.43 86.41 86.89 86.61 86.64"), "table10/itc"),
        Row("row6", "6 rec+itc / itc+cls",
            _v("81.43 81.77 81.44 86.19 84.85 84.95 84.66 85.21 89.26 88.80 88.99 89.18"), "table4/rec-itc"),
        Row("row7", "7 rec+si+dc / itc+cls",
            _v("75.45 73.52 74.39 80.31 76.49 74.05 75.07 77.23 80.51 80.95 80.71 80.85"), "table10/rec-si-dc"),
        Row("row8", "8 rec+itc+si / itc+cls",
            _v("82.28 82.33 82.24 86.78 84.17 81.91 82.88 84.53 87.45 87.66 87.55 87.71"), "table4/rec-itc-si"),
        Row("row9", "9 rec+itc+si+dc / cls",
            _v("78.55 75.89 77.09 83.74 84.85 81.75 83.21 84.43 86.46 85.93 86.16 86.44"), "table4/no-finetune-itc"),
        Row("row10", "10 rec+itc+si+dc / itc+cls (SyDES)",
            _v("84.09 84.07 84.02 88.32 84.92 84.81 84.74 85.96 89.28 89.13 89.19 89.37"), MAIN),
    )),
)}

# Table 2's last line: relative gain of SyDES over MMTF-DES in %, rounded to one decimal
# (P, R, F1, Acc per task). Sentiment F1 is printed as +0.90; the two rows give +0.85.
TABLE2_GAINS = _v("-0.20 +2.50 +1.10 +1.60 +0.60 +0.20 +0.60 +2.20 +1.10 +0.50 +0.90 +1.10")


def paper_value(table: int, key: str, task: str, metric: str) -> float | None:
    """One number as the paper prints it (%), e.g. ``paper_value(4, "sydes", "desire", "f1")``."""
    t = TABLES[table]
    return t.row(key).values[TASKS.index(task) * len(t.metrics) + t.metrics.index(metric)]


def paper_f1_of_run(run: str, task: str) -> float | None:
    """The paper's test F1 (%) for the row that ``run`` fills (the first of Tables 3-10 that has it), or None
    for a run that is ours only (e.g. the TF-IDF baseline)."""
    for number in (3, 4, 5, 6, 9, 10):
        for row in TABLES[number].rows:
            if row.run == run:
                return paper_value(number, row.key, task, "f1")
    return None


# -- where runs live and how they are made -------------------------------------------------
def run_dir(runs_dir: str | Path, run: str) -> Path:
    """``runs/<profile>`` for the main run, ``runs/<profile>/<table>/<row>`` for the others."""
    if run not in RUNS:
        raise KeyError(f"unknown run {run!r}; known runs: {sorted(RUNS)}")
    return Path(runs_dir) if run == MAIN else Path(runs_dir) / run


DATA = {"smoke": "data/toy", "full": "data/MSED"}   # where `reproduce` reads each profile's data by default


def reproduce_command(profile: str, run: str, runs_dir: str | Path | None = None) -> str:
    """The command line that writes ``run``'s ``summary.json`` (``reproduce``, or ``baseline`` for its row)."""
    spec = RUNS[run]
    out = run_dir(runs_dir or f"runs/{profile}", run)
    if spec.baseline:
        return shlex.join(["python", "-m", "sydes_mini", "baseline", "--data", DATA[profile],
                           "--out", str(out / "summary.json")])
    args = ["python", "-m", "sydes_mini", "reproduce", "--profile", profile]
    if profile == "full":
        args += ["--data", DATA[profile]]
    args += ["--out", str(out)]
    if not spec.pretrain:
        args += ["--init", "none"]
    for item in spec.overrides:
        args += ["--set", item]
    return shlex.join(args)


def papermill_commands(profile: str, run: str, runs_dir: str | Path | None = None) -> list[str]:
    """The same run through the notebooks in ``notebooks/runs`` (executed copies land in the run folder);
    none for the text baseline, which has no notebook."""
    spec = RUNS[run]
    if spec.baseline:
        return []
    out = run_dir(runs_dir or f"runs/{profile}", run)
    common = ["-k", "python3", "-p", "profile", profile, "-p", "out_dir", str(out)]
    if profile == "full":
        common += ["-p", "data_dir", DATA[profile]]
    if spec.overrides:
        common += ["-y", json.dumps({"overrides": list(spec.overrides)})]
    lines = []
    if spec.pretrain:
        lines.append(["papermill", "notebooks/runs/pretrain.ipynb", str(out / "pretrain.ipynb"), *common])
    init = ["-p", "init", "pretrain" if spec.pretrain else "none"]
    for task in TASKS:
        lines.append(["papermill", "notebooks/runs/finetune.ipynb", str(out / f"finetune_{task}.ipynb"),
                      *common, "-p", "task", task, *init])
    return [shlex.join(x) for x in lines]


def tables_command(profile: str, runs_dir: str | Path | None = None) -> str:
    runs = str(runs_dir or f"runs/{profile}")
    return shlex.join(["papermill", "notebooks/runs/tables.ipynb", f"{runs}/tables.ipynb", "-k", "python3",
                       "-p", "profile", profile, "-p", "runs_dir", runs])


def runs_of(table: int) -> list[str]:
    """The distinct runs that fill a table, in row order."""
    return list(dict.fromkeys(r.run for r in TABLES[table].rows if r.run))


# -- reading results -----------------------------------------------------------------------
def load_summary(path: str | Path) -> dict[str, dict[str, float]]:
    """``summary.json`` -> {task: {metric: fraction}} (test split), checked; a bad file names itself."""
    path = Path(path)
    try:
        data = json.loads(path.read_text())
    except json.JSONDecodeError as e:
        raise ValueError(f"{path}: not valid JSON ({e}); re-run the command that wrote it") from None
    out = {}
    for task in data:
        if task not in TASKS:
            raise ValueError(f"{path}: unknown task {task!r}; expected some of {TASKS}")
        test = data[task].get("test") if isinstance(data[task], dict) else None
        if not isinstance(test, dict):
            raise ValueError(f"{path}: {task!r} has no 'test' metrics; expected {{task: {{'test': {{...}}}}}}")
        out[task] = {m: _fraction(path, task, m, test[m]) for m in METRICS if m in test}
    return out


def _fraction(path: Path, task: str, metric: str, value) -> float:
    if not isinstance(value, (int, float)) or not 0.0 <= value <= 1.0:
        raise ValueError(f"{path}: {task}.test.{metric} = {value!r} is not a fraction in [0, 1]")
    return float(value)


def compare(table: int, runs_dir: str | Path):
    """A table as a DataFrame: rows = the paper's rows, columns = (task, metric, "paper" | "ours"), in %.

    "ours" is read from ``<run dir>/summary.json``; a row without a run, or whose
    run has not been made yet, is NaN (``missing`` gives the commands).
    """
    import pandas as pd

    t = TABLES[table]
    columns = pd.MultiIndex.from_tuples([(task, SHORT[m], who) for task in TASKS for m in t.metrics
                                         for who in ("paper", "ours")], names=["task", "metric", ""])
    frame = pd.DataFrame(index=pd.Index([r.label for r in t.rows], name=f"Table {table}"), columns=columns,
                         dtype=float)
    for r in t.rows:
        ours = _ours(r, runs_dir)
        for i, (task, m) in enumerate((task, m) for task in TASKS for m in t.metrics):
            frame.loc[r.label, (task, SHORT[m], "paper")] = math.nan if r.values[i] is None else r.values[i]
            frame.loc[r.label, (task, SHORT[m], "ours")] = 100 * ours.get(task, {}).get(m, math.nan)
    return frame


def _ours(row: Row, runs_dir: str | Path) -> dict:
    if row.run is None:
        return {}
    path = run_dir(runs_dir, row.run) / "summary.json"
    return load_summary(path) if path.exists() else {}


def missing(table: int, runs_dir: str | Path, profile: str) -> dict[str, str]:
    """{row label: command} for the rows whose run has no ``summary.json`` under ``runs_dir`` yet."""
    return {r.label: reproduce_command(profile, r.run, runs_dir) for r in TABLES[table].rows
            if r.run and not (run_dir(runs_dir, r.run) / "summary.json").exists()}


def check_registry() -> None:
    """Every run's overrides are valid config overrides of both profiles (raises ValueError naming the run)."""
    for name, spec in RUNS.items():
        for profile in ("smoke", "full"):
            try:
                get_config(profile, spec.overrides)
            except ValueError as e:
                raise ValueError(f"paper_tables.RUNS[{name!r}]: {e}") from None


# -- the book's reproduce page --------------------------------------------------------------
def wrap_command(command: str, indent: str = "", width: int = 76) -> str:
    """A long command line broken before its options (`` \\`` continuations), so that it reads on a narrow
    page and still pastes into a shell as one command."""
    groups = []                                          # an option with its values, or one positional argument
    for token in shlex.split(command):
        if token.startswith("-") or not groups or not groups[-1][0].startswith("-"):
            groups.append([token])
        else:
            groups[-1].append(token)
    lines = [shlex.join(groups[0])]
    for group in map(shlex.join, groups[1:]):
        if len(indent) + len(lines[-1]) + 1 + len(group) + 2 <= width:
            lines[-1] += " " + group
        else:
            lines.append("    " + group)
    return f" \\\n{indent}".join(lines)


def unwrap_commands(text: str) -> str:
    """The inverse of :func:`wrap_command` on a whole page: every `` \\`` continuation joined, one line per
    command (how a shell reads it)."""
    return re.sub(r" \\\n\s*", " ", text)


def commands_markdown(profile: str = "full") -> str:
    """Markdown: for each table, the commands (CLI and papermill) of every run it needs."""
    parts, seen = [], set()
    sections = [(f"Table {n}: {t.title}", [(", ".join(r.label for r in t.rows if r.run == run), run)
                                            for run in runs_of(n)]) for n, t in TABLES.items()]
    extra = [run for run in RUNS if all(run not in runs_of(n) for n in TABLES)]
    sections.append(("Not in the paper: the paper's equations instead of the code's (chapter 10)",
                     [(run, run) for run in extra]))
    for title, rows in sections:
        parts.append(f"### {title}\n")
        for label, run in rows:
            if run in seen:
                parts.append(f"- {label}: same run as above, `{run_dir(f'runs/{profile}', run)}`\n")
                continue
            seen.add(run)
            note = f" — {RUNS[run].note}" if RUNS[run].note else ""
            pm = "\n".join("  " + wrap_command(x, "  ") for x in papermill_commands(profile, run))
            pm = f"  or with papermill:\n\n  ```bash\n{pm}\n  ```\n" if pm else ""
            parts.append(f"- {label}{note}:\n\n  ```bash\n  {wrap_command(reproduce_command(profile, run), '  ')}\n"
                         f"  ```\n\n{pm}")
        parts.append("")
    parts.append(f"Then rebuild every table beside the paper's numbers:\n\n```bash\n{wrap_command(tables_command(profile))}"
                 "\n```\n")
    return "\n".join(parts)


# the generated block of book/reproduce.md and README.md lies between these two lines
BEGIN, END = "<!-- begin: python -m sydes_mini.paper_tables --update <this page> -->", "<!-- end -->"


def update_markdown(path: str | Path, profile: str = "full") -> None:
    """Replace the generated block of a markdown page (between ``BEGIN`` and ``END``) by :func:`commands_markdown`."""
    path = Path(path)
    text = path.read_text()
    if BEGIN not in text or END not in text:
        raise ValueError(f"{path}: no generated block; add the two lines {BEGIN!r} and {END!r}")
    head, rest = text.split(BEGIN, 1)
    tail = rest.split(END, 1)[1]
    path.write_text(f"{head}{BEGIN}\n\n{commands_markdown(profile)}\n{END}{tail}")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m sydes_mini.paper_tables", description=__doc__.splitlines()[0])
    p.add_argument("--profile", default="full", choices=["smoke", "full"])
    p.add_argument("--commands", action="store_true", help="print one reproduce command per run")
    p.add_argument("--markdown", action="store_true", help="print the commands section of book/reproduce.md")
    p.add_argument("--runs-dir", help="print the tables from this folder's summary.json files")
    p.add_argument("--update", metavar="PAGE.md", help="rewrite the generated commands block of a markdown page")
    a = p.parse_args(argv)
    if a.update:
        update_markdown(a.update, a.profile)
    if a.markdown:
        print(commands_markdown(a.profile), end="")
    if a.commands:
        print("\n".join(reproduce_command(a.profile, run) for run in RUNS))
    if a.runs_dir:
        for number in TABLES:
            print(compare(number, a.runs_dir).round(2).to_string(), end="\n\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
