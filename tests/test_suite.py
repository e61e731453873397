"""The ablation suite (issue 11): every registry row x seeds, shared pretraining, resumable, one results file;
and the book's committed results file matches the registry and the smoke profile of this checkout."""
import json
import math
from pathlib import Path

import pytest

from sydes_mini.labels import TASKS
from sydes_mini.paper_tables import MAIN, RUNS, paper_value
from sydes_mini.suite import (claims, config_sha, floors, format_results, measured_runs, pretrain_config, results_table,
                              row_config, row_difference, seed_scores, stats, suite)
from sydes_mini.toy import settings, synth

TINY = ["train.epochs_pretrain=1", "train.epochs_finetune=1", "train.batch_size=6", "train.max_steps=1"]
ROWS = [MAIN, "table4/no-finetune-itc", "table3/sydes-b", "table3/tfidf"]
BOOK_RESULTS = Path(__file__).resolve().parent.parent / "book" / "results" / "toy_suite.json"


@pytest.fixture(scope="module")
def toy(tmp_path_factory):
    return synth(tmp_path_factory.mktemp("toy"), n_train=12, n_dev=6, n_test=6, seed=1)


def test_rows_that_differ_only_in_finetuning_share_one_pretraining():
    a, b = (pretrain_config(row_config("smoke", run, "data/toy", 42)) for run in (MAIN, "table4/no-finetune-itc"))
    assert a.to_json() == b.to_json()
    c = pretrain_config(row_config("smoke", "table4/rec", "data/toy", 42))
    assert config_sha(c) != config_sha(a)                                    # pretraining losses differ
    assert config_sha(row_config("smoke", MAIN, "x", 1)) == config_sha(row_config("smoke", MAIN, "y", 2))


def test_mean_and_sample_std_over_seeds_in_percent():
    seeds = [{t: {"precision": 0.5, "recall": 0.5, "f1": f, "accuracy": 0.5} for t in TASKS} for f in (0.2, 0.4)]
    mean, std = stats(seeds)
    assert mean["desire"]["f1"] == pytest.approx(30.0) and std["desire"]["f1"] == pytest.approx(14.142, abs=1e-3)
    assert stats(seeds[:1])[1]["emotion"]["f1"] == 0.0


def test_suite_runs_rows_once_and_a_second_call_trains_nothing(toy, tmp_path, capsys):
    out = tmp_path / "suite"
    report = suite("smoke", out, toy, seeds=1, rows=ROWS, overrides=TINY, results=tmp_path / "copy.json")
    assert list(report["rows"]) == ROWS and report["seeds"] == [42] and report["overrides"] == TINY
    assert json.loads((tmp_path / "copy.json").read_text()) == json.loads((out / "results.json").read_text())
    main = report["rows"][MAIN]
    assert main["seeds"] == [42] and "--seeds 1" in main["command"]
    for task in TASKS:
        f1 = main["per_seed"][task]["f1"]
        assert len(f1) == 1 and main["mean"][task]["f1"] == pytest.approx(f1[0])
        assert 0 <= main["mean"][task]["accuracy"] <= 100
    shared = report["rows"]["table4/no-finetune-itc"]
    assert shared["pretrain_dirs"] == main["pretrain_dirs"]                 # one pretraining serves both
    assert len(list((out / "pretrain").glob("*/seed-*"))) == 1
    assert report["rows"]["table3/sydes-b"]["pretrain_dirs"] == []
    assert report["rows"]["table3/tfidf"]["seeds"] == [] and "baseline" in report["rows"]["table3/tfidf"]["command"]
    assert "table3/sydes-b" in format_results(report)

    stamps = {p: p.stat().st_mtime_ns for p in out.rglob("*.safetensors")}
    capsys.readouterr()
    again = suite("smoke", out, toy, seeds=1, rows=ROWS, overrides=TINY)
    assert {r: e["mean"] for r, e in again["rows"].items()} == {r: e["mean"] for r, e in report["rows"].items()}
    assert {p: p.stat().st_mtime_ns for p in out.rglob("*.safetensors")} == stamps
    # main: pretrain + 3 fine-tunes; no-finetune-itc: the shared pretrain + 3; sydes-b: 3 fine-tunes
    assert capsys.readouterr().out.count("already complete, skipped") == 4 + 4 + 3


def test_unknown_row_is_refused_with_the_known_ones(toy, tmp_path):
    with pytest.raises(ValueError, match="unknown row.*table5/mixed-scale"):
        suite("smoke", tmp_path / "s", toy, rows=["table5/nope"])


def test_book_results_rows_match_the_registry_the_smoke_profile_and_the_toy_world():
    """The committed toy-world results (``make ablations``) must come from this checkout's registry, smoke
    profile and toy world; a row whose config changed must be re-run. Rows not stored yet are listed by
    chapter 9 with their commands. Skipped only while the file does not exist."""
    if not BOOK_RESULTS.exists():
        pytest.skip(f"{BOOK_RESULTS} not written yet: run `make ablations` (the whole suite, hours on a CPU)")
    report = json.loads(BOOK_RESULTS.read_text())
    assert report["profile"] == "smoke" and report["overrides"] == [] and report["seeds"] == [42, 43, 44]
    assert report["toy_world"] == json.loads(json.dumps(settings())), "the toy world's generator or settings changed: re-run"
    assert set(report["rows"]) <= set(RUNS), f"rows no longer in the registry: {set(report['rows']) - set(RUNS)}"
    for run, entry in report["rows"].items():
        assert entry["overrides"] == list(RUNS[run].overrides), f"{run}: registry overrides changed: re-run"
        assert entry["config_sha"] == config_sha(row_config("smoke", run, "data/toy", 42)), \
            f"{run}: the smoke profile or this row's config changed since the results were made: re-run"
        if not RUNS[run].baseline:
            assert entry["seeds"] == report["seeds"]
            assert all(len(entry["per_seed"][t]["f1"]) == 3 for t in TASKS)


def entry(desire, emotion, sentiment, std=1.0):
    values = {"desire": desire, "emotion": emotion, "sentiment": sentiment}
    return {"mean": {t: {"f1": v} for t, v in values.items()}, "std": {t: {"f1": std} for t in TASKS}}


def test_claims_are_computed_from_the_numbers_and_say_when_a_row_is_missing():
    report = {"rows": {MAIN: entry(70, 90, 92), "table5/mixed-scale": entry(65, 90, 92, std=4.0),
                       "table5/global-only": entry(45, 90, 92, std=2.0), "table9/text-only": entry(30, 40, 60),
                       "table3/tfidf": entry(35, 38, 55, std=0.0)}}
    found = {tuple(c["rows"]): c for c in claims(report)}
    main = found[(MAIN,)]
    assert main["holds"] and "desire 70.0 ± 1.0" in main["text"]
    crops = found[("table5/mixed-scale", "table5/global-only")]
    assert crops["holds"] and "+20.0 points" in crops["text"]
    assert found[(MAIN, "table5/global-only")]["holds"] and "+25.0 points" in found[(MAIN, "table5/global-only")]["text"]
    assert found[(MAIN, "table9/text-only")]["holds"] and found[(MAIN, "table9/text-only")]["text"].startswith("holds: desire 70.0")
    assert found[(MAIN, "table9/image-only")]["holds"] is None and "table9/image-only" in found[(MAIN, "table9/image-only")]["text"]
    tfidf = found[("table9/text-only", "table3/tfidf")]
    assert tfidf["holds"] is False and tfidf["text"].startswith("does not hold")
    report["rows"]["table5/mixed-scale"] = entry(65, 90, 92, std=7.0)        # a gap of 20 < 3 x std 7
    assert not {tuple(c["rows"]): c for c in claims(report)}[("table5/mixed-scale", "table5/global-only")]["holds"]


def test_book_views_of_a_report_keep_registry_order_and_put_the_paper_beside_each_row():
    rows = {"table5/global-only": entry(9, 90, 94, std=2.0), MAIN: entry(70, 90, 92), "table3/tfidf": entry(33, 42, 55, std=0.0)}
    for e, seeds in zip(rows.values(), ([8, 10], [69, 71], [33])):
        e["per_seed"] = {t: {"f1": seeds} for t in TASKS}
    report = {"rows": rows}
    assert measured_runs(report) == [MAIN, "table3/tfidf", "table5/global-only"]           # RUNS order
    table = results_table(report).set_index("row")
    assert table.loc["table5/global-only", "desire (toy)"] == "9.0 ± 2.0"
    rows["table3/tfidf"]["seeds"] = []                                   # the baseline: one deterministic fit
    assert results_table(report).set_index("row").loc["table3/tfidf", "desire (toy)"] == "33.0"
    assert table.loc[MAIN, "desire (paper, MSED)"] == paper_value(3, "sydes", "desire", "f1")   # the first table with the row
    assert math.isnan(table.loc["table3/tfidf", "emotion (paper, MSED)"])                     # ours only: no paper value
    bars = seed_scores(report)
    assert len(bars) == 2 * len(TASKS) and "table3/tfidf" not in set(bars["label"])          # no seeds to plot
    assert bars.set_index(["label", "task"]).loc[(MAIN, "desire"), "seeds"] == [69, 71]
    majority = {t: {"majority": {"f1": 0.25}} for t in TASKS}
    assert floors(report, majority) == {"majority class": {t: 25.0 for t in TASKS},
                                        "TF-IDF (text)": {"desire": 33, "emotion": 42, "sentiment": 55}}
    assert list(floors({"rows": {}})) == []


def test_row_difference_is_b_minus_a_and_calls_a_gap_a_result_only_beyond_three_std():
    report = {"rows": {MAIN: entry(80, 90, 92, std=2.0), "variants/paper": entry(70, 89, 92, std=3.0)}}
    table = row_difference(report, MAIN, "variants/paper")
    assert table.loc["desire", "variants/paper - main"] == -10.0 and table.loc["desire", "beyond 3 std"]   # 10 > 9
    assert table.loc["emotion", "variants/paper - main"] == -1.0 and not table.loc["emotion", "beyond 3 std"]
    assert table.loc["desire", MAIN] == "80.0 ± 2.0" and table.loc["desire", "variants/paper"] == "70.0 ± 3.0"


def test_claims_of_tables_3_to_6_follow_the_paper_direction_and_need_every_row():
    report = {"rows": {MAIN: entry(70, 90, 92), "table3/sydes-b": entry(50, 91, 80),
                       "table4/rec": entry(40, 90, 90), "table4/rec-itc": entry(55, 90, 90),
                       "table4/rec-itc-si": entry(60, 90, 90), "table6/mask-0.25": entry(60, 90, 90),
                       "table6/mask-0.50": entry(72, 90, 90), "table6/mask-0.90": entry(50, 90, 90)}}
    found = {tuple(c["rows"]): c for c in claims(report)}
    pretraining = found[(MAIN, "table3/sydes-b")]          # emotion 90 < 91: not on every task
    assert pretraining["holds"] is False and "emotion 90.0 ± 1.0 vs 91.0 ± 1.0" in pretraining["text"]
    losses = found[("table4/rec", "table4/rec-itc", "table4/rec-itc-si", MAIN)]
    assert losses["holds"] and losses["text"] == ("holds: desire 40.0 ± 1.0 (rec) -> 55.0 ± 1.0 (rec-itc) -> "
                                                  "60.0 ± 1.0 (rec-itc-si) -> 70.0 ± 1.0 (main); 3 of 3 steps "
                                                  "beyond 3 × the larger std")
    report["rows"]["table4/rec-itc"] = entry(41, 90, 90, std=2.0)       # +1 then +19: one step is noise
    noisy = {tuple(c["rows"]): c for c in claims(report)}[("table4/rec", "table4/rec-itc", "table4/rec-itc-si", MAIN)]
    assert noisy["verdict"] == "in the means only" and noisy["holds"] is False
    assert noisy["text"].startswith("in the means only: ") and "; 2 of 3 steps beyond 3 × the larger std" in noisy["text"]
    report["rows"]["table4/rec-itc"] = entry(55, 90, 90)
    masks = found[("table6/mask-0.25", "table6/mask-0.50", MAIN, "table6/mask-0.90")]
    assert masks["holds"] is False and "0.5 72.0 ± 1.0" in masks["text"]     # 0.5 beats 0.75 here
    assert found[("table5/mixed-scale", "table5/reconstruction", MAIN)]["holds"] is None
    assert found[(MAIN, "table4/no-finetune-itc")]["text"] == "not measured yet (table4/no-finetune-itc)"
    report["rows"]["table3/sydes-b"] = entry(50, 80, 80)
    assert {tuple(c["rows"]): c for c in claims(report)}[(MAIN, "table3/sydes-b")]["holds"]
    report["rows"]["table3/sydes-b"] = entry(50, 88, 80)                # emotion +2 < 3 x std 1: within noise
    close = {tuple(c["rows"]): c for c in claims(report)}[(MAIN, "table3/sydes-b")]
    assert close["verdict"] == "in the means only" and close["holds"] is False
    report["rows"]["table6/mask-0.50"] = entry(69, 90, 90)             # 0.75 best by 1 point: within noise
    masks = {tuple(c["rows"]): c for c in claims(report)}[("table6/mask-0.25", "table6/mask-0.50", MAIN, "table6/mask-0.90")]
    assert masks["verdict"] == "in the means only"
    report["rows"]["table6/mask-0.50"] = entry(60, 90, 90)             # 10 points > 3 x std 1 over every ratio
    masks = {tuple(c["rows"]): c for c in claims(report)}[("table6/mask-0.25", "table6/mask-0.50", MAIN, "table6/mask-0.90")]
    assert masks["verdict"] == "holds" and masks["holds"]
