"""`manabi tenants …`: many municipalities on one host, each its own Manabi instance
(portal/services/tenants.py). The file is --config, MANABI_TENANTS or var/tenants.toml."""

from __future__ import annotations

from pathlib import Path

import typer

from kernel.cli import JSON_OPTION, cli_state, emit

tenants_app = typer.Typer(help="Municipalities sharing this host: add, list (with health), serve all.",
                          no_args_is_help=True)
CONFIG_OPTION = typer.Option(None, "--config", help="The tenants file (default: MANABI_TENANTS or var/tenants.toml).")


@tenants_app.command("add")
def tenants_add(
    ctx: typer.Context,
    code: str = typer.Argument(..., help="全国地方公共団体コード, e.g. 40205."),
    name_ja: str = typer.Option(..., "--name-ja", help="The municipality's name in Japanese (飯塚市)."),
    name_en: str = typer.Option(..., "--name-en", help="Its name in English (Iizuka)."),
    population: int = typer.Option(..., "--population", help="Its population (the indicators per resident)."),
    port: int = typer.Option(..., "--port", help="The port its server listens on."),
    db: Path = typer.Option(None, "--db-file", help="Its database (default: tenants/CODE/manabi.duckdb beside the file)."),
    color: str = typer.Option(None, "--color", help="Its brand colour, #rrggbb."),
    config: Path = CONFIG_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Add a municipality: its own database (created now), settings and port."""
    from portal.services import tenants

    state = cli_state(ctx)
    path = tenants.config_path(config)
    added = tenants.add(path, tenants.Tenant(code, name_ja, name_en, population, port, db or Path(""), color))
    emit({"code": added.code, "port": added.port, "db": str(added.db_path(path))}, as_json=as_json,
         lines=[state.t("tenants.added", code=added.code, name=added.name_ja, port=added.port,
                        db=added.db_path(path))])


@tenants_app.command("list")
def tenants_list(ctx: typer.Context, config: Path = CONFIG_OPTION,
                 host: str = typer.Option("127.0.0.1", "--host", help="Where the servers are asked."),
                 as_json: bool = JSON_OPTION) -> None:
    """Each municipality: code, name, address, health, population, database."""
    from portal.services import tenants

    state = cli_state(ctx)
    path = tenants.config_path(config)
    rows = [{"code": s.tenant.code, "name_ja": s.tenant.name_ja, "name_en": s.tenant.name_en,
             "population": s.tenant.population, "port": s.tenant.port, "url": s.url, "health": s.health,
             "db": str(s.tenant.db_path(path)), "color": s.tenant.color} for s in tenants.status(path, host)]
    emit(rows, as_json=as_json,
         lines=[f"{r['code']}  {r['name_ja']:<8} {r['url']:<24} {state.t('tenants.health_' + r['health']):<10} "
                f"{r['population']:>9,}  {r['db']}" for r in rows])


@tenants_app.command("serve")
def tenants_serve(ctx: typer.Context, config: Path = CONFIG_OPTION,
                  host: str = typer.Option("127.0.0.1", "--host", help="The address every server listens on."),
                  log_dir: Path = typer.Option(None, "--log-dir", help="Where each server's log goes "
                                                                      "(default: beside its database).")) -> None:
    """Start every municipality's server; Ctrl-C or SIGTERM stops them all together."""
    from portal.services import tenants

    state = cli_state(ctx)

    def started(status) -> None:
        typer.echo(state.t("tenants.started", code=status.tenant.code, name=status.tenant.name_ja, url=status.url))

    code = tenants.serve(tenants.config_path(config), host, log_dir=log_dir, started=started)
    typer.echo(state.t("tenants.stopped" if code == 0 else "tenants.ended"), err=code != 0)
    raise typer.Exit(code)
