"""The courses part of facilities: pages, routes, CLI and demo rows.

CLI: `manabi facilities courses ...` (list, show, create, add-session, cancel-session,
participants, attendance, capacity, cancel, paid) and `manabi facilities courses meetings ...`
(sessions, token, verify, public-key) for administrators checking online rooms;
`meetings_cli()` offers the latter alone for a top-level `manabi meetings`.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import typer

from kernel.module import PUBLIC, SIGNED_IN, DemoContext, PageSpec

_PAGES = Path(__file__).resolve().parent / "pages"

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


def course_routes() -> list:
    from starlette.concurrency import run_in_threadpool
    from starlette.requests import Request
    from starlette.responses import Response

    from facilities.services import courses_calendar
    from kernel.errors import NotFound
    from kernel.http import route, route_context

    async def course_calendar(request: Request) -> Response:
        """GET /courses/<code>.ics[?lang=en]: a course's sessions for the visitor's calendar."""
        rc = route_context()
        lang = "en" if request.query_params.get("lang") == "en" else "ja"
        try:
            body = await run_in_threadpool(courses_calendar.course_ics, rc.store, rc.clock,
                                           request.path_params["code"], lang)
        except NotFound:
            return Response("not found\n", status_code=404, media_type="text/plain")
        return Response(body, media_type="text/calendar; charset=utf-8",
                        headers={"Cache-Control": "public, max-age=300"})

    async def join(request: Request, make_link, back: str) -> Response:
        """GET /courses/join/<session id> (a course's online session, from "My courses") and
        /classes/join/<session id> (a teacher's online class), [?lang=en]: one click into the
        online room. The signed-in person's own token is made at the click (and their joining
        recorded), and the browser goes straight on to the room; a refusal is a page saying why."""
        from starlette.responses import HTMLResponse, RedirectResponse

        from kernel.errors import ManabiError
        from kernel.provided import provided

        rc = route_context()
        lang = "en" if request.query_params.get("lang") == "en" else "ja"
        find_actor = provided("portal.request_actor")
        actor = await run_in_threadpool(find_actor, rc.store, rc.clock, request.cookies) if find_actor else None
        if actor is None:
            return RedirectResponse("/sign-in" + ("?lang=en" if lang == "en" else ""), status_code=303)
        try:
            link = await run_in_threadpool(make_link, rc.store, rc.clock, actor, request.path_params["session_id"])
        except ManabiError as exc:
            return HTMLResponse(_refusal_page(lang, exc, back), status_code=404 if isinstance(exc, NotFound) else 403,
                                headers={"Cache-Control": "no-store"})
        return RedirectResponse(link.url, status_code=303, headers={"Cache-Control": "no-store"})

    async def join_course(request: Request) -> Response:
        from facilities.services import courses

        return await join(request, courses.join_online, "/courses-mine")

    async def join_class(request: Request) -> Response:
        from facilities.services import courses_classes

        return await join(request, courses_classes.teacher_link, "/online-classes")

    return [route("/courses/{code}.ics", course_calendar, methods=["GET"]),
            route("/courses/join/{session_id:int}", join_course, methods=["GET"]),
            route("/classes/join/{session_id:int}", join_class, methods=["GET"])]


def _refusal_page(lang: str, exc, back: str) -> str:
    """A join refused, in words, with the way back (a page of its own: the room was to open here)."""
    from html import escape

    from facilities.module import SPEC
    from kernel.i18n import Translator, load_catalogue

    kernel_messages = Path(__file__).resolve().parent.parent / "kernel" / "messages.toml"
    t = Translator(lang, load_catalogue([*SPEC.catalogue_files, kernel_messages]), strict=False)
    back += "?lang=en" if lang == "en" else ""
    return (f'<!DOCTYPE html><html lang="{lang}"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{escape(t('courses.join.refused_title'))}</title></head>"
            f'<body style="font-family: sans-serif; max-width: 40rem; margin: 3rem auto; padding: 0 1rem">'
            f"<h1>{escape(t('courses.join.refused_title'))}</h1><p>{escape(t.error(exc))}</p>"
            f'<p><a href="{back}">{escape(t("courses.join.back"))}</a></p></body></html>')


def _course_json(course, lang: str = "ja") -> dict:
    return {
        "id": course.id, "code": course.code, "title_ja": course.title_ja, "title_en": course.title_en,
        "lecturer": course.lecturer_name, "capacity": course.capacity, "seats_taken": course.seats_taken,
        "waitlisted": course.waitlisted, "fee_yen": course.fee_yen,
        "registration_opens": course.registration_opens, "registration_closes": course.registration_closes,
        "status": course.status,
        "sessions": [{"id": s.id, "starts_at": s.starts_at, "ends_at": s.ends_at, "place": s.place(lang),
                      "booking_id": s.booking_id, "online": s.online, "status": s.status} for s in course.sessions],
    }


def course_cli() -> typer.Typer:
    """`manabi facilities courses …`, with the online-room commands under `meetings`."""
    return _build_cli()[0]


def meetings_cli() -> typer.Typer:
    """The online-room commands alone (sessions, token, verify, public-key), for the portal
    to mount as a top-level `manabi meetings` if it wishes."""
    return _build_cli()[1]


def _build_cli() -> tuple[typer.Typer, typer.Typer]:
    from facilities.services import courses
    from kernel import meetings
    from kernel.actor import SYSTEM
    from kernel.cli import JSON_OPTION, cli_state, emit, fail
    from kernel.errors import ManabiError, NotFound

    app = typer.Typer(help="Courses: sessions in booked rooms or online, registrations, waiting lists.",
                      no_args_is_help=True)
    meet = typer.Typer(help="Online rooms (Jitsi Meet): sessions, join tokens, token checks.", no_args_is_help=True)
    app.add_typer(meet, name="meetings")

    def user_id(store, login: str) -> int:
        row = store.query("SELECT id FROM portal_users WHERE login = ?", [login.strip().lower()])
        if not row:
            raise NotFound("courses.unknown_lecturer", lecturer=login)
        return row[0][0]

    def when(state, value: datetime) -> str:
        return state.t.datetime(value, "short")

    @app.command("list")
    def list_cmd(ctx: typer.Context, all_: bool = typer.Option(False, "--all", help="Include past courses."),
                 as_json: bool = JSON_OPTION) -> None:
        """The public course list (upcoming courses)."""
        state = cli_state(ctx)
        found = courses.list_courses(state.store(), state.clock(), include_past=all_)
        emit([_course_json(c, state.t.lang) for c in found], as_json=as_json, lines=[
            f"{c.id}\t{c.code}\t{c.title(state.t.lang)}\t{c.seats_taken}/{c.capacity}\t+{c.waitlisted}\t"
            f"{when(state, c.sessions[0].starts_at) if c.sessions else '-'}" for c in found])

    @app.command("show")
    def show_cmd(ctx: typer.Context, course: str = typer.Argument(..., help="Course id or code."),
                 as_json: bool = JSON_OPTION) -> None:
        """One course with its sessions."""
        state = cli_state(ctx)
        try:
            found = courses.find_course(state.store(), course)
        except ManabiError as exc:
            fail(state.t, exc)
        lang = state.t.lang
        emit(_course_json(found, lang), as_json=as_json, lines=[
            f"{found.code}  {found.title(lang)}  ({found.lecturer_name})",
            f"{found.seats_taken}/{found.capacity} +{found.waitlisted}  {found.fee_yen} JPY",
            *[f"  #{s.id}  {when(state, s.starts_at)}–{s.ends_at:%H:%M}  {s.place(lang) or '-'}"
              f"{'  online' if s.online else ''}" for s in found.sessions]])

    @app.command("create")
    def create_cmd(ctx: typer.Context,
                   code: str = typer.Option(..., help="Course code, e.g. SMART-2027A."),
                   title_ja: str = typer.Option(..., "--title-ja"), title_en: str = typer.Option(..., "--title-en"),
                   lecturer: str = typer.Option(..., help="The lecturer's login."),
                   capacity: int = typer.Option(..., min=1),
                   opens: datetime = typer.Option(..., help="Registration opens (ISO, Tokyo time)."),
                   closes: datetime = typer.Option(..., help="Registration closes (ISO, Tokyo time)."),
                   fee: int = typer.Option(0, help="Fee in yen, tax included."),
                   facility: str | None = typer.Option(None, help="Facility id or code that runs it."),
                   description_ja: str = typer.Option("", "--description-ja"),
                   description_en: str = typer.Option("", "--description-en"),
                   as_json: bool = JSON_OPTION) -> None:
        """Create a course (then add its sessions)."""
        from facilities.services import catalog
        from kernel.clock import TOKYO

        state = cli_state(ctx)
        store = state.store()
        try:
            facility_id = catalog.find_facility(store, facility).id if facility else None
            created = courses.create_course(
                store, state.clock(), SYSTEM, code=code, title_ja=title_ja, title_en=title_en,
                lecturer_id=user_id(store, lecturer), capacity=capacity, fee_yen=fee, facility_id=facility_id,
                registration_opens=opens if opens.tzinfo else opens.replace(tzinfo=TOKYO),
                registration_closes=closes if closes.tzinfo else closes.replace(tzinfo=TOKYO),
                description_ja=description_ja, description_en=description_en)
        except ManabiError as exc:
            fail(state.t, exc)
        emit(_course_json(created, state.t.lang), as_json=as_json, lines=[f"{created.id}\t{created.code}"])

    @app.command("add-session")
    def add_session_cmd(ctx: typer.Context, course: str = typer.Argument(..., help="Course id or code."),
                        room: int | None = typer.Option(None, help="Room id (booked through facility booking)."),
                        day: datetime | None = typer.Option(None, formats=["%Y-%m-%d"], help="Date in the room."),
                        block: str | None = typer.Option(None, help="Time block in the room: am, pm or ev."),
                        online: bool = typer.Option(False, "--online", help="Also (or only) online."),
                        start: datetime | None = typer.Option(None, help="Online only: start (ISO)."),
                        end: datetime | None = typer.Option(None, help="Online only: end (ISO)."),
                        as_json: bool = JSON_OPTION) -> None:
        """Add a session: in a room (the room is booked), online, or both."""
        from kernel.clock import TOKYO

        state = cli_state(ctx)
        store = state.store()

        def tokyo(value):
            return None if value is None else value if value.tzinfo else value.replace(tzinfo=TOKYO)

        try:
            found = courses.find_course(store, course)
            session = courses.add_session(store, state.clock(), SYSTEM, found.id, room_id=room,
                                          day=day.date() if day else None, block_code=block, online=online,
                                          starts_at=tokyo(start), ends_at=tokyo(end))
        except ManabiError as exc:
            fail(state.t, exc)
        emit({"id": session.id, "starts_at": session.starts_at, "ends_at": session.ends_at,
              "booking_id": session.booking_id, "online": session.online}, as_json=as_json,
             lines=[f"{session.id}\t{when(state, session.starts_at)}\tbooking={session.booking_id or '-'}"
                    f"\tonline={session.online}"])

    @app.command("cancel-session")
    def cancel_session_cmd(ctx: typer.Context, session: int = typer.Argument(..., help="Session id."),
                           as_json: bool = JSON_OPTION) -> None:
        """Call a session off: no more join links, and its room booking is cancelled."""
        state = cli_state(ctx)
        try:
            gone = courses.cancel_session(state.store(), state.clock(), SYSTEM, session)
        except ManabiError as exc:
            fail(state.t, exc)
        emit({"id": gone.id, "status": gone.status, "booking_id": gone.booking_id}, as_json=as_json,
             lines=[f"{gone.id}\t{gone.status}"])

    @app.command("participants")
    def participants_cmd(ctx: typer.Context, course: str = typer.Argument(..., help="Course id or code."),
                         as_json: bool = JSON_OPTION) -> None:
        """Seat holders, the waiting list in order, and cancellations."""
        state = cli_state(ctx)
        try:
            found = courses.find_course(state.store(), course)
            rows = courses.participants(state.store(), SYSTEM, found.id)
        except ManabiError as exc:
            fail(state.t, exc)
        data = [{"login": r.login, "name": r.name, "status": r.registration.status,
                 "waitlist_position": r.registration.waitlist_position, "owed_yen": r.registration.owed_yen,
                 "join_links": r.links} for r in rows]
        emit(data, as_json=as_json, lines=[
            f"{d['login']}\t{d['name']}\t{d['status']}\t{d['waitlist_position'] or ''}\t{d['owed_yen']}"
            for d in data])

    @app.command("attendance")
    def attendance_cmd(ctx: typer.Context, course: str = typer.Argument(..., help="Course id or code."),
                       as_json: bool = JSON_OPTION) -> None:
        """Per online session: who asked for their join link."""
        state = cli_state(ctx)
        try:
            found = courses.find_course(state.store(), course)
            rows = courses.attendance(state.store(), SYSTEM, found.id)
        except ManabiError as exc:
            fail(state.t, exc)
        data = [{"session": r.session_id, "starts_at": r.starts_at, "user_id": r.user_id, "name": r.name,
                 "joined": r.joined, "first_at": r.first_at} for r in rows]
        emit(data, as_json=as_json, lines=[f"{r.session_id}\t{r.name}\t{'yes' if r.joined else 'no'}" for r in rows])

    @app.command("capacity")
    def capacity_cmd(ctx: typer.Context, course: str = typer.Argument(..., help="Course id or code."),
                     seats: int = typer.Argument(..., min=1), as_json: bool = JSON_OPTION) -> None:
        """Change the number of seats; the waiting list moves up into new ones."""
        state = cli_state(ctx)
        try:
            found = courses.find_course(state.store(), course)
            promoted = courses.change_capacity(state.store(), state.clock(), SYSTEM, found.id, seats)
        except ManabiError as exc:
            fail(state.t, exc)
        emit({"capacity": seats, "promoted_user_ids": promoted}, as_json=as_json,
             lines=[f"capacity={seats} promoted={len(promoted)}"])

    @app.command("cancel")
    def cancel_cmd(ctx: typer.Context, course: str = typer.Argument(..., help="Course id or code."),
                   user: str = typer.Option(..., help="The participant's login."),
                   as_json: bool = JSON_OPTION) -> None:
        """Cancel someone's registration (at the counter); the waiting list moves up."""
        state = cli_state(ctx)
        try:
            found = courses.find_course(state.store(), course)
            promoted = courses.cancel_registration(state.store(), state.clock(), SYSTEM, found.id,
                                                   user_id(state.store(), user))
        except ManabiError as exc:
            fail(state.t, exc)
        emit({"promoted_user_ids": promoted}, as_json=as_json, lines=[f"promoted={promoted}"])

    @app.command("paid")
    def paid_cmd(ctx: typer.Context, course: str = typer.Argument(..., help="Course id or code."),
                 user: str = typer.Option(..., help="The participant's login."), as_json: bool = JSON_OPTION) -> None:
        """Record that a participant paid the fee at the counter."""
        state = cli_state(ctx)
        try:
            found = courses.find_course(state.store(), course)
            reg = courses.record_fee_paid(state.store(), state.clock(), SYSTEM, found.id,
                                          user_id(state.store(), user))
        except ManabiError as exc:
            fail(state.t, exc)
        emit({"paid_yen": reg.paid_yen, "owed_yen": reg.owed_yen}, as_json=as_json,
             lines=[f"paid={reg.paid_yen} owed={reg.owed_yen}"])

    @meet.command("sessions")
    def sessions_cmd(ctx: typer.Context, all_: bool = typer.Option(False, "--all", help="Include past sessions."),
                     as_json: bool = JSON_OPTION) -> None:
        """Online sessions with their ids, times and the user names who may join."""
        state = cli_state(ctx)
        found = courses.online_sessions(state.store(), SYSTEM, state.clock(), include_past=all_)
        emit(found, as_json=as_json, lines=[
            f"{s.id}\t{s.course_code}\t{when(state, s.starts_at)}–{s.ends_at:%H:%M}\t{s.lecturer_login} (moderator)"
            f"\t{', '.join(s.participant_logins) or '-'}" for s in found])

    @meet.command("token")
    def token_cmd(ctx: typer.Context, session: int = typer.Option(..., help="Online session id."),
                  user: str = typer.Option(..., help="Login of the lecturer or a participant holding a seat."),
                  as_json: bool = JSON_OPTION) -> None:
        """Print a join URL and its token for one person (recorded like a click on "join")."""
        state = cli_state(ctx)
        try:
            link = courses.join_link_for(state.store(), state.clock(), user_id(state.store(), user), session)
        except ManabiError as exc:
            fail(state.t, exc)
        emit({"url": link.url, "token": link.token, "room": link.room, "moderator": link.moderator,
              "not_before": link.not_before, "expires": link.expires}, as_json=as_json,
             lines=[link.url, link.token])

    @meet.command("verify")
    def verify_cmd(ctx: typer.Context, token: str = typer.Argument(..., help="A token, or a whole join URL."),
                   room: str | None = typer.Option(None, help="The room it must be for."),
                   as_json: bool = JSON_OPTION) -> None:
        """Check a token against this configuration as Jitsi would, naming the classic failures."""
        state = cli_state(ctx)
        try:
            claims = meetings.verify_token(courses.meeting_config(state.store()), token, state.clock().now(),
                                           room=room)
        except meetings.TokenRejected as exc:
            if as_json:
                emit({"valid": False, "reason": exc.key.rsplit(".", 1)[1], "message": state.t.error(exc)},
                     as_json=True)
                raise typer.Exit(1) from None
            fail(state.t, exc)
        except ManabiError as exc:
            fail(state.t, exc)
        emit({"valid": True, "claims": claims}, as_json=as_json,
             lines=[state.t("meetings.verify.ok"), f"room={claims['room']} user={claims['context']['user']['name']}"
                    f" affiliation={claims['context']['user'].get('affiliation')}"])

    @meet.command("public-key")
    def public_key_cmd(ctx: typer.Context, out: Path | None = typer.Option(
            None, help="Folder to write the file into (the key server's document root).")) -> None:
        """RS256 self-hosted: print (or write) the public key file the key server must serve."""
        state = cli_state(ctx)
        try:
            name, pem = meetings.key_server_file(courses.meeting_config(state.store()))
        except ManabiError as exc:
            fail(state.t, exc)
        if out is not None:
            (out / name).write_bytes(pem)
        typer.echo(name)
        typer.echo(pem.decode().rstrip())

    return app, meet


def course_demo(ctx: DemoContext) -> None:
    """Courses of the demo city (after booking_demo: sessions take rooms)."""
    from facilities import courses_demo

    courses_demo.load(ctx)

