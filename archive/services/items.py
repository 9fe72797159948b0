"""Items, their media, places, sets and relations; the publishing workflow; who sees what.

The rule that everything else leans on: a visitor who is not staff (curator or city
administrator) sees published items only. Every read here takes the actor and applies
`_visible(actor)`; pages, routes, exports and the map all read through these functions.

Workflow: draft → review → published → withdrawn (→ review again). Only curators create
and edit (in draft or withdrawn); a curator submits; a *second* curator (not the one who
submitted) or the city administrator publishes; curators or the administrator withdraw.
Every change is written to archive_history (who, when, what).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field, fields
from datetime import date, datetime

from archive.services import eras, images, rights, text
from kernel.actor import Actor, Role
from kernel.clock import Clock
from kernel.errors import InvalidInput, ManabiError, Message, NotFound, PermissionDenied
from kernel.store import Store

TYPES = ("object", "document", "photograph", "building", "site")
STATUSES = ("draft", "review", "published", "withdrawn")
LINK_KINDS = ("panorama", "model3d", "video")
EDITABLE = ("draft", "withdrawn")
IDENTIFIER = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
STAFF = (Role.CURATOR, Role.CITY_ADMIN)


class NotEditable(ManabiError):
    key = "archive.error.not_editable"


class WrongState(ManabiError):
    key = "archive.error.wrong_state"


class SamePerson(ManabiError):
    key = "archive.error.same_person"


# ---------------------------------------------------------------------------- values


@dataclass
class ItemInput:
    """What a curator (or a CSV row) supplies for an item. Text is sanitised on save."""

    identifier: str
    title_ja: str
    type: str
    rights: str
    title_en: str | None = None
    creator_ja: str | None = None
    creator_en: str | None = None
    date_text: str | None = None
    subjects_ja: list[str] = field(default_factory=list)
    subjects_en: list[str] = field(default_factory=list)
    description_ja: str | None = None
    description_en: str | None = None
    format: str | None = None
    source: str | None = None
    coverage: str | None = None
    place_id: int | None = None


@dataclass(frozen=True)
class Place:
    id: int
    name_ja: str
    name_en: str | None
    latitude: float
    longitude: float

    def name(self, lang: str) -> str:
        return (self.name_en if lang == "en" and self.name_en else self.name_ja)


@dataclass(frozen=True)
class Medium:
    id: int
    item_id: int
    kind: str
    url: str | None
    label_ja: str | None
    label_en: str | None
    rights: str
    width: int | None
    height: int | None

    @property
    def downloadable(self) -> bool:
        return self.kind == "image" and rights.allows_download(self.rights)

    def label(self, lang: str) -> str | None:
        return self.label_en if lang == "en" and self.label_en else self.label_ja


@dataclass(frozen=True)
class ItemSet:
    id: int
    slug: str
    title_ja: str
    title_en: str | None
    description_ja: str | None
    description_en: str | None
    items: int  # items the asking actor may see

    def title(self, lang: str) -> str:
        return self.title_en if lang == "en" and self.title_en else self.title_ja


@dataclass(frozen=True)
class Summary:
    """An item in a list: enough for a card, a table row or a map point."""

    id: int
    identifier: str
    title_ja: str
    title_en: str | None
    type: str
    date_text: str | None
    year_from: int | None
    year_to: int | None
    status: str
    thumb_id: int | None
    latitude: float | None
    longitude: float | None
    place_ja: str | None
    place_en: str | None
    updated_at: datetime

    def title(self, lang: str) -> str:
        return self.title_en if lang == "en" and self.title_en else self.title_ja


@dataclass(frozen=True)
class Item:
    id: int
    identifier: str
    title_ja: str
    title_en: str | None
    creator_ja: str | None
    creator_en: str | None
    date_text: str | None
    year_from: int | None
    year_to: int | None
    type: str
    subjects_ja: list[str]
    subjects_en: list[str]
    description_ja: str | None
    description_en: str | None
    format: str | None
    source: str | None
    coverage: str | None
    rights: str
    status: str
    place: Place | None
    media: list[Medium]
    sets: list[ItemSet]
    related: list[Summary]
    created_by: int
    submitted_by: int | None
    published_at: datetime | None
    updated_at: datetime

    def title(self, lang: str) -> str:
        return self.title_en if lang == "en" and self.title_en else self.title_ja

    def creator(self, lang: str) -> str | None:
        return self.creator_en if lang == "en" and self.creator_en else self.creator_ja

    def description(self, lang: str) -> str | None:
        return self.description_en if lang == "en" and self.description_en else self.description_ja

    def subjects(self, lang: str) -> list[str]:
        return self.subjects_en if lang == "en" and self.subjects_en else self.subjects_ja

    @property
    def images(self) -> list[Medium]:
        return [m for m in self.media if m.kind == "image"]

    @property
    def links(self) -> list[Medium]:
        return [m for m in self.media if m.kind != "image"]

    def as_input(self) -> ItemInput:
        return ItemInput(**{f.name: getattr(self, f.name) for f in fields(ItemInput) if f.name != "place_id"},
                         place_id=self.place.id if self.place else None)


@dataclass(frozen=True)
class HistoryEntry:
    at: datetime
    actor_login: str
    action: str
    detail: dict


# ---------------------------------------------------------------------------- who sees what


def is_staff(actor: Actor) -> bool:
    return actor.signed_in and actor.has(*STAFF)


def _visible(actor: Actor, alias: str = "i") -> str:
    """The SQL condition for the items `actor` may see."""
    return "true" if is_staff(actor) else f"{alias}.status = 'published'"


# ---------------------------------------------------------------------------- checking input


def check_input(data: ItemInput) -> tuple[dict, list[tuple[str, dict]]]:
    """Clean an item's fields; returns (values for the row, problems as (key, params)).
    All problems are collected (an import names every one)."""
    problems: list[tuple[str, dict]] = []
    identifier = (data.identifier or "").strip()
    if not IDENTIFIER.match(identifier):
        problems.append(("archive.error.bad_identifier", {"identifier": identifier or "—"}))
    title_ja = text.plain(data.title_ja)
    if not title_ja:
        problems.append(("archive.error.title_required", {}))
    if data.type not in TYPES:
        problems.append(("archive.error.bad_type", {"type": data.type or "—", "types": ", ".join(TYPES)}))
    years = None
    date_text = text.plain(data.date_text)
    if date_text:
        years = eras.parse_date(date_text)
        if years is None:
            problems.append(("archive.error.bad_date", {"date": date_text}))
    try:
        rights_uri = rights.canonical(data.rights)
    except InvalidInput as exc:
        problems.append((exc.key, exc.params))
        rights_uri = None
    values = {
        "identifier": identifier,
        "title_ja": title_ja,
        "title_en": text.plain(data.title_en),
        "creator_ja": text.plain(data.creator_ja),
        "creator_en": text.plain(data.creator_en),
        "date_text": date_text,
        "year_from": years[0] if years else None,
        "year_to": years[1] if years else None,
        "type": data.type,
        "subjects_ja": [s for s in (text.plain(x) for x in data.subjects_ja) if s],
        "subjects_en": [s for s in (text.plain(x) for x in data.subjects_en) if s],
        "description_ja": text.rich(data.description_ja),
        "description_en": text.rich(data.description_en),
        "format": text.plain(data.format),
        "source": text.plain(data.source),
        "coverage": text.plain(data.coverage),
        "rights": rights_uri,
        "place_id": data.place_id,
    }
    return values, problems


def _raise_first(problems: list[tuple[str, dict]]) -> None:
    if problems:
        key, params = problems[0]
        raise InvalidInput(key, **params)


def _search_tokens(cur, values: dict, place: tuple | None = None) -> str:
    if place is None and values.get("place_id") is not None:
        place = cur.execute("SELECT name_ja, name_en FROM archive_places WHERE id = ?",
                            [values["place_id"]]).fetchone()
    return text.token_field(
        values["identifier"], values["title_ja"], values["title_en"], values["creator_ja"], values["creator_en"],
        " ".join(values["subjects_ja"]), " ".join(values["subjects_en"]),
        text.rich_to_plain(values["description_ja"]), text.rich_to_plain(values["description_en"]),
        values["coverage"], values["date_text"], *(place or ()),
    )


def _log(cur, clock: Clock, actor: Actor, item_id: int, action: str, **detail: object) -> None:
    cur.execute(
        "INSERT INTO archive_history (item_id, changed_at, actor_id, actor_login, action, detail) VALUES (?, ?, ?, ?, ?, ?)",
        [item_id, clock.now(), actor.user_id, actor.login or "system", action,
         json.dumps(detail, ensure_ascii=False, default=str) if detail else None],
    )


def _require_curator(actor: Actor) -> None:
    actor.require(Role.CURATOR)


def _check_place(cur, place_id: int | None) -> None:
    if place_id is not None and not cur.execute("SELECT 1 FROM archive_places WHERE id = ?", [place_id]).fetchone():
        raise NotFound("archive.error.no_place", place=place_id)


# ---------------------------------------------------------------------------- writing items

_COLUMNS = ("identifier", "title_ja", "title_en", "creator_ja", "creator_en", "date_text", "year_from",
            "year_to", "type", "subjects_ja", "subjects_en", "description_ja", "description_en", "format",
            "source", "coverage", "rights", "place_id")


def insert_item(cur, clock: Clock, actor: Actor, values: dict, *, is_demo: bool = False,
                action: str = "created") -> int:
    """Insert checked values (from check_input) as a draft, inside the caller's transaction."""
    if cur.execute("SELECT 1 FROM archive_items WHERE identifier = ?", [values["identifier"]]).fetchone():
        raise InvalidInput("archive.error.identifier_taken", identifier=values["identifier"])
    _check_place(cur, values["place_id"])
    now = clock.now()
    item_id = cur.execute(
        f"""INSERT INTO archive_items ({", ".join(_COLUMNS)}, status, is_demo, created_by, created_at,
                updated_at, search_tokens)
            VALUES ({", ".join("?" for _ in _COLUMNS)}, 'draft', ?, ?, ?, ?, ?) RETURNING id""",
        [*(values[c] for c in _COLUMNS), is_demo, actor.user_id, now, now, _search_tokens(cur, values)],
    ).fetchone()[0]
    _log(cur, clock, actor, item_id, action, identifier=values["identifier"])
    return item_id


def insert_items_bulk(cur, clock: Clock, actor: Actor, rows: list[tuple[dict, str]], *,
                      action: str = "imported") -> list[int]:
    """Insert many checked items at once (a CSV import), each in its target state
    ('draft', 'review' or 'published'), with their history. The caller has checked
    that the actor may put items in those states and that identifiers are free;
    the UNIQUE constraint still guards them. A few statements in all, not per row."""
    import polars as pl

    if not rows:
        return []
    now = clock.now()
    ids = [r[0] for r in cur.execute("SELECT nextval('archive_items_id') FROM range(?)", [len(rows)]).fetchall()]
    places = {r[0]: (r[1], r[2]) for r in cur.execute("SELECT id, name_ja, name_en FROM archive_places").fetchall()}
    records, history = [], []
    for item_id, (values, status) in zip(ids, rows, strict=True):
        submitted = actor.user_id if status in ("review", "published") else None
        place = places.get(values["place_id"]) if values["place_id"] is not None else None
        records.append({
            "id": item_id, **{c: values[c] for c in _COLUMNS}, "status": status, "is_demo": False,
            "created_by": actor.user_id, "created_at": now, "updated_at": now, "submitted_by": submitted,
            "published_by": actor.user_id if status == "published" else None,
            "published_at": now if status == "published" else None,
            "search_tokens": _search_tokens(None, values, place),
        })
        steps = [(action, {"identifier": values["identifier"]})]
        if status in ("review", "published"):
            steps.append(("submit", {"from": "draft", "to": "review"}))
        if status == "published":
            steps.append(("publish", {"from": "review", "to": "published"}))
        history += [{"item_id": item_id, "changed_at": now, "actor_id": actor.user_id,
                     "actor_login": actor.login or "system", "action": name,
                     "detail": json.dumps(detail, ensure_ascii=False)} for name, detail in steps]
    text_columns = {c: pl.String for c in ("identifier", "title_ja", "title_en", "creator_ja", "creator_en",
                                           "date_text", "type", "description_ja", "description_en", "format",
                                           "source", "coverage", "rights", "status", "search_tokens")}
    items_frame = pl.DataFrame(records, schema={
        "id": pl.Int32, **{c: text_columns.get(c, pl.Int32) for c in _COLUMNS if c not in ("subjects_ja", "subjects_en")},
        "subjects_ja": pl.List(pl.String), "subjects_en": pl.List(pl.String), "status": pl.String,
        "is_demo": pl.Boolean, "created_by": pl.Int32, "created_at": pl.Datetime("us", "Asia/Tokyo"),
        "updated_at": pl.Datetime("us", "Asia/Tokyo"), "submitted_by": pl.Int32, "published_by": pl.Int32,
        "published_at": pl.Datetime("us", "Asia/Tokyo"), "search_tokens": pl.String,
    })
    names = ", ".join(items_frame.columns)
    cur.register("archive_import_items", items_frame)
    cur.execute(f"INSERT INTO archive_items ({names}) SELECT {names} FROM archive_import_items")
    cur.unregister("archive_import_items")
    history_frame = pl.DataFrame(history, schema={
        "item_id": pl.Int32, "changed_at": pl.Datetime("us", "Asia/Tokyo"), "actor_id": pl.Int32,
        "actor_login": pl.String, "action": pl.String, "detail": pl.String})
    cur.register("archive_import_history", history_frame)
    cur.execute("""INSERT INTO archive_history (item_id, changed_at, actor_id, actor_login, action, detail)
                   SELECT item_id, changed_at, actor_id, actor_login, action, detail FROM archive_import_history""")
    cur.unregister("archive_import_history")
    return ids


def create_item(store: Store, clock: Clock, actor: Actor, data: ItemInput) -> int:
    """A new item, as a draft. Curators only."""
    _require_curator(actor)
    values, problems = check_input(data)
    _raise_first(problems)
    return store.write(lambda cur: insert_item(cur, clock, actor, values))


def update_item(store: Store, clock: Clock, actor: Actor, item_id: int, data: ItemInput) -> None:
    """Change an item's fields; only in draft or withdrawn. Records which fields changed."""
    _require_curator(actor)
    values, problems = check_input(data)
    _raise_first(problems)

    def work(cur) -> None:
        row = cur.execute(f"SELECT status, {', '.join(_COLUMNS)} FROM archive_items WHERE id = ?",
                          [item_id]).fetchone()
        if row is None:
            raise NotFound("archive.error.no_item", item=item_id)
        if row[0] not in EDITABLE:
            raise NotEditable(status=Message(f"archive.status.{row[0]}"))
        if values["identifier"] != row[1] and cur.execute(
                "SELECT 1 FROM archive_items WHERE identifier = ? AND id <> ?", [values["identifier"], item_id]).fetchone():
            raise InvalidInput("archive.error.identifier_taken", identifier=values["identifier"])
        _check_place(cur, values["place_id"])
        changed = [c for c, old in zip(_COLUMNS, row[1:], strict=True) if values[c] != old]
        if not changed:
            return
        cur.execute(
            f"UPDATE archive_items SET {', '.join(f'{c} = ?' for c in _COLUMNS)}, updated_at = ?, search_tokens = ? WHERE id = ?",
            [*(values[c] for c in _COLUMNS), clock.now(), _search_tokens(cur, values), item_id],
        )
        _log(cur, clock, actor, item_id, "edited", fields=changed)

    store.write(work)


# action → (states it may start from, the state it leads to, the roles that may take it)
WORKFLOW: dict[str, tuple[tuple[str, ...], str, tuple[Role, ...]]] = {
    "submit": (("draft", "withdrawn"), "review", (Role.CURATOR,)),
    "return": (("review",), "draft", STAFF),
    "publish": (("review",), "published", STAFF),
    "withdraw": (("published",), "withdrawn", STAFF),
}


def check_step(actor: Actor, status: str, submitted_by: int | None, action: str) -> None:
    """Raise why the actor may not take this workflow step on an item in `status`, if they may
    not. Publishing needs the city administrator or a curator other than the one who submitted
    (four eyes). The refusal names the state and the step in words, never by their codes."""
    allowed_from, _, roles = WORKFLOW[action]
    actor.require(*roles)
    if status not in allowed_from:
        raise WrongState(status=Message(f"archive.status.{status}"), action=Message(f"archive.action.{action}"))
    if action == "publish" and not actor.has(Role.CITY_ADMIN) and submitted_by == actor.user_id:
        raise SamePerson()


def steps_for(actor: Actor, item: Item) -> dict[str, ManabiError | None]:
    """The workflow steps that start from the item's state: None where the actor may take the
    step, else the refusal they would meet — so a page offers only what will work and says why
    the rest will not (the submitter is not offered 公開する)."""
    steps: dict[str, ManabiError | None] = {}
    for action, (allowed_from, _, _) in WORKFLOW.items():
        if item.status in allowed_from:
            try:
                check_step(actor, item.status, item.submitted_by, action)
                steps[action] = None
            except ManabiError as refused:
                steps[action] = refused
    return steps


def move(cur, clock: Clock, actor: Actor, item_id: int, action: str) -> str:
    """Take one workflow step inside the caller's transaction; returns the new status."""
    actor.require(*WORKFLOW[action][2])
    row = cur.execute("SELECT status, submitted_by FROM archive_items WHERE id = ?", [item_id]).fetchone()
    if row is None:
        raise NotFound("archive.error.no_item", item=item_id)
    status, submitted_by = row
    check_step(actor, status, submitted_by, action)
    _, to, _ = WORKFLOW[action]
    now = clock.now()
    sets: dict[str, object] = {"status": to, "updated_at": now}
    if to == "review":
        sets["submitted_by"] = actor.user_id
    if to == "published":
        sets.update(published_by=actor.user_id, published_at=now)
    cur.execute(f"UPDATE archive_items SET {', '.join(f'{k} = ?' for k in sets)} WHERE id = ?",
                [*sets.values(), item_id])
    _log(cur, clock, actor, item_id, action, **{"from": status, "to": to})
    return to


def submit(store: Store, clock: Clock, actor: Actor, item_id: int) -> None:
    """Ask for review (draft or withdrawn → review). Curators."""
    store.write(lambda cur: move(cur, clock, actor, item_id, "submit"))


def return_to_draft(store: Store, clock: Clock, actor: Actor, item_id: int) -> None:
    """Send an item in review back for more work (review → draft). Curators or the administrator."""
    store.write(lambda cur: move(cur, clock, actor, item_id, "return"))


def publish(store: Store, clock: Clock, actor: Actor, item_id: int) -> None:
    """Publish an item in review: the city administrator, or a curator who did not submit it."""
    store.write(lambda cur: move(cur, clock, actor, item_id, "publish"))


def withdraw(store: Store, clock: Clock, actor: Actor, item_id: int) -> None:
    """Take a published item off the public pages (published → withdrawn)."""
    store.write(lambda cur: move(cur, clock, actor, item_id, "withdraw"))


def delete_draft(store: Store, clock: Clock, actor: Actor, item_id: int) -> None:
    """Delete a draft that was never published, with its media. Curators."""
    _require_curator(actor)

    def work(cur) -> None:
        row = cur.execute("SELECT status, published_at FROM archive_items WHERE id = ?", [item_id]).fetchone()
        if row is None:
            raise NotFound("archive.error.no_item", item=item_id)
        if row[0] != "draft" or row[1] is not None:
            raise NotEditable(status=Message(f"archive.status.{row[0]}"))
        for table, column in (("archive_media_files", "media_id IN (SELECT id FROM archive_media WHERE item_id = ?)"),
                              ("archive_media", "item_id = ?"), ("archive_set_items", "item_id = ?"),
                              ("archive_relations", "item_a = ? OR item_b = ?")):
            cur.execute(f"DELETE FROM {table} WHERE {column}", [item_id] * column.count("?"))
        cur.execute("DELETE FROM archive_items WHERE id = ?", [item_id])
        _log(cur, clock, actor, item_id, "deleted")

    store.write(work)


# ---------------------------------------------------------------------------- media


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
    _log(cur, clock, actor, item_id, "image_added", media=media_id, file=file_name)
    return media_id


def add_image(store: Store, clock: Clock, actor: Actor, item_id: int, data: bytes, *, file_name: str,
              rights_uri: str | None = None, label_ja: str | None = None, label_en: str | None = None) -> int:
    """Add an image (Pillow makes the sizes). Its rights default to the item's."""
    _require_curator(actor)
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
    _log(cur, clock, actor, item_id, "link_added", media=media_id, kind=kind, url=url)
    return media_id


def add_link(store: Store, clock: Clock, actor: Actor, item_id: int, kind: str, url: str, *,
             label_ja: str | None = None, label_en: str | None = None, rights_uri: str | None = None) -> int:
    """Link a 3D model, a panorama or a video hosted elsewhere."""
    _require_curator(actor)
    uri = rights.canonical(rights_uri) if rights_uri else None

    def work(cur) -> int:
        _editable_item(cur, item_id)
        item_rights = cur.execute("SELECT rights FROM archive_items WHERE id = ?", [item_id]).fetchone()[0]
        return insert_link(cur, clock, actor, item_id, kind, url, rights_uri=uri or item_rights,
                           label_ja=label_ja, label_en=label_en)

    return store.write(work)


def remove_media(store: Store, clock: Clock, actor: Actor, media_id: int) -> None:
    _require_curator(actor)

    def work(cur) -> None:
        row = cur.execute("SELECT item_id FROM archive_media WHERE id = ?", [media_id]).fetchone()
        if row is None:
            raise NotFound("archive.error.no_media", media=media_id)
        _editable_item(cur, row[0])
        cur.execute("DELETE FROM archive_media_files WHERE media_id = ?", [media_id])
        cur.execute("DELETE FROM archive_media WHERE id = ?", [media_id])
        _log(cur, clock, actor, row[0], "media_removed", media=media_id)

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
            WHERE m.id = ? AND {_visible(actor)}""",
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
            WHERE m.id = ? AND {_visible(actor)}""", [media_id])
    if not rows:
        raise NotFound("archive.error.no_media", media=media_id)
    return {size: (w, h) for size, w, h, uri in rows
            if size != "full" or rights.allows_download(uri) or is_staff(actor)}


# ---------------------------------------------------------------------------- places, sets, relations


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
    _require_curator(actor)
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
    _require_curator(actor)
    return store.write(lambda cur: insert_set(cur, slug, title_ja, title_en, description_ja, description_en))


def put_in_set(cur, clock: Clock, actor: Actor, set_id: int, item_id: int) -> None:
    if not cur.execute("SELECT 1 FROM archive_sets WHERE id = ?", [set_id]).fetchone():
        raise NotFound("archive.error.no_set", set=set_id)
    if not cur.execute("SELECT 1 FROM archive_items WHERE id = ?", [item_id]).fetchone():
        raise NotFound("archive.error.no_item", item=item_id)
    position = cur.execute("SELECT coalesce(max(position), 0) + 1 FROM archive_set_items WHERE set_id = ?",
                           [set_id]).fetchone()[0]
    cur.execute("INSERT INTO archive_set_items VALUES (?, ?, ?) ON CONFLICT DO NOTHING", [set_id, item_id, position])
    _log(cur, clock, actor, item_id, "added_to_set", set=set_id)


def add_to_set(store: Store, clock: Clock, actor: Actor, set_id: int, item_id: int) -> None:
    _require_curator(actor)
    store.write(lambda cur: put_in_set(cur, clock, actor, set_id, item_id))


def remove_from_set(store: Store, clock: Clock, actor: Actor, set_id: int, item_id: int) -> None:
    _require_curator(actor)

    def work(cur) -> None:
        cur.execute("DELETE FROM archive_set_items WHERE set_id = ? AND item_id = ?", [set_id, item_id])
        _log(cur, clock, actor, item_id, "removed_from_set", set=set_id)

    store.write(work)


def list_sets(store: Store, actor: Actor) -> list[ItemSet]:
    """Every set, with the number of items the actor may see in it."""
    rows = store.query(
        f"""SELECT s.id, s.slug, s.title_ja, s.title_en, s.description_ja, s.description_en,
                   count(i.id) FILTER (WHERE {_visible(actor)})
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


def relate(store: Store, clock: Clock, actor: Actor, item_id: int, other_id: int) -> None:
    """Mark two items as related (both ways)."""
    _require_curator(actor)
    store.write(lambda cur: insert_relation(cur, clock, actor, item_id, other_id))


def insert_relation(cur, clock: Clock, actor: Actor, item_id: int, other_id: int) -> None:
    if item_id == other_id:
        raise InvalidInput("archive.error.self_relation")
    for one in (item_id, other_id):
        if not cur.execute("SELECT 1 FROM archive_items WHERE id = ?", [one]).fetchone():
            raise NotFound("archive.error.no_item", item=one)
    a, b = sorted((item_id, other_id))
    cur.execute("INSERT INTO archive_relations VALUES (?, ?) ON CONFLICT DO NOTHING", [a, b])
    _log(cur, clock, actor, item_id, "related", other=other_id)


# ---------------------------------------------------------------------------- reading


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
    rows = store.query(f"{_SUMMARY_SQL} WHERE i.id IN (SELECT unnest(?)) AND {_visible(actor)}", [ids])
    by_id = {r[0]: Summary(*r) for r in rows}
    return [by_id[i] for i in ids if i in by_id]


def list_items(store: Store, actor: Actor, status: str | None = None) -> list[Summary]:
    """All items the actor may see (staff: every state), newest change first."""
    if status is not None and status not in STATUSES:
        raise InvalidInput("archive.error.bad_status", status=status, statuses=", ".join(STATUSES))
    rows = store.query(
        f"{_SUMMARY_SQL} WHERE {_visible(actor)} AND (? IS NULL OR i.status = ?) ORDER BY i.id",
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
            FROM archive_items i WHERE i.id IN (SELECT unnest(?)) AND {_visible(actor)}""",
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


# ---------------------------------------------------------------------------- search and facets


@dataclass(frozen=True)
class SearchResult:
    items: list[Summary]
    total: int
    facets: dict[str, dict[str, int]]  # 'type' | 'era' | 'set' → value → count


def search(store: Store, actor: Actor, query: str = "", *, types: list[str] | None = None,
           era: str | None = None, set_id: int | None = None, status: str | None = None,
           limit: int = 24, offset: int = 0) -> SearchResult:
    """Items matching `query` (Japanese-aware: the query is cut into words by MeCab, and
    every word must be one of the item's words; or the whole query appears in a title),
    filtered by type, era facet and set, with facet counts. The public sees published only."""
    words = list(dict.fromkeys(text.tokens(query or "", query=True)))
    needle = text.normal(query or "").strip()
    params: list[object] = []
    condition = "true"
    if needle:
        word_match = " AND ".join("contains(i.search_tokens, ?)" for _ in words) or "false"
        params += [f" {w} " for w in words]
        condition = f"(({word_match}) OR contains(lower(i.title_ja || ' ' || coalesce(i.title_en, '')), ?))"
        params.append(needle)
    rows = store.query(
        f"""SELECT i.id, i.type, i.year_from, i.year_to,
                   list(si.set_id) FILTER (WHERE si.set_id IS NOT NULL) AS sets,
                   contains(lower(i.title_ja || ' ' || coalesce(i.title_en, '')), ?) AS in_title
            FROM archive_items i LEFT JOIN archive_set_items si ON si.item_id = i.id
            WHERE {_visible(actor)} AND (? IS NULL OR i.status = ?) AND {condition}
            GROUP BY ALL""",
        [needle or "\x00", status, status, *params],
    )

    # Each row once: (id, type, year_from, year_to, set ids, title match, era facets).
    rows = [(*r[:4], r[4] or [], r[5], eras.era_facet(r[2], r[3])) for r in rows]

    def keep(row, skip: str | None = None) -> bool:
        """Whether a row passes the chosen filters, leaving out `skip` (for that facet's counts)."""
        if skip != "type" and types and row[1] not in types:
            return False
        if skip != "era" and era and era not in row[6]:
            return False
        return skip == "set" or set_id is None or set_id in row[4]

    facets: dict[str, dict[str, int]] = {"type": {}, "era": {}, "set": {}}
    for row in rows:
        if keep(row, "type"):
            facets["type"][row[1]] = facets["type"].get(row[1], 0) + 1
        if keep(row, "era"):
            for key in row[6]:
                facets["era"][key] = facets["era"].get(key, 0) + 1
        if keep(row, "set"):
            for s in row[4]:
                facets["set"][str(s)] = facets["set"].get(str(s), 0) + 1
    hits = [r for r in rows if keep(r)]
    # Title matches first, then by date (undated last), then by id.
    hits.sort(key=lambda r: (not r[5], r[2] if r[2] is not None else 10**6, r[0]))
    page = [r[0] for r in hits[offset:offset + limit]]
    return SearchResult(summaries(store, actor, page), len(hits), facets)


def share_qr_png(url: str) -> bytes:
    """A QR code (PNG) of an item's address, for a teacher to show the class."""
    import io

    import segno

    buffer = io.BytesIO()
    segno.make(url, error="m").save(buffer, kind="png", scale=8, border=2)
    return buffer.getvalue()


# ---------------------------------------------------------------------------- views


def record_view(store: Store, clock: Clock, item_id: int) -> None:
    """Count one view of a published item today (no visitor data is kept)."""
    today = clock.now().date()

    def work(cur) -> None:
        if not cur.execute("SELECT 1 FROM archive_items WHERE id = ? AND status = 'published'", [item_id]).fetchone():
            return
        cur.execute(
            """INSERT INTO archive_views VALUES (?, ?, 1)
               ON CONFLICT (item_id, day) DO UPDATE SET views = archive_views.views + 1""",
            [item_id, today],
        )

    store.write(work)


@dataclass(frozen=True)
class ViewRow:
    item_id: int
    identifier: str
    title_ja: str
    title_en: str | None
    views: int

    def title(self, lang: str) -> str:
        return self.title_en if lang == "en" and self.title_en else self.title_ja


def views_report(store: Store, actor: Actor, start: date, end: date) -> tuple[int, list[ViewRow], list[tuple[date, int]]]:
    """Views from `start` to `end` (inclusive): the total, per item (most viewed first), per month."""
    actor.require(*STAFF)
    per_item = [ViewRow(*r) for r in store.query(
        """SELECT i.id, i.identifier, i.title_ja, i.title_en, sum(v.views)::INTEGER
           FROM archive_views v JOIN archive_items i ON i.id = v.item_id
           WHERE v.day BETWEEN ? AND ? GROUP BY ALL ORDER BY 5 DESC, 1""", [start, end])]
    per_month = [(r[0], r[1]) for r in store.query(
        """SELECT date_trunc('month', day)::DATE, sum(views)::INTEGER FROM archive_views
           WHERE day BETWEEN ? AND ? GROUP BY 1 ORDER BY 1""", [start, end])]
    return sum(r.views for r in per_item), per_item, per_month


def counts_by_status(store: Store, actor: Actor) -> dict[str, int]:
    actor.require(*STAFF)
    return {s: n for s, n in store.query("SELECT status, count(*) FROM archive_items GROUP BY 1")}
