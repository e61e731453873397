# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 9. Results
#
# > "In terms of the primary metric F1-score, our proposed SyDES surpassed the previous best
# > model, MMTF-DES, by 1.1%, 0.6%, and 0.9% gains, respectively." — {cite:t}`chen2026sydes`,
# > Section 4.3
#
# This chapter rebuilds the paper's results tables — Tables 2, 3, 4, 5, 6, 9 and 10 — from the
# `summary.json` files our runs write, each row beside the number the paper prints. The paper's
# numbers are transcribed once, in `sydes_mini.paper_tables`, with the run that fills our column
# of each row. MMTF-DES is {cite:t}`aziz2025mmtfdes`; the other rows of Table 2 come from the MSED
# paper {cite:p}`jia2022msed`.
#
# All scores are on the test split, in %. With $K$ classes, per-class precision $P_k$ and recall
# $R_k$, the paper's primary metric is the **macro** F1 (every class counts the same, however rare):
#
# $$
# F_1^{macro} = \frac{1}{K}\sum_{k=1}^{K} \frac{2 P_k R_k}{P_k + R_k},\qquad
# P^{macro} = \frac{1}{K}\sum_k P_k,\quad R^{macro} = \frac{1}{K}\sum_k R_k .
# $$
#
# *Symbols:* the {doc}`notation page <12_notation>` gives every symbol of the paper its name in
# the code and its shape in both profiles.

# %% tags=["hide-cell"]
# Colab set-up: does nothing outside Google Colab. On Colab it clones the repository (into
# /content/sydes-mini, or with USE_DRIVE into your Google Drive, where runs/ and data/ then survive
# the session), installs sydes_mini from it (Colab's own torch is kept) and works in its notebooks/
# folder, so that ../runs, ../data and ../book are the same paths as in a local clone.
import os
import sys

REPO_URL = "https://github.com/sydes-mini/sydes-mini"
USE_DRIVE = False
if "google.colab" in sys.modules:
    import importlib
    import subprocess
    if USE_DRIVE:
        from google.colab import drive
        drive.mount("/content/drive")
    home = "/content/drive/MyDrive/sydes-mini" if USE_DRIVE else "/content/sydes-mini"
    if not os.path.isdir(home):
        subprocess.run(["git", "clone", "-q", REPO_URL, home], check=True)
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", home], check=True)
    importlib.invalidate_caches()
    os.chdir(os.path.join(home, "notebooks"))

# %% tags=["parameters"]
profile = "smoke"           # the profile of the runs below: "smoke" (toy world, CPU) or "full" (MSED, GPU)
runs_dir = "../runs/smoke"  # where `make reproduce` (PROFILE ...) wrote its runs (smoke: trained there when missing)

# %%
import inspect
import json
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from IPython.display import Markdown, display

from sydes_mini import paper_tables, suite
from sydes_mini.labels import LABELS, TASKS
from sydes_mini.metrics import compute_metrics
from sydes_mini.plots.book import glue
from sydes_mini.plots.results import confusion_matrices, per_class_f1, style_table, suite_bars
from sydes_mini.reproduce import smoke_run

runs = smoke_run(runs_dir) if profile == "smoke" else Path(runs_dir)   # load, or train the main run
have_main = (runs / "summary.json").exists()
print("runs:", runs, "| main run found:", have_main)

# %% [markdown]
# ## The metric, checked by hand
#
# `compute_metrics` (scikit-learn underneath) turns labels and predictions into the four numbers
# of the tables. Sentiment (three classes), six posts, one negative post called neutral:
# *negative* has $P=1, R=\tfrac12$, so $F_1 = \tfrac23$; *neutral* has $P=\tfrac23, R=1$, so
# $F_1=\tfrac45$; *positive* is perfect. Macro F1 $= \tfrac13(\tfrac23+\tfrac45+1) = \tfrac{37}{45}
# \approx 0.8222$, accuracy $\tfrac56 \approx 0.8333$.
#
# Two conventions come from the authors' evaluation code (chapter 10, differences 19 and 20). The
# paper's "Weighted Accuracy" (Section 4.1.2) is this plain accuracy: the fraction of posts
# classified correctly, with no class weights. And a macro average runs over the classes that
# occur in the labels or the predictions, so a class absent from a (small) test set does not
# count as a zero. On MSED's test split every class occurs, and the two readings agree.

# %% tags=["source-listing"]
print(inspect.getsource(compute_metrics))

# %%
# NBVAL_CHECK_OUTPUT
m = compute_metrics([0, 0, 1, 1, 2, 2], [0, 1, 1, 1, 2, 2], "sentiment")
print({k: round(m[k], 4) for k in ("precision", "recall", "f1", "accuracy")})

# %% [markdown]
# ## Which runs are here
#
# A table row is filled by a run folder with a `summary.json` (test metrics as fractions); the
# complete model is the main run, `runs/<profile>/` itself. `compare` reads what exists:

# %% tags=["source-listing"]
print(inspect.getsource(paper_tables.compare))

# %%
status = pd.DataFrame([{"run": name, "folder": str(paper_tables.run_dir(runs, name)),
                        "made": (paper_tables.run_dir(runs, name) / "summary.json").exists()}
                       for name in paper_tables.RUNS]).set_index("run")
glue("n_runs_made", int(status.made.sum()), display=False)
glue("n_runs", len(status), display=False)
status

# %%
if profile == "smoke":
    display(Markdown(
        "**These are smoke results: a tiny model (two-layer encoders), random initialisation, the toy world, "
        "a few CPU minutes, one seed. What they show about the toy world is measured over three seeds in the "
        "next section; they are not comparable to the paper's numbers.** The paper's columns need the full profile on MSED on a "
        "GPU: `make reproduce PROFILE=full` for the main run, and for every other row the command listed under "
        "its table (all of them are on the *Reproduce* page)."))
if not have_main:
    display(Markdown(f"No `summary.json` in `{runs}` yet: the *ours* columns below are empty. Make the main run "
                     f"with `make reproduce` (or `python -m sydes_mini reproduce --profile {profile} --out "
                     f"runs/{profile}`) and re-run this notebook."))

# %% [markdown]
# ## The toy world: which of the paper's claims show, over three seeds
#
# One smoke run is one seed, and on a few hundred test posts one seed is not a measurement. The
# **ablation suite** trains rows of the registry three times each (seeds 42, 43, 44) on the toy
# world and writes one results file: `make ablations`, i.e.
# `python -m sydes_mini ablations --out runs/suite-smoke --results book/results/toy_suite.json`
# (resumable like `reproduce`; hours on a CPU). The book reads the committed copy and never
# re-runs it; a test fails when a stored row no longer matches the registry, the smoke profile or
# the toy world. The toy world gives each part of SyDES a cue only it can read (chapter 2): the
# background colour for emotion, banners that only the crops see for desire, captions that
# sometimes name a label. So each claim below is a question with an expected answer, and the
# sentence after it is computed from the stored numbers.

# %% tags=["source-listing"]
print(inspect.getsource(suite.claims))

# %%
suite_file = Path("../book/results/toy_suite.json")
report = json.loads(suite_file.read_text()) if suite_file.exists() else {"rows": {}, "seeds": []}
majority = json.loads((runs / "summary.json").read_text()) if have_main else None
bars = suite.seed_scores(report)
if len(bars):
    fig = suite_bars(bars, suite.floors(report, majority))
else:
    fig = plt.figure(figsize=(6, 1))
    fig.text(0.5, 0.5, f"no suite results in {suite_file}: make ablations", ha="center", va="center")
glue("fig_suite", fig, display=False)
plt.close(fig)
glue("suite_seeds", ", ".join(map(str, report["seeds"])) or "none", display=False)
glue("suite_rows", f"{len(suite.measured_runs(report))} of the {len(paper_tables.RUNS)}", display=False)
world = report.get("toy_world") or {}
if world:
    miss_emotion, miss_desire = 1 - world["p_global_cue"], (1 - world["p_no_desire"]) * (1 - world["p_local_cue"])
    glue("cue_wrong", f"{100 * miss_emotion:.0f} %", display=False)
    glue("text_only_help", f"{100 * miss_emotion * world['p_text_names_label']:.0f} %", display=False)
    glue("desire_no_banner", f"{100 * miss_desire:.0f} %", display=False)
    glue("text_desire_help", f"{100 * miss_desire * world['p_text_names_label']:.0f} %", display=False)
display(Markdown("\n".join(f"* **{c['claim']}**: {c['text']}." for c in suite.claims(report))))
suite.results_table(report).style.format(precision=2, na_rep="–").hide(axis="index")   # –: no paper number

# %% [markdown]
# ```{glue:figure} fig_suite
# :name: fig-suite
#
# Test macro-F1 of each measured row on the toy world: the bar is the mean over the seeds
# ({glue:text}`suite_seeds`), the whisker one standard deviation, the dots the seeds. Red lines: what
# always answering the most common class gets, and the TF-IDF caption classifier. Notice where a bar
# clears a floor by more than its whisker, and where two rows overlap.
# ```
#
# How to read the verdicts. A claim **holds** when the means go the paper's way *and* every gap it
# needs is larger than three standard deviations of the seeds (the larger of the two rows'); it holds
# **in the means only** when the means go the paper's way but some gap is within the seeds' spread,
# which is not a result: another three seeds could reverse it; it **does not hold** when the means go
# the other way. A claim with a fixed target (the complete model's, text only against the
# deterministic TF-IDF baseline) holds or does not. Before the mean, look at the seeds' dots: a wide
# spread means that some seeds found the banners within the fine-tuning epochs and some did not, so
# the mean says little; a narrow spread near a floor means the cue was never found.
#
# Two of the paper's claims are questions this toy world cannot answer in the paper's direction,
# whatever the numbers above say, and it is worth knowing why before reading them:
#
# * **Image + text against image only.** Almost every label a toy caption names is also drawn in
#   the image (emotion is the background colour, desire the banners). The caption can only add
#   something where the image's cue is wrong or missing and the caption names the label: the
#   background shows another emotion's colour in {glue:text}`cue_wrong` of the posts, and the
#   caption names the emotion in a few of those ({glue:text}`text_only_help` of all posts);
#   {glue:text}`desire_no_banner` of all posts have a desire but no banners, and in
#   {glue:text}`text_desire_help` of all posts the caption also names that desire. That is a few points at most, less than the
#   seeds' spread; the same wrong backgrounds put a ceiling on emotion and sentiment for any model
#   that reads the image. On MSED the captions carry much that the photo does not show, which is
#   where the paper's Table 9 gap comes from.
# * **Text only against TF-IDF.** The smoke text encoder is a random two-layer, 64-wide
#   transformer; it has to learn every label word from a few hundred captions, most of which name
#   nothing, while TF-IDF starts from the words themselves. Even a linear probe of the random
#   encoder's token features falls short of TF-IDF (notes/issue11_diagnosis.md, section 10). The
#   paper's text encoder is CLIP's, pretrained on hundreds of millions of captions.
#
# {glue:text}`suite_rows` rows of the registry are in the stored results so far. The table above the
# chart sets the paper's F1 on MSED next to each toy-world row: compare the *direction* of a
# difference between rows, never the numbers themselves (a two-layer random model on a generated
# world against ViT-B/16 on real posts). Rows not yet measured, and the command for each:

# %%
not_yet = [run for run in paper_tables.RUNS if run not in report["rows"]]
print("\n".join(f"{run}: python -m sydes_mini ablations --out runs/suite-smoke --rows {run} "
                f"--results book/results/toy_suite.json" for run in not_yet) or "every row is measured")

# %% [markdown]
# The stored results record the code version that made them; the smoke run this page reads
# (`runs_dir`) comes from the code installed now. Are they the same computation? The complete
# model with the smoke run's seed, in both:

# %%
def same_seed_in_suite(report: dict, runs: Path) -> str:
    """A sentence: the suite's complete model (row "main") against the smoke run, same seed, per task."""
    row, config = report["rows"].get("main"), runs / "pretrain" / "config.json"
    if not (have_main and row and config.exists()):
        return "There is no smoke run or no stored complete model to compare"
    seed = json.loads(config.read_text())["seed"]
    if seed not in row["seeds"]:
        return f"The smoke run's seed {seed} is not among the suite's seeds {row['seeds']}"
    k, run = row["seeds"].index(seed), json.loads((runs / "summary.json").read_text())
    pairs = {task: (row["per_seed"][task]["f1"][k], 100 * run[task]["test"]["f1"]) for task in TASKS}
    text = ", ".join(f"{task} {a:.1f} in the suite and {b:.1f} here" for task, (a, b) in pairs.items())
    if all(abs(a - b) < 0.05 for a, b in pairs.values()):
        return f"Seed {seed}, test macro-F1: {text}: the same run"
    task, (a, b) = max(pairs.items(), key=lambda kv: abs(kv[1][0] - kv[1][1]))     # the largest difference
    gap, spread = abs(a - b), row["std"][task]["f1"]
    if gap <= 2 * spread:
        size = "less than" if gap < spread / 2 else "about as much as"
        effect = f"{size} a different seed does. The claims above rest on three seeds, not on one run"
    else:
        effect = (f"{gap / spread:.1f} times as much: more than the three seeds show, so read the suite's "
                  f"{task} differences as less certain than their standard deviations suggest")
    return (f"Seed {seed}, test macro-F1: {text}. They differ, so training has changed since the suite "
            f"was stored by code version {report['code_version']} (git log {report['code_version']}.. lists "
            "what). When this was written the changes were float rounding only: make_optimizer uses "
            "torch's fused AdamW and the text decoder runs its cross-attention as cross_attention_block "
            "(chapter 6), the same computations with their sums in another order. The largest difference, "
            f"{task} {gap:.1f} points, against that row's seed-to-seed standard deviation of {spread:.1f}: "
            f"on {run[task]['test']['n']} test posts, a different rounding of the same computation moves a "
            f"score {effect}")


glue("same_seed", same_seed_in_suite(report, runs), display=False)

# %% [markdown]
# {glue:text}`same_seed`.

# %% [markdown]
# {glue:text}`n_runs_made` of the {glue:text}`n_runs` runs that fill the tables exist in this
# build. The main run fills the SyDES row of every table.
#
# ## Table 2 and Table 3: SyDES against other methods
#
# Each *ours* column below reads the single runs under `runs/` (one seed each; `make reproduce` makes the
# main one), so a row the suite has measured over three seeds can still show "–" here: its toy-world
# mean ± std is in the table of the previous section.
#
# SyDES mini re-implements only SyDES, so in Table 2 only the SyDES row has an *ours* column.
# In Table 3, SyDES-B is the same model fine-tuned without pretraining (Section 4.1.4), and one row is
# ours only: a TF-IDF + logistic-regression classifier of the caption (`python -m sydes_mini baseline`),
# what words alone give — the bar a multimodal model has to clear.

# %%
def show(number: int):
    """Table ``number`` beside the paper's, then the commands that would fill its missing rows."""
    t = paper_tables.TABLES[number]
    display(style_table(paper_tables.compare(number, runs), f"Table {number}: {t.title} (test, %)"))
    todo = paper_tables.missing(number, runs, profile)
    if todo:
        display(Markdown("Rows without a run yet — to fill them:\n\n```bash\n" + "\n".join(sorted(set(todo.values())))
                         + "\n```"))


show(2)

# %%
show(3)

# %% [markdown]
# ## Table 4 and Table 10: which losses matter
#
# Each row trains with a subset of the pretraining losses (eq. 7) and of the fine-tuning losses
# (eq. 8), switched by `train.pretrain_losses` and `train.finetune_losses`. Table 4 is a subset
# of Table 10; the same run fills a row in both.

# %%
show(4)

# %%
show(10)

# %% [markdown]
# ## Table 5: the components, one at a time
#
# Step 1 keeps the crops but has no reconstruction decoder (`model.use_image_decoder=false`, so
# pretraining can only use $\mathcal L_{itc}$); step 2 adds the decoder without the aggregator
# and without the consistency losses; step 3 is the complete model.

# %%
show(5)

# %% [markdown]
# ## Table 6: how much to mask
#
# `model.mask_ratio` is the fraction of each crop's patches hidden in pretraining.

# %%
show(6)

# %% [markdown]
# ## Table 9: one modality at a time
#
# `data.modality=image` replaces every caption by the empty string, `data.modality=text` every
# image by an all-ones tensor, in both stages.

# %%
show(9)

# %% [markdown]
# ## Inside the main run: confusion matrices and per-class F1
#
# Macro scores hide which classes fail. Each fine-tuning run writes its test confusion matrix and
# per-class scores to `finetune/<task>/metrics_test.json`:

# %%
tests = {task: runs / "finetune" / task / "metrics_test.json" for task in TASKS}
found = {task: json.loads(path.read_text()) for task, path in tests.items() if path.exists()}
for task in TASKS:
    glue(f"f1_{task}", f"{100 * found[task]['f1']:.1f}" if task in found else "(no run)", display=False)
if found:
    fig_confusion = confusion_matrices({task: np.array(m["confusion_matrix"]) for task, m in found.items()})
    fig_per_class = per_class_f1({task: {label: m["per_class"][label]["f1"] for label in LABELS[task]}
                                  for task, m in found.items()})
    print("test macro-F1 (%):", {task: round(100 * m["f1"], 1) for task, m in found.items()})
else:
    fig_confusion, fig_per_class = (plt.figure(figsize=(6, 1)) for _ in range(2))
    for fig in (fig_confusion, fig_per_class):
        fig.text(0.5, 0.5, f"no run in {runs}: make reproduce", ha="center", va="center")
    print(f"No finetune/<task>/metrics_test.json under {runs}: run `make reproduce` first.")
glue("fig_confusion", fig_confusion, display=False)
glue("fig_per_class", fig_per_class, display=False)
plt.close("all")

# %% [markdown]
# ```{glue:figure} fig_confusion
# :name: fig-confusion
#
# Test confusion matrices of the main run, each row divided by the number of posts of its true class.
# Notice where the desire errors go: a post whose banners the model misses lands in the `none` column.
# ```
#
# ```{glue:figure} fig_per_class
# :name: fig-per-class
#
# Test F1 of every class of the main run. Notice which desire classes sit below the others: macro-F1
# averages these bars, so one weak class costs as much as a common one.
# ```
#
# Macro-F1 on test: desire {glue:text}`f1_desire` %, emotion {glue:text}`f1_emotion` %,
# sentiment {glue:text}`f1_sentiment` %. On the toy world, sentiment follows emotion exactly and
# emotion is the background colour, so both are easy for any view; desire is written on banners at
# the image's edges, which only the crops see (chapter 3). Read the desire matrix before the number:
# a short smoke run can fall back to `none`, the most common desire, for most posts, which gives a low
# macro-F1 even when accuracy looks fine (the always-`none` floor is in `summary.json` under
# `majority`). On MSED, the paper reports its largest gains on desire (Table 2).
#
# ## Summary
#
# * The paper's numbers live once in `sydes_mini.paper_tables`, beside the registry of the runs that
#   fill our column; `compare` reads whatever `summary.json` files exist.
# * Every row has one command (`book/reproduce.md`); rows the paper repeats share one run.
# * Smoke results check the pipeline on the toy world; only full-profile runs on MSED can be set beside
#   the paper's numbers.
#
# ## Exercises
#
# Try each exercise before opening its hint, and the hint before the solution. The
# exercise with a code cell runs as it is: fill in its `None`s.
#
# **Exercise 1.** Which rows of Table 10 need no new pretraining once the Table 4 runs exist?
#
# ````{dropdown} Hint
# Each row names the run that fills it (`Row.run`).
# ````
#
# ````{dropdown} Solution to exercise 1
# ```python
# t4 = {r.run for r in paper_tables.TABLES[4].rows}
# print([r.key for r in paper_tables.TABLES[10].rows if r.run in t4])
# ```
#
# The rows whose run is one of Table 4's share its pretraining; only the rows that change a
# pretraining loss need a new one.
# ````
#
# **Exercise 2.** The suite has measured mask ratio 0.5 and the default 0.75 over three seeds.
# Is the difference on desire a result by the chapter's criterion? Answer from the stored results,
# without training anything.
#
# ````{dropdown} Hint
# `suite.row_difference(report, a, b)` sets two rows side by side, per task, with `b - a` and
# whether that gap is beyond 3 × the larger standard deviation. The default run is `main`.
# ````
#
# ````{dropdown} Solution to exercise 2
# ```python
# suite.row_difference(report, "main", "table6/mask-0.50")
# ```
#
# Read the `beyond 3 std` column of the desire row: when it is `False`, the gap is within what
# changing the seed alone does, and the toy world does not show an effect of the mask ratio
# (whichever mean is larger). To make the test stricter you would add seeds (`--seeds 5`), not read
# the means harder.
# ````
#
# **Exercise 3.** Macro-F1 weighs a class of 5 posts like one of 500. Compute the support-weighted F1 of the main
# run's desire model from `per_class` and compare. Complete the cell below.
#
# ````{dropdown} Hint
# Each `per_class[label]` has `f1` and `support`.
# ````

# %%
# Exercise 3: complete this cell (it runs as it is, and does nothing until you do).
per_class = found["desire"]["per_class"] if "desire" in found else {}
weighted = None   # sum of f1 x support over the classes, divided by the total support
if weighted is not None:
    print(round(100 * weighted, 1), round(100 * found["desire"]["f1"], 1))

# %% [markdown]
# ````{dropdown} Solution to exercise 3
# ```python
# per_class = found["desire"]["per_class"]
# weighted = sum(c["f1"] * c["support"] for c in per_class.values()) / sum(c["support"] for c in per_class.values())
# print(round(100 * weighted, 1), round(100 * found["desire"]["f1"], 1))
# ```
#
# The weighted F1 is higher: it is dominated by `none`, the class a model that ignores rare
# desires gets right. Macro-F1 is the metric that does not flatter it.
# ````
