"""A course's public calendar: its sessions, called-off ones marked, never the online room."""

from __future__ import annotations

from datetime import timedelta

import pytest
from icalendar import Calendar

from facilities.services import courses, courses_calendar
from kernel.errors import NotFound

from .conftest import make_user


def test_course_calendar_lists_sessions_without_the_room_name(store, clock, town):
    lecturer = make_user(store, clock, "lecturer01", "resident")
    now = clock.now()
    course = courses.create_course(store, clock, town.staff, code="ICS-1", title_ja="暦", title_en="Calendar",
                                   lecturer_id=lecturer.user_id, capacity=5, registration_opens=now,
                                   registration_closes=now + timedelta(days=3))
    day = town.next_open_day(now.date() + timedelta(days=7))
    in_room = courses.add_session(store, clock, town.staff, course.id, room_id=town.room_id, day=day,
                                  block_code="am")
    online = courses.add_session(store, clock, town.staff, course.id, online=True,
                                 starts_at=now + timedelta(days=9), ends_at=now + timedelta(days=9, hours=1))
    courses.cancel_session(store, clock, town.staff, in_room.id)

    body = courses_calendar.course_ics(store, clock, "ics-1", "en")
    events = {str(e["uid"]): e for e in Calendar.from_ical(body).walk("VEVENT")}
    assert str(events[f"course-session-{in_room.id}@manabi.iizuka"]["status"]) == "CANCELLED"
    assert str(events[f"course-session-{online.id}@manabi.iizuka"]["location"]) == "Online"
    assert events[f"course-session-{online.id}@manabi.iizuka"].decoded("dtstart") == online.starts_at
    meeting_room = store.scalar("SELECT meeting_room FROM facilities_course_sessions WHERE id = ?", [online.id])
    assert meeting_room.encode() not in body
    with pytest.raises(NotFound):
        courses_calendar.course_ics(store, clock, "NOPE-1")
