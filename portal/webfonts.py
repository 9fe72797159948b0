"""The Japanese web font the portal serves itself, so that no page asks a font host for one.

Noto Sans JP (SIL Open Font License 1.1) comes from the npm package @fontsource/noto-sans-jp,
fetched once at install (`make`, or `python -m portal.webfonts`), never at run time. The
package cuts the font into about 120 pieces by Unicode range; a browser fetches only the
pieces whose characters a page shows. Only the weights the pages use are kept, as woff2.
The server hands them out at /fonts/ (portal/routes.py); without them, pages fall back to the
computer's own Japanese font.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

PACKAGE = "@fontsource/noto-sans-jp@5.3.0"
FAMILY = "Noto Sans JP"
# Streamlit's Latin face first (its digits and letters stay as they were), then ours for Japanese.
FONT_STACK = f'"Source Sans", "{FAMILY}", sans-serif'
WEIGHTS = (400, 600, 700)  # body text; Streamlit's semibold labels and headings; bold
FONT_DIR = Path(__file__).resolve().parent.parent / "web" / "fonts"
STYLESHEET = "noto-sans-jp.css"
URL_PREFIX = "/fonts/"
_SERVED = re.compile(r"^[a-z0-9-]+\.(woff2|css|txt)$")


def stylesheet_url() -> str | None:
    """The address of the @font-face rules, when the font is installed."""
    return URL_PREFIX + STYLESHEET if (FONT_DIR / STYLESHEET).is_file() else None


def served_file(name: str) -> Path | None:
    """The file /fonts/<name> stands for; None for any name that is not one (no path escapes)."""
    if not _SERVED.match(name):
        return None
    path = FONT_DIR / name
    return path if path.is_file() else None


def install(target: Path = FONT_DIR) -> int:
    """Fetch the package with npm, keep the woff2 pieces of WEIGHTS, the licence, and one
    stylesheet pointing at /fonts/. Returns the number of font files kept."""
    npm = shutil.which("npm")
    if npm is None:
        raise SystemExit("npm is needed once, to fetch the Japanese web font (Debian: apt-get install npm).")
    with tempfile.TemporaryDirectory() as work:
        subprocess.run([npm, "pack", "--silent", PACKAGE], cwd=work, check=True, stdout=subprocess.DEVNULL)
        archive = next(Path(work).glob("*.tgz"))
        with tarfile.open(archive) as tar:
            members = {m.name.removeprefix("package/"): m for m in tar.getmembers() if m.isfile()}
            fresh = Path(tempfile.mkdtemp(dir=work))
            rules, kept = [], 0
            for weight in WEIGHTS:
                css = tar.extractfile(members[f"{weight}.css"]).read().decode()
                # Keep the woff2 source alone: every browser a school runs reads woff2.
                css = re.sub(r"url\(\./files/([^)]+\.woff2)\) format\('woff2'\), url\([^)]+\) format\('woff'\)",
                             rf"url({URL_PREFIX}\1) format('woff2')", css)
                rules.append(css)
                for name in re.findall(rf"url\({URL_PREFIX}(noto-sans-jp-[a-z0-9-]+\.woff2)\)", css):
                    (fresh / name).write_bytes(tar.extractfile(members[f"files/{name}"]).read())
                    kept += 1
            (fresh / "license.txt").write_bytes(tar.extractfile(members["LICENSE"]).read())
            (fresh / STYLESHEET).write_text("\n".join(rules), encoding="utf-8")
        if "url(./" in (fresh / STYLESHEET).read_text(encoding="utf-8"):
            raise SystemExit(f"{PACKAGE}: its stylesheet has a form this installer does not know")
        if target.exists():
            shutil.rmtree(target)
        shutil.copytree(fresh, target)
    return kept


if __name__ == "__main__":
    count = install()
    print(f"{PACKAGE}: {count} font files in {FONT_DIR}", file=sys.stderr)
