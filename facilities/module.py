"""Facilities and courses (measures 4-2-2 … 4-2-4): vacancy, booking, lottery, fees, courses.

Built in two parts that share the module's tables and rules: booking (facilities,
rooms, vacancy, bookings, lottery, fees, payment) and courses (courses, sessions
booked through booking, online rooms). Each part declares its pages, routes, CLI
and demo rows in its own `*_spec.py`; this file joins them.
"""

from pathlib import Path

from facilities.booking_spec import BOOKING_PAGES, booking_cli, booking_demo, booking_routes
from facilities.courses_spec import COURSE_PAGES, course_cli, course_demo, course_routes
from kernel.jobs import Job, every
from kernel.module import DemoContext, MailKind, ModuleSpec, lazy


def _demo(ctx: DemoContext) -> None:
    booking_demo(ctx)
    course_demo(ctx)  # courses book rooms, so they come after the facilities


def _cli():
    app = booking_cli()
    courses = course_cli()
    if courses is not None:
        app.add_typer(courses, name="courses")
    return app


SPEC = ModuleSpec(
    name="facilities",
    package_dir=Path(__file__).resolve().parent,
    indicators=lazy("facilities.indicators:indicators"),
    pages=(*BOOKING_PAGES, *COURSE_PAGES),
    routes=lambda: [*booking_routes(), *course_routes()],
    cli=_cli,
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
