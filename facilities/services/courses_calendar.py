"""A course's sessions as a public ICS calendar (`GET /courses/<code>.ics`), so residents can
keep the dates in their own calendar. It carries what the public course list shows — never
the online room's name, which only join links reveal."""

from __future__ import annotations

from icalendar import Calendar, Event

from facilities.services import courses
from kernel.clock import Clock
from kernel.errors import NotFound
from kernel.store import Store

PRODID = "-//Iizuka City//Manabi courses//JA"


def course_ics(store: Store, clock: Clock, code: str, lang: str = "ja") -> bytes:
    """Every session of a published course; called-off ones as CANCELLED. Raises NotFound."""
    course = courses.find_course(store, code)
    if course.status != "published":
        raise NotFound("courses.unknown_course", course=code)
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("x-wr-calname", course.title(lang))
    online = "オンライン" if lang == "ja" else "Online"
    for session in course.sessions:
        event = Event()
        event.add("uid", f"course-session-{session.id}@manabi.iizuka")
        event.add("dtstamp", clock.now())
        event.add("dtstart", session.starts_at)
        event.add("dtend", session.ends_at)
        event.add("summary", course.title(lang))
        place = session.place(lang)
        event.add("location", f"{place} + {online}" if place and session.online else place or online)
        event.add("description", course.description(lang))
        event.add("status", "CANCELLED" if session.status == "cancelled" else "CONFIRMED")
        calendar.add_component(event)
    return calendar.to_ical()
