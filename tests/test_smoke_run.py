"""reproduce.smoke_run: a chapter loads the finished smoke run, or trains it in place when it is missing."""
import json

from sydes_mini import reproduce


def test_a_finished_run_is_loaded_and_a_missing_one_is_trained_there(tmp_path, monkeypatch):
    calls = []

    def fake_reproduce(profile, out, data=None, **kwargs):       # the real one is tested in test_reproduce
        calls.append((profile, out, data))
        out.mkdir(parents=True)
        (out / "summary.json").write_text(json.dumps({}))
        (out / "data.json").write_text(json.dumps({"fingerprint": reproduce.data_fingerprint(data)}))

    monkeypatch.setattr(reproduce, "reproduce", fake_reproduce)
    monkeypatch.setattr(reproduce, "ensure_toy_world", lambda root: tmp_path / "toy")
    run = tmp_path / "runs" / "smoke"
    assert reproduce.smoke_run(run, tmp_path / "toy") == run
    assert calls == [("smoke", run, tmp_path / "toy")]               # trained once, into run_dir
    assert reproduce.smoke_run(run, tmp_path / "toy") == run
    assert len(calls) == 1                                            # then only loaded
