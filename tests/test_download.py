"""download_msed against a local HTTP server (with Range support) and file:// URLs."""
import io
import threading
import zipfile
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from conftest import write_split
from sydes_mini.data import DataError, read_split
from sydes_mini.download import download_msed

SIZES = {"train": 2, "dev": 2, "test": 2}


def make_zip(path, tmp_path, extra=None):
    """An MSED-format archive nested like GitHub's (``MSED-main/train/train.csv`` ...)."""
    src = tmp_path / "src"
    for split in SIZES:
        write_split(src, split)
    with zipfile.ZipFile(path, "w") as zf:
        for f in sorted(src.rglob("*")):
            zf.write(f, "MSED-main/" + f.relative_to(src).as_posix())
        for name, info in (extra or {}).items():
            zf.writestr(info if isinstance(info, zipfile.ZipInfo) else name, b"x")
    return path


class RangeHandler(BaseHTTPRequestHandler):
    """Serves ``self.server.payload`` at any path, honouring ``Range: bytes=N-``."""

    def do_GET(self):
        data, rng = self.server.payload, self.headers.get("Range")
        self.server.ranges.append(rng)
        start = int(rng.split("=")[1].rstrip("-")) if rng else 0
        if start >= len(data) and rng:
            self.send_response(416)
            self.end_headers()
            return
        self.send_response(206 if rng else 200)
        if rng:
            self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
        self.send_header("Content-Length", str(len(data) - start))
        self.end_headers()
        self.wfile.write(data[start:])

    def log_message(self, *args):
        pass


@pytest.fixture
def server(tmp_path):
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), RangeHandler)
    httpd.payload = make_zip(tmp_path / "msed.zip", tmp_path).read_bytes()
    httpd.ranges = []
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield httpd
    httpd.shutdown()
    httpd.server_close()


def url_of(httpd):
    return f"http://127.0.0.1:{httpd.server_address[1]}/main.zip"


def test_http_download_then_second_call_does_nothing(server, tmp_path):
    to = download_msed(tmp_path / "MSED", url_of(server), accept_license=True, expected_sizes=SIZES)
    assert [r.index for r in read_split(to, "test")] == [1, 2] and (to / "dev" / "images" / "2.jpg").is_file()
    assert (to / ".complete").exists() and not (to / ".partial").exists() and not (to / ".extract").exists()
    download_msed(to, "http://127.0.0.1:1/gone.zip", accept_license=True)   # no network touched
    assert server.ranges == [None]


def test_interrupted_download_resumes_with_range(server, tmp_path):
    to = tmp_path / "MSED"
    to.mkdir()
    half = len(server.payload) // 2
    (to / ".partial").write_bytes(server.payload[:half])
    download_msed(to, url_of(server), accept_license=True, expected_sizes=SIZES)
    assert server.ranges == [f"bytes={half}-"]
    assert len(read_split(to, "train")) == 2


def test_file_url_restarts_cleanly_over_a_stale_partial(tmp_path):
    archive = make_zip(tmp_path / "msed.zip", tmp_path)
    to = tmp_path / "MSED"
    to.mkdir()
    (to / ".partial").write_bytes(b"garbage that must not stay in front")
    download_msed(to, archive.as_uri(), accept_license=True, expected_sizes=SIZES)
    assert len(read_split(to, "dev")) == 2


@pytest.mark.parametrize("member", ["../evil.txt", "/abs/evil.txt", "link"])
def test_unsafe_archive_is_refused(tmp_path, member):
    info = zipfile.ZipInfo(member)
    if member == "link":
        info.external_attr = 0o120777 << 16          # a symlink entry
    archive = make_zip(tmp_path / "bad.zip", tmp_path, {member: info})
    with pytest.raises(DataError, match="refusing to extract"):
        download_msed(tmp_path / "MSED", archive.as_uri(), accept_license=True, expected_sizes=None)
    assert not (tmp_path / "evil.txt").exists() and not (tmp_path / "MSED" / "train").exists()


def test_license_must_be_accepted(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr("sys.stdin", io.StringIO("yes\n"))   # not a terminal: no prompt
    with pytest.raises(PermissionError, match="--accept-license"):
        download_msed(tmp_path / "MSED", "http://127.0.0.1:1/x.zip")
    assert "research use only" in capsys.readouterr().err


def test_unreachable_host_gives_manual_copy_instructions(tmp_path):
    with pytest.raises(DataError, match=r"cannot reach.*MSED/train/train\.csv"):
        download_msed(tmp_path / "MSED", "http://127.0.0.1:1/x.zip", accept_license=True, timeout=5)


def test_sizes_are_checked(server, tmp_path):
    with pytest.raises(DataError, match="train has 2 rows, expected 6127"):
        download_msed(tmp_path / "MSED", url_of(server), accept_license=True)
