"""The device registry: devices, who holds them, and every change as an event.

A device's status and holder change only here, each change in one transaction that
reads the device inside it (a retried write sees the other writer's result) and
appends one row to `school_ict_events`. Nonsensical transitions are refused with a
reason: assigning a retired, lost or repairing device, a second holder for a tablet,
a second tablet for a pupil.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime

import duckdb
import polars as pl

from kernel.actor import Actor
from kernel.errors import InvalidInput, ManabiError, NotFound
from kernel.provided import offered_view
from kernel.store import Store
from school_ict.services.access import require_hand_out, require_manage, school_scope
from school_ict.services.errors import DeviceNotFound, TransitionRefused

KINDS = ("pupil_tablet", "teacher_tablet", "e_blackboard")
STATUSES = ("in_stock", "assigned", "in_repair", "lost", "retired")
# Status changes an ICT admin may make directly (check-out/in and repairs have their own paths).
# Repairs go through tickets (services/repairs.py): into repair on opening, out on closing.
STATUS_MOVES = {
    "in_stock": {"lost", "retired"},
    "assigned": {"lost"},
    "in_repair": set(),
    "lost": {"in_stock", "retired"},
    "retired": set(),
}

_DEVICE_COLUMNS = """
    d.id, d.asset_tag, d.serial, d.kind, d.model, d.os_version, d.school_id, s.code AS school_code,
    d.purchase_date, d.warranty_end, d.support_end, d.status, d.pupil_id, d.teacher_id, d.classroom_id,
    d.cart, d.annotated_user, d.last_seen_at,
    p.pseudonym AS pupil, u.login AS teacher_login, u.display_name AS teacher_name,
    c.grade AS class_grade, c.class_name AS class_name
"""
# The portal's schools and accounts are joined as offered (kernel.provided): _portal_views first.
_DEVICE_FROM = """
    FROM school_ict_devices d
    JOIN offered_schools s ON s.id = d.school_id
    LEFT JOIN school_ict_pupils p ON p.id = d.pupil_id
    LEFT JOIN offered_users u ON u.id = d.teacher_id
    LEFT JOIN school_ict_classrooms c ON c.id = d.classroom_id
"""


@dataclass(frozen=True)
class Device:
    id: int
    asset_tag: str
    serial: str
    kind: str
    model: str
    os_version: str | None
    school_id: int
    school_code: str
    purchase_date: date | None
    warranty_end: date | None
    support_end: date | None
    status: str
    pupil_id: int | None
    teacher_id: int | None
    classroom_id: int | None
    cart: str | None
    annotated_user: str | None
    last_seen_at: datetime | None
    pupil: str | None = None
    teacher_login: str | None = None
    teacher_name: str | None = None
    class_grade: int | None = None
    class_name: str | None = None

    @property
    def holder(self) -> str:
        """Who has it, in plain words: a pupil pseudonym, a teacher, a classroom 'grade-class'."""
        if self.pupil:
            return self.pupil
        if self.teacher_login:
            return f"{self.teacher_name} ({self.teacher_login})"
        if self.class_grade is not None:
            return f"{self.class_grade}-{self.class_name}"
        return ""


@dataclass(frozen=True)
class Event:
    happened_at: datetime
    actor_login: str
    kind: str
    from_status: str | None
    to_status: str | None
    detail: str


@dataclass
class BulkResult:
    """A bulk check-out or check-in: what was done, and each refused tag with its reason."""

    done: list[str] = field(default_factory=list)
    refused: list[tuple[str, ManabiError]] = field(default_factory=list)


# ---------------------------------------------------------------- reading


def _portal_views(cur) -> None:
    offered_view(cur, "portal.schools", "portal.users")


def _device_row(cur, where: str, params: list) -> Device | None:
    _portal_views(cur)
    row = cur.execute(f"SELECT {_DEVICE_COLUMNS} {_DEVICE_FROM} WHERE {where}", params).fetchone()
    return None if row is None else Device(*row)


def _device_by_tag(cur, asset_tag: str) -> Device:
    device = _device_row(cur, "d.asset_tag = ?", [asset_tag.strip()])
    if device is None:
        raise DeviceNotFound(tag=asset_tag)
    return device


def visible_device(cur, actor: Actor, asset_tag: str) -> Device:
    device = _device_by_tag(cur, asset_tag)
    # A device of another school is "not found" for a teacher: its existence is not theirs to know.
    try:
        school_scope(actor, device.school_id)
    except ManabiError:
        raise DeviceNotFound(tag=asset_tag) from None
    return device


def get_device(store: Store, actor: Actor, asset_tag: str) -> Device:
    return visible_device(store.cursor(), actor, asset_tag)


def _device_filter(actor: Actor, school_id, status, kind, search) -> tuple[str, list]:
    school_id = school_scope(actor, school_id)
    where, params = ["true"], []
    if school_id is not None:
        where.append("d.school_id = ?")
        params.append(school_id)
    if status:
        if status not in STATUSES:
            raise InvalidInput("ict.error.bad_status", status=status)
        where.append("d.status = ?")
        params.append(status)
    if kind:
        where.append("d.kind = ?")
        params.append(kind)
    if search:
        where.append("(d.asset_tag ILIKE ? OR d.serial ILIKE ? OR p.pseudonym ILIKE ? OR d.model ILIKE ?)")
        params += [f"%{search.strip()}%"] * 4
    return " AND ".join(where), params


def list_devices(store: Store, actor: Actor, *, school_id: int | None = None, status: str | None = None,
                 kind: str | None = None, search: str | None = None, limit: int | None = None) -> list[Device]:
    where, params = _device_filter(actor, school_id, status, kind, search)
    sql = f"SELECT {_DEVICE_COLUMNS} {_DEVICE_FROM} WHERE {where} ORDER BY s.code, d.asset_tag"
    _portal_views(store.cursor())
    if limit:
        sql += f" LIMIT {int(limit)}"
    return [Device(*row) for row in store.query(sql, params)]


def device_frame(store: Store, actor: Actor, *, school_id: int | None = None, status: str | None = None,
                 kind: str | None = None, search: str | None = None, limit: int | None = None) -> pl.DataFrame:
    """The same list as a polars frame, for tables: no Python object per row, so a page
    showing hundreds of devices stays fast."""
    where, params = _device_filter(actor, school_id, status, kind, search)
    sql = f"""SELECT d.asset_tag, d.kind, d.model, d.status,
                     coalesce(p.pseudonym, u.display_name || ' (' || u.login || ')') AS holder,
                     c.grade AS class_grade, c.class_name, d.cart, s.code AS school_code, d.last_seen_at,
                     d.support_end
              {_DEVICE_FROM} WHERE {where} ORDER BY s.code, d.asset_tag"""
    if limit:
        sql += f" LIMIT {int(limit)}"
    _portal_views(store.cursor())
    return store.cursor().execute(sql, params).pl()


def count_devices(store: Store, actor: Actor, *, school_id: int | None = None, status: str | None = None,
                  kind: str | None = None, search: str | None = None) -> int:
    where, params = _device_filter(actor, school_id, status, kind, search)
    _portal_views(store.cursor())
    return int(store.scalar(f"SELECT count(*) {_DEVICE_FROM} WHERE {where}", params))


def history(store: Store, actor: Actor, asset_tag: str) -> list[Event]:
    """The device's events, newest first."""
    device = get_device(store, actor, asset_tag)
    return [Event(*row) for row in store.query(
        """SELECT happened_at, actor_login, kind, from_status, to_status, detail FROM school_ict_events
           WHERE device_id = ? ORDER BY happened_at DESC, id DESC""", [device.id])]


@dataclass(frozen=True)
class Classroom:
    """A class of a school and its active pupils. Offered to the other modules as
    "school_ict.classrooms" (services/rosters.py), there with `tablets_ready` counted: the
    pupils whose own tablet is assigned, not in repair, still supported."""

    id: int
    school_id: int
    grade: int
    class_name: str
    pupils: int
    tablets_ready: int | None = None  # counted only where offered (rosters.classrooms_with_readiness)


def list_classrooms(store: Store, actor: Actor, school_id: int | None = None) -> list[Classroom]:
    school_id = school_scope(actor, school_id)
    return [Classroom(*row) for row in store.query(
        """SELECT c.id, c.school_id, c.grade, c.class_name,
                  (SELECT count(*) FROM school_ict_pupils p WHERE p.classroom_id = c.id AND p.active)
           FROM school_ict_classrooms c WHERE (? IS NULL OR c.school_id = ?)
           ORDER BY c.school_id, c.grade, c.class_name""", [school_id, school_id])]


def list_pupils(store: Store, actor: Actor, classroom_id: int) -> list[dict]:
    """A class's pupils (pseudonyms) and the tablet each holds, if any."""
    school = store.scalar("SELECT school_id FROM school_ict_classrooms WHERE id = ?", [classroom_id])
    if school is None:
        raise NotFound("ict.error.no_such_classroom")
    school_scope(actor, school)
    return store.query_dicts(
        """SELECT p.pseudonym, p.grade, d.asset_tag, d.status
           FROM school_ict_pupils p LEFT JOIN school_ict_devices d ON d.pupil_id = p.id
           WHERE p.classroom_id = ? AND p.active ORDER BY p.pseudonym""", [classroom_id])


def list_carts(store: Store, actor: Actor, school_id: int) -> list[str]:
    school_scope(actor, school_id)
    return [r[0] for r in store.query(
        "SELECT DISTINCT cart FROM school_ict_devices WHERE school_id = ? AND cart IS NOT NULL ORDER BY cart",
        [school_id])]


# ---------------------------------------------------------------- writing


def append_event(cur, clock_now: datetime, actor: Actor, device_id: int, kind: str,
           from_status: str | None, to_status: str | None, detail: str = "") -> None:
    cur.execute(
        """INSERT INTO school_ict_events (device_id, happened_at, actor_id, actor_login, kind, from_status,
                                          to_status, detail) VALUES (?, ?, ?, ?, ?, ?, ?, ?)""",
        [device_id, clock_now, actor.user_id, actor.login or "system", kind, from_status, to_status, detail])


def register_device(store: Store, clock, actor: Actor, *, asset_tag: str, serial: str, kind: str, model: str,
                    school_id: int, os_version: str | None = None, purchase_date: date | None = None,
                    warranty_end: date | None = None, support_end: date | None = None,
                    cart: str | None = None) -> Device:
    require_manage(actor, school_id)
    if kind not in KINDS:
        raise InvalidInput("ict.error.bad_kind", kind=kind)
    asset_tag, serial = asset_tag.strip(), serial.strip()
    if not asset_tag or not serial or not model.strip():
        raise InvalidInput("ict.error.missing_fields")

    def work(cur):
        offered_view(cur, "portal.schools")
        if cur.execute("SELECT 1 FROM offered_schools WHERE id = ?", [school_id]).fetchone() is None:
            raise NotFound("ict.error.no_such_school", school=school_id)
        clash = cur.execute("SELECT asset_tag, serial FROM school_ict_devices WHERE asset_tag = ? OR serial = ?",
                            [asset_tag, serial]).fetchone()
        if clash:
            raise InvalidInput("ict.error.duplicate_device", tag=clash[0], serial=clash[1])
        now = clock.now()
        device_id = cur.execute(
            """INSERT INTO school_ict_devices (asset_tag, serial, kind, model, os_version, school_id, purchase_date,
                   warranty_end, support_end, status, cart, updated_at)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'in_stock', ?, ?) RETURNING id""",
            [asset_tag, serial, kind, model.strip(), os_version, school_id, purchase_date, warranty_end,
             support_end, cart, now]).fetchone()[0]
        append_event(cur, now, actor, device_id, "registered", None, "in_stock", serial)

    store.write(work)
    return get_device(store, actor, asset_tag)


def _refuse_unless_in_stock(device: Device) -> None:
    if device.status == "in_stock":
        return
    if device.status == "assigned":
        raise TransitionRefused("ict.error.already_assigned", tag=device.asset_tag, holder=device.holder)
    raise TransitionRefused(f"ict.error.cannot_assign_{device.status}", tag=device.asset_tag)


def _resolve_target(cur, device: Device, pupil: str | None, teacher: str | None,
                    classroom_id: int | None) -> tuple[str, int, str | None, str]:
    """(column, id, exclusive holder key or None for a class set, detail) for a check-out."""
    if sum(x is not None for x in (pupil, teacher, classroom_id)) != 1:
        raise InvalidInput("ict.error.one_target")
    if pupil is not None:
        if device.kind != "pupil_tablet":
            raise TransitionRefused("ict.error.wrong_kind_pupil", tag=device.asset_tag)
        row = cur.execute("SELECT id, school_id, active FROM school_ict_pupils WHERE pseudonym = ?",
                          [pupil.strip()]).fetchone()
        if row is None or not row[2]:
            raise NotFound("ict.error.no_such_pupil", pupil=pupil)
        if row[1] != device.school_id:
            raise TransitionRefused("ict.error.other_school_target", tag=device.asset_tag)
        return "pupil_id", row[0], f"pupil:{row[0]}", pupil.strip()
    if teacher is not None:
        if device.kind != "teacher_tablet":
            raise TransitionRefused("ict.error.wrong_kind_teacher", tag=device.asset_tag)
        offered_view(cur, "portal.users", "portal.user_roles")
        row = cur.execute(
            """SELECT u.id, u.school_id FROM offered_users u JOIN offered_user_roles r ON r.user_id = u.id
               WHERE u.login = ? AND r.role = 'teacher' AND NOT u.disabled""", [teacher.strip().lower()]).fetchone()
        if row is None:
            raise NotFound("ict.error.no_such_teacher", teacher=teacher)
        if row[1] != device.school_id:
            raise TransitionRefused("ict.error.other_school_target", tag=device.asset_tag)
        return "teacher_id", row[0], f"teacher:{row[0]}", teacher.strip().lower()
    row = cur.execute("SELECT school_id, grade, class_name FROM school_ict_classrooms WHERE id = ?",
                      [classroom_id]).fetchone()
    if row is None:
        raise NotFound("ict.error.no_such_classroom")
    if row[0] != device.school_id:
        raise TransitionRefused("ict.error.other_school_target", tag=device.asset_tag)
    if device.kind == "teacher_tablet":
        raise TransitionRefused("ict.error.wrong_kind_classroom", tag=device.asset_tag)
    # A blackboard belongs to one room; pupil tablets lent to a class are a class set (many per room).
    holder = f"board:{classroom_id}" if device.kind == "e_blackboard" else None
    return "classroom_id", classroom_id, holder, f"{row[1]}-{row[2]}"


def _check_out_in(cur, now: datetime, actor: Actor, asset_tag: str, pupil: str | None, teacher: str | None,
                  classroom_id: int | None) -> None:
    device = visible_device(cur, actor, asset_tag)
    require_hand_out(actor, device.school_id)
    _refuse_unless_in_stock(device)
    column, target_id, holder, detail = _resolve_target(cur, device, pupil, teacher, classroom_id)
    if holder is not None:
        held = cur.execute(
            """SELECT d.asset_tag FROM school_ict_holders h JOIN school_ict_devices d ON d.id = h.device_id
               WHERE h.holder = ?""", [holder]).fetchone()
        if held:
            raise TransitionRefused("ict.error.holder_has_device", holder=detail, tag=held[0])
    # The device row first: a second writer on the same device conflicts here and is retried.
    cur.execute(f"UPDATE school_ict_devices SET status = 'assigned', {column} = ?, updated_at = ? WHERE id = ?",
                [target_id, now, device.id])
    if holder is not None:
        try:
            cur.execute("INSERT INTO school_ict_holders VALUES (?, ?)", [holder, device.id])
        except duckdb.ConstraintException as exc:
            # Another writer gave this holder a device a moment ago and committed. Run again
            # (Store.write retries conflicts) so the retry reads theirs and refuses with the tag.
            raise duckdb.TransactionException(str(exc)) from exc
    append_event(cur, now, actor, device.id, "check_out", device.status, "assigned", detail)


def check_out(store: Store, clock, actor: Actor, asset_tag: str, *, pupil: str | None = None,
              teacher: str | None = None, classroom_id: int | None = None) -> Device:
    """Hand one device to a pupil (pseudonym), a teacher (login) or a classroom."""
    store.write(lambda cur: _check_out_in(cur, clock.now(), actor, asset_tag, pupil, teacher, classroom_id))
    return get_device(store, actor, asset_tag)


def release_device(cur, now: datetime, actor: Actor, device: Device, to_status: str, kind: str, detail: str) -> None:
    cur.execute("DELETE FROM school_ict_holders WHERE device_id = ?", [device.id])
    cur.execute("""UPDATE school_ict_devices SET status = ?, pupil_id = NULL, teacher_id = NULL,
                   classroom_id = NULL, updated_at = ? WHERE id = ?""", [to_status, now, device.id])
    append_event(cur, now, actor, device.id, kind, device.status, to_status, detail)


def _check_in_one(cur, now: datetime, actor: Actor, asset_tag: str) -> None:
    device = visible_device(cur, actor, asset_tag)
    require_hand_out(actor, device.school_id)
    if device.status != "assigned":
        raise TransitionRefused("ict.error.not_assigned", tag=device.asset_tag)
    release_device(cur, now, actor, device, "in_stock", "check_in", device.holder)


def check_in(store: Store, clock, actor: Actor, asset_tag: str) -> Device:
    store.write(lambda cur: _check_in_one(cur, clock.now(), actor, asset_tag))
    return get_device(store, actor, asset_tag)


def _clean_tags(tags: Iterable[str]) -> list[str]:
    """Tags as pasted or scanned: one per line or separated by commas/spaces; duplicates once."""
    seen: dict[str, None] = {}
    for tag in tags:
        tag = tag.strip()
        if tag:
            seen.setdefault(tag, None)
    return list(seen)


def split_tags(text: str) -> list[str]:
    return _clean_tags(text.replace(",", "\n").replace("\t", "\n").replace(" ", "\n").splitlines())


def _bulk(store: Store, tags: Iterable[str], one) -> BulkResult:
    """Run `one(cur, tag)` for each tag in one transaction; refusals are collected, not fatal,
    so a cart with one broken tablet still goes out and the broken one is named."""
    tags = _clean_tags(tags)

    def work(cur):
        result = BulkResult()
        for tag in tags:
            # DuckDB has no savepoints: each step checks everything before it writes anything.
            try:
                one(cur, tag)
            except ManabiError as exc:
                result.refused.append((tag, exc))
            else:
                result.done.append(tag)
        return result

    return store.write(work)


def check_out_many(store: Store, clock, actor: Actor, tags: Iterable[str], classroom_id: int) -> BulkResult:
    """A class set: every listed tablet lent to one classroom."""
    now = clock.now()
    return _bulk(store, tags, lambda cur, tag: _check_out_in(cur, now, actor, tag, None, None, classroom_id))


def check_out_cart(store: Store, clock, actor: Actor, school_id: int, cart: str, classroom_id: int) -> BulkResult:
    """Every in-stock tablet of a charging cart, lent to a classroom."""
    school_scope(actor, school_id)
    tags = [r[0] for r in store.query(
        """SELECT asset_tag FROM school_ict_devices WHERE school_id = ? AND cart = ? AND status = 'in_stock'
           AND kind = 'pupil_tablet' ORDER BY asset_tag""", [school_id, cart])]
    return check_out_many(store, clock, actor, tags, classroom_id)


def check_in_many(store: Store, clock, actor: Actor, tags: Iterable[str]) -> BulkResult:
    now = clock.now()
    return _bulk(store, tags, lambda cur, tag: _check_in_one(cur, now, actor, tag))


def check_in_classroom(store: Store, clock, actor: Actor, classroom_id: int) -> BulkResult:
    """Return a class set: every pupil tablet lent to the classroom (not its blackboard)."""
    school = store.scalar("SELECT school_id FROM school_ict_classrooms WHERE id = ?", [classroom_id])
    if school is None:
        raise NotFound("ict.error.no_such_classroom")
    school_scope(actor, school)
    tags = [r[0] for r in store.query(
        """SELECT asset_tag FROM school_ict_devices WHERE classroom_id = ? AND kind = 'pupil_tablet'
           ORDER BY asset_tag""", [classroom_id])]
    return check_in_many(store, clock, actor, tags)


def set_status(store: Store, clock, actor: Actor, asset_tag: str, new_status: str, note: str = "") -> Device:
    """Mark a device lost, found, retired, back from repair…; only moves in STATUS_MOVES."""
    if new_status not in STATUSES:
        raise InvalidInput("ict.error.bad_status", status=new_status)

    def work(cur):
        device = visible_device(cur, actor, asset_tag)
        require_manage(actor, device.school_id)
        if new_status == "assigned":
            raise TransitionRefused("ict.error.use_check_out", tag=device.asset_tag)
        if new_status == "in_repair":
            raise TransitionRefused("ict.error.use_repair", tag=device.asset_tag)
        if new_status == device.status:
            raise TransitionRefused("ict.error.same_status", tag=device.asset_tag)
        if new_status not in STATUS_MOVES[device.status]:
            raise TransitionRefused(f"ict.error.cannot_leave_{device.status}", tag=device.asset_tag,
                                    to=new_status)
        release_device(cur, clock.now(), actor, device, new_status, "status", note.strip() or device.holder)

    store.write(work)
    return get_device(store, actor, asset_tag)


@dataclass(frozen=True)
class SchoolRef:
    id: int
    code: str
    name_ja: str
    name_en: str
    pupils: int

    def name(self, lang: str) -> str:
        return self.name_ja if lang == "ja" else self.name_en


def list_schools(store: Store, actor: Actor) -> list[SchoolRef]:
    """The schools the actor may look at (all for the board, else their own)."""
    school_id = school_scope(actor, None)
    offered_view(store.cursor(), "portal.schools")
    return [SchoolRef(*row) for row in store.query(
        "SELECT id, code, name_ja, name_en, pupils FROM offered_schools WHERE (? IS NULL OR id = ?) ORDER BY code",
        [school_id, school_id])]


def classroom_id(store: Store, school_id: int, grade: int, class_name: str) -> int:
    room_id = store.scalar("SELECT id FROM school_ict_classrooms WHERE school_id = ? AND grade = ? AND class_name = ?",
                           [school_id, grade, class_name])
    if room_id is None:
        raise NotFound("ict.error.no_such_classroom")
    return room_id


def find_school(store: Store, text: str) -> int | None:
    """A school by code or name (Japanese or English), as `manabi devices schools` prints them."""
    text = text.strip()
    offered_view(store.cursor(), "portal.schools")
    return store.scalar(
        """SELECT id FROM offered_schools WHERE upper(code) = upper(?) OR name_ja = ? OR lower(name_en) = lower(?)""",
        [text, text, text])
