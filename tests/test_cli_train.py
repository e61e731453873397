"""Training commands: --help explains every option; expected failures are one clear line and exit status 2."""
import json

import pytest

from sydes_mini.cli import main
from sydes_mini.toy import synth

COMMON = ["--epochs", "--batch-size", "--grad-accum", "--seed", "--device", "--precision", "--num-workers",
          "--save-every-steps", "--resume", "--max-steps", "--set", "--profile", "--data", "--out"]


@pytest.mark.parametrize("command, extra", [("pretrain", []), ("finetune", ["--task", "--init"])])
def test_help_lists_every_option(command, extra, capsys):
    with pytest.raises(SystemExit):
        main([command, "--help"])
    text = capsys.readouterr().out
    for option in COMMON + extra:
        assert option in text, option


@pytest.mark.parametrize("command, words", [("evaluate", ["--checkpoint", "--split"]),
                                            ("reproduce", ["--seeds", "--profile", "toy"]),
                                            ("bench", ["--batch-size", "--steps", "finetune_cached_samples_per_s"])])
def test_help_of_other_commands(command, words, capsys):
    with pytest.raises(SystemExit):
        main([command, "--help"])
    text = capsys.readouterr().out
    assert all(w in text for w in words)


@pytest.fixture(scope="module")
def toy(tmp_path_factory):
    return synth(tmp_path_factory.mktemp("toy"), n_train=8, n_dev=4, n_test=4, seed=2)


def test_pretrain_finetune_evaluate_from_the_command_line(toy, tmp_path, capsys):
    run = tmp_path / "run"
    base = ["--data", str(toy), "--out", str(run), "--batch-size", "4", "--epochs", "1"]
    assert main(["pretrain", *base, "--set", "model.mask_ratio=0.5"]) == 0
    assert main(["finetune", "--task", "sentiment", "--init", str(run / "pretrain"), *base,
                 "--set", "model.mask_ratio=0.5"]) == 0
    printed = json.loads(capsys.readouterr().out.split("\n}\n")[-2] + "\n}")
    assert printed["metrics_test"].endswith("finetune/sentiment/metrics_test.json")
    saved = json.loads((run / "finetune" / "sentiment" / "config.json").read_text())
    assert saved["model"]["mask_ratio"] == 0.5 and saved["train"]["batch_size"] == 4
    out = tmp_path / "new" / "dev.json"                 # its folder is created; --data defaults to the run's
    ckpt = run / "finetune" / "sentiment" / "best.safetensors"
    assert main(["evaluate", "--checkpoint", str(ckpt), "--split", "dev", "--out", str(out)]) == 0
    metrics = json.loads(out.read_text())
    assert metrics["split"] == "dev" and metrics["n"] == 4 and metrics["labels"] == ["negative", "neutral", "positive"]
    assert len(metrics["confusion_matrix"]) == 3


def test_failures_are_one_clear_line(toy, tmp_path, capsys):
    base = ["--data", str(toy), "--out", str(tmp_path / "run")]
    assert main(["finetune", "--task", "desire", "--init", str(tmp_path / "missing"), *base]) == 2
    assert "--init none" in capsys.readouterr().err
    assert main(["pretrain", *base, "--resume"]) == 2
    assert "nothing to resume" in capsys.readouterr().err
    bad = tmp_path / "bad.safetensors"
    bad.write_bytes(b"not a checkpoint")
    assert main(["evaluate", "--checkpoint", str(bad), "--data", str(toy), "--out", str(tmp_path / "x.json")]) == 2
    assert str(bad) in capsys.readouterr().err
