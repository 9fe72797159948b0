"""Covers made for books that bring none: the title and the creator on a coloured ground,
set vertically for vertical (Japanese) books. Pillow draws them with a Japanese font
from the system (fonts-noto-cjk, installed by the Makefile); without one, a clear error."""

from __future__ import annotations

import functools
import hashlib
import io
from pathlib import Path

from kernel.errors import ManabiError

COVER_SIZE = (240, 360)
FONT_CANDIDATES = (
    "/usr/share/fonts/opentype/noto/NotoSerifCJK-Bold.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc",
    "/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
)
# Grounds dark enough for white letters; a book keeps its colour (chosen by its title).
GROUNDS = ((38, 70, 120), (120, 40, 50), (40, 100, 80), (110, 70, 30), (70, 50, 110), (30, 90, 110),
           (140, 60, 100), (60, 60, 60))


class NoCjkFont(ManabiError):
    key = "cover.no_font"


@functools.cache
def cjk_font_path(candidates: tuple[str, ...] = FONT_CANDIDATES, fonts_root: str = "/usr/share/fonts") -> Path:
    """The Japanese font file, found at run time; NoCjkFont when the system has none."""
    for candidate in candidates:
        if Path(candidate).is_file():
            return Path(candidate)
    found = sorted(Path(fonts_root).glob("**/Noto*CJK*.tt[cf]")) if Path(fonts_root).is_dir() else []
    if found:
        return found[0]
    raise NoCjkFont(package="fonts-noto-cjk")


@functools.cache
def _font(size: int):
    from PIL import ImageFont

    return ImageFont.truetype(str(cjk_font_path()), size, index=0)  # face 0 of the collection: Japanese


def ground_colour(title: str) -> tuple[int, int, int]:
    return GROUNDS[hashlib.sha256(title.encode()).digest()[0] % len(GROUNDS)]


def _lines(text: str, font, width: int, limit: int) -> list[str]:
    """Lines that fit `width` (broken between words when there are spaces, else between
    characters, as Japanese is), at most `limit` of them (the last one cut with …)."""
    words = text.split(" ") if " " in text else list(text)
    joiner = " " if " " in text else ""
    lines, line = [], ""
    for word in words:
        candidate = f"{line}{joiner}{word}" if line else word
        if line and font.getlength(candidate) > width:
            lines.append(line)
            line = word
        else:
            line = candidate
    if line:
        lines.append(line)
    if len(lines) > limit:
        lines = lines[:limit]
        lines[-1] = lines[-1][:-1] + "…"
    return lines


def _columns(text: str, per_column: int, limit: int) -> list[str]:
    columns = [text[i:i + per_column] for i in range(0, len(text), per_column)] or [""]
    if len(columns) > limit:
        columns = columns[:limit]
        columns[-1] = columns[-1][:-1] + "…"
    return columns


# Characters turned upright or set apart in vertical writing.
_VERTICAL_FORMS = str.maketrans({"ー": "丨", "—": "︱", "-": "︱", "（": "︵", "）": "︶", "「": "﹁", "」": "﹂",
                                 "、": "︑", "。": "︒"})


def generated_cover(title: str, creator: str, *, vertical: bool) -> bytes:
    """A JPEG cover: the title large, the creator small, on the title's colour."""
    from PIL import Image, ImageDraw

    width, height = COVER_SIZE
    ground = ground_colour(title)
    image = Image.new("RGB", COVER_SIZE, ground)
    draw = ImageDraw.Draw(image)
    light = tuple(min(255, c + 90) for c in ground)
    draw.rectangle((10, 10, width - 11, height - 11), outline=light, width=2)
    title_font, creator_font = _font(26), _font(15)
    if vertical:
        # Columns from the right, top to bottom; the creator in the leftmost column.
        size = 30
        columns = _columns(title.translate(_VERTICAL_FORMS), (height - 80) // size, 5)
        x = width - 30 - size
        for column in columns:
            for row, char in enumerate(column):
                draw.text((x + size / 2, 36 + row * size + size / 2), char, font=title_font, fill="white", anchor="mm")
            x -= size + 6
        for row, char in enumerate(creator.replace(" ", "").translate(_VERTICAL_FORMS)[:(height - 80) // 18]):
            draw.text((34, height - 40 - (len(creator.replace(" ", "")[:18]) - row) * 18 + 9), char, font=creator_font,
                      fill=light, anchor="mm")
    else:
        y = 50
        for line in _lines(title, title_font, width - 40, 5):
            draw.text((width / 2, y), line, font=title_font, fill="white", anchor="mt")
            y += 34
        for n, line in enumerate(_lines(creator, creator_font, width - 40, 2)):
            draw.text((width / 2, height - 60 + n * 20), line, font=creator_font, fill=light, anchor="mt")
    out = io.BytesIO()
    image.save(out, "JPEG", quality=85)
    return out.getvalue()
