"""`voiceguide model fetch` against a local HTTP server on 127.0.0.1, never the real host."""

from __future__ import annotations

import hashlib
import http.server
import io
import threading
import zipfile
from pathlib import Path

import pytest
from conftest import run_cli

NAME = "vosk-model-small-en-us-0.15"


def archive(entries: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        for name, data in entries.items():
            zf.writestr(name, data)
    return buffer.getvalue()


GOOD = archive({f"{NAME}/am/final.mdl": b"acoustic model" * 5000, f"{NAME}/conf/model.conf": b"--x=1\n"})


class Server:
    """Serves files from a dict; honours Range; can stop sending half way (a dropped line)."""

    def __init__(self, files: dict[str, bytes]) -> None:
        self.files, self.requests, self.cut_after = files, [], None
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's naming
                data = outer.files.get(self.path)
                outer.requests.append(self.headers.get("Range"))
                if data is None:
                    self.send_error(404)
                    return
                start = int(self.headers["Range"].split("=")[1].rstrip("-")) if self.headers.get("Range") else 0
                self.send_response(206 if start else 200)
                self.send_header("Content-Length", str(len(data) - start))
                self.end_headers()
                body = data[start:]
                if outer.cut_after is not None:
                    body, outer.cut_after = body[: outer.cut_after], None
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def close(self) -> None:
        self.httpd.shutdown()


@pytest.fixture
def server():
    s = Server({"/good.zip": GOOD, "/evil.zip": archive({f"{NAME}/am/x": b"1", "../../outside.txt": b"gotcha"}),
                "/empty.zip": archive({"other/readme": b"hi"})})
    yield s
    s.close()


def fetch(tmp_path: Path, url: str, data: bytes):
    config = tmp_path / "config.yaml"
    config.write_text("models_dir: models\n")
    return run_cli("--config", str(config), "model", "fetch", "--url", url, "--sha256", hashlib.sha256(data).hexdigest())


def test_fetch_installs_and_auto_then_picks_vosk(tmp_path, server):
    result = fetch(tmp_path, f"{server.url}/good.zip", GOOD)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "models" / NAME / "am" / "final.mdl").is_file()
    assert not list((tmp_path / "models").glob("*.part")) and not list((tmp_path / "models").glob(".unpack-*"))
    assert "MB" in result.stderr  # the progress bar
    status = run_cli("--config", str(tmp_path / "config.yaml"), "model", "status").stdout
    assert f"en: listening with Vosk ({tmp_path / 'models' / NAME})" in status


def test_a_download_cut_off_resumes_where_it_stopped(tmp_path, server):
    server.cut_after = len(GOOD) // 2
    first = fetch(tmp_path, f"{server.url}/good.zip", GOOD)
    assert first.returncode == 2 and "run it again to resume" in first.stderr
    assert (tmp_path / "models" / f"{NAME}.zip.part").stat().st_size == len(GOOD) // 2
    second = fetch(tmp_path, f"{server.url}/good.zip", GOOD)
    assert second.returncode == 0, second.stderr
    assert server.requests[-1] == f"bytes={len(GOOD) // 2}-"
    assert (tmp_path / "models" / NAME / "am" / "final.mdl").read_bytes() == b"acoustic model" * 5000


def test_wrong_checksum_is_refused_and_nothing_installed(tmp_path, server):
    result = fetch(tmp_path, f"{server.url}/good.zip", b"something else")
    assert result.returncode == 2 and "does not match its pinned SHA-256" in result.stderr
    assert not (tmp_path / "models" / NAME).exists() and not list((tmp_path / "models").glob("*.part"))


def test_entries_outside_the_folder_are_refused(tmp_path, server):
    evil = server.files["/evil.zip"]
    result = fetch(tmp_path, f"{server.url}/evil.zip", evil)
    assert result.returncode == 2 and "outside its folder" in result.stderr
    assert not (tmp_path / "outside.txt").exists() and not (tmp_path / "models" / NAME).exists()


def test_archive_without_a_model_and_a_missing_file(tmp_path, server):
    empty = server.files["/empty.zip"]
    result = fetch(tmp_path, f"{server.url}/empty.zip", empty)
    assert result.returncode == 2 and "does not hold a Vosk model folder" in result.stderr
    result = fetch(tmp_path, f"{server.url}/nope.zip", b"")
    assert result.returncode == 2 and "HTTP 404" in result.stderr
