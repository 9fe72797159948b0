"""Shared use across municipalities (共同利用): one Manabi instance per municipality on one
host, each with its own database file, settings (city name, population, brand colour),
accounts and port, listed in one file the prefecture's operator keeps (tenants.toml):

    [[tenant]]
    code = "40205"            # 全国地方公共団体コード (5 digits; 6 with the check digit)
    name_ja = "飯塚市"
    name_en = "Iizuka"
    population = 126364
    port = 8601
    db = "tenants/40205/manabi.duckdb"   # relative to the file's folder
    color = "#0b6e4f"

Nothing is shared between instances but the code: each `manabi serve` opens only its own
database, and the database keeps its municipality code (manabi_meta), so that a command run
on it by hand (`manabi --db … lake export`) names the right municipality too.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import sys
import time
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import httpx

from kernel.config import setting
from kernel.errors import InvalidInput, NotFound

DEFAULT_CONFIG = Path("var") / "tenants.toml"
MUNICIPALITY_META = "portal:municipality"
_CODE = re.compile(r"[0-9]{5,6}")
_COLOR = re.compile(r"#[0-9a-fA-F]{6}")
STOP_SECONDS = 15.0  # a server stops in 10 s (command_socket); then it is killed


@dataclass(frozen=True)
class Tenant:
    code: str
    name_ja: str
    name_en: str
    population: int
    port: int
    db: Path  # as written in the file (relative to its folder, or absolute)
    color: str | None = None

    def db_path(self, config: Path) -> Path:
        return self.db if self.db.is_absolute() else config.resolve().parent / self.db

    def environment(self) -> dict[str, str]:
        """The settings its server runs with (kernel.config reads MANABI_*; Streamlit its theme)."""
        env = {"MANABI_MUNICIPALITY": self.code, "MANABI_CITY_NAME_JA": self.name_ja,
               "MANABI_CITY_NAME_EN": self.name_en, "MANABI_CITY_POPULATION": str(self.population)}
        if self.color:
            env["STREAMLIT_THEME_PRIMARY_COLOR"] = self.color
        return env


@dataclass(frozen=True)
class TenantStatus:
    tenant: Tenant
    url: str
    health: str  # "ok", "down" (no answer), "wrong" (another municipality answers), "error" (503)


def config_path(given: Path | None = None) -> Path:
    return Path(given or setting("tenants") or DEFAULT_CONFIG)


def load(config: Path) -> list[Tenant]:
    if not config.is_file():
        return []
    try:
        with config.open("rb") as handle:
            raw = tomllib.load(handle)
        return [Tenant(str(t["code"]), str(t["name_ja"]), str(t["name_en"]), int(t["population"]), int(t["port"]),
                       Path(str(t["db"])), t.get("color")) for t in raw.get("tenant", [])]
    except (tomllib.TOMLDecodeError, KeyError, TypeError, ValueError) as exc:
        raise InvalidInput("tenants.bad_config", path=str(config), detail=str(exc)) from exc


def _quoted(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _write(config: Path, tenants: list[Tenant]) -> None:
    lines = ["# Manabi's municipalities on this host (`manabi tenants add|list|serve`).", ""]
    for t in tenants:
        lines += ["[[tenant]]", f"code = {_quoted(t.code)}", f"name_ja = {_quoted(t.name_ja)}",
                  f"name_en = {_quoted(t.name_en)}", f"population = {t.population}", f"port = {t.port}",
                  f"db = {_quoted(str(t.db))}"]
        if t.color:
            lines.append(f"color = {_quoted(t.color)}")
        lines.append("")
    config.parent.mkdir(parents=True, exist_ok=True)
    temporary = config.with_name(config.name + ".tmp")
    temporary.write_text("\n".join(lines), encoding="utf-8")
    os.replace(temporary, config)


def add(config: Path, tenant: Tenant) -> Tenant:
    """Add a municipality: check it against the others, create and migrate its own database
    (marked with its code), then write the file. Nothing is written when a check fails."""
    tenants = load(config)
    if not _CODE.fullmatch(tenant.code):
        raise InvalidInput("tenants.bad_code", code=tenant.code)
    if not tenant.name_ja.strip() or not tenant.name_en.strip():
        raise InvalidInput("tenants.names_required")
    if tenant.population <= 0:
        raise InvalidInput("tenants.bad_population", population=tenant.population)
    if not 1024 <= tenant.port <= 65535:
        raise InvalidInput("tenants.bad_port", port=tenant.port)
    if tenant.color and not _COLOR.fullmatch(tenant.color):
        raise InvalidInput("tenants.bad_color", color=tenant.color)
    if str(tenant.db) in ("", "."):
        tenant = replace(tenant, db=Path("tenants") / tenant.code / "manabi.duckdb")
    for other in tenants:
        if other.code == tenant.code:
            raise InvalidInput("tenants.code_taken", code=tenant.code)
        if other.port == tenant.port:
            raise InvalidInput("tenants.port_taken", port=tenant.port, code=other.code)
        if other.db_path(config).resolve() == tenant.db_path(config).resolve():
            raise InvalidInput("tenants.db_taken", db=str(tenant.db), code=other.code)
    _create_database(tenant.db_path(config), tenant.code)
    _write(config, [*tenants, tenant])
    return tenant


def _create_database(path: Path, code: str) -> None:
    from kernel.clock import clock_from_env
    from kernel.migrations import get_meta, migrate, set_meta
    from kernel.store import Store
    from portal.modules import known_migrations

    store = Store(path)
    try:
        migrate(store, clock_from_env(), known_migrations())
        kept = get_meta(store, MUNICIPALITY_META)
        if kept is not None and kept != code:  # an existing database of another municipality
            raise InvalidInput("tenants.db_of_other", db=str(path), code=kept)
        store.write(lambda cur: set_meta(cur, MUNICIPALITY_META, code))
    finally:
        store.close()


def find(config: Path, code: str) -> Tenant:
    for tenant in load(config):
        if tenant.code == code:
            return tenant
    raise NotFound("tenants.no_such", code=code, path=str(config))


def status(config: Path, host: str = "127.0.0.1") -> list[TenantStatus]:
    """Each municipality with its address and whether its server answers /healthz as itself."""
    found = []
    for tenant in load(config):
        url = f"http://{host}:{tenant.port}"
        try:
            answer = httpx.get(f"{url}/healthz", timeout=2)
            if answer.status_code != 200:
                health = "error"
            elif answer.json().get("municipality") != tenant.code:
                health = "wrong"
            else:
                health = "ok"
        except (httpx.HTTPError, ValueError):
            health = "down"
        found.append(TenantStatus(tenant, url, health))
    return found


def serve(config: Path, host: str = "127.0.0.1", *, log_dir: Path | None = None,
          started: Callable[[TenantStatus], None] | None = None) -> int:
    """Start one `manabi serve` per municipality, each in its own process group with its own
    settings; return when told to stop (SIGTERM, SIGINT) or when one of them ends, having
    stopped all of them. Returns 0 after a stop asked for, 1 when a server ended by itself."""
    tenants = load(config)
    if not tenants:
        raise InvalidInput("tenants.none", path=str(config))
    stopping = []
    previous = {sig: signal.signal(sig, lambda *_: stopping.append(True)) for sig in (signal.SIGTERM, signal.SIGINT)}
    servers: dict[str, subprocess.Popen] = {}
    try:
        for tenant in tenants:
            db = tenant.db_path(config)
            log = (log_dir or db.parent) / f"serve-{tenant.code}.log"
            log.parent.mkdir(parents=True, exist_ok=True)
            with log.open("a") as out:
                servers[tenant.code] = subprocess.Popen(
                    [sys.executable, "-m", "portal.cli_main", "--db", str(db), "serve", "--port", str(tenant.port),
                     "--host", host], stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
                    env={**os.environ, **tenant.environment()})
        waiting = {t.code: t for t in tenants}
        while not stopping:
            if any(process.poll() is not None for process in servers.values()):
                return 1
            if waiting and started is not None:
                for state in status(config, host):
                    if state.tenant.code in waiting and state.health == "ok":
                        waiting.pop(state.tenant.code)
                        started(state)
            time.sleep(0.5)
        return 0
    finally:
        _stop_all(servers.values())
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _stop_all(processes) -> None:
    """SIGTERM to every server's group at once, then wait; a group still there is killed."""
    processes = list(processes)
    for process in processes:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
    deadline = time.monotonic() + STOP_SECONDS
    for process in processes:
        try:
            process.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()
