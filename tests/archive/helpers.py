"""Small builders the archive's service tests share (real services, real database)."""

from __future__ import annotations

import io

from PIL import Image

from archive.services import items, media
from kernel.actor import Actor

CURATOR = Actor(user_id=101, login="curator_a", display_name="学芸員 A", roles=frozenset({"curator"}))
CURATOR_B = Actor(user_id=102, login="curator_b", display_name="学芸員 B", roles=frozenset({"curator"}))
ADMIN = Actor(user_id=103, login="admin", display_name="管理者", roles=frozenset({"city_admin"}))
RESIDENT = Actor(user_id=104, login="resident", display_name="市民", roles=frozenset({"resident"}))
TEACHER = Actor(user_id=105, login="teacher", display_name="教員", roles=frozenset({"teacher"}))
CC_BY = "http://creativecommons.org/licenses/by/4.0/"
IN_C = "http://rightsstatements.org/vocab/InC/1.0/"


def png(width: int = 640, height: int = 480, color: str = "navy") -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), color).save(buffer, "PNG")
    return buffer.getvalue()


def item_input(identifier: str = "IZK-T-001", **overrides) -> items.ItemInput:
    values = dict(identifier=identifier, title_ja="旧伊藤伝右衛門邸 主屋", title_en="Ito Den'emon residence: main house",
                  type="building", rights=CC_BY, date_text="明治30年代", subjects_ja=["炭鉱王", "近代和風建築"],
                  subjects_en=["coal magnate"], description_ja="<p>炭鉱王・伊藤伝右衛門の邸宅。</p>",
                  description_en="<p>The house of the coal magnate Ito Den'emon.</p>")
    values.update(overrides)
    return items.ItemInput(**values)


def make_item(store, clock, status: str = "draft", identifier: str = "IZK-T-001", *, image: bool = True,
              **overrides) -> int:
    """An item in the given state, taken there through the real workflow."""
    item_id = items.create_item(store, clock, CURATOR, item_input(identifier, **overrides))
    if image:
        media.add_image(store, clock, CURATOR, item_id, png(), file_name="main.png")
    if status in ("review", "published", "withdrawn"):
        items.submit(store, clock, CURATOR, item_id)
    if status in ("published", "withdrawn"):
        items.publish(store, clock, CURATOR_B, item_id)
    if status == "withdrawn":
        items.withdraw(store, clock, ADMIN, item_id)
    return item_id
