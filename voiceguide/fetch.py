"""Downloading a Vosk model: pinned SHA-256, progress bar, resume, free-space check, safe and
atomic unpacking. Used by `voiceguide model fetch`; the only network access voiceguide makes.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import sys
import tempfile
import urllib.error
import urllib.request
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO


@dataclass(frozen=True)
class ModelArchive:
    name: str  # folder the archive unpacks to, and its name under models_dir
    url: str
    sha256: str
    size: int  # bytes, approximate; for the free-space check before the server says


ENGLISH_SMALL = ModelArchive(
    "vosk-model-small-en-us-0.15",
    "https://alphacephei.com/vosk/models/vosk-model-small-en-us-0.15.zip",
    "30f26242c4eb449f948e42cb302dd7a686cb29a3423a8367f99ff41780942498",
    40_000_000,  # about 40 MB
)
UNPACKED_FACTOR = 2.0  # room for the archive and its unpacked copy side by side


class FetchError(RuntimeError):
    pass


def fetch(archive: ModelArchive, models_dir: Path, out: TextIO = sys.stderr) -> Path:
    """Download (resuming a partial download), verify, unpack; returns the model folder."""
    target = models_dir / archive.name
    if (target / "am").is_dir():
        print(f"{archive.name} is already installed in {models_dir}.", file=out)
        return target
    models_dir.mkdir(parents=True, exist_ok=True)
    free = shutil.disk_usage(models_dir).free
    if free < archive.size * UNPACKED_FACTOR:
        raise FetchError(f"not enough free space in {models_dir}: {free / 1e6:.0f} MB free, "
                         f"{archive.size * UNPACKED_FACTOR / 1e6:.0f} MB needed.")
    part = models_dir / f"{archive.name}.zip.part"
    _download(archive.url, part, out)
    digest = _sha256(part)
    if digest != archive.sha256:
        part.unlink()
        raise FetchError(f"the download of {archive.url} does not match its pinned SHA-256 "
                         f"(got {digest}); it was deleted. Try again, or check the network for a proxy.")
    _unpack(part, archive.name, models_dir)
    part.unlink()
    print(f"installed {archive.name} in {models_dir}.", file=out)
    return target


def _download(url: str, part: Path, out: TextIO) -> None:
    have = part.stat().st_size if part.exists() else 0
    request = urllib.request.Request(url, headers={"Range": f"bytes={have}-"} if have else {})
    try:
        response = urllib.request.urlopen(request, timeout=30)  # noqa: S310 - https or a test's loopback
    except urllib.error.HTTPError as exc:
        if exc.code == 416 and have:  # nothing left to fetch: the part file is complete
            return
        raise FetchError(f"cannot download {url}: HTTP {exc.code} {exc.reason}.") from None
    except (urllib.error.URLError, OSError) as exc:
        raise FetchError(f"cannot download {url}: {getattr(exc, 'reason', exc)}. "
                         "Run `voiceguide model fetch` again to resume.") from None
    with response:
        resumed = response.status == 206
        if not resumed:
            have = 0  # the server ignored the range: start over
        total = have + int(response.headers.get("Content-Length") or 0)
        with open(part, "ab" if resumed else "wb") as f:
            while block := response.read(1 << 16):
                f.write(block)
                have += len(block)
                _progress(have, total, out)
    print(file=out)
    if total and have < total:
        raise FetchError(f"the download of {url} stopped at {have} of {total} bytes; run it again to resume.")


def _progress(done: int, total: int, out: TextIO) -> None:
    if total:
        filled = int(30 * done / total)
        out.write(f"\r[{'#' * filled}{'.' * (30 - filled)}] {done / 1e6:6.1f} of {total / 1e6:.1f} MB")
    else:
        out.write(f"\r{done / 1e6:6.1f} MB")
    out.flush()


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def _unpack(archive: Path, name: str, models_dir: Path) -> None:
    """Unpack into a temporary folder beside the target, then rename it into place in one step."""
    with tempfile.TemporaryDirectory(dir=models_dir, prefix=".unpack-") as tmp:
        root = Path(tmp).resolve()
        with zipfile.ZipFile(archive) as zf:
            for member in zf.infolist():
                dest = (root / member.filename).resolve()
                if not dest.is_relative_to(root) or member.filename.startswith(("/", "\\")):
                    raise FetchError(f"{archive} has an entry outside its folder ({member.filename!r}); refused.")
            zf.extractall(root)
        unpacked = root / name
        if not (unpacked / "am").is_dir():
            raise FetchError(f"{archive} does not hold a Vosk model folder named {name}/ with am/ inside.")
        os.replace(unpacked, models_dir / name)
