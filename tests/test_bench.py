"""bench: the JSON contract (no timing assertions: timing is what bench reports, not what tests check)."""
import json

from sydes_mini.cli import main


def test_bench_json_has_every_key(capsys):
    assert main(["bench", "--profile", "smoke", "--device", "cpu", "--batch-size", "2", "--steps", "1"]) == 0
    out = json.loads(capsys.readouterr().out)
    for key in ("pretrain_samples_per_s", "finetune_samples_per_s", "finetune_cached_samples_per_s"):
        assert out[key] > 0
    assert out["batch"] == 2 and out["threads"] >= 1 and out["torch"] and out["peak_cpu_rss_mb"] > 0
    assert "device" in out
