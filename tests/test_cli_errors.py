"""Bad input through the command line (issue 14): one line on stderr naming the fix, exit status 2,
no traceback, nothing written, before any work. One row per case; then the fix commands themselves."""
import re
import shlex
import signal
import subprocess
import sys

import huggingface_hub
import pytest
import torch

from sydes_mini.cli import build_parser, main
from sydes_mini.config import get_config
from sydes_mini.paper_tables import unwrap_commands
from sydes_mini.toy import synth

TINY = "--epochs 1 --batch-size 4 --max-steps 1"
OFFLINE = "offline"       # the row runs with HF_HUB_OFFLINE=1 and empty weight caches

# (id, command line with {placeholders}, words the one stderr line must contain, flags)
ROWS = [
    ("epochs-0", "pretrain --data {toy} --out {out} --epochs 0", "--epochs: 0 must be at least 1", ""),
    ("set-epochs-negative", "pretrain --data {toy} --out {out} --set train.epochs_pretrain=-1",
     "train.epochs_pretrain=-1 must be at least 1", ""),
    ("max-steps-negative", "pretrain --data {toy} --out {out} --max-steps -1", "--max-steps: -1 must be 0", ""),
    ("batch-size-0", "pretrain --data {toy} --out {out} --batch-size 0", "--batch-size: 0 must be at least 1", ""),
    ("grad-accum-0", "finetune --task desire --init none --data {toy} --out {out} --grad-accum 0",
     "--grad-accum: 0 must be at least 1", ""),
    ("set-grad-accum-0", "pretrain --data {toy} --out {out} --set train.grad_accum=0",
     "train.grad_accum=0 must be at least 1", ""),
    ("set-profile", "pretrain --data {toy} --out {out} --set profile=full", "chosen with --profile full", ""),
    ("seed-negative", "pretrain --data {toy} --out {out} --seed -1", "--seed: -1 must be 0 or more", ""),
    ("set-seed-negative", "pretrain --data {toy} --out {out} --set seed=-1", "seed=-1 must be in 0", ""),
    ("seeds-0", "reproduce --data {toy} --out {out} --seeds 0", "--seeds: 0 must be at least 1", ""),
    ("no-abbreviations", "reproduce --data {toy} --out {out} --seed 7 --ep 1", "unrecognized arguments: --ep 1", ""),
    ("bench-batch-0", "bench --batch-size 0", "--batch-size: 0 must be at least 1", ""),
    ("bench-steps-0", "bench --steps 0", "--steps: 0 must be at least 1", ""),
    ("bench-old-option", "bench --batch 2", "unrecognized arguments: --batch 2", ""),
    ("cuda-pretrain", "pretrain --data {toy} --out {out} --device cuda", "use --device cpu", "gpu"),
    ("cuda-reproduce", "reproduce --data {toy} --out {out} --device cuda", "use --device cpu", "gpu"),
    ("cuda-evaluate", "evaluate --checkpoint {run}/pretrain/best.safetensors --out {out}/m.json --device cuda",
     "use --device cpu", "gpu"),
    ("cuda-bench", "bench --device cuda", "use --device cpu", "gpu"),
    ("not-a-device", "pretrain --data {toy} --out {out} --device gpu0", "not a device", ""),
    ("missing-data", "pretrain --data {out}/nodata --out {out}", "CSV file is missing", ""),
    ("empty-train-finetune", "finetune --task desire --init none --data {empty_train} --out {out} --epochs 1 "
     "--set train.cache_features=false", "train split has no rows", ""),
    ("empty-dev", "finetune --task emotion --init none --data {empty_dev} --out {out}", "dev split has no rows", ""),
    ("corrupt-test-image", "finetune --task emotion --init none --data {bad_test} --out {out} " + TINY,
     "test/images/1.jpg, row 1: image is unreadable", ""),
    ("corrupt-images-counted", "finetune --task emotion --init none --data {bad_test} --out {out}",
     "1 more problem(s) in", ""),
    ("weights-pretrain", "pretrain --profile full --data {toy} --out {out}", "this machine is offline", OFFLINE),
    ("weights-describe", "describe --profile full --pretrained", "this machine is offline", OFFLINE),
    ("weights-reproduce", "reproduce --profile full --data {toy} --out {out}", "this machine is offline", OFFLINE),
    ("init-missing", "finetune --task desire --init {out}/nothere --data {toy} --out {out}", "--init none", ""),
    ("init-other-widths", "finetune --task desire --init {run}/pretrain --data {toy} --out {out} "
     "--set model.text_decoder_width=32", "model.text_decoder_width=64 there, 32 here", ""),
    ("init-none-over-a-run", "reproduce --init none --data {toy} --out {run} " + TINY,
     "holds a run with pretraining", ""),
    ("other-settings-over-a-run", "reproduce --data {toy} --out {run} --epochs 2 --batch-size 4 --max-steps 1",
     "train.epochs_pretrain", ""),
    ("resume-nothing", "pretrain --data {toy} --out {out} --resume", "nothing to resume", ""),
    ("run-exists", "pretrain --data {toy} --out {run}", "pass --resume to continue it", ""),
    ("out-is-a-file", "pretrain --data {toy} --out {file}", "is a file, not a folder", ""),
    ("evaluate-out-is-a-folder", "evaluate --checkpoint {run}/pretrain/best.safetensors --out {run}",
     "is a folder; give a file name", ""),
    ("evaluate-missing-checkpoint", "evaluate --checkpoint {out}/best.safetensors --data {toy} --out {out}/m.json",
     "not found", ""),
    ("baseline-bad-data", "baseline --data {empty_dev} --out {out}/b.json", "dev split has no rows", ""),
    ("data-synth-exists", "data synth --out {toy} --n-train 1", "--overwrite", ""),
]


@pytest.fixture(scope="module")
def worlds(tmp_path_factory):
    """A tiny toy world, one with an empty dev split, one with a corrupt test image, and a pretrained run."""
    root = tmp_path_factory.mktemp("worlds")
    toy = synth(root / "toy", n_train=4, n_dev=2, n_test=2, seed=3)
    empty_dev = synth(root / "empty_dev", n_train=4, n_dev=0, n_test=2, seed=3)
    empty_train = synth(root / "empty_train", n_train=0, n_dev=2, n_test=2, seed=3)
    bad_test = synth(root / "bad_test", n_train=4, n_dev=2, n_test=2, seed=3)
    for k in (1, 2):
        image = bad_test / "test" / "images" / f"{k}.jpg"
        image.write_bytes(image.read_bytes()[:200])
    run = root / "run"
    assert main(["pretrain", "--data", str(toy), "--out", str(run), *TINY.split()]) == 0
    (root / "a_file").write_text("not a folder")
    return {"toy": toy, "empty_dev": empty_dev, "empty_train": empty_train, "bad_test": bad_test, "run": run,
            "file": root / "a_file"}


def offline(monkeypatch, tmp_path):
    """No internet and empty weight caches (Hugging Face's and open_clip's ~/.cache/clip)."""
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(tmp_path / "hf"))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))


def snapshot(folder):
    return {p: p.stat().st_mtime_ns for p in sorted(folder.rglob("*"))} if folder.exists() else None


def time_limit(seconds: int):
    """Fail (TimeoutError) instead of hanging: a bad input must stop a command at once."""
    def expired(*_):
        raise TimeoutError(f"still running after {seconds} s")
    signal.signal(signal.SIGALRM, expired)
    signal.alarm(seconds)


def run_row(command, worlds, out, capsys, seconds=120):
    argv = shlex.split(command.format(out=out, **{k: str(v) for k, v in worlds.items()}))
    capsys.readouterr()
    time_limit(seconds)
    try:
        status = main(argv)
    except SystemExit as e:              # argparse: usage errors exit from inside parse_args
        status = e.code
    finally:
        signal.alarm(0)
    return status, *capsys.readouterr()


@pytest.mark.parametrize("command, words, flags", [pytest.param(*r[1:], id=r[0]) for r in ROWS])
def test_bad_input_is_one_line_exit_2_and_nothing_written(command, words, flags, worlds, tmp_path, capsys,
                                                          monkeypatch):
    if flags == "gpu" and torch.cuda.is_available():
        pytest.skip("this machine has a GPU")
    if flags == OFFLINE:
        offline(monkeypatch, tmp_path)
    out = tmp_path / "out"
    before = {name: snapshot(worlds[name]) for name in ("toy", "run", "empty_dev", "empty_train", "bad_test")}
    status, stdout, err = run_row(command, worlds, out, capsys)
    assert status == 2, err
    assert "Traceback" not in err and words in err, err
    assert len(err.strip().splitlines()) == 1, err
    assert not out.exists() or not any(out.iterdir()), sorted(out.rglob("*"))
    assert {name: snapshot(worlds[name]) for name in before} == before          # nothing else touched


def test_an_empty_train_split_fails_at_once_instead_of_looping(worlds, tmp_path):
    """The case that used to loop forever (issue 14, item 1), as a user meets it: a real process, a time limit.
    (Every row above runs under a time limit too.)"""
    run = subprocess.run([sys.executable, "-m", "sydes_mini", "pretrain", "--data", str(worlds["empty_train"]),
                          "--out", str(tmp_path / "run"), "--epochs", "1"], capture_output=True, text=True, timeout=120)
    assert run.returncode == 2 and "train split has no rows" in run.stderr, run.stderr
    assert len(run.stderr.strip().splitlines()) == 1 and not (tmp_path / "run").exists()


def test_reproduce_takes_the_training_options_and_no_abbreviation(capsys):
    parser = build_parser()
    args = parser.parse_args(["reproduce", "--out", "r", "--seed", "7", "--epochs", "2", "--device", "cpu",
                              "--max-steps", "3", "--batch-size", "4", "--grad-accum", "2"])
    assert (args.seed, args.seeds, args.epochs, args.device, args.max_steps) == (7, 1, 2, "cpu", 3)
    from sydes_mini.commands._common import explicit_overrides
    cfg = get_config("smoke", explicit_overrides(args, skip=("data",)))
    assert (cfg.seed, cfg.train.epochs_pretrain, cfg.train.epochs_finetune, cfg.train.max_steps,
            cfg.train.grad_accum) == (7, 2, 2, 3, 2)
    for command in ("pretrain", "finetune", "reproduce", "bench", "evaluate"):
        with pytest.raises(SystemExit):
            main([command, "--help"])
        help_text = " ".join(capsys.readouterr().out.split())
        assert "--device DEV" in help_text and "exit status: 0 done" in help_text, command
    for command in ([], ["baseline"], ["describe"], ["data"], ["data", "check"]):
        with pytest.raises(SystemExit):
            main([*command, "--help"])
        help_text = capsys.readouterr().out
        assert "``" not in help_text and ":func:" not in help_text, command      # no reST markup


# -- the fix commands that messages print are real -----------------------------------------------

COMMAND = re.compile(r"`python -m sydes_mini ([^`]+)`")


def printed_commands(text: str) -> list[str]:
    return COMMAND.findall(text)


def test_every_command_a_message_prints_exists(worlds, tmp_path, capsys, monkeypatch):
    """Collect the fix texts of the rows that print a command and run each command (placeholders filled)."""
    offline(monkeypatch, tmp_path)
    messages = []
    for rid in ("missing-data", "empty-dev", "init-missing", "corrupt-test-image"):
        command = next(r[1] for r in ROWS if r[0] == rid)
        messages.append(run_row(command, worlds, tmp_path / "out", capsys)[2])
    status, _, err = run_row("data download --to {out}/MSED --accept-license --url http://127.0.0.1:1/x.zip "
                             "--timeout 5", worlds, tmp_path / "out", capsys)
    messages.append(err.splitlines()[-1])
    commands = [c for m in messages for c in printed_commands(m)]
    assert {c.split()[0] + " " + c.split()[1] for c in commands} >= {"data synth", "data check", "pretrain --out"}
    for i, command in enumerate(commands):
        filled = command.replace("DIR", str(tmp_path / f"fix{i}")).replace("RUN", str(tmp_path / f"run{i}"))
        argv = shlex.split(filled)
        if argv[:2] == ["data", "download"]:        # needs the internet: it must at least parse
            build_parser().parse_args(argv)
            continue
        if argv[0] == "pretrain":
            argv += ["--data", str(worlds["toy"]), *TINY.split()]
        if argv[:2] == ["data", "synth"]:           # the same command, a smaller world
            argv += ["--n-train", "4", "--n-dev", "2", "--n-test", "2"]
        assert main(argv) in (0, 2 if argv[:2] == ["data", "check"] else 0), filled
    # the --set fixes name real config fields
    for item in re.findall(r"--set (\S+=\S+)", " ".join(messages)):
        get_config("smoke", [item.rstrip(")")])


def test_every_command_in_the_package_messages_parses(capsys):
    """Every `python -m sydes_mini ...` written in the package's messages names a real command and real options
    (a mention such as `python -m sydes_mini baseline` may leave out required options)."""
    from pathlib import Path

    import sydes_mini
    parser = build_parser()
    found = 0
    for source in Path(sydes_mini.__file__).parent.rglob("*.py"):
        for command in printed_commands(source.read_text()):
            argv = shlex.split(re.sub(r"\{[^}]*\}", "X", command).replace("...", ""))
            if "COMMAND" in argv:
                continue
            try:
                assert not parser.parse_known_args(argv)[1], command
            except SystemExit:
                assert "the following arguments are required" in capsys.readouterr().err, command
            found += 1
    assert found >= 5


def test_every_command_in_the_readme_and_the_book_parses(capsys):
    """The command lines the README and the book show use real commands and options."""
    from pathlib import Path
    root = Path(__file__).resolve().parent.parent
    parser, found = build_parser(), 0
    for page in [root / "README.md", *sorted((root / "book").glob("*.md"))]:
        for line in unwrap_commands(page.read_text()).splitlines():          # one line per command
            match = re.match(r"\s*(?:\$ )?python -m sydes_mini (\S.*?)\s*(?:#.*)?$", line)
            if not match or "|" in match.group(1) or "..." in match.group(1) or "<" in match.group(1):
                continue                 # "pretrain | finetune | evaluate ..." and <placeholders> are prose
            argv = shlex.split(match.group(1))
            try:
                assert not parser.parse_known_args(argv)[1], line
            except SystemExit:
                assert "the following arguments are required" in capsys.readouterr().err, line
            found += 1
    assert found >= 20
