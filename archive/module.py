"""The cultural-heritage archive (measure 4-2-1): items, media, map, publishing, IIIF."""

from pathlib import Path

from kernel.module import PUBLIC, ModuleSpec, PageSpec

_HERE = Path(__file__).resolve().parent
_PAGES = _HERE / "pages"
STAFF = frozenset({"curator", "city_admin"})


def _routes():
    from archive.routes import routes

    return routes()


def _cli():
    from archive.cli import app

    return app


def _demo(ctx):
    from archive import demo

    demo.load(ctx)


def _indicators(store, clock):
    from archive.indicators import indicators

    return indicators(store, clock)


SPEC = ModuleSpec(
    name="archive",
    package_dir=_HERE,
    indicators=_indicators,
    pages=(
        PageSpec(_PAGES / "browse.py", "archive.nav.browse", "archive", "archive", PUBLIC, ":material/museum:"),
        PageSpec(_PAGES / "map.py", "archive.nav.map", "archive-map", "archive", PUBLIC, ":material/map:"),
        PageSpec(_PAGES / "curate.py", "archive.nav.curate", "archive-curate", "archive", STAFF,
                 ":material/edit_note:"),
        PageSpec(_PAGES / "import_csv.py", "archive.nav.import", "archive-import", "archive",
                 frozenset({"curator"}), ":material/upload_file:"),
        PageSpec(_PAGES / "report.py", "archive.nav.report", "archive-report", "archive", STAFF,
                 ":material/bar_chart:"),
    ),
    routes=_routes,
    cli=_cli,
    cli_name="archive",
    demo=_demo,
)
