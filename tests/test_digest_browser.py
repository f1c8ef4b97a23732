"""The HTML digest in a real browser (Debian's headless Chromium) at phone width.

Skipped when Chromium is not installed (.ci/run installs it).
"""

from __future__ import annotations

import shutil
import struct
import subprocess
import zlib
from pathlib import Path

import pytest
from lxml import html

from monitor.digest_model import Digest
from monitor.digest_render import render_digest
from tests.digest_testdata import SCRIPT_TITLE, fixed_digest

CHROMIUM = next((p for p in ("/usr/bin/chromium", shutil.which("chromium")) if p), None)
pytestmark = pytest.mark.skipif(
    CHROMIUM is None or not Path(CHROMIUM).exists(), reason="chromium is not installed"
)
WIDTH, HEIGHT = 420, 900


@pytest.fixture(scope="module")
def digest(tmp_path_factory: pytest.TempPathFactory) -> Digest:
    return fixed_digest(f"sqlite:///{tmp_path_factory.mktemp('digest') / 'd.db'}")


def chromium(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    assert CHROMIUM is not None
    command = [
        CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
        "--no-first-run", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", f"--user-data-dir={tmp_path / 'profile'}",
        f"--window-size={WIDTH},{HEIGHT}", *args,
    ]  # fmt: skip
    return subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)


def png_pixels(path: Path) -> tuple[int, int, bytes]:
    """Width, height and the decompressed (still filtered) scanlines of a PNG."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat, width, height = 8, b"", 0, 0
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]
        if kind == b"IHDR":
            width, height = struct.unpack(">II", body[:8])
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    return width, height, zlib.decompress(idat)


def test_screenshot_at_phone_width(tmp_path: Path, digest: Digest) -> None:
    page = tmp_path / "digest.html"
    page.write_text(render_digest(digest, "html"), encoding="utf-8")
    shot = tmp_path / "digest.png"
    result = chromium(tmp_path, f"--screenshot={shot}", page.as_uri())
    assert shot.exists(), result.stderr[-2000:]
    width, height, raw = png_pixels(shot)
    assert (width, height) == (WIDTH, HEIGHT)
    # A blank page compresses to a handful of byte values; rendered text gives many.
    assert len(set(raw)) > 32, "screenshot looks blank"


def test_dom_keeps_markup_as_text_and_runs_no_script(tmp_path: Path, digest: Digest) -> None:
    page = tmp_path / "digest.html"
    page.write_text(render_digest(digest, "html"), encoding="utf-8")
    result = chromium(tmp_path, "--dump-dom", page.as_uri())
    assert result.returncode == 0, result.stderr[-2000:]
    dom = html.fromstring(result.stdout)
    # The injected script and img would have set data-pwned had they run.
    assert dom.get("data-pwned") is None
    assert dom.find("body").get("data-pwned") is None
    assert dom.xpath("//script") == [] and dom.xpath("//img") == []
    assert SCRIPT_TITLE in [a.text_content() for a in dom.xpath("//h3/a")]
    assert "student visas" in [m.text_content() for m in dom.xpath("//mark")]
