"""`manabi facilities ...`: list facilities, show vacancy, run the lottery draw, release overdue
bookings; `manabi facilities courses ...` (list, show, create, add-session, cancel-session,
participants, attendance, capacity, cancel, paid) and, for administrators checking online rooms,
`manabi facilities courses meetings ...` (sessions, token, verify, public-key), which the module
also offers as the top-level `manabi meetings` (module.py)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import typer

from facilities.services import booking, catalogue, courses, lottery, meetings, vacancy
from kernel.actor import SYSTEM
from kernel.cli import JSON_OPTION, cli_state, emit, fail
from kernel.errors import ManabiError

app = typer.Typer(help="Facilities: rooms, vacancy, bookings, lottery.", no_args_is_help=True)
lottery_app = typer.Typer(help="The monthly lottery of popular slots.", no_args_is_help=True)
app.add_typer(lottery_app, name="lottery")

_MARK = {vacancy.FREE: "○", vacancy.TAKEN: "×", vacancy.CLOSED: "休", vacancy.LOTTERY: "抽", vacancy.PAST: "-"}


@app.command("list")
def list_command(ctx: typer.Context, as_json: bool = JSON_OPTION) -> None:
    """List the facilities and their rooms (capacity, equipment)."""
    state = cli_state(ctx)
    facilities = catalogue.list_facilities(state.store())
    data = [
        {"id": f.id, "code": f.code, "kind": f.kind, "name_ja": f.name_ja, "name_en": f.name_en,
         "lat": f.lat, "lon": f.lon, "closed_weekdays": list(f.closed_weekdays),
         "blocks": [{"code": b.code, "starts": b.starts.isoformat(), "ends": b.ends.isoformat()} for b in f.blocks],
         "rooms": [{"id": r.id, "code": r.code, "name_ja": r.name_ja, "name_en": r.name_en, "kind": r.kind,
                    "capacity": r.capacity, "equipment": list(r.equipment), "accessible": r.accessible}
                   for r in f.rooms]}
        for f in facilities
    ]
    lang = state.t.lang
    lines = []
    for f in facilities:
        lines.append(f"{f.id:>3} {f.code:<7} {f.name(lang)}")
        lines += [f"      {r.id:>4} {r.name(lang)} ({r.capacity})" for r in f.rooms]
    emit(data, as_json=as_json, lines=lines)


@app.command("vacancy")
def vacancy_command(
    ctx: typer.Context,
    facility: str = typer.Option(..., "--facility", help="Facility id or code (see `manabi facilities list`)."),
    month: str = typer.Option(..., "--month", help="The month, YYYY-MM."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Show one facility's month: free (○), taken (×), closed (休), lottery (抽), past (-)."""
    state = cli_state(ctx)
    store, clock = state.store(), state.clock()
    found = catalogue.find_facility(store, facility)
    grid = vacancy.month_grid(store, clock, found.id, month)
    lang = state.t.lang
    rooms = {r.id: r for r in found.rooms}
    data = {
        "facility": {"id": found.id, "code": found.code, "name_ja": found.name_ja, "name_en": found.name_en},
        "month": month,
        "free": grid.free_count(),
        "slots": [
            {"room_id": room_id, "room": rooms[room_id].name(lang), "block": block,
             "days": {d.isoformat(): s for d, s in row.items()}}
            for (room_id, block), row in grid.states.items()
        ],
    }
    header = " " * 22 + "".join(f"{d.day % 10}" for d in grid.days)
    lines = [f"{found.name(lang)} {month}", header]
    for (room_id, block), row in grid.states.items():
        label = f"{rooms[room_id].name(lang)[:14]} {block}"
        lines.append(f"{label:<22}" + "".join(_MARK[s] for s in row.values()))
    emit(data, as_json=as_json, lines=lines)


@lottery_app.command("draw")
def lottery_draw(
    ctx: typer.Context,
    month: str = typer.Option(..., "--month", help="The lottery month, YYYY-MM."),
    seed: str = typer.Option(None, "--seed", help="Use this seed (default: a new random one, recorded)."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Run the month's draw once (on or after its draw day); the seed and every step are recorded."""
    state = cli_state(ctx)
    store, clock = state.store(), state.clock()
    steps = lottery.draw(store, clock, SYSTEM, month, seed=seed)
    record = lottery.audit(store, SYSTEM, month)
    data = {"month": month, "seed": record.seed, "applications": record.applications, "winners": len(steps),
            "steps": [{"step": s.step, "room_id": s.slot[0], "day": s.slot[1], "block": s.slot[2],
                       "choice": s.choice, "applicants": list(s.applicants), "winner": s.winner_id} for s in steps]}
    emit(data, as_json=as_json, lines=[state.t("lottery.drawn", month=month, winners=len(steps),
                                                 applications=record.applications, seed=record.seed)])


@lottery_app.command("audit")
def lottery_audit(
    ctx: typer.Context,
    month: str = typer.Option(..., "--month", help="The lottery month, YYYY-MM."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Replay a recorded draw from its seed and say whether it gives the same result."""
    state = cli_state(ctx)
    record = lottery.audit(state.store(), SYSTEM, month)
    data = {"month": month, "seed": record.seed, "applications": record.applications, "steps": len(record.steps),
            "replay_matches": record.replay_matches}
    key = "lottery.audit_ok" if record.replay_matches else "lottery.audit_differs"
    emit(data, as_json=as_json, lines=[state.t(key, month=month, seed=record.seed, steps=len(record.steps))])


@app.command("release")
def release_command(ctx: typer.Context, as_json: bool = JSON_OPTION) -> None:
    """Release bookings unpaid after their deadline and lottery wins not confirmed in time."""
    state = cli_state(ctx)
    released = booking.release_overdue(state.store(), state.clock())
    emit({"released": released}, as_json=as_json, lines=[state.t("facilities.released", count=len(released))])


# --------------------------------------------------------------------------- courses and online rooms


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


courses_app = typer.Typer(help="Courses: sessions in booked rooms or online, registrations, waiting lists.",
                          no_args_is_help=True)
meetings_app = typer.Typer(help="Online rooms (Jitsi Meet): sessions, join tokens, token checks.", no_args_is_help=True)
courses_app.add_typer(meetings_app, name="meetings")
app.add_typer(courses_app, name="courses")


def _when(state, value: datetime) -> str:
    return state.t.datetime(value, "short")


@courses_app.command("list")
def list_cmd(ctx: typer.Context, all_: bool = typer.Option(False, "--all", help="Include past courses."),
             as_json: bool = JSON_OPTION) -> None:
    """The public course list (upcoming courses)."""
    state = cli_state(ctx)
    found = courses.list_courses(state.store(), state.clock(), include_past=all_)
    emit([_course_json(c, state.t.lang) for c in found], as_json=as_json, lines=[
        f"{c.id}\t{c.code}\t{c.title(state.t.lang)}\t{c.seats_taken}/{c.capacity}\t+{c.waitlisted}\t"
        f"{_when(state, c.sessions[0].starts_at) if c.sessions else '-'}" for c in found])


@courses_app.command("show")
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
        *[f"  #{s.id}  {_when(state, s.starts_at)}–{s.ends_at:%H:%M}  {s.place(lang) or '-'}"
          f"{'  online' if s.online else ''}" for s in found.sessions]])


@courses_app.command("create")
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
    from facilities.services import catalogue
    from kernel.clock import TOKYO

    state = cli_state(ctx)
    store = state.store()
    try:
        facility_id = catalogue.find_facility(store, facility).id if facility else None
        created = courses.create_course(
            store, state.clock(), SYSTEM, code=code, title_ja=title_ja, title_en=title_en,
            lecturer_id=courses.login_id(store, lecturer), capacity=capacity, fee_yen=fee, facility_id=facility_id,
            registration_opens=opens if opens.tzinfo else opens.replace(tzinfo=TOKYO),
            registration_closes=closes if closes.tzinfo else closes.replace(tzinfo=TOKYO),
            description_ja=description_ja, description_en=description_en)
    except ManabiError as exc:
        fail(state.t, exc)
    emit(_course_json(created, state.t.lang), as_json=as_json, lines=[f"{created.id}\t{created.code}"])


@courses_app.command("add-session")
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
         lines=[f"{session.id}\t{_when(state, session.starts_at)}\tbooking={session.booking_id or '-'}"
                f"\tonline={session.online}"])


@courses_app.command("cancel-session")
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


@courses_app.command("participants")
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


@courses_app.command("attendance")
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


@courses_app.command("capacity")
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


@courses_app.command("cancel")
def cancel_cmd(ctx: typer.Context, course: str = typer.Argument(..., help="Course id or code."),
               user: str = typer.Option(..., help="The participant's login."),
               as_json: bool = JSON_OPTION) -> None:
    """Cancel someone's registration (at the counter); the waiting list moves up."""
    state = cli_state(ctx)
    try:
        found = courses.find_course(state.store(), course)
        promoted = courses.cancel_registration(state.store(), state.clock(), SYSTEM, found.id,
                                               courses.login_id(state.store(), user))
    except ManabiError as exc:
        fail(state.t, exc)
    emit({"promoted_user_ids": promoted}, as_json=as_json, lines=[f"promoted={promoted}"])


@courses_app.command("paid")
def paid_cmd(ctx: typer.Context, course: str = typer.Argument(..., help="Course id or code."),
             user: str = typer.Option(..., help="The participant's login."), as_json: bool = JSON_OPTION) -> None:
    """Record that a participant paid the fee at the counter."""
    state = cli_state(ctx)
    try:
        found = courses.find_course(state.store(), course)
        reg = courses.record_fee_paid(state.store(), state.clock(), SYSTEM, found.id,
                                      courses.login_id(state.store(), user))
    except ManabiError as exc:
        fail(state.t, exc)
    emit({"paid_yen": reg.paid_yen, "owed_yen": reg.owed_yen}, as_json=as_json,
         lines=[f"paid={reg.paid_yen} owed={reg.owed_yen}"])


@meetings_app.command("sessions")
def sessions_cmd(ctx: typer.Context, all_: bool = typer.Option(False, "--all", help="Include past sessions."),
                 as_json: bool = JSON_OPTION) -> None:
    """Online sessions with their ids, times and the user names who may join."""
    state = cli_state(ctx)
    found = courses.online_sessions(state.store(), SYSTEM, state.clock(), include_past=all_)
    emit(found, as_json=as_json, lines=[
        f"{s.id}\t{s.course_code}\t{_when(state, s.starts_at)}–{s.ends_at:%H:%M}\t{s.lecturer_login} (moderator)"
        f"\t{', '.join(s.participant_logins) or '-'}" for s in found])


@meetings_app.command("token")
def token_cmd(ctx: typer.Context, session: int = typer.Option(..., help="Online session id."),
              user: str = typer.Option(..., help="Login of the lecturer or a participant holding a seat."),
              as_json: bool = JSON_OPTION) -> None:
    """Print a join URL and its token for one person (recorded like a click on "join")."""
    state = cli_state(ctx)
    try:
        link = courses.join_link_for(state.store(), state.clock(), courses.login_id(state.store(), user), session)
    except ManabiError as exc:
        fail(state.t, exc)
    emit({"url": link.url, "token": link.token, "room": link.room, "moderator": link.moderator,
          "not_before": link.not_before, "expires": link.expires}, as_json=as_json,
         lines=[link.url, link.token])


@meetings_app.command("verify")
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


@meetings_app.command("public-key")
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
