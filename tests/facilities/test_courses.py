"""Courses: creation, sessions booked in a real room or online, registration window,
the waiting list moving up by itself, fees owed, and who gets a join link."""

from __future__ import annotations

from datetime import datetime, timedelta

import jwt
import pytest

from facilities.services import booking, courses, meetings
from kernel.clock import TOKYO
from kernel.errors import InvalidInput, PermissionDenied
from kernel.migrations import set_meta

from .conftest import make_user

SECRET = "course-tests-shared-secret-long-enough-0123456789"


@pytest.fixture
def jitsi(monkeypatch):
    monkeypatch.setenv("MANABI_CONFIG", "/nonexistent/manabi.toml")
    monkeypatch.setenv("MANABI_JITSI_URL", "https://meet.iizuka.example")
    monkeypatch.setenv("MANABI_JITSI_APP_ID", "manabi")
    monkeypatch.setenv("MANABI_JITSI_SECRET", SECRET)
    for name in ("ALG", "PRIVATE_KEY", "KID", "AUDIENCE", "SUBJECT"):
        monkeypatch.delenv(f"MANABI_JITSI_{name}", raising=False)
    return meetings.load_config(demo=False)


def claims_of(token: str) -> dict:
    """Signature, audience and issuer checked by pyjwt; times are checked against the test
    clock by meetings.verify_token, not against the real time pyjwt would use."""
    return jwt.decode(token, SECRET, algorithms=["HS256"], audience="jitsi", issuer="manabi",
                      options={"verify_exp": False, "verify_nbf": False, "verify_iat": False})


def new_course(store, clock, town, lecturer, *, capacity=2, fee_yen=0, code="SMART-1", opens=None, closes=None):
    now = clock.now()
    return courses.create_course(
        store, clock, town.staff, code=code, title_ja="シニアのためのスマホ教室", title_en="Smartphones for seniors",
        lecturer_id=lecturer.user_id, capacity=capacity, fee_yen=fee_yen, facility_id=town.facility_id,
        registration_opens=opens or now - timedelta(days=1), registration_closes=closes or now + timedelta(days=10))


def online_session(store, clock, town, course, days=14):
    start = (clock.now() + timedelta(days=days)).replace(hour=14, minute=0)
    return courses.add_session(store, clock, town.staff, course.id, online=True, starts_at=start,
                               ends_at=start + timedelta(hours=2))


@pytest.fixture
def lecturer(store, clock):
    return make_user(store, clock, "lecturer01", "resident")


def residents(store, clock, count):
    return [make_user(store, clock, f"resident{i:02d}", "resident") for i in range(count)]


def test_a_room_session_really_books_the_room(store, clock, town, lecturer):
    course = new_course(store, clock, town, lecturer)
    day = town.next_open_day(clock.now().date() + timedelta(days=7))
    session = courses.add_session(store, clock, town.staff, course.id, room_id=town.room_id, day=day,
                                  block_code="am")
    assert not booking.is_free(store, town.room_id, day, "am")
    taken = booking.get_booking(store, town.staff, session.booking_id)
    assert (taken.source, taken.status, taken.total_yen) == ("course", "confirmed", 0)
    assert session.starts_at == datetime.combine(day, session.starts_at.timetz()) and not session.online
    # Nobody else can have that slot now, and the course cannot book it twice either.
    with pytest.raises(booking.SlotTaken):
        booking.book(store, clock, town.alice, town.room_id, day, "am")
    with pytest.raises(booking.SlotTaken):
        courses.add_session(store, clock, town.staff, course.id, room_id=town.room_id, day=day, block_code="am")
    assert len(courses.get_course(store, course.id).sessions) == 1


def test_hybrid_session_has_room_and_online(store, clock, town, lecturer):
    course = new_course(store, clock, town, lecturer)
    day = town.next_open_day(clock.now().date() + timedelta(days=7))
    session = courses.add_session(store, clock, town.staff, course.id, room_id=town.hall_id, day=day,
                                  block_code="pm", online=True)
    assert session.online and session.booking_id is not None
    assert courses.get_course(store, course.id).has_online


def test_only_staff_create_courses_and_sessions(store, clock, town, lecturer):
    with pytest.raises(PermissionDenied):
        courses.create_course(store, clock, town.alice, code="X-1", title_ja="x", title_en="x",
                              lecturer_id=lecturer.user_id, capacity=5, registration_opens=clock.now(),
                              registration_closes=clock.now() + timedelta(days=1))
    course = new_course(store, clock, town, lecturer)
    with pytest.raises(PermissionDenied):
        online_session(store, clock, type(town)(**{**town.__dict__, "staff": town.alice}), course)
    with pytest.raises(InvalidInput):
        courses.add_session(store, clock, town.staff, course.id)  # neither room nor online


def test_registration_window_is_enforced(store, clock, town, lecturer):
    now = clock.now()
    course = new_course(store, clock, town, lecturer, opens=now + timedelta(days=1), closes=now + timedelta(days=3))
    online_session(store, clock, town, course)
    with pytest.raises(courses.NotRegistrable) as caught:
        courses.register(store, clock, town.alice, course.id)
    assert caught.value.key == "courses.registration_not_yet"
    clock.advance(timedelta(days=1))
    assert courses.register(store, clock, town.alice, course.id).status == "registered"
    clock.advance(timedelta(days=2))
    with pytest.raises(courses.NotRegistrable) as caught:
        courses.register(store, clock, town.bob, course.id)
    assert caught.value.key == "courses.registration_closed"


def test_only_residents_register_once_and_not_the_lecturer(store, clock, town, lecturer):
    course = new_course(store, clock, town, lecturer)
    with pytest.raises(PermissionDenied):
        courses.register(store, clock, town.staff, course.id)
    with pytest.raises(courses.NotRegistrable):
        courses.register(store, clock, lecturer, course.id)
    courses.register(store, clock, town.alice, course.id)
    with pytest.raises(courses.AlreadyRegistered):
        courses.register(store, clock, town.alice, course.id)


def test_waitlist_moves_up_by_itself_in_order(store, clock, town, lecturer):
    course = new_course(store, clock, town, lecturer, capacity=2, fee_yen=1500)
    online_session(store, clock, town, course)
    people = residents(store, clock, 5)
    results = [courses.register(store, clock, p, course.id) for p in people]
    assert [r.status for r in results] == ["registered", "registered", "waitlisted", "waitlisted", "waitlisted"]
    assert [r.waitlist_position for r in results[2:]] == [1, 2, 3]
    assert results[0].owed_yen == 1500 and results[2].owed_yen == 0  # no fee owed while waiting

    promoted = courses.cancel_registration(store, clock, people[0], course.id)
    assert promoted == [people[2].user_id]
    assert courses.my_registration(store, people[2], course.id).status == "registered"
    assert courses.my_registration(store, people[2], course.id).promoted
    assert courses.my_registration(store, people[2], course.id).owed_yen == 1500
    assert courses.my_registration(store, people[3], course.id).waitlist_position == 1
    # Leaving the waiting list frees no seat and promotes nobody.
    assert courses.cancel_registration(store, clock, people[3], course.id) == []
    assert courses.my_registration(store, people[4], course.id).waitlist_position == 1
    assert courses.get_course(store, course.id).seats_taken == 2
    # Coming back after cancelling puts you at the end of the list.
    again = courses.register(store, clock, people[0], course.id)
    assert (again.status, again.waitlist_position) == ("waitlisted", 2)


def test_more_seats_promote_the_waiting_list(store, clock, town, lecturer):
    course = new_course(store, clock, town, lecturer, capacity=1)
    online_session(store, clock, town, course)
    people = residents(store, clock, 3)
    for p in people:
        courses.register(store, clock, p, course.id)
    assert courses.change_capacity(store, clock, town.staff, course.id, 3) == [people[1].user_id, people[2].user_id]
    with pytest.raises(InvalidInput):
        courses.change_capacity(store, clock, town.staff, course.id, 2)


def test_no_promotion_after_the_course_ended(store, clock, town, lecturer):
    course = new_course(store, clock, town, lecturer, capacity=1)
    online_session(store, clock, town, course, days=3)
    first, second = residents(store, clock, 2)
    courses.register(store, clock, first, course.id)
    courses.register(store, clock, second, course.id)
    clock.advance(timedelta(days=5))
    assert courses.cancel_registration(store, clock, first, course.id) == []
    assert courses.my_registration(store, second, course.id).status == "waitlisted"


def test_participant_list_is_for_the_lecturer_and_staff_only(store, clock, town, lecturer):
    course = new_course(store, clock, town, lecturer, capacity=1)
    courses.register(store, clock, town.alice, course.id)
    courses.register(store, clock, town.bob, course.id)
    rows = courses.participants(store, lecturer, course.id)
    assert [(r.login, r.registration.status) for r in rows] == [("alice", "registered"), ("bob", "waitlisted")]
    assert len(courses.participants(store, town.staff, course.id)) == 2
    with pytest.raises(PermissionDenied):
        courses.participants(store, town.alice, course.id)
    assert [c.id for c in courses.lecturer_courses(store, lecturer)] == [course.id]
    assert courses.lecturer_courses(store, town.alice) == []


def test_fee_is_owed_until_staff_record_the_payment(store, clock, town, lecturer):
    course = new_course(store, clock, town, lecturer, fee_yen=800)
    courses.register(store, clock, town.alice, course.id)
    with pytest.raises(PermissionDenied):
        courses.record_fee_paid(store, clock, town.alice, course.id, town.alice.user_id)
    paid = courses.record_fee_paid(store, clock, town.staff, course.id, town.alice.user_id)
    assert (paid.paid_yen, paid.owed_yen) == (800, 0)


def test_public_list_shows_upcoming_courses_only(store, clock, town, lecturer):
    soon = new_course(store, clock, town, lecturer, code="SOON-1")
    online_session(store, clock, town, soon, days=2)
    later = new_course(store, clock, town, lecturer, code="LATER-1")
    online_session(store, clock, town, later, days=20)
    assert [c.code for c in courses.list_courses(store, clock)] == ["SOON-1", "LATER-1"]
    clock.advance(timedelta(days=5))
    assert [c.code for c in courses.list_courses(store, clock)] == ["LATER-1"]


# --- join links -----------------------------------------------------------------------------


def test_join_link_only_for_seat_holders_and_the_lecturer(store, clock, town, lecturer, jitsi):
    course = new_course(store, clock, town, lecturer, capacity=1)
    session = online_session(store, clock, town, course)
    courses.register(store, clock, town.alice, course.id)
    courses.register(store, clock, town.bob, course.id)  # waiting list
    clock.set(session.starts_at - timedelta(minutes=5))

    member = courses.join_online(store, clock, town.alice, session.id)
    claims = claims_of(member.token)
    assert meetings.verify_token(jitsi, member.token, clock.now(), room=claims["room"])
    assert claims["context"]["user"]["id"] == str(town.alice.user_id)
    assert claims["context"]["user"]["affiliation"] == "member"
    assert claims["context"]["user"]["moderator"] == "false"
    assert member.url.startswith(f"https://meet.iizuka.example/{claims['room']}?jwt=")

    host = courses.join_online(store, clock, lecturer, session.id)
    host_claims = claims_of(host.token)
    assert host_claims["context"]["user"]["affiliation"] == "owner" and host.moderator
    assert host_claims["room"] == claims["room"]

    for outsider in (town.bob, town.carol, town.staff):  # waiting, not registered, staff
        with pytest.raises(courses.NoJoinLink):
            courses.join_online(store, clock, outsider, session.id)


def test_other_sessions_get_other_rooms(store, clock, town, lecturer, jitsi):
    course = new_course(store, clock, town, lecturer)
    first = online_session(store, clock, town, course, days=7)
    second = online_session(store, clock, town, course, days=14)
    courses.register(store, clock, town.alice, course.id)
    a = claims_of(courses.join_online(store, clock, town.alice, first.id).token)
    b = claims_of(courses.join_online(store, clock, town.alice, second.id).token)
    assert a["room"] != b["room"]
    with pytest.raises(meetings.TokenRejected):
        meetings.verify_token(jitsi, courses.join_online(store, clock, town.alice, first.id).token,
                              first.starts_at, room=b["room"])


def test_no_link_after_the_session_and_none_after_cancelling(store, clock, town, lecturer, jitsi):
    course = new_course(store, clock, town, lecturer)
    session = online_session(store, clock, town, course)
    courses.register(store, clock, town.alice, course.id)
    courses.cancel_registration(store, clock, town.alice, course.id)
    with pytest.raises(courses.NoJoinLink):
        courses.join_online(store, clock, town.alice, session.id)
    clock.set(session.ends_at + timedelta(hours=1))
    with pytest.raises(meetings.MeetingClosed):
        courses.join_online(store, clock, lecturer, session.id)


def test_attendance_records_who_asked_for_the_link(store, clock, town, lecturer, jitsi):
    course = new_course(store, clock, town, lecturer)
    session = online_session(store, clock, town, course)
    courses.register(store, clock, town.alice, course.id)
    courses.register(store, clock, town.bob, course.id)
    clock.set(session.starts_at)
    courses.join_online(store, clock, town.alice, session.id)
    courses.join_online(store, clock, town.alice, session.id)  # opened twice
    rows = {r.user_id: r for r in courses.attendance(store, lecturer, course.id)}
    assert rows[town.alice.user_id].joined and not rows[town.bob.user_id].joined
    links = {p.login: p.links for p in courses.participants(store, lecturer, course.id)}
    assert links == {"alice": 2, "bob": 0}
    with pytest.raises(PermissionDenied):
        courses.attendance(store, town.alice, course.id)


def test_demo_defaults_apply_only_to_a_demo_database(store, clock, town, lecturer, monkeypatch):
    for name in ("URL", "APP_ID", "SECRET", "ALG"):
        monkeypatch.delenv(f"MANABI_JITSI_{name}", raising=False)
    monkeypatch.setenv("MANABI_CONFIG", "/nonexistent/manabi.toml")
    course = new_course(store, clock, town, lecturer)
    session = online_session(store, clock, town, course)
    with pytest.raises(meetings.MeetingsNotConfigured):
        courses.join_online(store, clock, lecturer, session.id)
    store.write(lambda cur: set_meta(cur, "demo_scale", "small"))
    link = courses.join_online(store, clock, lecturer, session.id)
    assert link.url.startswith(meetings.DEMO_URL)


def test_online_sessions_lists_who_may_join(store, clock, town, lecturer):
    course = new_course(store, clock, town, lecturer)
    online_session(store, clock, town, course)
    courses.register(store, clock, town.alice, course.id)
    found = courses.online_sessions(store, town.staff, clock)
    assert [(s.course_code, s.lecturer_login, s.participant_logins) for s in found] == [
        ("SMART-1", "lecturer01", ("alice",))]
    with pytest.raises(PermissionDenied):
        courses.online_sessions(store, town.alice, clock)


def test_times_are_tokyo(store, clock, town, lecturer):
    course = new_course(store, clock, town, lecturer)
    session = online_session(store, clock, town, course)
    assert session.starts_at.astimezone(TOKYO).hour == 14


def test_calling_off_a_session_frees_the_room_and_its_room_link(store, clock, town, lecturer, jitsi):
    course = new_course(store, clock, town, lecturer)
    day = town.next_open_day(clock.now().date() + timedelta(days=7))
    session = courses.add_session(store, clock, town.staff, course.id, room_id=town.room_id, day=day,
                                  block_code="pm", online=True)
    courses.register(store, clock, town.alice, course.id)
    with pytest.raises(PermissionDenied):
        courses.cancel_session(store, clock, town.alice, session.id)
    gone = courses.cancel_session(store, clock, town.staff, session.id)
    assert gone.status == "cancelled"
    assert booking.is_free(store, town.room_id, day, "pm")
    assert booking.get_booking(store, town.staff, session.booking_id).status == "cancelled"
    clock.set(session.starts_at)
    with pytest.raises(courses.NoJoinLink):
        courses.join_online(store, clock, town.alice, session.id)
    with pytest.raises(InvalidInput):
        courses.cancel_session(store, clock, town.staff, session.id)
