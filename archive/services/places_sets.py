"""Places (sites and buildings with coordinates), item sets (curated groups, in order) and
relations between items (both ways). Curators write them; every change to an item's sets or
relations goes to its history."""

from __future__ import annotations

import re

from archive.services import text
from archive.services.items import Place, log_change, require_curator
from kernel.actor import Actor
from kernel.clock import Clock
from kernel.errors import InvalidInput, NotFound
from kernel.store import Store


def insert_place(cur, name_ja: str, name_en: str | None, latitude: float, longitude: float) -> int:
    name_ja = text.plain(name_ja)
    if not name_ja:
        raise InvalidInput("archive.error.place_name_required")
    if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
        raise InvalidInput("archive.error.bad_coordinates", lat=latitude, lon=longitude)
    found = cur.execute("SELECT id FROM archive_places WHERE name_ja = ?", [name_ja]).fetchone()
    if found:
        return found[0]
    return cur.execute(
        "INSERT INTO archive_places (name_ja, name_en, latitude, longitude) VALUES (?, ?, ?, ?) RETURNING id",
        [name_ja, text.plain(name_en), latitude, longitude],
    ).fetchone()[0]


def add_place(store: Store, actor: Actor, name_ja: str, name_en: str | None, latitude: float,
              longitude: float) -> int:
    """A place (site or building) with coordinates; the same Japanese name gives the same place."""
    require_curator(actor)
    return store.write(lambda cur: insert_place(cur, name_ja, name_en, latitude, longitude))


def list_places(store: Store) -> list[Place]:
    return [Place(*r) for r in store.query(
        "SELECT id, name_ja, name_en, latitude, longitude FROM archive_places ORDER BY name_ja")]


def insert_set(cur, slug: str, title_ja: str, title_en: str | None = None, description_ja: str | None = None,
               description_en: str | None = None, *, is_demo: bool = False) -> int:
    if not re.match(r"^[a-z0-9][a-z0-9-]{0,63}$", slug or ""):
        raise InvalidInput("archive.error.bad_slug", slug=slug or "—")
    if cur.execute("SELECT 1 FROM archive_sets WHERE slug = ?", [slug]).fetchone():
        raise InvalidInput("archive.error.slug_taken", slug=slug)
    title = text.plain(title_ja)
    if not title:
        raise InvalidInput("archive.error.title_required")
    return cur.execute(
        """INSERT INTO archive_sets (slug, title_ja, title_en, description_ja, description_en, is_demo)
           VALUES (?, ?, ?, ?, ?, ?) RETURNING id""",
        [slug, title, text.plain(title_en), text.rich(description_ja), text.rich(description_en), is_demo],
    ).fetchone()[0]


def create_set(store: Store, actor: Actor, slug: str, title_ja: str, title_en: str | None = None,
               description_ja: str | None = None, description_en: str | None = None) -> int:
    require_curator(actor)
    return store.write(lambda cur: insert_set(cur, slug, title_ja, title_en, description_ja, description_en))


def put_in_set(cur, clock: Clock, actor: Actor, set_id: int, item_id: int) -> None:
    if not cur.execute("SELECT 1 FROM archive_sets WHERE id = ?", [set_id]).fetchone():
        raise NotFound("archive.error.no_set", set=set_id)
    if not cur.execute("SELECT 1 FROM archive_items WHERE id = ?", [item_id]).fetchone():
        raise NotFound("archive.error.no_item", item=item_id)
    position = cur.execute("SELECT coalesce(max(position), 0) + 1 FROM archive_set_items WHERE set_id = ?",
                           [set_id]).fetchone()[0]
    cur.execute("INSERT INTO archive_set_items VALUES (?, ?, ?) ON CONFLICT DO NOTHING", [set_id, item_id, position])
    log_change(cur, clock, actor, item_id, "added_to_set", set=set_id)


def add_to_set(store: Store, clock: Clock, actor: Actor, set_id: int, item_id: int) -> None:
    require_curator(actor)
    store.write(lambda cur: put_in_set(cur, clock, actor, set_id, item_id))


def remove_from_set(store: Store, clock: Clock, actor: Actor, set_id: int, item_id: int) -> None:
    require_curator(actor)

    def work(cur) -> None:
        cur.execute("DELETE FROM archive_set_items WHERE set_id = ? AND item_id = ?", [set_id, item_id])
        log_change(cur, clock, actor, item_id, "removed_from_set", set=set_id)

    store.write(work)


def relate(store: Store, clock: Clock, actor: Actor, item_id: int, other_id: int) -> None:
    """Mark two items as related (both ways)."""
    require_curator(actor)
    store.write(lambda cur: insert_relation(cur, clock, actor, item_id, other_id))


def insert_relation(cur, clock: Clock, actor: Actor, item_id: int, other_id: int) -> None:
    if item_id == other_id:
        raise InvalidInput("archive.error.self_relation")
    for one in (item_id, other_id):
        if not cur.execute("SELECT 1 FROM archive_items WHERE id = ?", [one]).fetchone():
            raise NotFound("archive.error.no_item", item=one)
    a, b = sorted((item_id, other_id))
    cur.execute("INSERT INTO archive_relations VALUES (?, ?) ON CONFLICT DO NOTHING", [a, b])
    log_change(cur, clock, actor, item_id, "related", other=other_id)
