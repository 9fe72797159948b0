"""A school's online class for one classroom: the teacher moderates, each pupil of the
class gets a member link of their own, nobody else gets one; tablets' readiness is shown."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import jwt
import pytest

from facilities.services import courses_classes as classes
from facilities.services import meetings
from kernel.actor import Actor, Role
from kernel.errors import NotFound, PermissionDenied
from portal.services import accounts, schools

SECRET = "class-tests-shared-secret-long-enough-0123456789"


@pytest.fixture(autouse=True)
def jitsi(monkeypatch):
    monkeypatch.setenv("MANABI_CONFIG", "/nonexistent/manabi.toml")
    monkeypatch.setenv("MANABI_JITSI_URL", "https://meet.iizuka.example")
    monkeypatch.setenv("MANABI_JITSI_APP_ID", "manabi")
    monkeypatch.setenv("MANABI_JITSI_SECRET", SECRET)


def teacher(store, clock, login, school_id) -> Actor:
    uid = accounts.create_user(store, clock, login=login, display_name=login.title(), roles=["teacher"],
                               password_hash="not-used", school_id=school_id)
    return Actor(uid, login, login.title(), frozenset({Role.TEACHER}), school_id)


@pytest.fixture
def school(store, clock):
    ids = store.write(lambda cur: schools.add_schools(cur, [("E01", "飯塚小", "Iizuka ES", "elementary", 3),
                                                            ("E02", "立岩小", "Tateiwa ES", "elementary", 1)]))

    def setup(cur):
        cur.execute("INSERT INTO school_ict_classrooms (id, school_id, grade, class_name) VALUES "
                    "(1, ?, 5, '1'), (2, ?, 5, '2'), (3, ?, 1, '1')", [ids["E01"], ids["E01"], ids["E02"]])
        cur.execute("INSERT INTO school_ict_pupils (id, pseudonym, school_id, classroom_id, grade, active) VALUES "
                    "(1, 'P-E01-0001', ?, 1, 5, true), (2, 'P-E01-0002', ?, 1, 5, true), "
                    "(3, 'P-E01-0003', ?, 1, 5, false), (4, 'P-E01-0004', ?, 2, 5, true), "
                    "(5, 'P-E02-0001', ?, 3, 1, true)", [ids["E01"]] * 4 + [ids["E02"]])
        now = clock.now()
        cur.execute("""INSERT INTO school_ict_devices (id, asset_tag, serial, kind, model, school_id, status, pupil_id,
                           support_end, updated_at) VALUES
                       (1, 'T1', 'S1', 'pupil_tablet', 'Chromebook', ?, 'assigned', 1, ?, ?),
                       (2, 'T2', 'S2', 'pupil_tablet', 'Chromebook', ?, 'in_repair', NULL, ?, ?)""",
                    [ids["E01"], (now + timedelta(days=900)).date(), now,
                     ids["E01"], (now + timedelta(days=900)).date(), now])

    store.write(setup)
    return ids


def open_lesson(store, clock, who, classroom_id=1, kind="english"):
    start = clock.now() + timedelta(hours=1)
    return classes.open_class(store, clock, who, classroom_id, kind=kind, title="オンライン英語",
                              starts_at=start, ends_at=start + timedelta(minutes=45))


def claims(url: str) -> dict:
    token = parse_qs(urlsplit(url).query)["jwt"][0]
    return jwt.decode(token, SECRET, algorithms=["HS256"], audience="jitsi", issuer="manabi",
                      options={"verify_exp": False, "verify_nbf": False, "verify_iat": False})


def test_classrooms_show_pupils_and_ready_tablets(store, clock, school):
    t = teacher(store, clock, "teacher01", school["E01"])
    rooms = classes.classrooms(store, clock, t)
    assert [(r.grade, r.class_name, r.pupils, r.tablets_ready) for r in rooms] == [(5, "1", 2, 1), (5, "2", 1, 0)]


def test_teacher_moderates_and_each_pupil_of_the_class_gets_a_member_link(store, clock, school):
    t = teacher(store, clock, "teacher01", school["E01"])
    lesson = open_lesson(store, clock, t)
    host = classes.teacher_link(store, clock, t, lesson.id)
    host_claims = claims(host.url)
    assert host_claims["context"]["user"]["affiliation"] == "owner"
    assert host_claims["context"]["user"]["moderator"] == "true"

    links = classes.pupil_links(store, clock, t, lesson.id)
    assert [(p.pseudonym, p.tablet_ready) for p in links] == [("P-E01-0001", True), ("P-E01-0002", False)]
    for link in links:
        pupil = claims(link.url)
        assert pupil["room"] == host_claims["room"]
        assert pupil["context"]["user"] == {"id": f"pupil:{link.pseudonym}", "name": link.pseudonym, "email": "",
                                            "avatar": "", "moderator": "false", "affiliation": "member"}
        meetings.verify_token(meetings.load_config(demo=False), link.url, lesson.starts_at, room=pupil["room"])


def test_no_links_for_other_teachers_or_other_schools(store, clock, school):
    t = teacher(store, clock, "teacher01", school["E01"])
    colleague = teacher(store, clock, "teacher02", school["E01"])
    elsewhere = teacher(store, clock, "teacher03", school["E02"])
    lesson = open_lesson(store, clock, t)
    with pytest.raises(PermissionDenied):
        classes.teacher_link(store, clock, colleague, lesson.id)
    with pytest.raises(PermissionDenied):
        classes.pupil_links(store, clock, colleague, lesson.id)
    with pytest.raises(NotFound):
        classes.pupil_links(store, clock, elsewhere, lesson.id)
    with pytest.raises(NotFound):  # a classroom of another school
        open_lesson(store, clock, elsewhere, classroom_id=1)
    resident = Actor(999, "someone", "Someone", frozenset({Role.RESIDENT}))
    with pytest.raises(PermissionDenied):
        classes.open_class(store, clock, resident, 1, kind="class", title="x", starts_at=clock.now(),
                           ends_at=clock.now() + timedelta(hours=1))


def test_my_classes_lists_upcoming_lessons_only(store, clock, school):
    t = teacher(store, clock, "teacher01", school["E01"])
    lesson = open_lesson(store, clock, t, kind="class")
    assert [c.id for c in classes.my_classes(store, clock, t)] == [lesson.id]
    clock.advance(timedelta(hours=3))
    assert classes.my_classes(store, clock, t) == []
    with pytest.raises(meetings.MeetingClosed):
        classes.teacher_link(store, clock, t, lesson.id)


def test_the_schools_ict_admin_may_open_a_lesson_too(store, clock, school):
    uid = accounts.create_user(store, clock, login="schooladmin01", display_name="ICT", roles=["school_admin"],
                               password_hash="not-used", school_id=school["E01"])
    admin = Actor(uid, "schooladmin01", "ICT", frozenset({Role.SCHOOL_ADMIN}), school["E01"])
    lesson = open_lesson(store, clock, admin)
    assert claims(classes.teacher_link(store, clock, admin, lesson.id).url)["context"]["user"]["moderator"] == "true"
