"""paper_tables: the paper's numbers are consistent where the paper repeats them, every run is a valid config,
and results land in the right cells."""
import json
import math
import shlex
from pathlib import Path

import pytest

from sydes_mini import paper_tables as pt
from sydes_mini.config import get_config
from sydes_mini.labels import TASKS


def rows_by_run():
    out = {}
    for n, t in pt.TABLES.items():
        for r in t.rows:
            if r.run:
                out.setdefault(r.run, []).append((t, r))
    return out


def test_every_run_is_a_valid_config_and_every_run_is_used():
    pt.check_registry()
    used = set(rows_by_run())
    assert used | {pt.VARIANT_PAPER} == set(pt.RUNS), f"runs no row uses: {set(pt.RUNS) - used}"
    assert get_config("smoke", pt.RUNS[pt.VARIANT_PAPER].overrides).variant == "paper"


def test_run_names_follow_the_table_row_rule():
    for name, rows in rows_by_run().items():
        if name == pt.MAIN:
            continue
        table, slug = name.split("/")
        assert table in {f"table{t.number}" for t, _ in rows}, f"{name} lives under a table that does not use it"
        assert slug and slug == slug.lower() and " " not in slug


def test_overrides_change_the_fields_the_paper_varies():
    assert get_config("full", pt.RUNS["table6/mask-0.25"].overrides).model.mask_ratio == 0.25
    cfg = get_config("full", pt.RUNS["table10/rec-si-dc"].overrides)
    assert cfg.train.pretrain_losses == ["rec", "si", "dc"] and cfg.train.finetune_losses == ["cls", "itc"]
    assert get_config("smoke", pt.RUNS["table9/text-only"].overrides).data.modality == "text"
    assert get_config("smoke", pt.RUNS["table5/mixed-scale"].overrides).model.use_image_decoder is False
    b = pt.RUNS["table3/sydes-b"]
    assert not b.pretrain and get_config("full", b.overrides).train.finetune_losses == ["cls"]
    assert get_config("full", pt.RUNS[pt.MAIN].overrides) == get_config("full")


def test_rows_filled_by_the_same_run_have_the_same_paper_numbers():
    """The paper repeats SyDES, SyDES-B and the Table 4 rows in other tables: the numbers agree."""
    for name, rows in rows_by_run().items():
        ref_t, ref = rows[0]
        for t, r in rows[1:]:
            for task in TASKS:
                for m in set(t.metrics) & set(ref_t.metrics):
                    assert pt.paper_value(t.number, r.key, task, m) == pt.paper_value(ref_t.number, ref.key, task, m), \
                        (name, t.number, r.key, task, m)
    assert len(rows_by_run()[pt.MAIN]) == 7          # SyDES appears in all seven tables
    assert len(rows_by_run()["table3/sydes-b"]) == 5  # SyDES-B in Tables 3, 4, 5, 9, 10


def test_shapes_of_the_transcribed_tables():
    for t in pt.TABLES.values():
        assert len({r.key for r in t.rows}) == len(t.rows)
        for r in t.rows:
            assert len(r.values) == len(TASKS) * len(t.metrics), (t.number, r.key)
            assert all(v is None or 0 < v < 100 for v in r.values)
    assert [len(pt.TABLES[n].rows) for n in (2, 3, 4, 5, 6, 9, 10)] == [8, 5, 6, 5, 4, 6, 10]   # 3, 5: a row of ours


def test_table2_gains_are_relative_gains_over_mmtf_des():
    """%Gains = 100 (SyDES - MMTF-DES) / MMTF-DES, one decimal; the paper prints +0.90 for sentiment F1 (0.85)."""
    t = pt.TABLES[2]
    ours, best = t.row("sydes").values, t.row("mmtf-des").values
    for i, printed in enumerate(pt.TABLE2_GAINS):
        gain = 100 * (ours[i] - best[i]) / best[i]
        if i == 10:   # sentiment F1
            assert gain == pytest.approx(0.848, abs=1e-3) and printed == 0.90
        else:
            assert round(gain, 1) == pytest.approx(printed), i


def test_numbers_quoted_in_the_papers_text():
    # 4.2: "in emotion recognition, SyDES-B improved the F1-score by 3.14% gains over BERTweet" (relative)
    b, bert = pt.paper_value(3, "sydes-b", "emotion", "f1"), pt.paper_value(3, "bertweet", "emotion", "f1")
    assert 100 * (b - bert) / bert == pytest.approx(3.14, abs=0.005)
    # 4.4.1: removing L_itc in fine-tuning drops F1 from 84.02/84.74/89.19 to 77.09/83.21/86.16
    assert [pt.paper_value(4, "no-finetune-itc", task, "f1") for task in TASKS] == [77.09, 83.21, 86.16]
    assert [pt.paper_value(4, "sydes", task, "f1") for task in TASKS] == [84.02, 84.74, 89.19]
    # 4.4.1: desire F1 81.44 with L_itc, 82.24 with L_si
    assert pt.paper_value(4, "rec-itc", "desire", "f1") == 81.44
    assert pt.paper_value(4, "rec-itc-si", "desire", "f1") == 82.24


def write_summary(folder, f1):
    folder.mkdir(parents=True, exist_ok=True)
    summary = {task: {"test": {"precision": f1 + 0.01, "recall": f1 - 0.01, "f1": f1, "accuracy": 0.9,
                               "f1_std": 0.0}} for task in TASKS}
    (folder / "summary.json").write_text(json.dumps(summary))


def test_compare_puts_each_summary_in_its_rows(tmp_path):
    write_summary(tmp_path, 0.5)                              # the main run
    write_summary(tmp_path / "table3" / "sydes-b", 0.25)      # SyDES-B
    frame = pt.compare(4, tmp_path)
    assert frame.loc["rec+itc+si+dc / itc+cls (SyDES)", ("desire", "F1", "ours")] == pytest.approx(50.0)
    assert frame.loc["none / cls (SyDES-B)", ("sentiment", "P", "ours")] == pytest.approx(26.0)
    assert frame.loc["none / cls (SyDES-B)", ("sentiment", "P", "paper")] == 89.09
    assert math.isnan(frame.loc["rec / itc+cls", ("emotion", "F1", "ours")])
    t9 = pt.compare(9, tmp_path)
    assert t9.loc["SyDES-B, text + image", ("emotion", "Acc", "ours")] == pytest.approx(90.0)
    t2 = pt.compare(2, tmp_path)
    assert math.isnan(t2.loc["M3GAT", ("desire", "F1", "paper")])   # printed as "-"
    assert math.isnan(t2.loc["M3GAT", ("desire", "F1", "ours")])    # not a method we run
    todo = pt.missing(4, tmp_path, "smoke")
    assert "none / cls (SyDES-B)" not in todo and "rec+itc+si+dc / itc+cls (SyDES)" not in todo
    assert f"--out {tmp_path / 'table4' / 'rec'}" in todo["rec / itc+cls"]


def test_a_malformed_summary_names_the_file(tmp_path):
    (tmp_path / "summary.json").write_text(json.dumps({"desire": {"test": {"f1": 84.02}}}))
    with pytest.raises(ValueError, match=r"summary\.json: desire\.test\.f1 = 84\.02 is not a fraction"):
        pt.compare(2, tmp_path)
    (tmp_path / "summary.json").write_text(json.dumps({"desire": {"dev": {}}}))
    with pytest.raises(ValueError, match="has no 'test' metrics"):
        pt.load_summary(tmp_path / "summary.json")
    (tmp_path / "summary.json").write_text("{")
    with pytest.raises(ValueError, match="not valid JSON"):
        pt.load_summary(tmp_path / "summary.json")


def test_commands_name_the_run_folder_and_switches():
    cmd = shlex.split(pt.reproduce_command("full", "table9/sydes-b-text-only"))
    assert cmd[:4] == ["python", "-m", "sydes_mini", "reproduce"]
    assert cmd[cmd.index("--out") + 1] == "runs/full/table9/sydes-b-text-only"
    assert cmd[cmd.index("--data") + 1] == "data/MSED"
    assert "--init" in cmd and cmd[cmd.index("--init") + 1] == "none"
    assert [cmd[i + 1] for i, x in enumerate(cmd) if x == "--set"] == ["train.finetune_losses=cls", "data.modality=text"]
    assert "--data" not in pt.reproduce_command("smoke", pt.MAIN)
    assert pt.reproduce_command("smoke", pt.MAIN).endswith("--out runs/smoke")
    pm = pt.papermill_commands("full", "table3/sydes-b")
    assert len(pm) == 3 and all("-p init none" in line for line in pm)   # no pretraining notebook
    assert len(pt.papermill_commands("full", "table6/mask-0.90")) == 4


def test_cli_prints_one_command_per_run(capsys):
    assert pt.main(["--profile", "smoke", "--commands"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == len(pt.RUNS)
    assert sum(line.startswith("python -m sydes_mini reproduce") for line in lines) == len(pt.RUNS) - 1
    assert "python -m sydes_mini baseline --data data/toy --out runs/smoke/table3/tfidf/summary.json" in lines


@pytest.mark.parametrize("name", ["book/reproduce.md", "README.md"])
def test_the_reproduce_page_and_readme_have_the_registrys_commands(name, tmp_path):
    page = Path(__file__).parents[1] / name
    copy = tmp_path / "page.md"
    copy.write_text(page.read_text())
    pt.update_markdown(copy)
    assert copy.read_text() == page.read_text(), \
        f"{name} is out of date: run python -m sydes_mini.paper_tables --update {name}"
    unwrapped = pt.unwrap_commands(page.read_text())                    # the shell's line continuations
    for run in pt.RUNS:
        assert pt.reproduce_command("full", run) in " ".join(unwrapped.split())
        assert pt.unwrap_commands(pt.wrap_command(pt.reproduce_command("full", run), "  ")) == \
            pt.reproduce_command("full", run)
    (tmp_path / "bad.md").write_text("no block")
    with pytest.raises(ValueError, match="no generated block"):
        pt.update_markdown(tmp_path / "bad.md")


@pytest.mark.parametrize("run", list(pt.RUNS))
def test_every_command_is_accepted_by_the_cli(run, capsys):
    from sydes_mini.cli import build_parser
    for profile in ("smoke", "full"):
        args = build_parser().parse_args(shlex.split(pt.reproduce_command(profile, run))[3:])
        if pt.RUNS[run].baseline:
            assert args.command == "baseline" and args.out == str(pt.run_dir(f"runs/{profile}", run) / "summary.json")
            continue
        assert args.command == "reproduce" and args.profile == profile
        assert args.out == str(pt.run_dir(f"runs/{profile}", run)) and args.overrides == list(pt.RUNS[run].overrides)


@pytest.mark.parametrize("profile", ["smoke", "full"])
def test_make_reproduce_runs_the_registrys_papermill_commands(profile):
    """`make reproduce` is the main run of book/reproduce.md through the notebooks, then the tables."""
    import shutil
    import subprocess
    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    root = Path(__file__).parents[1]
    dry = subprocess.run(["make", "-n", "-o", ".venv/.installed", "reproduce", f"PROFILE={profile}"], cwd=root,
                         capture_output=True, text=True, check=True).stdout.splitlines()
    expected = [*pt.papermill_commands(profile, pt.MAIN), pt.tables_command(profile)]
    assert [shlex.split(x) for x in dry if x.startswith("papermill")] == [shlex.split(x) for x in expected]


def test_msed_statistics_are_transcribed_consistently():
    from sydes_mini.labels import LABELS
    from sydes_mini.paper_tables import MSED_CLASSES, MSED_SPLITS
    from sydes_mini.toy import SENTIMENT_OF
    assert sum(MSED_SPLITS.values()) == 9190                                    # Table 1's total
    for task, rows in MSED_CLASSES.items():
        assert tuple(rows) == LABELS[task]                                      # every class, in our order
        train, validation, test = (sum(c[i] for c in rows.values()) for i in range(3))
        assert (train, test) == (MSED_SPLITS["train"], MSED_SPLITS["test"]), task
        assert validation == (1015 if task == "desire" else MSED_SPLITS["validation"]), task   # as printed
    coarse = {s: [0, 0, 0] for s in LABELS["sentiment"]}                        # sentiment = coarsened emotion
    for emotion, counts in MSED_CLASSES["emotion"].items():
        for i, c in enumerate(counts):
            coarse[SENTIMENT_OF.get(emotion, "negative")][i] += c
    assert {s: tuple(c) for s, c in coarse.items()} == MSED_CLASSES["sentiment"]
