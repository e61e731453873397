"""`python -m sydes_mini data check | synth | download`: exit status, JSON on stdout, summary on stderr."""
import io
import json
import subprocess
import sys
import zipfile

from conftest import HEADER, broken_folder, write_split
from sydes_mini.cli import main
from sydes_mini.data import read_split


def run_main(capsys, *argv):
    """``main(argv)`` -> (exit status, stdout, stderr)."""
    status = main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


def test_check_clean_folder_in_a_subprocess(msed):
    run = subprocess.run([sys.executable, "-m", "sydes_mini", "data", "check", str(msed)],
                         capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    report = json.loads(run.stdout)
    assert report["problems"] == []
    assert {s: v["n"] for s, v in report["splits"].items()} == {"train": 2, "dev": 2, "test": 2}
    # write_split's two rows: (positive, happiness, none) and (negative, sad, family)
    assert report["splits"]["test"]["labels"]["desire"] == {
        "vengeance": 0, "curiosity": 0, "social-contact": 0, "family": 1, "tranquility": 0, "romance": 0, "none": 1}
    assert report["splits"]["train"]["labels"]["sentiment"] == {"negative": 1, "neutral": 0, "positive": 1}
    assert "dev: 2 rows" in run.stderr and "0 problem(s)" in run.stderr


def test_check_broken_folder_lists_every_problem(tmp_path, capsys):
    broken_folder(tmp_path)
    write_split(tmp_path, "dev", header=["Title", "Text"] + HEADER[2:])      # renamed column
    status, out, err = run_main(capsys, "data", "check", str(tmp_path))
    assert status == 2
    problems = json.loads(out)["problems"]
    assert {(p["split"], p["row"]) for p in problems} == {
        ("train", 1), ("train", 2), ("train", 3), ("train", 4), ("train", 8), ("train", None),
        ("dev", None), ("test", None)}
    for p in problems:
        assert p["file"] and "Fix: " in p["message"], p
        assert f"{p['file']}: {p['message']}" in err                # each one in the summary too
    assert f"train row 3: {tmp_path / 'train' / 'images' / '3.jpg'}: image is unreadable, truncated" in err
    assert "unknown desire label 'wealth'; allowed: vengeance" in err
    assert "missing column(s) ['Caption']" in err and "CSV file is missing" in err
    assert "train: 9 rows; 1 images with a side under 448 px, 1 empty captions, 1 captions over 77" in err
    assert len(problems) == 8 and "8 problem(s):" in err


def test_json_only_keeps_stderr_empty(tmp_path, capsys):
    broken_folder(tmp_path)
    status, out, err = run_main(capsys, "data", "check", str(tmp_path), "--json-only")
    assert status == 2 and err == "" and json.loads(out)["splits"]["train"]["n"] == 9


def test_max_pixels_option(msed, capsys):
    status, out, _ = run_main(capsys, "data", "check", str(msed), "--max-pixels", "1000")   # 64 x 48 > 1000
    problems = json.loads(out)["problems"]
    assert status == 2 and len(problems) == 6 and "--max-pixels N" in problems[0]["message"]
    assert run_main(capsys, "data", "check", str(msed), "--max-pixels", "3072")[0] == 0      # exactly 64 x 48


def test_synth_writes_a_checked_world_deterministic_by_seed(tmp_path, capsys):
    def synth(name, seed, *extra):
        status, _, err = run_main(capsys, "data", "synth", "--out", str(tmp_path / name), "--n-train", "3",
                                  "--n-dev", "1", "--n-test", "2", "--seed", str(seed), *extra)
        assert status == 0 and str(tmp_path / name) in err and "train 3, dev 1, test 2" in err
        return {p.relative_to(tmp_path / name): p.read_bytes() for p in sorted((tmp_path / name).rglob("*.*"))}

    a, b, c = synth("a", 7), synth("b", 7), synth("c", 8)
    assert len(a) == (3 + 1 + 2) + 3 + 1 and a == b      # images, CSVs, toy_world.json: identical bytes
    assert a[next(k for k in a if k.name == "train.csv")] != c[next(k for k in c if k.name == "train.csv")]
    status, out, _ = run_main(capsys, "data", "check", str(tmp_path / "a"))
    assert status == 0 and json.loads(out)["splits"]["test"]["n"] == 2
    status, _, err = run_main(capsys, "data", "synth", "--out", str(tmp_path / "a"), "--n-train", "1")
    assert status == 2 and "--overwrite" in err and "Traceback" not in err
    synth("a", 7, "--overwrite", "--p-text-names-label", "1")
    assert all("feeling " in r.caption for r in read_split(tmp_path / "a", "train"))


def test_download_needs_the_license(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr("sys.stdin", io.StringIO("yes\n"))             # not a terminal: no prompt
    status, _, err = run_main(capsys, "data", "download", "--to", str(tmp_path / "MSED"),
                              "--url", "http://127.0.0.1:1/x.zip")
    assert status == 2 and "research use only" in err
    assert "error: MSED license not accepted; rerun with --accept-license" in err
    assert not (tmp_path / "MSED").exists()


def test_download_offline_says_so_and_how_to_place_a_copy(tmp_path, capsys):
    status, _, err = run_main(capsys, "data", "download", "--to", str(tmp_path / "MSED"), "--accept-license",
                              "--url", "http://127.0.0.1:1/x.zip", "--timeout", "5")   # port 1: refused at once
    assert status == 2 and "Traceback" not in err
    to = tmp_path / "MSED"
    assert "cannot reach the server" in err and f"place its train/ dev/ test/ folders in {to} " in err
    assert not to.exists()                                   # a failed first try leaves no empty folder


def test_download_of_a_missing_file_url_says_so(tmp_path, capsys):
    status, _, err = run_main(capsys, "data", "download", "--to", str(tmp_path / "MSED"), "--accept-license",
                              "--url", f"file://{tmp_path}/nothere.zip")
    assert status == 2 and "cannot open the archive" in err and "cannot reach the server" not in err
    assert not (tmp_path / "MSED").exists()


def test_download_checks_msed_split_sizes(tmp_path, capsys):
    for split in ("train", "dev", "test"):
        write_split(tmp_path / "src", split)
    archive = tmp_path / "msed.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for f in (tmp_path / "src").rglob("*"):
            zf.write(f, f.relative_to(tmp_path / "src").as_posix())
    status, _, err = run_main(capsys, "data", "download", "--to", str(tmp_path / "MSED"), "--accept-license",
                              "--url", archive.as_uri())
    assert status == 2 and "train has 2 rows, expected 6127" in err
