"""The booking part of facilities: pages, routes, CLI and demo rows."""

from __future__ import annotations

from pathlib import Path

import typer

from kernel.module import PUBLIC, SIGNED_IN, DemoContext, PageSpec

_PAGES = Path(__file__).resolve().parent / "pages"
_STAFF = frozenset({"facility_staff", "city_admin"})

BOOKING_PAGES: tuple[PageSpec, ...] = (
    PageSpec(_PAGES / "vacancy.py", "nav.facilities_vacancy", "facilities", "facilities", PUBLIC,
             ":material/event_available:"),
    PageSpec(_PAGES / "search.py", "nav.facilities_search", "facilities-search", "facilities", PUBLIC,
             ":material/search:"),
    PageSpec(_PAGES / "book.py", "nav.facilities_book", "facilities-book", "facilities", SIGNED_IN,
             ":material/edit_calendar:"),
    PageSpec(_PAGES / "my_bookings.py", "nav.facilities_my", "facilities-mine", "facilities", SIGNED_IN,
             ":material/event_note:"),
    PageSpec(_PAGES / "lottery.py", "nav.facilities_lottery", "facilities-lottery", "facilities", SIGNED_IN,
             ":material/confirmation_number:"),
    PageSpec(_PAGES / "staff_lottery.py", "nav.facilities_staff_lottery", "facilities-staff-lottery", "facilities",
             _STAFF, ":material/casino:"),
    PageSpec(_PAGES / "staff_bookings.py", "nav.facilities_staff_bookings", "facilities-staff-bookings",
             "facilities", _STAFF, ":material/point_of_sale:"),
    PageSpec(_PAGES / "staff_setup.py", "nav.facilities_staff", "facilities-setup", "facilities", _STAFF,
             ":material/settings:"),
    PageSpec(_PAGES / "occupancy.py", "nav.facilities_occupancy", "facilities-occupancy", "facilities", _STAFF,
             ":material/bar_chart:"),
)


def booking_routes() -> list:
    from facilities.routes import routes

    return routes()


def booking_cli() -> typer.Typer:
    from facilities.cli import app

    return app


def booking_demo(ctx: DemoContext) -> None:
    """Facilities, rooms, blocks, fees, bookings and a lottery month of the demo city."""
    from facilities import demo

    demo.load(ctx)
