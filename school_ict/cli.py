"""`manabi devices …`: the registry from the command line. The operator holds the
database file and acts as the system (every school)."""

from __future__ import annotations

import sys
from pathlib import Path

import typer

from kernel.actor import SYSTEM
from kernel.cli import JSON_OPTION, cli_state, emit, emit_rejected
from kernel.errors import ImportRejected, NotFound

app = typer.Typer(no_args_is_help=True, help="School devices: list, import, check out/in, audit, plans, labels.")


def _school_id(store, school: str | None) -> int | None:
    from school_ict.services import registry

    if school is None:
        return None
    school_id = registry.find_school(store, school)
    if school_id is None:
        raise NotFound("ict.error.no_such_school", school=school)
    return school_id


@app.command("schools")
def schools_cmd(ctx: typer.Context, as_json: bool = JSON_OPTION) -> None:
    """List the schools (code and names), as imports may name them."""
    from school_ict.services import registry

    rows = registry.list_schools(cli_state(ctx).store(), SYSTEM)
    emit([{"code": s.code, "name_ja": s.name_ja, "name_en": s.name_en, "pupils": s.pupils} for s in rows],
         as_json=as_json, lines=[f"{s.code}  {s.name_ja}  {s.name_en}" for s in rows])


@app.command("list")
def list_cmd(
    ctx: typer.Context,
    school: str = typer.Option(None, "--school", help="School code or name."),
    status: str = typer.Option(None, "--status", help="in_stock, assigned, in_repair, lost or retired."),
    kind: str = typer.Option(None, "--kind", help="pupil_tablet, teacher_tablet or e_blackboard."),
    as_json: bool = JSON_OPTION,
) -> None:
    """List the registry's devices."""
    from school_ict.services import registry

    store = cli_state(ctx).store()
    devices = registry.list_devices(store, SYSTEM, school_id=_school_id(store, school), status=status, kind=kind)
    emit([{"asset_tag": d.asset_tag, "serial": d.serial, "kind": d.kind, "model": d.model, "school": d.school_code,
           "status": d.status, "holder": d.holder or None, "support_end": d.support_end,
           "last_seen_at": d.last_seen_at} for d in devices],
         as_json=as_json,
         lines=[f"{d.asset_tag:<16} {d.school_code:<4} {d.kind:<15} {d.status:<10} {d.holder}" for d in devices])


@app.command("show")
def show_cmd(ctx: typer.Context, tag: str = typer.Argument(..., help="Asset tag."), as_json: bool = JSON_OPTION) -> None:
    """One device and its history."""
    from school_ict.services import registry

    store = cli_state(ctx).store()
    device = registry.get_device(store, SYSTEM, tag)
    events = registry.history(store, SYSTEM, tag)
    emit({"device": device, "history": events}, as_json=as_json,
         lines=[f"{device.asset_tag} {device.serial} {device.model} {device.status} {device.holder}"]
         + [f"  {e.happened_at:%Y-%m-%d %H:%M} {e.kind:<14} {e.from_status or '':<10} → {e.to_status or '':<10} "
            f"{e.detail} ({e.actor_login})" for e in events])


@app.command("import")
def import_cmd(
    ctx: typer.Context,
    file: Path = typer.Argument(..., exists=True, dir_okay=False, help="The CSV export."),
    fmt: str = typer.Option("google-admin", "--format", help="google-admin or generic."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Check every row, store nothing."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Import an MDM export; all or nothing, every bad row named with its line."""
    from school_ict.services import importer

    state = cli_state(ctx)
    t = state.t
    big = file.stat().st_size > 200_000

    def progress(step: str, fraction: float) -> None:
        if big and not as_json:  # long files show where they are, on stderr
            typer.echo(f"[{fraction:>4.0%}] {t(f'ict.import.step_{step}')}", err=True)

    try:
        result = importer.import_devices(state.store(), state.clock(), SYSTEM, file, fmt, dry_run=dry_run,
                                         progress=progress)
    except ImportRejected as exc:
        if not as_json:
            raise
        emit_rejected(t, exc)
        sys.exit(1)
    key = "ict.import.checked" if dry_run else "ict.import.stored"
    emit({"ok": True, "rows": result.rows, "errors": [], "created": result.created, "updated": result.updated,
          "dry_run": dry_run}, as_json=as_json,
         lines=[t(key, rows=result.rows, created=result.created, updated=result.updated)])


@app.command("check-out")
def check_out_cmd(
    ctx: typer.Context,
    tags: list[str] = typer.Argument(..., help="Asset tags."),
    pupil: str = typer.Option(None, "--pupil", help="Pupil pseudonym (one tag only)."),
    teacher: str = typer.Option(None, "--teacher", help="Teacher login (one tag only)."),
    classroom: str = typer.Option(None, "--classroom", help="SCHOOL:GRADE-CLASS, e.g. E01:3-2 (a class set)."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Check devices out to a pupil, a teacher or a classroom."""
    from school_ict.services import registry

    state = cli_state(ctx)
    store, clock = state.store(), state.clock()
    if classroom:
        room_id = _classroom_id(store, classroom)
        result = registry.check_out_many(store, clock, SYSTEM, tags, room_id)
        _emit_bulk(state, result, as_json)
        return
    if len(tags) != 1:
        raise typer.BadParameter("one tag with --pupil or --teacher")
    device = registry.check_out(store, clock, SYSTEM, tags[0], pupil=pupil, teacher=teacher)
    emit({"asset_tag": device.asset_tag, "status": device.status, "holder": device.holder}, as_json=as_json,
         lines=[state.t("ict.device.checked_out", tag=device.asset_tag, holder=device.holder)])


@app.command("check-in")
def check_in_cmd(ctx: typer.Context, tags: list[str] = typer.Argument(..., help="Asset tags."),
                 as_json: bool = JSON_OPTION) -> None:
    """Check devices in (back to stock)."""
    from school_ict.services import registry

    state = cli_state(ctx)
    _emit_bulk(state, registry.check_in_many(state.store(), state.clock(), SYSTEM, tags), as_json)


def _classroom_id(store, text: str) -> int:
    """SCHOOL:GRADE-CLASS, e.g. E01:3-1."""
    from school_ict.services import registry

    school, _, room = text.partition(":")
    grade, _, name = room.partition("-")
    return registry.classroom_id(store, _school_id(store, school), int(grade) if grade.isdigit() else -1, name)


def _emit_bulk(state, result, as_json: bool) -> None:
    t = state.t
    emit({"done": result.done, "refused": [{"tag": tag, "reason": t.error(exc)} for tag, exc in result.refused]},
         as_json=as_json,
         lines=[t("ict.checkout.done", count=len(result.done))]
         + [f"  {tag}: {t.error(exc)}" for tag, exc in result.refused])
    if result.refused and not result.done:
        sys.exit(1)


@app.command("audit")
def audit_cmd(
    ctx: typer.Context,
    school: str = typer.Argument(..., help="School code or name."),
    file: Path = typer.Argument(..., exists=True, dir_okay=False, help="Scanned tags, one per line."),
    scope: str = typer.Option("school", "--scope", help="school, cart:NAME or classroom:ID."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Compare scanned tags with the registry: unknown, missing, from elsewhere."""
    from school_ict.services import audit

    state = cli_state(ctx)
    store = state.store()
    result = audit.run_audit(store, state.clock(), SYSTEM, _school_id(store, school), scope,
                             file.read_text(encoding="utf-8"))
    t = state.t
    emit(result, as_json=as_json,
         lines=[t("ict.audit.summary", seen=len(result.seen), unknown=len(result.unknown),
                  missing=len(result.missing), elsewhere=len(result.elsewhere))]
         + [f"  {t('ict.audit.unknown')}: {tag}" for tag in result.unknown]
         + [f"  {t('ict.audit.missing')}: {tag}" for tag in result.missing])


@app.command("repairs")
def repairs_cmd(ctx: typer.Context, school: str = typer.Option(None, "--school", help="School code or name."),
                open_only: bool = typer.Option(False, "--open", help="Only open tickets."),
                as_json: bool = JSON_OPTION) -> None:
    """List repair tickets."""
    from school_ict.services import repairs

    store = cli_state(ctx).store()
    rows = repairs.list_repairs(store, SYSTEM, _school_id(store, school), open_only=open_only)
    emit(rows, as_json=as_json,
         lines=[f"{r.id:>6} {r.asset_tag:<16} {r.state:<11} {r.cause:<8} {r.symptom}" for r in rows])


@app.command("returns")
def returns_cmd(ctx: typer.Context, school: str = typer.Option(None, "--school", help="School code or name."),
                as_json: bool = JSON_OPTION) -> None:
    """Tablets to collect: pupils who left the school roster still hold them."""
    from school_ict.services.rosters import devices_to_return

    store = cli_state(ctx).store()
    rows = [{"asset_tag": tag, "pupil": pupil, "flagged_at": at}
            for tag, pupil, at in devices_to_return(store, _school_id(store, school))]
    emit(rows, as_json=as_json, lines=[f"{r['asset_tag']:<16} {r['pupil']:<16} {r['flagged_at']:%Y-%m-%d}"
                                       for r in rows])


@app.command("labels")
def labels_cmd(ctx: typer.Context, out: Path = typer.Option(..., "--out", help="The PDF file to write."),
               tags: list[str] = typer.Argument(None, help="Asset tags (default: all of --school)."),
               school: str = typer.Option(None, "--school", help="School code or name."),
               as_json: bool = JSON_OPTION) -> None:
    """Write a printable PDF sheet of asset labels with QR codes."""
    from school_ict.services import labels, registry

    store = cli_state(ctx).store()
    chosen = list(tags or []) or [d.asset_tag for d in
                                  registry.list_devices(store, SYSTEM, school_id=_school_id(store, school))]
    out.write_bytes(labels.label_sheet(store, SYSTEM, chosen[: labels.MAX_LABELS]))
    emit({"file": out, "labels": min(len(chosen), labels.MAX_LABELS)}, as_json=as_json, lines=[str(out)])


@app.command("plan")
def plan_cmd(
    ctx: typer.Context,
    school: str = typer.Option(None, "--school", help="School code or name (default: the city)."),
    pupil_tablet: int = typer.Option(55_000, "--pupil-tablet-price", help="Unit price in yen."),
    teacher_tablet: int = typer.Option(80_000, "--teacher-tablet-price", help="Unit price in yen."),
    e_blackboard: int = typer.Option(400_000, "--e-blackboard-price", help="Unit price in yen."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Replacement plan: devices reaching end of support per fiscal year and school, with cost."""
    from school_ict.services import planning

    store = cli_state(ctx).store()
    prices = {"pupil_tablet": pupil_tablet, "teacher_tablet": teacher_tablet, "e_blackboard": e_blackboard}
    rows = planning.replacement_plan(store, SYSTEM, prices, _school_id(store, school))
    emit([{k: r[k] for k in ("fiscal_year", "school_code", "kind", "devices", "cost")} for r in rows],
         as_json=as_json,
         lines=[f"FY{r['fiscal_year']} {r['school_code']:<4} {r['kind']:<15} {r['devices']:>6} ¥{r['cost']:,}"
                for r in rows])


@app.command("network")
def network_cmd(ctx: typer.Context, days: int = typer.Option(30, "--days", help="Window for the peak."),
                as_json: bool = JSON_OPTION) -> None:
    """Peak bandwidth per pupil per school against the board's target."""
    from school_ict.services import network

    state = cli_state(ctx)
    rows = network.peaks(state.store(), state.clock(), SYSTEM, days)
    emit({"target_mbps_per_pupil": network.target(state.store()),
          "schools": [{k: r[k] for k in ("code", "pupils", "peak_down", "peak_up", "peak_per_pupil", "over_target")}
                      for r in rows]},
         as_json=as_json,
         lines=[f"{r['code']:<4} {r['peak_down']:>8.1f} Mbps {r['peak_per_pupil'] or 0:>6.3f}/pupil"
                f"{'  OVER' if r['over_target'] else ''}" for r in rows])


@app.command("network-import")
def network_import_cmd(ctx: typer.Context,
                       file: Path = typer.Argument(..., exists=True, dir_okay=False,
                                                   help="CSV: school, timestamp, mbps_down, mbps_up."),
                       as_json: bool = JSON_OPTION) -> None:
    """Import traffic samples (all or nothing)."""
    from school_ict.services import network

    state = cli_state(ctx)
    count = network.import_samples(state.store(), SYSTEM, file.read_bytes())
    emit({"ok": True, "rows": count}, as_json=as_json, lines=[state.t("ict.network.imported", rows=count)])


@app.command("usage-import")
def usage_import_cmd(ctx: typer.Context,
                     file: Path = typer.Argument(..., exists=True, dir_okay=False,
                                                 help="CSV: asset_tag (or serial), date, active_minutes."),
                     as_json: bool = JSON_OPTION) -> None:
    """Import daily active minutes per device (telemetry); moves last-seen forward."""
    from school_ict.services import usage

    state = cli_state(ctx)
    count = usage.import_usage(state.store(), SYSTEM, file.read_bytes())
    emit({"ok": True, "rows": count}, as_json=as_json, lines=[state.t("ict.usage.imported", rows=count)])
