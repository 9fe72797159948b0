"""Each resident's bookings as an ICS calendar, served behind a secret URL
(`GET /facilities/calendar/<token>.ics`, facilities/routes.py)."""

from __future__ import annotations

from icalendar import Calendar, Event

from facilities.services.booking import LIVE, get_booking, select_bookings
from kernel.actor import Actor
from kernel.clock import Clock
from kernel.errors import NotFound
from kernel.store import Store

PRODID = "-//Iizuka City//Manabi facilities//JA"


def user_for_token(store: Store, token: str) -> int:
    row = store.query("SELECT user_id FROM facilities_profiles WHERE calendar_token = ?", [token])
    if not token or not row:
        raise NotFound("facilities.unknown_calendar")
    return row[0][0]


def ics_for_user(store: Store, clock: Clock, user_id: int, lang: str = "ja") -> bytes:
    """Live bookings (confirmed, or won and awaiting confirmation) as VEVENTs."""
    live = [b for b in select_bookings(store.cursor(), "b.user_id = ? ORDER BY b.day, k.starts", [user_id])
            if b.status in LIVE]
    return _calendar(live, clock, lang)


def ics_for_booking(store: Store, clock: Clock, actor: Actor, booking_id: int, lang: str = "ja") -> bytes:
    """One booking as a calendar entry to download (its owner or staff only)."""
    return _calendar([get_booking(store, actor, booking_id)], clock, lang)


def _calendar(bookings: list, clock: Clock, lang: str) -> bytes:
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("x-wr-calname", "飯塚市 施設予約" if lang == "ja" else "Iizuka facility bookings")
    now = clock.now()
    for booking in bookings:
        event = Event()
        event.add("uid", f"facilities-booking-{booking.id}@manabi.iizuka")
        event.add("dtstamp", now)
        event.add("dtstart", booking.starts)
        event.add("dtend", booking.ends)
        event.add("summary", booking.place(lang))
        event.add("location", booking.facility_ja if lang == "ja" else booking.facility_en)
        event.add("description", f"{booking.purpose}\n{booking.payment_ref}")
        event.add("status", "CONFIRMED" if booking.status == "confirmed" else "TENTATIVE")
        calendar.add_component(event)
    return calendar.to_ical()


def ics_for_token(store: Store, clock: Clock, token: str) -> bytes:
    return ics_for_user(store, clock, user_for_token(store, token))
