"""`manabi mail`: the outbox — what waits, what was sent, what failed — and sending again.

The server sends mail by itself (portal/services/mail.py); while it runs it holds the
database, so these commands are for when it is stopped, or to look at a backup's copy.
"""

from __future__ import annotations

import typer

from kernel.cli import JSON_OPTION, cli_state, emit

app = typer.Typer(help="Mail: the outbox, sending again what failed, sending now.", no_args_is_help=True)


def _iso(value) -> str | None:
    return value.isoformat() if value is not None else None


@app.command("outbox")
def outbox(
    ctx: typer.Context,
    status: str = typer.Option(None, "--status", help="Only queued, sent or failed mail."),
    limit: int = typer.Option(200, "--limit", help="At most this many (newest first; queued: next first)."),
    as_json: bool = JSON_OPTION,
) -> None:
    """List the outbox: what waits (and when it is tried next), what was sent, what failed and why."""
    from portal.services import mail

    state = cli_state(ctx)
    rows = mail.outbox(state.store(), status=status, limit=limit)
    emit([{"id": r.id, "created_at": _iso(r.created_at), "kind": r.kind, "to": r.to_address, "subject": r.subject,
           "status": r.status, "attempts": r.attempts, "next_attempt_at": _iso(r.next_attempt_at),
           "last_error": r.last_error, "sent_at": _iso(r.sent_at)} for r in rows],
         as_json=as_json,
         lines=[f"{r.id:>6}  {r.status:<7} {r.attempts:>2}  {r.created_at:%Y-%m-%d %H:%M}  {r.kind:<34} {r.to_address}"
                + (f"  ({r.last_error})" if r.last_error and r.status != "sent" else "") for r in rows]
         or [state.t("mail_cli.empty")])


@app.command("retry")
def retry(
    ctx: typer.Context,
    message_id: int = typer.Argument(None, help="The failed mail's number (from `manabi mail outbox`)."),
    all_failed: bool = typer.Option(False, "--all-failed", help="Every failed mail."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Queue a failed mail again with a fresh count of attempts; the server sends it."""
    from portal.services import mail

    state = cli_state(ctx)
    if message_id is None and not all_failed:
        typer.echo(state.t("mail_cli.retry_what"), err=True)
        raise typer.Exit(2)
    count = mail.retry(state.store(), state.clock(), None if all_failed else message_id)
    emit({"queued_again": count}, as_json=as_json, lines=[state.t("mail_cli.retried", count=count)])


@app.command("send")
def send(ctx: typer.Context, as_json: bool = JSON_OPTION) -> None:
    """Deliver what is due now (the server does this by itself while it runs)."""
    from portal.services import mail

    state = cli_state(ctx)
    settings = mail.smtp_settings()
    if not settings.configured:
        typer.echo(state.t("mail_cli.not_configured", missing=", ".join(settings.missing)), err=True)
        raise typer.Exit(1)
    result = mail.deliver_all(state.store(), state.clock(), settings)
    emit({"sent": result.sent, "retrying": result.retrying, "failed": result.failed}, as_json=as_json,
         lines=[state.t("mail_cli.delivered", sent=result.sent, retrying=result.retrying, failed=result.failed)])
