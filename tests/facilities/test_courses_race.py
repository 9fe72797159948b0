"""Racing registrations and cancellations on a real DuckDB file: the course never has
more seats taken than its capacity, and the waiting list moves up without gaps."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest

from facilities.services import courses
from kernel.errors import Conflict
from kernel.migrations import migrate
from kernel.store import Store
from portal.modules import known_migrations

from .conftest import make_user

CAPACITY = 5
PEOPLE = 24


@pytest.fixture
def file_store(tmp_path, clock):
    store = Store(tmp_path / "race.duckdb")
    migrate(store, clock, known_migrations())
    yield store
    store.close()


def all_at_once(work, items) -> list:
    """Run work(item) in one thread per item, released together; collect results or errors."""
    barrier = threading.Barrier(len(items))
    results: list = [None] * len(items)

    def run(index, item):
        barrier.wait()
        for _ in range(50):  # a person told "someone else changed this" presses again
            try:
                results[index] = work(item)
                return
            except Conflict:
                continue
        results[index] = "gave up"

    threads = [threading.Thread(target=run, args=(i, item)) for i, item in enumerate(items)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def seat_counts(store, course_id) -> tuple[int, int, int]:
    registered, waitlisted = store.query(
        """SELECT count(*) FILTER (WHERE status = 'registered'), count(*) FILTER (WHERE status = 'waitlisted')
           FROM facilities_course_registrations WHERE course_id = ?""", [course_id])[0]
    taken = store.scalar("SELECT seats_taken FROM facilities_courses WHERE id = ?", [course_id])
    return registered, waitlisted, taken


def test_racing_registrations_never_exceed_capacity(file_store, clock):
    store = file_store
    staff = make_user(store, clock, "staff01", "facility_staff")
    lecturer = make_user(store, clock, "lecturer01", "resident")
    people = [make_user(store, clock, f"racer{i:02d}", "resident") for i in range(PEOPLE)]
    now = clock.now()
    course = courses.create_course(
        store, clock, staff, code="RACE-1", title_ja="競争", title_en="Race", lecturer_id=lecturer.user_id,
        capacity=CAPACITY, registration_opens=now - timedelta(days=1), registration_closes=now + timedelta(days=3))
    courses.add_session(store, clock, staff, course.id, online=True, starts_at=now + timedelta(days=5),
                        ends_at=now + timedelta(days=5, hours=2))

    results = all_at_once(lambda p: courses.register(store, clock, p, course.id), people)
    assert "gave up" not in results
    assert sorted(r.status for r in results).count("registered") == CAPACITY
    assert seat_counts(store, course.id) == (CAPACITY, PEOPLE - CAPACITY, CAPACITY)
    positions = sorted(courses.my_registration(store, p, course.id).waitlist_position or 0 for p in people)
    assert positions == [0] * CAPACITY + list(range(1, PEOPLE - CAPACITY + 1))

    # Everyone holding a seat cancels at once: the first five waiting move up, no more.
    holders = [p for p, r in zip(people, results, strict=True) if r.status == "registered"]
    first_waiting = sorted((r for r in results if r.status == "waitlisted"), key=lambda r: r.waitlist_position)
    promoted = all_at_once(lambda p: courses.cancel_registration(store, clock, p, course.id), holders)
    assert "gave up" not in promoted
    assert sorted(uid for ids in promoted for uid in ids) == sorted(r.user_id for r in first_waiting[:CAPACITY])
    assert seat_counts(store, course.id) == (CAPACITY, PEOPLE - 2 * CAPACITY, CAPACITY)


def test_racing_cancellations_and_registrations_keep_the_count(file_store, clock):
    store = file_store
    staff = make_user(store, clock, "staff01", "facility_staff")
    lecturer = make_user(store, clock, "lecturer01", "resident")
    people = [make_user(store, clock, f"racer{i:02d}", "resident") for i in range(12)]
    now = clock.now()
    course = courses.create_course(
        store, clock, staff, code="RACE-2", title_ja="競争", title_en="Race", lecturer_id=lecturer.user_id,
        capacity=3, registration_opens=now - timedelta(days=1), registration_closes=now + timedelta(days=3))
    for person in people[:6]:  # 3 seats, 3 waiting
        courses.register(store, clock, person, course.id)

    def act(item):
        kind, person = item
        if kind == "cancel":
            return courses.cancel_registration(store, clock, person, course.id)
        return courses.register(store, clock, person, course.id)

    results = all_at_once(act, [("cancel", p) for p in people[:3]] + [("register", p) for p in people[6:]])
    assert "gave up" not in results
    registered, waitlisted, taken = seat_counts(store, course.id)
    assert registered == taken == 3
    assert waitlisted == 6  # 9 live registrations (3 left waiting + 6 newcomers) for 3 seats


def test_one_person_pressing_register_twice_at_once_gets_one_seat(file_store, clock):
    store = file_store
    staff = make_user(store, clock, "staff01", "facility_staff")
    lecturer = make_user(store, clock, "lecturer01", "resident")
    person = make_user(store, clock, "doubleclick", "resident")
    now = clock.now()
    course = courses.create_course(
        store, clock, staff, code="RACE-3", title_ja="二度押し", title_en="Double click", lecturer_id=lecturer.user_id,
        capacity=5, registration_opens=now - timedelta(days=1), registration_closes=now + timedelta(days=3))

    def press(_):
        try:
            return courses.register(store, clock, person, course.id).status
        except courses.AlreadyRegistered:
            return "already"

    results = all_at_once(press, list(range(6)))
    assert sorted(results) == ["already"] * 5 + ["registered"]
    assert seat_counts(store, course.id) == (1, 0, 1)
