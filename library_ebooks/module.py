"""E-book lending (measure 4-2-5): catalogue, licenses, loans, holds, reader, OPDS."""

from pathlib import Path

from kernel.jobs import Job, every
from kernel.module import PUBLIC, MailKind, ModuleSpec, PageSpec, lazy, lazy_value

_HERE = Path(__file__).resolve().parent
_PAGES = _HERE / "pages"
_STAFF = frozenset({"librarian", "city_admin"})
_RESIDENT = frozenset({"resident"})


SPEC = ModuleSpec(
    name="library_ebooks",
    package_dir=_HERE,
    indicators=lazy("library_ebooks.services.indicators:indicators"),
    pages=(
        PageSpec(_PAGES / "catalogue.py", "nav.ebooks_catalogue", "library-catalogue", "library", PUBLIC,
                 ":material/search:"),
        PageSpec(_PAGES / "book.py", "nav.ebooks_book", "library-book", "library", PUBLIC,
                 ":material/book:"),
        PageSpec(_PAGES / "mine.py", "nav.ebooks_mine", "library-mine", "library", _RESIDENT,
                 ":material/bookmarks:"),
        PageSpec(_PAGES / "reader.py", "nav.ebooks_reader", "library-read", "library", _RESIDENT,
                 ":material/menu_book:"),
        PageSpec(_PAGES / "titles.py", "nav.ebooks_titles", "library-titles", "library", _STAFF,
                 ":material/library_add:"),
        PageSpec(_PAGES / "circulation.py", "nav.ebooks_circulation", "library-circulation", "library", _STAFF,
                 ":material/monitoring:"),
    ),
    routes=lazy("library_ebooks.routes:routes"),
    cli=lazy_value("library_ebooks.cli:app"),
    cli_name="ebooks",
    demo=lazy("library_ebooks.demo:load"),
    mail_kinds=(MailKind("library_ebooks.hold_offered", _RESIDENT), MailKind("library_ebooks.loan_due", _RESIDENT)),
    # A resident who leaves: loans and holds end (library_ebooks/services/leaving.py).
    provides={"library_ebooks.end_for_leaving": lazy("library_ebooks.services.leaving:end_for_leaving")},
    # Offers not taken in 48 hours pass to the next resident without waiting for a visit; loans
    # due in two days are mailed about.
    jobs=(Job("library_ebooks.holds", every(5), lazy("library_ebooks.services.lending:settle_all_holds"),
              "ebooks.job_holds"),
          Job("library_ebooks.loan_due", every(1), lazy("library_ebooks.services.lending:remind_due_loans"),
              "ebooks.job_loan_due")),
)
