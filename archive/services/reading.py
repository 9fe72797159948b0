"""Reading items as the actor may see them (`items.visible`): summaries, lists, whole items
with their media, place, sets and related items; the sets; an item's history (staff only)."""

from __future__ import annotations

import json

from archive.services.items import (
    STAFF,
    STATUSES,
    HistoryEntry,
    Item,
    ItemSet,
    Medium,
    Place,
    Summary,
    visible,
)
from kernel.actor import Actor
from kernel.errors import InvalidInput, NotFound
from kernel.store import Store

_SUMMARY_SQL = """
    SELECT i.id, i.identifier, i.title_ja, i.title_en, i.type, i.date_text, i.year_from, i.year_to, i.status,
           (SELECT m.id FROM archive_media m WHERE m.item_id = i.id AND m.kind = 'image'
            ORDER BY m.position, m.id LIMIT 1) AS thumb_id,
           p.latitude, p.longitude, p.name_ja, p.name_en, i.updated_at
    FROM archive_items i LEFT JOIN archive_places p ON p.id = i.place_id
"""


def summaries(store: Store, actor: Actor, ids: list[int]) -> list[Summary]:
    """Summaries of the given items that the actor may see, in the given order."""
    if not ids:
        return []
    rows = store.query(f"{_SUMMARY_SQL} WHERE i.id IN (SELECT unnest(?)) AND {visible(actor)}", [ids])
    by_id = {r[0]: Summary(*r) for r in rows}
    return [by_id[i] for i in ids if i in by_id]


def list_items(store: Store, actor: Actor, status: str | None = None) -> list[Summary]:
    """All items the actor may see (staff: every state), newest change first."""
    if status is not None and status not in STATUSES:
        raise InvalidInput("archive.error.bad_status", status=status, statuses=", ".join(STATUSES))
    rows = store.query(
        f"{_SUMMARY_SQL} WHERE {visible(actor)} AND (? IS NULL OR i.status = ?) ORDER BY i.id",
        [status, status],
    )
    return [Summary(*r) for r in rows]


def get_item(store: Store, actor: Actor, item_id: int) -> Item:
    """One item with its media, place, sets and related items; NotFound unless the actor may see it."""
    found = get_items(store, actor, [item_id])
    if not found:
        raise NotFound("archive.error.no_item", item=item_id)
    return found[0]


def get_items(store: Store, actor: Actor, ids: list[int]) -> list[Item]:
    """Several items at once (exports, OAI-PMH pages), in the order asked, leaving out those
    the actor may not see. A handful of queries whatever the number of items."""
    if not ids:
        return []
    cur = store.cursor()
    rows = cur.execute(
        f"""SELECT i.id, identifier, title_ja, title_en, creator_ja, creator_en, date_text, year_from, year_to,
                   type, subjects_ja, subjects_en, description_ja, description_en, format, source, coverage,
                   rights, status, place_id, created_by, submitted_by, published_at, updated_at
            FROM archive_items i WHERE i.id IN (SELECT unnest(?)) AND {visible(actor)}""",
        [ids],
    ).fetchall()
    if not rows:
        return []
    found_ids = [r[0] for r in rows]
    places = {r[0]: Place(*r) for r in cur.execute(
        """SELECT id, name_ja, name_en, latitude, longitude FROM archive_places
           WHERE id IN (SELECT unnest(?))""", [[r[19] for r in rows if r[19] is not None]]).fetchall()}
    media: dict[int, list[Medium]] = {}
    for m in cur.execute(
            """SELECT id, item_id, kind, url, label_ja, label_en, rights, width, height FROM archive_media
               WHERE item_id IN (SELECT unnest(?)) ORDER BY position, id""", [found_ids]).fetchall():
        media.setdefault(m[1], []).append(Medium(*m))
    sets_of: dict[int, list[int]] = {}
    for item_id, set_id in cur.execute(
            "SELECT item_id, set_id FROM archive_set_items WHERE item_id IN (SELECT unnest(?)) ORDER BY set_id",
            [found_ids]).fetchall():
        sets_of.setdefault(item_id, []).append(set_id)
    sets = {s.id: s for s in list_sets(store, actor)} if sets_of else {}
    related_of: dict[int, list[int]] = {}
    for a, b in cur.execute(
            """SELECT item_a, item_b FROM archive_relations
               WHERE item_a IN (SELECT unnest(?)) OR item_b IN (SELECT unnest(?)) ORDER BY item_a, item_b""",
            [found_ids, found_ids]).fetchall():
        related_of.setdefault(a, []).append(b)
        related_of.setdefault(b, []).append(a)
    related_summaries = {s.id: s for s in summaries(store, actor, sorted({i for v in related_of.values() for i in v}))}
    by_id = {}
    for row in rows:
        item_id = row[0]
        by_id[item_id] = Item(
            id=item_id, identifier=row[1], title_ja=row[2], title_en=row[3], creator_ja=row[4],
            creator_en=row[5], date_text=row[6], year_from=row[7], year_to=row[8], type=row[9],
            subjects_ja=list(row[10] or []), subjects_en=list(row[11] or []), description_ja=row[12],
            description_en=row[13], format=row[14], source=row[15], coverage=row[16], rights=row[17],
            status=row[18], place=places.get(row[19]), media=media.get(item_id, []),
            sets=[sets[s] for s in sets_of.get(item_id, []) if s in sets],
            related=[related_summaries[r] for r in sorted(related_of.get(item_id, [])) if r in related_summaries],
            created_by=row[20], submitted_by=row[21], published_at=row[22], updated_at=row[23],
        )
    return [by_id[i] for i in ids if i in by_id]


def history(store: Store, actor: Actor, item_id: int) -> list[HistoryEntry]:
    """Every recorded change of an item, newest first. Staff only."""
    actor.require(*STAFF)
    return [HistoryEntry(at, login, action, json.loads(detail) if detail else {})
            for at, login, action, detail in store.query(
                "SELECT changed_at, actor_login, action, detail FROM archive_history WHERE item_id = ? ORDER BY id DESC",
                [item_id])]


def list_sets(store: Store, actor: Actor) -> list[ItemSet]:
    """Every set, with the number of items the actor may see in it."""
    rows = store.query(
        f"""SELECT s.id, s.slug, s.title_ja, s.title_en, s.description_ja, s.description_en,
                   count(i.id) FILTER (WHERE {visible(actor)})
            FROM archive_sets s LEFT JOIN archive_set_items si ON si.set_id = s.id
            LEFT JOIN archive_items i ON i.id = si.item_id
            GROUP BY ALL ORDER BY s.id"""
    )
    return [ItemSet(*r) for r in rows]


def get_set(store: Store, actor: Actor, slug: str) -> tuple[ItemSet, list[Summary]]:
    found = [s for s in list_sets(store, actor) if s.slug == slug]
    if not found:
        raise NotFound("archive.error.no_set", set=slug)
    ids = [r[0] for r in store.query(
        "SELECT item_id FROM archive_set_items WHERE set_id = ? ORDER BY position, item_id", [found[0].id])]
    return found[0], summaries(store, actor, ids)
