"""What a module hands the portal: its migrations, catalogue, pages, HTTP routes,
CLI sub-app, demo rows and yearly-review indicators.

Every domain package has a `module.py` with `SPEC = ModuleSpec(...)`; the portal
composes them (portal/modules.py) and nothing else needs to know they exist.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import random

    from kernel.clock import Clock
    from kernel.jobs import Job

# Navigation groups, in the order the sidebar shows them.
GROUPS = ("home", "schools", "library", "facilities", "archive", "admin")

PUBLIC = None  # PageSpec.roles value for pages anyone may open without signing in
SIGNED_IN: frozenset[str] = frozenset()  # any signed-in user
# Pages for visitors who are not signed in (sign-up, forgotten password).
ANONYMOUS_ONLY: frozenset[str] = frozenset({"anonymous"})


def lazy(target: str) -> Callable[..., Any]:
    """A function named "package.module:function", imported on its first call.

    A SPEC names its routes, CLI, demo and indicators this way, so that importing every
    module's SPEC at start-up does not import every module's code."""
    module_name, _, function_name = target.partition(":")

    def call(*args: Any, **kwargs: Any) -> Any:
        import importlib

        return getattr(importlib.import_module(module_name), function_name)(*args, **kwargs)

    call.__qualname__ = call.__name__ = f"lazy({target})"
    return call


def lazy_value(target: str) -> Callable[[], Any]:
    """A factory returning the object named "package.module:name" (e.g. a typer app),
    imported when first asked for."""
    module_name, _, attribute = target.partition(":")

    def get() -> Any:
        import importlib

        return getattr(importlib.import_module(module_name), attribute)

    get.__qualname__ = get.__name__ = f"lazy_value({target})"
    return get


@dataclass(frozen=True)
class PageSpec:
    """One Streamlit page. `roles` None: public; empty: any signed-in user; ANONYMOUS_ONLY:
    only visitors not signed in; otherwise the roles that may open it. A page that is not
    `visible` is left out of the sidebar but opens by its address (a link sent by mail)."""

    script: Path
    title_key: str
    url_path: str
    group: str
    roles: frozenset[str] | None = PUBLIC
    icon: str = ":material/article:"
    default: bool = False
    visible: bool = True

    def allows(self, roles: frozenset[str], signed_in: bool) -> bool:
        if self.roles is None:
            return True
        if self.roles == ANONYMOUS_ONLY:
            return not signed_in
        if not signed_in:
            return False
        return not self.roles or bool(self.roles & roles)


@dataclass
class DemoContext:
    """What a module's demo loader gets: `cur`, a cursor inside the one transaction
    that holds all of that module's demo rows (all or nothing), the clock, a random
    source seeded per module and scale, and the scale itself: 'small' for tests,
    'city' for the plan's real counts. Earlier modules' rows (schools, accounts) are
    read from the database."""

    cur: Any  # duckdb.DuckDBPyConnection, in a transaction
    clock: Clock
    rng: random.Random
    scale: str

    @property
    def small(self) -> bool:
        return self.scale == "small"


@dataclass(frozen=True)
class MailKind:
    """A kind of notification a module sends (kernel.outbox.notify): its texts are the
    catalogue's `mail.<name>.label`, `.subject` and `.body`. `roles`: who may choose it on
    their account page (None: everyone)."""

    name: str
    roles: frozenset[str] | None = None


@dataclass(frozen=True)
class ModuleSpec:
    name: str
    package_dir: Path
    pages: tuple[PageSpec, ...] = ()
    routes: Callable[[], list[Any]] | None = None  # -> list of starlette routes
    cli: Callable[[], Any] | None = None  # -> typer.Typer sub-app named after the module
    cli_name: str | None = None
    # Command groups the module also offers at the top (`manabi NAME ...`): name -> typer.Typer.
    top_cli: dict[str, Callable[[], Any]] = field(default_factory=dict)
    demo: Callable[[DemoContext], None] | None = None
    # The yearly review's indicators: (store, clock) -> list[kernel.indicators.Indicator]
    indicators: Callable[[Any, Any], list[Any]] | None = None
    # Work the server does by itself (kernel.jobs): Job(name, every(N) or NIGHTLY, (store, clock) -> anything).
    jobs: tuple[Job, ...] = ()
    # Shorthand for one nightly job named after the module: (store, clock) -> anything.
    nightly: Callable[[Any, Any], Any] | None = None
    # Functions offered to other modules by name (kernel.provided), e.g. a school's rosters.
    provides: dict[str, Callable[..., Any]] = field(default_factory=dict)
    # Notifications this module sends by e-mail (kernel.outbox.notify), in the order shown.
    mail_kinds: tuple[MailKind, ...] = ()
    depends_on: tuple[str, ...] = ("portal",)

    @property
    def migrations_dir(self) -> Path:
        return self.package_dir / "migrations"

    @property
    def catalogue_files(self) -> list[Path]:
        """messages.toml, plus messages_<part>.toml for a module built in parts."""
        return sorted(self.package_dir.glob("messages*.toml"))
