"""The web font's files: only they are served, and the stylesheet points at this server alone."""

from __future__ import annotations

import re

import pytest

from portal import webfonts


@pytest.mark.parametrize("name", ["../pyproject.toml", "..", "", "noto-sans-jp.css/../x", "x.py", "a/b.woff2",
                                  "NOTO.woff2", "license.txt\x00.css"])
def test_no_other_file_is_served(name):
    assert webfonts.served_file(name) is None


@pytest.mark.skipif(webfonts.stylesheet_url() is None, reason="the web font is installed by make (portal/webfonts.py)")
def test_installed_stylesheet_asks_only_this_server():
    css = (webfonts.FONT_DIR / webfonts.STYLESHEET).read_text(encoding="utf-8")
    urls = re.findall(r"url\(([^)]*)\)", css)
    assert len(urls) > 300  # about 124 pieces for each of 3 weights
    assert all(u.startswith("/fonts/noto-sans-jp-") and u.endswith(".woff2") for u in urls)
    assert all(webfonts.served_file(u.removeprefix("/fonts/")) for u in urls)
    assert set(re.findall(r"font-weight: (\d+)", css)) == {str(w) for w in webfonts.WEIGHTS}
    assert "Open Font License" in (webfonts.FONT_DIR / "license.txt").read_text(encoding="utf-8")
