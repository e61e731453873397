"""The ablation suite: every run of the registry (:data:`~sydes_mini.paper_tables.RUNS`) x seeds, one results file.

``python -m sydes_mini ablations --out runs/suite`` (smoke profile, 3 seeds) trains every row of Tables 3, 4,
5, 6, 9, 10 and ``variant=paper`` the way ``reproduce --seeds 3 --set ...`` would, and writes
``results.json``; the book's toy-world results are a copy of it (``--results book/results/toy_suite.json``).

Layout of ``OUT``::

    OUT/pretrain/<key>/seed-<s>/         one pretraining (eq. 7) per distinct pretraining config and seed
    OUT/rows/<run>/seed-<s>/finetune/<task>/   the fine-tunes (eq. 8) of a row
    OUT/rows/table3/tfidf/summary.json   the TF-IDF baseline (deterministic: no seeds)
    OUT/results.json                     {"rows": {run: {command, overrides, seeds, per_seed, mean, std, ...}}}

**Shared work.** Rows whose configs differ only in fields that pretraining never reads
(:data:`FINETUNE_ONLY`) share one pretraining per seed: e.g. Table 4's "rec+itc+si+dc / cls" fine-tunes from
the complete model's pretraining. A shared pretraining is stored with those fields at the profile's values,
so its ``config.json`` is the same whichever row trains it first.

**Resume.** Every stage goes through :func:`~sydes_mini.reproduce.run_stage`: finished stages are skipped,
interrupted ones resumed; ``results.json`` is rewritten after each row, so a killed suite loses at most the
stage it was in.
"""
from __future__ import annotations

import hashlib
import json
import shlex
import subprocess
import time
from pathlib import Path

import numpy as np

from .config import Config, get_config
from .labels import TASKS
from .paper_tables import RUNS, reproduce_command
from .reproduce import METRICS, data_fingerprint, data_root, run_stage
from .train import write_json

FINETUNE_ONLY = ("epochs_finetune", "finetune_losses", "finetune_weights", "lr_finetune", "warmup_finetune", "cache_features")
SUITE_SEEDS = 3


def row_config(profile: str, run: str, root: str | Path, seed: int, overrides: list[str] = ()) -> Config:
    """The config every stage of ``run`` uses for ``seed``: the profile, ``overrides`` (for every row; none for
    the book's results), then the registry's overrides of the row."""
    return get_config(profile, [*overrides, *RUNS[run].overrides, f"data.root={root}", f"seed={seed}"])


def config_sha(cfg: Config) -> str:
    """A short hash of everything a run's numbers depend on, but the data folder's name and the seed."""
    d = json.loads(cfg.to_json())
    d.pop("seed")
    d["data"].pop("root")
    return hashlib.sha256(json.dumps(d, sort_keys=True).encode()).hexdigest()[:12]


def pretrain_config(cfg: Config) -> Config:
    """``cfg`` with the fields only fine-tuning reads set to the profile's values (what a shared pretraining saves)."""
    shared = Config.from_json(cfg.to_json())
    default = get_config(cfg.profile).train
    for name in FINETUNE_ONLY:
        setattr(shared.train, name, getattr(default, name))
    return shared


def pretrain_dir(out: Path, cfg: Config) -> Path:
    """Where the pretraining that ``cfg``'s fine-tunes start from lives: one folder per distinct pretraining."""
    return out / "pretrain" / config_sha(pretrain_config(cfg)) / f"seed-{cfg.seed}"


def run_seed(cfg: Config, run: str, out: Path) -> dict:
    """One seed of a row: its (shared) pretraining, if any, then the three fine-tunes -> {task: done}."""
    init = None
    if RUNS[run].pretrain:
        init = pretrain_dir(out, cfg)
        run_stage(pretrain_config(cfg), "pretrain", init)
    folder = out / "rows" / run / f"seed-{cfg.seed}"
    return {task: run_stage(cfg, "finetune", folder / "finetune" / task, task=task, init=init) for task in TASKS}


def stats(per_seed: list[dict]) -> tuple[dict, dict]:
    """[{task: {metric: x}}] -> mean and sample std (0 for one seed), {task: {metric: %}}."""
    mean = {t: {m: 100 * float(np.mean([s[t][m] for s in per_seed])) for m in METRICS} for t in TASKS}
    std = {t: {m: 100 * float(np.std([s[t][m] for s in per_seed], ddof=1)) if len(per_seed) > 1 else 0.0
               for m in METRICS} for t in TASKS}
    return mean, std


def run_row(profile: str, run: str, out: Path, root: Path, seeds: list[int], overrides: list[str] = ()) -> dict:
    """Train (or skip) every seed of a row -> its entry of ``results.json`` (metrics in %)."""
    start, spec = time.perf_counter(), RUNS[run]
    configs = [row_config(profile, run, root, s, overrides) for s in seeds]
    cfg = configs[0]
    entry = {"command": row_command(profile, run, len(seeds)), "overrides": list(spec.overrides),
             "pretrain": spec.pretrain and not spec.baseline, "note": spec.note, "config_sha": config_sha(cfg)}
    if spec.baseline:
        from .baseline import run_baseline
        folder = out / "rows" / run
        if not (folder / "summary.json").exists():
            folder.mkdir(parents=True, exist_ok=True)
            write_json(folder / "summary.json", run_baseline(root))
        tests = [{t: v["test"] for t, v in json.loads((folder / "summary.json").read_text()).items()}]
        entry.update(seeds=[], note=spec.note + " (deterministic: no seeds)")
    else:
        done = [run_seed(c, run, out) for c in configs]
        tests = [{t: d[t]["test"] for t in TASKS} for d in done]
        entry.update(seeds=seeds, stage_wall_s=[{t: d[t]["wall_s"] for t in TASKS} for d in done])
        entry["pretrain_dirs"] = [str(pretrain_dir(out, c).relative_to(out)) for c in configs] if spec.pretrain else []
    mean, std = stats(tests)
    entry.update(per_seed={t: {m: [100 * s[t][m] for s in tests] for m in METRICS} for t in TASKS},
                 mean=mean, std=std, wall_s_this_call=time.perf_counter() - start)
    return entry


def row_command(profile: str, run: str, seeds: int) -> str:
    """The stand-alone command that gives the same numbers as the suite's row (``reproduce --seeds``)."""
    command = reproduce_command(profile, run)
    return command if RUNS[run].baseline else command + f" --seeds {seeds}"


def code_version() -> str:
    """``git describe --always --dirty`` of this checkout, or "unknown" outside git."""
    try:
        return subprocess.run(["git", "describe", "--always", "--dirty"], capture_output=True, text=True,
                              check=True, cwd=Path(__file__).parent).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def check_before_suite(profile: str, out: Path, root: Path, seeds: list[int], rows: list[str],
                       overrides: list[str]) -> None:
    """Everything cheap, before the first row trains: the out folder, the device, every split of the data,
    the weights, and every stage folder the suite would skip or resume (same config, same data)."""
    from .checks import check_data, check_device, check_out_folder, check_resumable, check_weights
    from .reproduce import SPLITS, check_same_data
    check_out_folder(out)
    check_same_data(out, root)
    trained = [run for run in rows if not RUNS[run].baseline]
    for run in trained:
        check_device(row_config(profile, run, root, seeds[0], overrides).train.device)
        check_weights(row_config(profile, run, root, seeds[0], overrides))
        for seed in seeds:
            cfg = row_config(profile, run, root, seed, overrides)
            if RUNS[run].pretrain:
                check_resumable(pretrain_dir(out, cfg), pretrain_config(cfg))
            for task in TASKS:
                check_resumable(out / "rows" / run / f"seed-{seed}" / "finetune" / task, cfg)
    check_data(root, SPLITS, get_config(profile, list(overrides)).data.max_image_pixels)


def suite(profile: str = "smoke", out: str | Path = "runs/suite", data: str | Path | None = None,
          seeds: int = SUITE_SEEDS, rows: list[str] | None = None, results: str | Path | None = None,
          overrides: list[str] = ()) -> dict:
    """Run ``rows`` (default: every run of the registry) x ``seeds`` -> the results dict, also written to
    ``OUT/results.json`` (and to ``results`` when given). Finished stages are re-read, not trained again.
    ``overrides`` apply to every row (quick tries; the book's results have none)."""
    unknown = sorted(set(rows or []) - set(RUNS))
    if unknown:
        raise ValueError(f"unknown row(s) {unknown}; rows: {sorted(RUNS)}")
    if seeds < 1:
        raise ValueError(f"--seeds {seeds}: at least 1")
    out, root = Path(out), data_root(profile, data)
    base = get_config(profile, [*overrides, f"data.root={root}"])
    seed_list = [base.seed + i for i in range(seeds)]
    check_before_suite(profile, out, root, seed_list, rows or list(RUNS), overrides)
    path = out / "results.json"
    report = json.loads(path.read_text()) if path.exists() else {"rows": {}}
    report.update(profile=profile, data=str(root), seeds=seed_list, toy_world=toy_world(root),
                  overrides=list(overrides),
                  suite_command=shlex.join(["python", "-m", "sydes_mini", "ablations", "--profile", profile,
                                            "--seeds", str(seeds), "--out", str(out)]))
    out.mkdir(parents=True, exist_ok=True)
    write_json(out / "data.json", {"root": str(root), "fingerprint": data_fingerprint(root)})
    for run in rows or list(RUNS):
        print(f"== {run}", flush=True)
        report["rows"][run] = run_row(profile, run, out, root, seed_list, overrides)
        report["code_version"] = code_version()
        write_json(path, report)
        if results:
            write_json(Path(results), report)
    return report


def toy_world(root: Path) -> dict | None:
    """The toy world's settings (``toy_world.json``), or None for real data."""
    path = Path(root) / "toy_world.json"
    return json.loads(path.read_text()) if path.exists() else None


def format_results(report: dict) -> str:
    """One line per row: test macro-F1 mean +- std per task."""
    lines = [f"{'row':28} " + " ".join(f"{t:>15}" for t in TASKS) + "   seeds"]
    for run, e in report["rows"].items():
        cells = [f"{e['mean'][t]['f1']:6.1f} +- {e['std'][t]['f1']:4.1f}" for t in TASKS]
        lines.append(f"{run:28} " + " ".join(f"{c:>15}" for c in cells) + f"   {len(e['seeds']) or '-'}")
    return "\n".join(lines)


# -- the results as the book shows them ------------------------------------------------------------
def measured_runs(report: dict) -> list[str]:
    """The registry's runs that a results file holds, in registry order."""
    return [run for run in RUNS if run in report["rows"]]


def results_table(report: dict):
    """One row per measured run: toy-world test macro-F1 (mean ± std, %) beside the paper's F1 on MSED."""
    import pandas as pd
    from .paper_tables import paper_f1_of_run
    return pd.DataFrame([{"row": run, **{f"{t} (toy)": _cell(report["rows"][run], t) for t in TASKS},
                          **{f"{t} (paper, MSED)": paper_f1_of_run(run, t) for t in TASKS}}
                         for run in measured_runs(report)])


def seed_scores(report: dict):
    """Long format for :func:`~sydes_mini.plots.results.suite_bars`: one row per (trained run, task) with the
    mean, the std and the per-seed F1 (%)."""
    import pandas as pd
    return pd.DataFrame([{"label": run, "task": t, "mean": e["mean"][t]["f1"], "std": e["std"][t]["f1"],
                          "seeds": e["per_seed"][t]["f1"]}
                         for run, e in ((r, report["rows"][r]) for r in measured_runs(report))
                         if not RUNS[run].baseline for t in TASKS])


def floors(report: dict, majority: dict | None = None) -> dict[str, dict[str, float]]:
    """{name: {task: F1 %}}: what always answering the most common class gets (``majority``, the main run's
    ``summary.json``, when given) and the TF-IDF caption classifier (when the report has its row)."""
    out = {}
    if majority:
        out["majority class"] = {t: 100 * majority[t]["majority"]["f1"] for t in majority}
    if "table3/tfidf" in report["rows"]:
        out["TF-IDF (text)"] = {t: report["rows"]["table3/tfidf"]["mean"][t]["f1"] for t in TASKS}
    return out


def row_difference(report: dict, a: str, b: str):
    """Two rows side by side per task (test macro-F1, mean ± std, %), ``b - a`` and whether that gap is larger
    than 3 × the larger std (the suite's criterion for calling a difference a result)."""
    import pandas as pd
    ra, rb = report["rows"][a], report["rows"][b]
    table = {}
    for t in TASKS:
        gap = rb["mean"][t]["f1"] - ra["mean"][t]["f1"]
        table[t] = {a: _cell(ra, t), b: _cell(rb, t), f"{b} - {a}": round(gap, 1), "beyond 3 std": beyond_noise(ra, rb, t)}
    return pd.DataFrame(table).T


def beyond_noise(a: dict, b: dict, task: str) -> bool:
    """The suite's criterion for calling a difference between two rows a result: the gap of the means is
    larger than 3 × the larger std over the seeds."""
    gap = b["mean"][task]["f1"] - a["mean"][task]["f1"]
    return abs(gap) > 3 * max(a["std"][task]["f1"], b["std"][task]["f1"])


# -- what the results say about the paper's claims -------------------------------------------------
def _cell(entry: dict, task: str) -> str:
    """"mean ± std" of a trained row; the mean alone for a row without seeds (the deterministic baseline)."""
    if not entry.get("seeds", [0]):
        return f"{entry['mean'][task]['f1']:.1f}"
    return f"{entry['mean'][task]['f1']:.1f} ± {entry['std'][task]['f1']:.1f}"


def claims(report: dict) -> list[dict]:
    """The paper's claims that the toy world is built to show, checked against a results file.

    Each item: ``claim`` (what the paper says), ``rows`` (the registry rows it needs), ``verdict``,
    ``holds`` and ``text``, a sentence computed from the numbers (test macro-F1, mean ± std over the
    seeds, %), so a page that prints it cannot claim more than they show. The verdict of a comparison:
    "holds" when the means go the paper's way and every gap it needs is beyond the noise
    (:func:`beyond_noise`); "in the means only" when the means go the paper's way but some gap is within
    the seeds' spread; "does not hold" when the means do not; "not measured yet" when a row is missing.
    ``holds`` is True only for "holds" (None when not measured). A claim with a fixed target (a threshold,
    or the deterministic TF-IDF baseline) has no noise test: it holds or it does not.
    """
    rows = report["rows"]
    out = []

    def add(claim, needed, test, describe, clear=None):
        if not all(r in rows for r in needed):
            missing = ", ".join(r for r in needed if r not in rows)
            out.append({"claim": claim, "rows": needed, "verdict": "not measured yet", "holds": None,
                        "text": f"not measured yet ({missing})"})
            return
        entries = [rows[r] for r in needed]
        if not test(*entries):
            verdict = "does not hold"
        elif clear is None or clear(*entries):
            verdict = "holds"
        else:
            verdict = "in the means only"
        out.append({"claim": claim, "rows": needed, "verdict": verdict, "holds": verdict == "holds",
                    "text": f"{verdict}: {describe(*entries)}"})

    from .paper_tables import MAIN
    add("the complete model learns all three tasks (toy-world targets: desire ≥ 60, emotion and sentiment ≥ 85)",
        [MAIN], lambda m: m["mean"]["desire"]["f1"] >= 60 and all(m["mean"][t]["f1"] >= 85 for t in TASKS[1:]),
        lambda m: ", ".join(f"{t} {_cell(m, t)}" for t in TASKS))

    def crops_help(mixed, single):
        gap = mixed["mean"]["desire"]["f1"] - single["mean"]["desire"]["f1"]
        return gap >= 15 and beyond_noise(single, mixed, "desire")

    add("the mixed-scale views help desire (Table 5; toy-world target: +15 points, more than 3 × the larger std)",
        ["table5/mixed-scale", "table5/global-only"], crops_help,
        lambda m, g: f"desire {_cell(m, 'desire')} with the crops, {_cell(g, 'desire')} with the global view only "
                     f"({m['mean']['desire']['f1'] - g['mean']['desire']['f1']:+.1f} points)")
    add("the complete model beats the global view only on desire (its crops, decoder and aggregator together)",
        [MAIN, "table5/global-only"], crops_help,
        lambda m, g: f"desire {_cell(m, 'desire')} against {_cell(g, 'desire')} "
                     f"({m['mean']['desire']['f1'] - g['mean']['desire']['f1']:+.1f} points)")
    def beats_on_every_task(m, s):
        return all(m["mean"][t]["f1"] > s["mean"][t]["f1"] for t in TASKS)

    def clear_on_every_task(m, s):
        return all(beyond_noise(s, m, t) for t in TASKS)

    def side_by_side(m, s):
        return "; ".join(f"{t} {_cell(m, t)} vs {_cell(s, t)}" for t in TASKS)

    for single in ("table9/text-only", "table9/image-only"):
        add(f"image + text beats {single.split('/')[1].replace('-', ' ')} (Table 9) on every task",
            [MAIN, single], beats_on_every_task, side_by_side, clear_on_every_task)
    add("pretraining helps: the complete model beats SyDES-B (no pretraining) on every task (Tables 3 and 4)",
        [MAIN, "table3/sydes-b"], beats_on_every_task, side_by_side, clear_on_every_task)
    add("L_itc in fine-tuning helps: rec+itc+si+dc / itc+cls beats rec+itc+si+dc / cls on every task (Table 4)",
        [MAIN, "table4/no-finetune-itc"], beats_on_every_task, side_by_side, clear_on_every_task)
    steps = [
        ("each pretraining loss adds to desire: rec, + itc, + si, + dc (Table 4)",
         ["table4/rec", "table4/rec-itc", "table4/rec-itc-si", MAIN]),
        ("the reconstruction decoder, then the aggregator, add to desire (Table 5, steps 1 to 3)",
         ["table5/mixed-scale", "table5/reconstruction", MAIN]),
    ]
    def clear_steps(*r):
        return sum(beyond_noise(a, b, "desire") for a, b in zip(r, r[1:]))

    for claim, needed in steps:
        add(claim, needed,
            lambda *r: all(a["mean"]["desire"]["f1"] < b["mean"]["desire"]["f1"] for a, b in zip(r, r[1:])),
            lambda *r, names=[run.split("/")[-1] for run in needed]:
                "desire " + " -> ".join(f"{_cell(e, 'desire')} ({name})" for name, e in zip(names, r))
                + f"; {clear_steps(*r)} of {len(r) - 1} steps beyond 3 × the larger std",
            lambda *r: clear_steps(*r) == len(r) - 1)
    masks = ["table6/mask-0.25", "table6/mask-0.50", MAIN, "table6/mask-0.90"]
    add("the mask ratio 0.75 gives the best desire of 0.25, 0.5, 0.75 and 0.9 (Table 6)", masks,
        lambda *r: r[2]["mean"]["desire"]["f1"] == max(e["mean"]["desire"]["f1"] for e in r),
        lambda *r: "desire " + ", ".join(f"{ratio} {_cell(e, 'desire')}" for ratio, e in zip((0.25, 0.5, 0.75, 0.9), r)),
        lambda *r: all(beyond_noise(e, r[2], "desire") for i, e in enumerate(r) if i != 2))
    add("text only reaches the TF-IDF baseline on every task (toy-world target)",
        ["table9/text-only", "table3/tfidf"], lambda s, b: all(s["mean"][t]["f1"] >= b["mean"][t]["f1"] for t in TASKS),
        lambda s, b: "; ".join(f"{t} {_cell(s, t)} vs TF-IDF {b['mean'][t]['f1']:.1f}" for t in TASKS))
    return out


__all__ = ["suite", "run_row", "row_config", "config_sha", "pretrain_config", "format_results", "claims",
           "measured_runs", "results_table", "seed_scores", "floors", "row_difference", "FINETUNE_ONLY"]
