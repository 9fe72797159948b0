"""`manabi`: the command line. Every module adds its commands as a sub-app.

The database is --db PATH or MANABI_DB (default var/manabi.duckdb). Messages are
Japanese unless MANABI_LANG=en. Errors go to stderr with exit code 1.
"""

from __future__ import annotations

import functools
import os
import sys
import typing
from pathlib import Path

import typer
import typer.main

from kernel.actor import SYSTEM
from kernel.cli import JSON_OPTION, CliState, cli_state, emit, fail
from kernel.config import setting
from kernel.errors import ManabiError, StoreError
from kernel.i18n import DEFAULT_LANGUAGE, Translator
from portal import command_socket, webfonts
from portal.cli_mail import app as mail_app
from portal.modules import all_modules
from portal.runtime import __version__, catalogue, forget_runtimes, open_runtime

# The portal's accent colour (light theme); see serve.
PRIMARY_COLOUR = "#a61b29"

app = typer.Typer(
    name="manabi",
    help="Manabi (学び): Iizuka City's education and lifelong-learning portal.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
users_app = typer.Typer(help="Accounts: add, list, set roles, set passwords, teachers' classes.", no_args_is_help=True)
app.add_typer(users_app, name="users")
schools_app = typer.Typer(help="Schools, with the codes imports and accounts name them by.", no_args_is_help=True)
app.add_typer(schools_app, name="schools")
app.add_typer(mail_app, name="mail")

# The school roster (OneRoster import) and a school's classes: portal/cli_roster.py.
from portal.cli_roster import roster_app, schools_classes  # noqa: E402

app.add_typer(roster_app, name="roster")

# Many municipalities on one host (shared use): portal/cli_tenants.py.
from portal.cli_tenants import tenants_app  # noqa: E402

app.add_typer(tenants_app, name="tenants")
schools_app.command("classes")(schools_classes)


def _translator() -> Translator:
    handed = command_socket.handed()
    # A command handed to the server speaks its caller's language, not the server's.
    lang = handed.lang if handed is not None else setting("lang", DEFAULT_LANGUAGE)
    return Translator(lang or DEFAULT_LANGUAGE, catalogue())


def _runtime(db: Path | None):
    """The runtime a command works on: the server's own when the server runs the command."""
    handed = command_socket.handed()
    return handed.runtime if handed is not None else open_runtime(db)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"manabi {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    ctx: typer.Context,
    db: Path = typer.Option(None, "--db", help="The DuckDB file (default: MANABI_DB or var/manabi.duckdb)."),
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="Print the version."),
) -> None:
    def opener():
        runtime = _runtime(db)
        return runtime.store, runtime.clock

    ctx.obj = CliState(db, _translator(), opener)


@app.command()
def init(ctx: typer.Context, as_json: bool = JSON_OPTION) -> None:
    """Create the database, or migrate it to this version."""
    from kernel.config import load_settings

    runtime = _runtime(cli_state(ctx).db_path)
    versions = runtime.schema_versions()
    t = cli_state(ctx).t
    db_path = load_settings(cli_state(ctx).db_path).db_path
    emit({"db": str(db_path), "schema": versions}, as_json=as_json,
         lines=[t("cli.initialised", path=db_path, schema=sum(versions.values()))])


def _load_demo(db: Path | None, scale: str, t: Translator | None = None):
    from portal.demo_city import load_demo

    def say(module: str) -> None:
        if t is not None:
            typer.echo(t("cli.demo_loading", module=module), err=True)

    return load_demo(_runtime(db), scale, on_start=say)


@app.command()
def demo(
    ctx: typer.Context,
    scale: str = typer.Option("small", "--scale", help="small (fast, for tests) or city (the plan's real counts)."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Load the demo city (deterministic; running it again changes nothing)."""
    t = cli_state(ctx).t
    steps = _load_demo(cli_state(ctx).db_path, scale, t)
    emit([{"module": s.module, "status": s.status} for s in steps], as_json=as_json,
         lines=[t(f"cli.demo_{s.status}", module=s.module) for s in steps])


@app.command()
def serve(
    ctx: typer.Context,
    port: int = typer.Option(8501, "--port", help="The port to serve on."),
    host: str = typer.Option("localhost", "--host", help="The address to listen on."),
    demo_scale: str = typer.Option(None, "--demo", help="On a database with no accounts, load this demo first."),
) -> None:
    """Serve the portal and its HTTP routes (one process)."""
    from kernel.config import load_settings
    from portal.services import accounts

    state = cli_state(ctx)
    served = command_socket.socket_path(load_settings(state.db_path).db_path)
    if command_socket.is_live(served):
        raise StoreError("cli.already_serving", path=load_settings(state.db_path).db_path)
    runtime = open_runtime(state.db_path)
    db_path = runtime.settings.db_path.resolve()
    if demo_scale and not accounts.count_users(runtime.store):
        typer.echo(state.t("cli.serve_demo", scale=demo_scale))
        _load_demo(state.db_path, demo_scale, state.t)
    # The server opens the file itself: let go of it first.
    forget_runtimes()
    server = Path(__file__).with_name("server.py")
    env = {**os.environ, "MANABI_DB": str(db_path)}
    command = [sys.executable, "-m", "streamlit", "run", str(server),
               "--server.port", str(port), "--server.address", host, "--server.headless", "true",
               "--browser.gatherUsageStats", "false", "--global.developmentMode", "false",
               "--client.toolbarMode", "minimal",
               # Japanese in the font the portal serves (portal/webfonts.py), after Streamlit's own
               # Latin font; a computer's own sans-serif when it is not installed.
               "--theme.font", webfonts.FONT_STACK,
               # A deeper red than Streamlit's: white on it, and it on its own tint (a chosen
               # segment), both read at WCAG AA contrast (4.5:1 and more).
               "--theme.light.primaryColor", PRIMARY_COLOUR,
               # No file watching: it costs every session CPU, and a portal is not edited live.
               "--server.fileWatcherType", "none",
               # Streamlit runs a full gc.collect() after every page run; with data libraries
               # loaded that is the largest cost under load. Python still collects by itself.
               "--runner.postScriptGC", "false"]
    sys.stdout.flush()
    sys.stderr.flush()
    # This process becomes the server (exec, no child): a supervisor's SIGTERM or a Ctrl-C
    # reaches uvicorn's own handlers, which stop gracefully, and nothing is left behind
    # holding the port or the database file.
    os.execve(sys.executable, command, env)


@users_app.command("add")
def users_add(
    ctx: typer.Context,
    login: str = typer.Argument(..., help="Login: 3–64 lowercase letters, digits, . _ -"),
    name: str = typer.Option(..., "--name", help="Display name."),
    role: list[str] = typer.Option(..., "--role", help="A role; repeat for several."),
    school: str = typer.Option(None, "--school", help="School code (teachers and school admins)."),
    email: str = typer.Option(None, "--email", help="E-mail, for sign-in through the school's identity provider."),
    password_stdin: bool = typer.Option(False, "--password-stdin", help="Read the password from standard input."),
    no_password: bool = typer.Option(False, "--no-password", help="No password: sign-in by e-mail (OIDC) only."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Add an account. The password is asked for (never an argument)."""
    from portal.services import accounts, schools

    state = cli_state(ctx)
    store, clock = state.store(), state.clock()
    password = None if no_password else _read_password(state, password_stdin)
    school_id = schools.school_id_for_code(store, school) if school else None
    user_id = accounts.create_user(store, clock, login=login, display_name=name, roles=role,
                                   password=password, email=email, school_id=school_id)
    emit({"id": user_id, "login": login.lower(), "roles": sorted(set(role))}, as_json=as_json,
         lines=[state.t("cli.user_added", login=login.lower(), id=user_id)])


def _read_password(state: CliState, from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\n")
    # Asked at the person's terminal, also when the running server carries out the command.
    first = command_socket.prompt(state.t("account.new_password"), hide_input=True)
    second = command_socket.prompt(state.t("account.repeat_password"), hide_input=True)
    if first != second:
        typer.echo(state.t("cli.passwords_differ"), err=True)
        raise typer.Exit(1)
    return first


@users_app.command("list")
def users_list(
    ctx: typer.Context,
    role: str = typer.Option(None, "--role", help="Only users with this role."),
    as_json: bool = JSON_OPTION,
) -> None:
    """List accounts with their roles and school."""
    from portal.services import accounts

    users = accounts.list_users(cli_state(ctx).store(), SYSTEM, role=role)
    emit([{"id": u.id, "login": u.login, "name": u.display_name, "roles": list(u.roles),
           "school_id": u.school_id, "email": u.email, "demo": u.is_demo} for u in users],
         as_json=as_json,
         lines=[f"{u.login:<16} {','.join(u.roles):<28} {u.display_name}" for u in users])


@users_app.command("set-role")
def users_set_role(
    ctx: typer.Context,
    login: str = typer.Argument(...),
    roles: list[str] = typer.Argument(..., help="The user's roles from now on."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Replace a user's roles."""
    from portal.services import accounts

    state = cli_state(ctx)
    result = accounts.set_roles(state.store(), SYSTEM, login, roles)
    emit({"login": login, "roles": list(result)}, as_json=as_json,
         lines=[state.t("cli.roles_set", login=login, roles=", ".join(result))])


@users_app.command("passwd")
def users_passwd(
    ctx: typer.Context,
    login: str = typer.Argument(...),
    password_stdin: bool = typer.Option(False, "--password-stdin", help="Read the password from standard input."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Set a user's password (ends their open sessions, lifts a lock)."""
    from portal.services import accounts

    state = cli_state(ctx)
    password = _read_password(state, password_stdin)
    accounts.set_password(state.store(), state.clock(), SYSTEM, login, password)
    emit({"login": login, "password": "set"}, as_json=as_json, lines=[state.t("cli.password_set", login=login)])


@users_app.command("classes")
def users_classes(
    ctx: typer.Context,
    login: str = typer.Argument(..., help="A teacher's login."),
    add: list[str] = typer.Option([], "--add", help="A class to add, as grade-class (3-2); repeat for several."),
    remove: list[str] = typer.Option([], "--remove", help="A class to remove (3-1); repeat for several."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Show, add or remove the classes a teacher teaches (they see only these classes' records)."""
    from portal.services import teacher_classes

    state = cli_state(ctx)
    result = teacher_classes.set_classes(state.store(), SYSTEM, login, add=add, remove=remove)
    labels = [c.label for c in result]
    emit({"login": login.lower(), "classes": labels}, as_json=as_json,
         lines=[state.t("cli.classes_of", login=login.lower(), classes=", ".join(labels)) if labels
                else state.t("cli.no_classes_of", login=login.lower())])


@schools_app.command("list")
def schools_list(ctx: typer.Context, as_json: bool = JSON_OPTION) -> None:
    """List the city's schools: code, names, kind, pupils."""
    from portal.services import schools

    rows = schools.list_schools(cli_state(ctx).store())
    emit([{"id": s.id, "code": s.code, "name_ja": s.name_ja, "name_en": s.name_en, "kind": s.kind,
           "pupils": s.pupils} for s in rows],
         as_json=as_json, lines=[f"{s.code}  {s.name_ja}  {s.name_en}  {s.pupils}" for s in rows])


@app.command()
def backup(ctx: typer.Context, folder: Path = typer.Argument(..., help="A new or empty folder."),
           as_json: bool = JSON_OPTION) -> None:
    """Back up every table into FOLDER (schema and Parquet files)."""
    from portal.services import system

    state = cli_state(ctx)
    counts = system.backup(state.store(), folder, version=__version__)
    emit({"folder": str(folder), "tables": counts}, as_json=as_json,
         lines=[state.t("cli.backup_done", folder=folder, tables=len(counts), rows=sum(counts.values()))])


@app.command()
def restore(ctx: typer.Context, folder: Path = typer.Argument(..., help="A folder made by `manabi backup`."),
            replace: bool = typer.Option(False, "--replace", help="Replace an existing database."),
            as_json: bool = JSON_OPTION) -> None:
    """Restore the database from FOLDER; checks every table's row count."""
    from kernel.config import load_settings
    from portal.services import system

    state = cli_state(ctx)
    db_path = load_settings(state.db_path).db_path
    if command_socket.handed() is not None or command_socket.is_live(command_socket.socket_path(db_path)):
        # Swapping the file under the running portal would cut every session's store.
        raise StoreError("system.restore_while_serving", path=db_path)
    counts = system.restore(folder, db_path, replace=replace)
    emit({"db": str(db_path), "tables": counts}, as_json=as_json,
         lines=[state.t("cli.restore_done", path=db_path, tables=len(counts), rows=sum(counts.values()))])


@app.command()
def retention(ctx: typer.Context, as_json: bool = JSON_OPTION) -> None:
    """Apply the retention rules for personal data now (the server does it every night)."""
    from portal.services import retention as rules

    state = cli_state(ctx)
    removed = rules.apply(state.store(), state.clock())
    emit(removed, as_json=as_json,
         lines=[f"{state.t(f'retention.name.{key}')}: {count}" for key, count in removed.items()])


@app.command()
def bench(
    ctx: typer.Context,
    scale: str = typer.Option("city", "--scale", help="Demo city to measure on: small or city."),
    module: str = typer.Option(None, "--module", help="Only this module's benchmarks."),
    out: Path = typer.Option(Path("var") / "bench.json", "--out", help="Where to write the figures as JSON."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Run every module's benchmark on a fresh demo city; print and save the figures."""
    import json
    from dataclasses import asdict

    from portal.benchmarks import run_all

    figures = run_all(scale, module)
    rows = [asdict(f) for f in figures]
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(rows, ensure_ascii=False, indent=2), encoding="utf-8")
    width = max((len(f.name) for f in figures), default=10)
    emit(rows, as_json=as_json, lines=[f"{'module':<16} {'benchmark':<{width}} {'figure':>12} {'unit':<10} goal"]
         + [f"{f.module:<16} {f.name:<{width}} {f.figure:>12,.2f} {f.unit:<10} {f.goal}" for f in figures])


for _spec in all_modules():
    if _spec.cli:
        app.add_typer(_spec.cli(), name=_spec.cli_name or _spec.name.replace("_", "-"))
    for _name, _group in _spec.top_cli.items():
        app.add_typer(_group(), name=_name)


def _names_paths(param) -> bool:
    kind = param.type_descriptor.annotation  # resolved (modules write annotations as strings)
    return kind is Path or (typing.get_origin(kind) in (list, tuple) and Path in typing.get_args(kind))


def _anchor_paths(command) -> None:
    """Path options and arguments, made absolute against the caller's folder when the server
    runs the command (command_socket.anchor); the root --db is kept as typed (it is shown)."""
    for param in command.params:
        if param.name != "db" and _names_paths(param):
            param.process_value = functools.partial(_anchored_value, param.process_value)
    for sub in getattr(command, "commands", {}).values():
        _anchor_paths(sub)


def _anchored_value(process_value, ctx, value):
    if isinstance(value, str):
        value = command_socket.anchor(value)
    elif isinstance(value, list | tuple):
        value = type(value)(command_socket.anchor(v) if isinstance(v, str) else v for v in value)
    return process_value(ctx, value)


@functools.cache
def _click_command():
    command = typer.main.get_command(app)
    _anchor_paths(command)
    return command


def _exit_code(code: object) -> int:
    if code is None:
        return 0
    if isinstance(code, int):
        return code
    typer.echo(str(code), err=True)
    return 1


def run_command(argv: list[str]) -> int:
    """Run one `manabi` command line as the command does; returns its exit code. The server
    runs handed commands through this too."""
    try:
        try:
            _click_command().main(args=argv, prog_name="manabi")
        except ManabiError as exc:
            fail(_translator(), exc)
    except SystemExit as exc:
        return _exit_code(exc.code)
    return 0


def main() -> None:
    argv = sys.argv[1:]
    served = command_socket.served_socket(argv)
    if served is not None:
        # The server holds the database: it runs the command and we show what it says.
        sys.exit(command_socket.hand_over(served, argv))
    sys.exit(run_command(argv))
