"""Download MSED (github.com/MSEDdataset/MSED) onto this machine, once, after showing its license.

Steps: license -> fetch ``<to>/.partial`` (resumed with an HTTP Range request
when the server allows it) -> verify the zip -> extract safely (no absolute
paths, no ``..``, no symlinks) -> move ``train/ dev/ test/`` to ``<to>`` ->
check the split sizes -> write ``<to>/.complete``. A second call finds the
marker and does nothing. Only ``urllib`` is used.
"""
from __future__ import annotations

import shutil
import socket
import sys
import urllib.error
import urllib.request
import zipfile
from pathlib import Path, PurePosixPath

from .images import DataError

DEFAULT_URL = "https://github.com/MSEDdataset/MSED/archive/refs/heads/main.zip"
MSED_SIZES = {"train": 6127, "dev": 1021, "test": 2042}
LICENSE = """\
MSED license (github.com/MSEDdataset/MSED, README "User license"), in short:
  * research use only; any commercial use is forbidden;
  * you may not redistribute the data or any part of it (do not commit it,
    ship it, or leave it in notebook outputs);
  * illustrative use in scientific publications and presentations is allowed;
    cite the MSED paper (Jia et al., "Beyond Emotion: A Multi-Modal Dataset
    for Human Desire Understanding", NAACL 2022);
  * the data comes without any warranty."""
CHUNK = 1 << 16


def offline_error(url: str, reason, to: Path) -> DataError:
    if url.startswith("file:"):
        return DataError(url, f"cannot open the archive ({reason})",
                         "check the path after file:// (it must be absolute: file:///path/to/MSED-main.zip)")
    return DataError(url, f"cannot reach the server ({reason})",
                     "if this machine is offline, get the archive elsewhere from "
                     f"github.com/MSEDdataset/MSED and place its train/ dev/ test/ folders in {to} "
                     f"(so that {to / 'train' / 'train.csv'} exists), then run "
                     f"`python -m sydes_mini data check {to}`")


def accept(accept_license: bool) -> None:
    """Print the license; go on only with ``accept_license`` or a typed "yes" on a terminal."""
    print(LICENSE, file=sys.stderr)
    if accept_license:
        return
    if sys.stdin.isatty() and input("Do you accept these terms? [yes/no] ").strip().lower() == "yes":
        return
    raise PermissionError("MSED license not accepted; rerun with --accept-license (accept_license=True) "
                          "if you agree to its terms")


def open_url(url: str, start: int, timeout: float, to: Path):
    """GET ``url`` from byte ``start`` (a Range request when start > 0); offline -> DataError at once."""
    headers = {"Range": f"bytes={start}-"} if start else {}
    try:
        return urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=timeout)
    except urllib.error.HTTPError as e:
        if e.code == 416 and start:        # nothing left to fetch past `start`: the file is complete
            return None
        raise DataError(url, f"HTTP error {e.code} {e.reason}", "check the URL (--url) and try again") from e
    except (urllib.error.URLError, socket.timeout, ConnectionError) as e:
        raise offline_error(url, getattr(e, "reason", e), to) from e


def fetch(url: str, partial: Path, timeout: float = 30) -> Path:
    """Download ``url`` to ``partial``, resuming a partial file if the server honours Range."""
    from tqdm.auto import tqdm
    start = partial.stat().st_size if partial.exists() else 0
    response = open_url(url, start, timeout, partial.parent)
    if response is None:
        return partial
    with response:
        resumed = start > 0 and getattr(response, "status", None) == 206
        start = start if resumed else 0   # server ignored Range (or file://): restart cleanly
        length = response.headers.get("Content-Length")
        total = start + int(length) if length else None
        with open(partial, "ab" if resumed else "wb") as f, tqdm(
                total=total, initial=start, unit="B", unit_scale=True, desc="MSED", file=sys.stderr) as bar:
            while chunk := response.read(CHUNK):
                f.write(chunk)
                bar.update(len(chunk))
    if total is not None and partial.stat().st_size != total:
        raise DataError(url, f"download stopped at {partial.stat().st_size} of {total} bytes",
                        "run the same command again to resume")
    return partial


def verify_zip(archive: Path) -> None:
    """A whole, uncorrupted zip (CRC of every member); a bad one is deleted so the next run starts over."""
    try:
        with zipfile.ZipFile(archive) as zf:
            bad = zf.testzip()
    except zipfile.BadZipFile:
        bad = "the archive itself"
    if bad:
        archive.unlink()
        raise DataError(archive, f"downloaded archive is corrupt ({bad})", "run the same command again")


def safe_members(zf: zipfile.ZipFile, dest: Path) -> list[zipfile.ZipInfo]:
    """All members, or a DataError for an absolute path, a path leaving ``dest``, or a symlink."""
    root = dest.resolve()
    for info in zf.infolist():
        name = PurePosixPath(info.filename.replace("\\", "/"))
        is_link = (info.external_attr >> 16) & 0o170000 == 0o120000
        outside = name.is_absolute() or ":" in name.parts[0] or not (root / name).resolve().is_relative_to(root)
        if is_link or outside:
            kind = "a symlink" if is_link else "a path outside the target folder"
            raise DataError(zf.filename, f"archive member {info.filename!r} is {kind}; refusing to extract",
                            "download the archive again from the official repository")
    return zf.infolist()


def extract_splits(archive: Path, to: Path) -> None:
    """Extract safely into ``<to>/.extract`` and move the folder holding ``train/train.csv``'s splits to ``to``."""
    staging = to / ".extract"
    shutil.rmtree(staging, ignore_errors=True)
    with zipfile.ZipFile(archive) as zf:
        zf.extractall(staging, members=safe_members(zf, staging))
    found = sorted(staging.rglob("train/train.csv"), key=lambda p: len(p.parts))
    if not found:
        shutil.rmtree(staging)
        raise DataError(archive, "archive has no train/train.csv", "check the URL (--url) or place the data by hand")
    base = found[0].parent.parent                               # the folder holding train/ dev/ test/
    for split in ("train", "dev", "test"):
        shutil.rmtree(to / split, ignore_errors=True)
        shutil.move(str(base / split), str(to / split))
    shutil.rmtree(staging)


def verify_sizes(to: Path, expected_sizes: dict[str, int] | None) -> None:
    """Every split's CSV reads without problems and has the expected number of rows."""
    from .data import read_split
    for split in ("train", "dev", "test"):
        records = read_split(to, split)
        if expected_sizes and len(records) != expected_sizes[split]:
            raise DataError(to / split, f"{split} has {len(records)} rows, expected {expected_sizes[split]}",
                            f"delete {to} and download again")


def download_msed(to: str | Path = "data/MSED", url: str = DEFAULT_URL, accept_license: bool = False,
                  expected_sizes: dict[str, int] | None = MSED_SIZES, timeout: float = 30) -> Path:
    """Fetch, verify and extract MSED into ``to`` (``to/train/train.csv`` ...); a no-op when already done."""
    to = Path(to)
    marker = to / ".complete"
    if marker.exists():
        print(f"MSED already in {to} (remove {marker} to download again)", file=sys.stderr)
        return to
    accept(accept_license)
    created = not to.exists()
    to.mkdir(parents=True, exist_ok=True)
    try:
        archive = fetch(url, to / ".partial", timeout)
    except DataError:
        if created and not any(to.iterdir()):
            to.rmdir()                   # a failed first try leaves nothing behind (a partial file is kept)
        raise
    verify_zip(archive)
    extract_splits(archive, to)
    verify_sizes(to, expected_sizes)
    archive.unlink()
    marker.write_text(url + "\n")
    print(f"MSED ready in {to}; run `python -m sydes_mini data check {to}` to open every image", file=sys.stderr)
    return to
