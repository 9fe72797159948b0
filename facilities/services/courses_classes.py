"""A school's online class (4-1-1) or online English lesson (4-1-2) for one class, on the
same Jitsi machinery as courses.

Pupils are not portal users: the school ICT registry knows them only by a pseudonym and
their classroom. So a teacher opens an online class for a classroom of their own school (or the
school's ICT admin does); whoever opens it joins as moderator, and each active pupil of that class gets a member link
of their own (user id `pupil:<pseudonym>`, shown name = the pseudonym, no real names),
which the teacher hands out through the class's learning platform or MDM (CSV). Nobody
outside the class gets a link; the links work for this room and this lesson only.

The classrooms, pupils and tablets are read from the school ICT registry's tables (when
that module's data is present): the tablets' readiness (assigned to the pupil, not in
repair, still supported) is shown before the lesson.
Table: facilities_class_sessions; attendance of teachers in facilities_meeting_joins.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from facilities.services import meetings
from facilities.services.courses import meeting_config, record_join
from kernel import offers
from kernel.actor import Actor, Role
from kernel.clock import Clock
from kernel.errors import InvalidInput, NotFound, PermissionDenied
from kernel.provided import provided
from kernel.store import Store

KINDS = ("class", "english")


@dataclass(frozen=True)
class ClassSession:
    id: int
    # School ICT's Classroom, as "school_ict.classrooms" offers it: id, school_id, grade,
    # class_name, pupils, and tablets_ready (own tablet assigned, not in repair, still supported).
    classroom: Any
    teacher_id: int
    kind: str
    title: str
    starts_at: datetime
    ends_at: datetime


@dataclass(frozen=True)
class PupilLink:
    pseudonym: str
    url: str
    tablet_ready: bool


def _registry_present(store: Store) -> bool:
    """School ICT offers the class rosters (kernel.provided); without it, no classes."""
    return provided(offers.SCHOOL_ICT_CLASSROOMS) is not None


def _teacher(actor: Actor) -> None:
    """A teacher, or the school's ICT admin helping out, of one school."""
    actor.require(Role.TEACHER, Role.SCHOOL_ADMIN)
    if actor.school_id is None:
        raise PermissionDenied()


def classrooms(store: Store, clock: Clock, actor: Actor) -> list[Any]:
    """The classrooms of the teacher's own school, with pupils and ready tablets."""
    _teacher(actor)
    if not _registry_present(store):
        return []
    return provided(offers.SCHOOL_ICT_CLASSROOMS)(store, actor.school_id, clock.now().date())


def _classroom(store: Store, clock: Clock, actor: Actor, classroom_id: int) -> Any:
    for room in classrooms(store, clock, actor):
        if room.id == classroom_id:
            return room
    raise NotFound("courses.classes.unknown_classroom", classroom=classroom_id)


def open_class(store: Store, clock: Clock, actor: Actor, classroom_id: int, *, kind: str, title: str,
               starts_at: datetime, ends_at: datetime) -> ClassSession:
    """A teacher opens an online lesson for a classroom of their own school."""
    _teacher(actor)
    room = _classroom(store, clock, actor, classroom_id)
    if kind not in KINDS:
        raise InvalidInput("courses.classes.bad_class_kind", kind=kind)
    if not title.strip():
        raise InvalidInput("courses.title_required")
    if ends_at <= starts_at:
        raise InvalidInput("courses.session_needs_times")
    if ends_at <= clock.now():
        raise InvalidInput("courses.session_in_past")
    meeting_room = meetings.new_room_name(f"class-{kind}")

    def work(cur) -> int:
        return cur.execute(
            """INSERT INTO facilities_class_sessions (school_id, classroom_id, teacher_id, kind, title, starts_at,
                   ends_at, meeting_room, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id""",
            [actor.school_id, room.id, actor.user_id, kind, title.strip(), starts_at, ends_at, meeting_room,
             clock.now()]).fetchone()[0]

    session_id = store.write(work)
    return ClassSession(session_id, room, actor.user_id, kind, title.strip(), starts_at, ends_at)


def my_classes(store: Store, clock: Clock, actor: Actor) -> list[ClassSession]:
    """The online lessons the teacher opened that have not ended yet."""
    _teacher(actor)
    rooms = {r.id: r for r in classrooms(store, clock, actor)}
    rows = store.query(
        """SELECT id, classroom_id, teacher_id, kind, title, starts_at, ends_at FROM facilities_class_sessions
           WHERE teacher_id = ? AND school_id = ? AND ends_at + INTERVAL 30 MINUTE > ? ORDER BY starts_at""",
        [actor.user_id, actor.school_id, clock.now()])
    return [ClassSession(sid, rooms[cid], tid, kind, title, starts, ends)
            for sid, cid, tid, kind, title, starts, ends in rows if cid in rooms]


def _session(store: Store, clock: Clock, actor: Actor, session_id: int) -> tuple[ClassSession, str]:
    _teacher(actor)
    row = store.query(
        """SELECT id, classroom_id, teacher_id, kind, title, starts_at, ends_at, meeting_room
           FROM facilities_class_sessions WHERE id = ? AND school_id = ?""", [session_id, actor.school_id])
    if not row:
        raise NotFound("courses.unknown_online_session", session=session_id)
    sid, cid, tid, kind, title, starts, ends, meeting_room = row[0]
    if tid != actor.user_id:
        raise PermissionDenied("courses.no_join_link")  # another teacher's lesson
    return ClassSession(sid, _classroom(store, clock, actor, cid), tid, kind, title, starts, ends), meeting_room


def teacher_link(store: Store, clock: Clock, actor: Actor, session_id: int) -> meetings.JoinLink:
    """The teacher's own moderator link for the lesson they opened."""
    session, meeting_room = _session(store, clock, actor, session_id)
    who = meetings.Participant(str(actor.user_id), actor.display_name, actor.email or "", moderator=True)
    link = meetings.join_link(meeting_config(store), meeting_room, who, session.starts_at, session.ends_at,
                              clock.now())
    store.write(lambda cur: record_join(cur, clock, "class", session_id, str(actor.user_id), True))
    return link


def pupil_links(store: Store, clock: Clock, actor: Actor, session_id: int) -> list[PupilLink]:
    """One member link per active pupil of the class, for the teacher to hand out."""
    session, meeting_room = _session(store, clock, actor, session_id)
    config = meeting_config(store)
    pupils = provided(offers.SCHOOL_ICT_PUPILS)(store, session.classroom.id, clock.now().date())
    links = []
    for pseudonym, ready in pupils:
        who = meetings.Participant(f"pupil:{pseudonym}", pseudonym, moderator=False)
        link = meetings.join_link(config, meeting_room, who, session.starts_at, session.ends_at, clock.now())
        links.append(PupilLink(pseudonym, link.url, bool(ready)))
    return links
