"""`manabi facilities ...`: list facilities, show vacancy, run the lottery draw, release overdue bookings."""

from __future__ import annotations

import typer

from facilities.services import booking, catalog, lottery, vacancy
from kernel.actor import SYSTEM
from kernel.cli import JSON_OPTION, cli_state, emit

app = typer.Typer(help="Facilities: rooms, vacancy, bookings, lottery.", no_args_is_help=True)
lottery_app = typer.Typer(help="The monthly lottery of popular slots.", no_args_is_help=True)
app.add_typer(lottery_app, name="lottery")

_MARK = {vacancy.FREE: "○", vacancy.TAKEN: "×", vacancy.CLOSED: "休", vacancy.LOTTERY: "抽", vacancy.PAST: "-"}


@app.command("list")
def list_command(ctx: typer.Context, as_json: bool = JSON_OPTION) -> None:
    """List the facilities and their rooms (capacity, equipment)."""
    state = cli_state(ctx)
    facilities = catalog.list_facilities(state.store())
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
    found = catalog.find_facility(store, facility)
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
