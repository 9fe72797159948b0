"""Printable asset labels: an A4 PDF sheet of 3 × 8 labels, each with a QR code of the
asset tag (what the audit and check-out pages scan), the tag and the school."""

from __future__ import annotations

import io
from pathlib import Path

import segno
from PIL import Image, ImageDraw, ImageFont

from kernel.actor import Actor
from kernel.errors import InvalidInput
from kernel.provided import offered_view
from kernel.store import Store
from school_ict.services.access import school_scope

MAX_LABELS = 600
DPI = 150
PAGE = (1240, 1754)  # A4 at 150 dpi
COLUMNS, ROWS = 3, 8
MARGIN = 60
# Debian's fonts-noto-cjk, so school names print in Japanese; Pillow's own font otherwise.
_CJK_FONTS = (Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"),
              Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc"))


def _font(size: int):
    for path in _CJK_FONTS:
        if path.exists():
            return ImageFont.truetype(str(path), size, index=0)
    return ImageFont.load_default(size)


def label_rows(store: Store, actor: Actor, tags: list[str]) -> list[tuple[str, str, str]]:
    """(tag, school code, school name) for each visible tag, in the order asked."""
    if not tags:
        raise InvalidInput("ict.error.no_labels")
    if len(tags) > MAX_LABELS:
        raise InvalidInput("ict.error.too_many_labels", limit=MAX_LABELS)
    school_id = school_scope(actor, None)
    offered_view(store.cursor(), "portal.schools")
    rows = store.query(
        """SELECT d.asset_tag, s.code, s.name_ja FROM school_ict_devices d JOIN offered_schools s ON s.id = d.school_id
           WHERE d.asset_tag IN (SELECT unnest(?::VARCHAR[])) AND (? IS NULL OR d.school_id = ?)""",
        [tags, school_id, school_id])
    by_tag = {r[0]: r for r in rows}
    return [by_tag[tag] for tag in tags if tag in by_tag]


def label_sheet(store: Store, actor: Actor, tags: list[str]) -> bytes:
    rows = label_rows(store, actor, tags)
    if not rows:
        raise InvalidInput("ict.error.no_labels")
    cell_w = (PAGE[0] - 2 * MARGIN) // COLUMNS
    cell_h = (PAGE[1] - 2 * MARGIN) // ROWS
    big, small = _font(34), _font(22)
    pages: list[Image.Image] = []
    for start in range(0, len(rows), COLUMNS * ROWS):
        page = Image.new("RGB", PAGE, "white")
        draw = ImageDraw.Draw(page)
        for i, (tag, code, name) in enumerate(rows[start:start + COLUMNS * ROWS]):
            x = MARGIN + (i % COLUMNS) * cell_w
            y = MARGIN + (i // COLUMNS) * cell_h
            draw.rectangle([x + 4, y + 4, x + cell_w - 4, y + cell_h - 4], outline="#999999", width=2)
            qr = segno.make(tag, error="m")
            buffer = io.BytesIO()
            qr.save(buffer, kind="png", scale=5, border=2)
            image = Image.open(io.BytesIO(buffer.getvalue())).convert("RGB")
            side = cell_h - 24
            page.paste(image.resize((side, side), Image.NEAREST), (x + 12, y + 12))
            text_x = x + side + 24
            draw.text((text_x, y + 40), tag, fill="black", font=big)
            draw.text((text_x, y + 92), code, fill="black", font=small)
            draw.text((text_x, y + 124), name, fill="black", font=small)
        pages.append(page)
    out = io.BytesIO()
    pages[0].save(out, format="PDF", resolution=DPI, save_all=True, append_images=pages[1:])
    return out.getvalue()
