"""The cultural-heritage archive (measure 4-2-1): items, media, map, publishing, IIIF."""

from pathlib import Path

from kernel.module import PUBLIC, ModuleSpec, PageSpec, lazy, lazy_value

_HERE = Path(__file__).resolve().parent
_PAGES = _HERE / "pages"
STAFF = frozenset({"curator", "city_admin"})


SPEC = ModuleSpec(
    name="archive",
    package_dir=_HERE,
    indicators=lazy("archive.services.indicators:indicators"),
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
    routes=lazy("archive.routes:routes"),
    cli=lazy_value("archive.cli:app"),
    cli_name="archive",
    demo=lazy("archive.demo:load"),
)
