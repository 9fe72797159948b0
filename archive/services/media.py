"""An item's media: images (the sizes Pillow makes, served only where the item may be seen,
the full size only where its rights allow download) and links to 3D models, panoramas and
videos hosted elsewhere. Media are added and removed while the item is editable."""

from __future__ import annotations

import re
from dataclasses import dataclass

from archive.services import images, rights, text
from archive.services.items import (
    EDITABLE,
    LINK_KINDS,
    NotEditable,
    is_staff,
    log_change,
    require_curator,
    visible,
)
from kernel.actor import Actor
from kernel.clock import Clock
from kernel.errors import InvalidInput, Message, NotFound, PermissionDenied
from kernel.store import Store


def _editable_item(cur, item_id: int) -> None:
    row = cur.execute("SELECT status FROM archive_items WHERE id = ?", [item_id]).fetchone()
    if row is None:
        raise NotFound("archive.error.no_item", item=item_id)
    if row[0] not in EDITABLE:
        raise NotEditable(status=Message(f"archive.status.{row[0]}"))


def _next_position(cur, item_id: int) -> int:
    return cur.execute("SELECT coalesce(max(position), 0) + 1 FROM archive_media WHERE item_id = ?",
                       [item_id]).fetchone()[0]


def insert_image(cur, clock: Clock, actor: Actor, item_id: int, made: list[images.Rendition], *,
                 file_name: str, rights_uri: str, label_ja: str | None = None, label_en: str | None = None) -> int:
    display = next(r for r in made if r.size == "display")
    media_id = cur.execute(
        """INSERT INTO archive_media (item_id, position, kind, label_ja, label_en, rights, width, height,
               file_name, created_at) VALUES (?, ?, 'image', ?, ?, ?, ?, ?, ?, ?) RETURNING id""",
        [item_id, _next_position(cur, item_id), text.plain(label_ja), text.plain(label_en), rights_uri,
         display.width, display.height, text.plain(file_name), clock.now()],
    ).fetchone()[0]
    cur.executemany(
        "INSERT INTO archive_media_files VALUES (?, ?, ?, ?, ?, ?)",
        [[media_id, r.size, r.mime, r.width, r.height, r.data] for r in made],
    )
    log_change(cur, clock, actor, item_id, "image_added", media=media_id, file=file_name)
    return media_id


def add_image(store: Store, clock: Clock, actor: Actor, item_id: int, data: bytes, *, file_name: str,
              rights_uri: str | None = None, label_ja: str | None = None, label_en: str | None = None) -> int:
    """Add an image (Pillow makes the sizes). Its rights default to the item's."""
    require_curator(actor)
    made = images.renditions(data, file_name)
    uri = rights.canonical(rights_uri) if rights_uri else None

    def work(cur) -> int:
        _editable_item(cur, item_id)
        item_rights = cur.execute("SELECT rights FROM archive_items WHERE id = ?", [item_id]).fetchone()[0]
        return insert_image(cur, clock, actor, item_id, made, file_name=file_name, rights_uri=uri or item_rights,
                            label_ja=label_ja, label_en=label_en)

    return store.write(work)


def insert_link(cur, clock: Clock, actor: Actor, item_id: int, kind: str, url: str, *, rights_uri: str,
                label_ja: str | None = None, label_en: str | None = None) -> int:
    if kind not in LINK_KINDS:
        raise InvalidInput("archive.error.bad_link_kind", kind=kind)
    url = (url or "").strip()
    if not re.match(r"^https?://[^\s<>\"']+$", url):
        raise InvalidInput("archive.error.bad_url", url=url or "—")
    media_id = cur.execute(
        """INSERT INTO archive_media (item_id, position, kind, url, label_ja, label_en, rights, created_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id""",
        [item_id, _next_position(cur, item_id), kind, url, text.plain(label_ja), text.plain(label_en),
         rights_uri, clock.now()],
    ).fetchone()[0]
    log_change(cur, clock, actor, item_id, "link_added", media=media_id, kind=kind, url=url)
    return media_id


def add_link(store: Store, clock: Clock, actor: Actor, item_id: int, kind: str, url: str, *,
             label_ja: str | None = None, label_en: str | None = None, rights_uri: str | None = None) -> int:
    """Link a 3D model, a panorama or a video hosted elsewhere."""
    require_curator(actor)
    uri = rights.canonical(rights_uri) if rights_uri else None

    def work(cur) -> int:
        _editable_item(cur, item_id)
        item_rights = cur.execute("SELECT rights FROM archive_items WHERE id = ?", [item_id]).fetchone()[0]
        return insert_link(cur, clock, actor, item_id, kind, url, rights_uri=uri or item_rights,
                           label_ja=label_ja, label_en=label_en)

    return store.write(work)


def remove_media(store: Store, clock: Clock, actor: Actor, media_id: int) -> None:
    require_curator(actor)

    def work(cur) -> None:
        row = cur.execute("SELECT item_id FROM archive_media WHERE id = ?", [media_id]).fetchone()
        if row is None:
            raise NotFound("archive.error.no_media", media=media_id)
        _editable_item(cur, row[0])
        cur.execute("DELETE FROM archive_media_files WHERE media_id = ?", [media_id])
        cur.execute("DELETE FROM archive_media WHERE id = ?", [media_id])
        log_change(cur, clock, actor, row[0], "media_removed", media=media_id)

    store.write(work)


@dataclass(frozen=True)
class MediaFile:
    mime: str
    width: int
    height: int
    data: bytes
    file_name: str | None


def media_file(store: Store, actor: Actor, media_id: int, size: str) -> MediaFile:
    """An image's bytes, if the actor may see its item; the full size only where rights allow."""
    if size not in images.SIZES:
        raise NotFound("archive.error.no_media", media=media_id)
    row = store.cursor().execute(
        f"""SELECT f.mime, f.width, f.height, f.data, m.rights, m.file_name
            FROM archive_media m JOIN archive_items i ON i.id = m.item_id
            JOIN archive_media_files f ON f.media_id = m.id AND f.size = ?
            WHERE m.id = ? AND {visible(actor)}""",
        [size, media_id],
    ).fetchone()
    if row is None:
        raise NotFound("archive.error.no_media", media=media_id)
    if size == "full" and not rights.allows_download(row[4]) and not is_staff(actor):
        raise PermissionDenied("archive.error.no_download")
    return MediaFile(row[0], row[1], row[2], bytes(row[3]), row[5])


def media_sizes(store: Store, actor: Actor, media_id: int) -> dict[str, tuple[int, int]]:
    """The sizes of an image the actor may fetch: size → (width, height). The full size is
    left out where the rights allow no download (and the actor is not staff)."""
    rows = store.query(
        f"""SELECT f.size, f.width, f.height, m.rights FROM archive_media m
            JOIN archive_items i ON i.id = m.item_id JOIN archive_media_files f ON f.media_id = m.id
            WHERE m.id = ? AND {visible(actor)}""", [media_id])
    if not rows:
        raise NotFound("archive.error.no_media", media=media_id)
    return {size: (w, h) for size, w, h, uri in rows
            if size != "full" or rights.allows_download(uri) or is_staff(actor)}
