"""Learning analytics (measure 4-1-4): the xAPI learning record store and dashboards."""

from pathlib import Path

from kernel.module import ModuleSpec, PageSpec

_HERE = Path(__file__).resolve().parent
_PAGES = _HERE / "pages"


def _routes():
    from analytics.routes import routes

    return routes()


def _cli():
    from analytics.cli import app

    return app


def _demo(ctx):
    from analytics import demo

    demo.load(ctx)


def _indicators(store, clock):
    from analytics.indicators import indicators

    return indicators(store, clock)


SPEC = ModuleSpec(
    name="analytics",
    package_dir=_HERE,
    indicators=_indicators,
    pages=(
        PageSpec(_PAGES / "class_dashboard.py", "analytics.nav.class_dashboard", "learning", "schools",
                 frozenset({"teacher", "school_admin"}), ":material/insights:"),
        PageSpec(_PAGES / "board.py", "analytics.nav.board", "learning-board", "schools",
                 frozenset({"city_admin"}), ":material/leaderboard:"),
        PageSpec(_PAGES / "lrs_admin.py", "analytics.nav.xapi_admin", "learning-records", "admin",
                 frozenset({"city_admin", "school_admin"}), ":material/database:"),
    ),
    routes=_routes,
    demo=_demo,
    cli=_cli,
)
