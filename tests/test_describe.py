"""`python -m sydes_mini describe`: the JSON contract of issue 3, for both profiles and stages."""
import json
import subprocess
import sys

import pytest

from sydes_mini.commands.describe import describe
from sydes_mini.stages import trainable_modules

NAMES = {"image_encoder", "text_encoder", "image_decoder", "aggregator", "text_decoder", "head"}


def check(summary: dict, stage: str) -> None:
    modules = summary["modules"]
    assert NAMES <= set(modules)
    # every parameter belongs to exactly one named component
    assert summary["total_params"] == sum(m["params"] for m in modules.values())
    # trainable parts are exactly those of the stage (paper 3.4), and the counts add up
    trained = {path.split(".")[0] for path in trainable_modules(stage, summary["variant"])}
    assert {n for n, m in modules.items() if m["trainable"]} == trained & set(modules)
    assert summary["trainable_params"] == sum(m["trainable"] for m in modules.values())
    assert summary["trainable_params"] == sum(g["params"] for g in summary["groups"].values())


@pytest.mark.parametrize("stage", ["pretrain", "finetune"])
def test_describe_cli_smoke(stage):
    run = subprocess.run([sys.executable, "-m", "sydes_mini", "describe", "--profile", "smoke", "--stage", stage],
                         capture_output=True, text=True, check=True)
    summary = json.loads(run.stdout)
    assert (summary["profile"], summary["stage"]) == ("smoke", stage)
    check(summary, stage)


def test_describe_full_offline_random_weights():
    summary = describe("full", "finetune", pretrained=False)
    check(summary, "finetune")
    # paper 3.2.3 / 3.2.4 sizes: the decoders are far larger than in smoke
    assert summary["modules"]["text_decoder"]["params"] > 100_000_000
    assert summary["modules"]["image_decoder"]["params"] > 20_000_000


def test_describe_override_changes_model():
    plain = describe("smoke", "pretrain")
    global_only = describe("smoke", "pretrain", overrides=["model.use_crops=false"])
    assert "image_decoder" in plain["modules"] and "image_decoder" not in global_only["modules"]
    assert global_only["total_params"] < plain["total_params"]
