"""`manabi analytics …`: xAPI client apps and bulk statement files, roster and curriculum CSVs."""

from __future__ import annotations

from pathlib import Path

import typer

from kernel.actor import SYSTEM
from kernel.cli import JSON_OPTION, cli_state, emit

app = typer.Typer(help="Learning analytics: the xAPI store, the learner roster, curriculum units.",
                  no_args_is_help=True)
xapi_app = typer.Typer(help="The xAPI learning record store.", no_args_is_help=True)
clients_app = typer.Typer(help="Learning apps allowed to send statements.", no_args_is_help=True)
learners_app = typer.Typer(help="The learner roster (pseudonymous ids, school, grade, class).",
                           no_args_is_help=True)
units_app = typer.Typer(help="Curriculum units by 学習指導要領コード.", no_args_is_help=True)
app.add_typer(xapi_app, name="xapi")
xapi_app.add_typer(clients_app, name="clients")
app.add_typer(learners_app, name="learners")
app.add_typer(units_app, name="units")


@clients_app.command("add")
def clients_add(ctx: typer.Context, name: str = typer.Argument(..., help="The app's name."),
                as_json: bool = JSON_OPTION) -> None:
    """Register a learning app; prints its key and secret ONCE (only a hash is kept)."""
    from analytics.services import lrs

    state = cli_state(ctx)
    client = lrs.add_client(state.store(), state.clock(), SYSTEM, name)
    emit({"id": client.id, "name": client.name, "key": client.api_key, "secret": client.secret},
         as_json=as_json,
         lines=[state.t("analytics.cli.client_added", name=client.name), f"key:    {client.api_key}",
                f"secret: {client.secret}", state.t("analytics.cli.secret_once")])


@clients_app.command("list")
def clients_list(ctx: typer.Context, as_json: bool = JSON_OPTION) -> None:
    """List the registered apps and how many statements each sent."""
    from analytics.services import lrs

    state = cli_state(ctx)
    clients = lrs.list_clients(state.store(), SYSTEM)
    emit(clients, as_json=as_json,
         lines=[f"{c['name']:<24} {c['api_key']:<20} {c['statements']:>10}  {_scope(state, c['read_all'])}"
                for c in clients])


def _scope(state, read_all: bool) -> str:
    return state.t("analytics.cli.scope_all" if read_all else "analytics.cli.scope_mine")


@clients_app.command("grant")
def clients_grant(ctx: typer.Context, name: str = typer.Argument(..., help="The app's name."),
                  read_all: bool = typer.Option(..., "--read-all/--mine",
                                                help="--read-all: the key reads every statement; "
                                                     "--mine: only those it wrote (the default of a new key)."),
                  as_json: bool = JSON_OPTION) -> None:
    """Set what an app's key may read: every statement, or only its own (xAPI statements/read/mine)."""
    from analytics.services import lrs

    state = cli_state(ctx)
    client = lrs.grant_read_all(state.store(), SYSTEM, name, read_all)
    emit(client, as_json=as_json,
         lines=[state.t("analytics.cli.scope_set", name=client["name"], scope=_scope(state, client["read_all"]))])


@xapi_app.command("import")
def xapi_import(ctx: typer.Context, file: Path = typer.Argument(..., help="A JSONL file, one statement a line."),
                as_json: bool = JSON_OPTION) -> None:
    """Load statements from FILE with the store's rules: all or nothing, every bad line named."""
    from analytics.services import bulk

    state = cli_state(ctx)

    def progress(stage: str, count: int) -> None:
        typer.echo(state.t(f"analytics.cli.import_{stage}", count=f"{count:,}"), err=True)

    result = bulk.import_jsonl(state.store(), state.clock(), SYSTEM, file, progress=progress)
    emit(result, as_json=as_json, lines=[state.t("analytics.cli.import_done", lines=result["lines"],
                                                 statements=result["statements"], added=result["added"],
                                                 already_stored=result["already_stored"])])


@app.command("cluster")
def cluster(ctx: typer.Context, as_json: bool = JSON_OPTION) -> None:
    """Reorder the statements as the dashboards read them (school, grade, class, time); run nightly."""
    from analytics.services import clustering

    state = cli_state(ctx)
    result = clustering.cluster(state.store(), SYSTEM)
    emit(result, as_json=as_json, lines=[state.t("analytics.cli.clustered", statements=f"{result['statements']:,}",
                                                 seconds=result["seconds"])])


@learners_app.command("import")
def learners_import(ctx: typer.Context, file: Path = typer.Argument(..., help="CSV: learner_id,school_code,grade,class"),
                    as_json: bool = JSON_OPTION) -> None:
    """Add or update learners from a CSV file (all or nothing)."""
    from analytics.services import roster

    state = cli_state(ctx)
    count = roster.import_learners(state.store(), SYSTEM, file.read_text(encoding="utf-8"))
    emit({"learners": count}, as_json=as_json, lines=[state.t("analytics.cli.learners_imported", count=count)])


@units_app.command("import")
def units_import(ctx: typer.Context, file: Path = typer.Argument(..., help="CSV: code,subject,grade,name_ja,name_en"),
                 as_json: bool = JSON_OPTION) -> None:
    """Add or update curriculum units from a CSV file (all or nothing)."""
    from analytics.services import roster

    state = cli_state(ctx)
    count = roster.import_units(state.store(), SYSTEM, file.read_text(encoding="utf-8"))
    emit({"units": count}, as_json=as_json, lines=[state.t("analytics.cli.units_imported", count=count)])
