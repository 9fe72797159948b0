"""Facilities and courses (measures 4-2-2 … 4-2-4): vacancy, booking, lottery, fees, courses.

Two parts share the module's tables and rules: booking (facilities, rooms, vacancy,
bookings, lottery, fees, payment) and courses (courses, sessions booked through booking,
online rooms).
"""

from pathlib import Path

from kernel.jobs import Job, every
from kernel.module import PUBLIC, SIGNED_IN, DemoContext, MailKind, ModuleSpec, PageSpec, lazy

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

COURSE_PAGES: tuple[PageSpec, ...] = (
    PageSpec(_PAGES / "courses.py", "courses.nav.list", "courses", "facilities", PUBLIC, ":material/school:"),
    PageSpec(_PAGES / "course_mine.py", "courses.nav.mine", "courses-mine", "facilities", SIGNED_IN,
             ":material/video_call:"),
    PageSpec(_PAGES / "course_lecturer.py", "courses.nav.lecturer", "courses-run", "facilities", SIGNED_IN,
             ":material/groups:"),
    PageSpec(_PAGES / "course_admin.py", "courses.nav.admin", "courses-setup", "facilities",
             frozenset({"facility_staff", "city_admin"}), ":material/edit_calendar:"),
    # Teachers look for their online classes under Schools, not under Facilities.
    PageSpec(_PAGES / "course_class.py", "courses.classes.nav", "online-classes", "schools",
             frozenset({"teacher", "school_admin"}), ":material/cast_for_education:"),
)


def _demo(ctx: DemoContext) -> None:
    """The demo city's facilities, rooms, bookings and lottery month, then its courses (their
    sessions take rooms, so they come after)."""
    from facilities import courses_demo, demo

    demo.load(ctx)
    courses_demo.load(ctx)


def _routes() -> list:
    from facilities.routes import routes

    return routes()


def _cli():
    from facilities.cli import app

    return app


def _meetings_cli():
    # Online rooms serve courses and schools' online classes alike: their commands are also
    # offered at the top, as `manabi meetings`.
    from facilities.cli import meetings_app

    return meetings_app


SPEC = ModuleSpec(
    name="facilities",
    package_dir=Path(__file__).resolve().parent,
    indicators=lazy("facilities.services.indicators:indicators"),
    pages=(*BOOKING_PAGES, *COURSE_PAGES),
    routes=_routes,
    cli=_cli,
    top_cli={"meetings": _meetings_cli},
    demo=_demo,
    mail_kinds=(
        MailKind("facilities.booking_made"),
        MailKind("facilities.booking_cancelled"),
        MailKind("facilities.booking_released"),
        MailKind("facilities.payment_received"),
        MailKind("facilities.lottery_won", frozenset({"resident"})),
        MailKind("facilities.lottery_lost", frozenset({"resident"})),
        MailKind("facilities.waitlist_offered", frozenset({"resident"})),
        MailKind("facilities.session_cancelled", frozenset({"resident"})),
        MailKind("facilities.session_starting"),
    ),
    # For the portal's self-registered residents (facilities/services/residents.py).
    provides={
        "facilities.record_residency": lazy("facilities.services.residents:record_residency"),
        "facilities.open_commitments": lazy("facilities.services.residents:open_commitments"),
    },
    # Bookings unpaid or lottery wins unconfirmed past their deadline free their slots on time.
    jobs=(Job("facilities.release", every(5), lazy("facilities.services.booking:release_overdue"),
              "facilities.job_release"),
          # Online sessions starting within 15 minutes: their join links are mailed, once a person.
          Job("facilities.session_starting", every(1), lazy("facilities.services.courses:remind_online_sessions"),
              "facilities.job_session_starting")),
)
