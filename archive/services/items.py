"""Items: their values and checks, writing them, the publishing workflow; who sees what.

The rule that everything else leans on: a visitor who is not staff (curator or city
administrator) sees published items only. Every read (reading, media, search) takes the
actor and applies `visible(actor)`; pages, routes, exports and the map all read through
those functions. Media are in media.py, places, sets and relations in places_sets.py.

Workflow: draft → review → published → withdrawn (→ review again). Only curators create
and edit (in draft or withdrawn); a curator submits; a *second* curator (not the one who
submitted) or the city administrator publishes; curators or the administrator withdraw.
Every change is written to archive_history (who, when, what).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field, fields
from datetime import datetime

from archive.services import eras, rights, text
from kernel.actor import Actor, Role
from kernel.clock import Clock
from kernel.errors import InvalidInput, ManabiError, Message, NotFound
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


def visible(actor: Actor, alias: str = "i") -> str:
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


def log_change(cur, clock: Clock, actor: Actor, item_id: int, action: str, **detail: object) -> None:
    cur.execute(
        "INSERT INTO archive_history (item_id, changed_at, actor_id, actor_login, action, detail) VALUES (?, ?, ?, ?, ?, ?)",
        [item_id, clock.now(), actor.user_id, actor.login or "system", action,
         json.dumps(detail, ensure_ascii=False, default=str) if detail else None],
    )


def require_curator(actor: Actor) -> None:
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
    log_change(cur, clock, actor, item_id, action, identifier=values["identifier"])
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
    require_curator(actor)
    values, problems = check_input(data)
    _raise_first(problems)
    return store.write(lambda cur: insert_item(cur, clock, actor, values))


def update_item(store: Store, clock: Clock, actor: Actor, item_id: int, data: ItemInput) -> None:
    """Change an item's fields; only in draft or withdrawn. Records which fields changed."""
    require_curator(actor)
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
        log_change(cur, clock, actor, item_id, "edited", fields=changed)

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
    log_change(cur, clock, actor, item_id, action, **{"from": status, "to": to})
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
    require_curator(actor)

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
        log_change(cur, clock, actor, item_id, "deleted")

    store.write(work)
