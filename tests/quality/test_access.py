"""Who may see what (issue 9): one table for every page and every HTTP route, for each
role and an anonymous visitor, and tests that prove exactly that, nothing more.

Pages are checked through the real portal in AppTest: the navigation a visitor is
offered equals the table's row, every page offered runs without an exception, and a
page not offered cannot be opened. Routes are checked against the real server.
A new page or route fails these tests until it is added to a table.
"""

from __future__ import annotations

import httpx
import pytest

from kernel.store import Store
from portal.modules import all_modules
from portal.ui.shell import NAV_PAGES
from tests.conftest import running_server

EVERYONE = {"anonymous", "resident", "teacher", "school_admin", "librarian", "facility_staff", "curator",
            "city_admin"}
SIGNED_IN = EVERYONE - {"anonymous"}

# url path of each page -> the visitors who may open it.
PAGE_ACCESS: dict[str, set[str]] = {
    "home": EVERYONE,
    "account": SIGNED_IN,
    "review": {"school_admin", "city_admin"},
    "admin-users": {"city_admin"},
    "teacher-classes": {"school_admin", "city_admin"},  # a school admin: their own school's teachers
    "admin-system": {"city_admin"},
    # Residents register themselves and reset a forgotten password before signing in; the
    # links mailed to them open for anyone; staff at a counter confirm residence.
    "register": {"anonymous"},
    "forgot-password": {"anonymous"},
    "confirm-email": EVERYONE,
    "reset-password": EVERYONE,
    "registrations": {"facility_staff", "city_admin"},
    # The school roster: the board imports it; a school admin corrects their own school's by hand.
    "roster": {"city_admin"},
    "roster-edit": {"school_admin", "city_admin"},
    # School ICT: a school's staff see their own school; the board sees all and plans.
    "school-devices": {"teacher", "school_admin", "city_admin"},
    "device": {"teacher", "school_admin", "city_admin"},
    "check-out": {"teacher", "school_admin", "city_admin"},
    "device-audit": {"teacher", "school_admin", "city_admin"},
    "repairs": {"teacher", "school_admin", "city_admin"},
    "device-import": {"school_admin", "city_admin"},
    "replacement-plan": {"city_admin"},
    "school-network": {"school_admin", "city_admin"},
    # Learning analytics: teachers see their classes; the board compares schools, no pupils.
    "learning": {"teacher", "school_admin"},
    "learning-board": {"city_admin"},
    "learning-records": {"school_admin", "city_admin"},
    # The prefecture's board over the lake of every municipality's pseudonymous learning facts.
    "prefecture-board": {"city_admin"},
    # E-library: the catalogue is public; loans and the reader are the resident's own.
    "library-catalogue": EVERYONE,
    "library-book": EVERYONE,
    "library-mine": {"resident"},
    "library-read": {"resident"},
    "library-titles": {"librarian", "city_admin"},
    "library-circulation": {"librarian", "city_admin"},
    # Facilities and courses: vacancy and courses are public; anyone signed in may book.
    "facilities": EVERYONE,
    "facilities-search": EVERYONE,
    "facilities-book": SIGNED_IN,
    "facilities-mine": SIGNED_IN,
    "facilities-lottery": SIGNED_IN,
    "facilities-staff-lottery": {"facility_staff", "city_admin"},
    "facilities-staff-bookings": {"facility_staff", "city_admin"},
    "facilities-setup": {"facility_staff", "city_admin"},
    "facilities-occupancy": {"facility_staff", "city_admin"},
    "courses": EVERYONE,
    "courses-mine": SIGNED_IN,
    "courses-run": SIGNED_IN,
    "courses-setup": {"facility_staff", "city_admin"},
    "online-classes": {"teacher", "school_admin"},
    # Archive: published items are public; curators edit and publish.
    "archive": EVERYONE,
    "archive-map": EVERYONE,
    "archive-curate": {"curator", "city_admin"},
    "archive-import": {"curator"},
    "archive-report": {"curator", "city_admin"},
}

LOGINS = {"resident": "resident01", "teacher": "teacher01", "school_admin": "schooladmin01",
          "librarian": "librarian01", "facility_staff": "facility01", "curator": "curator01",
          "city_admin": "admin"}
PAGES = {page.url_path: page for spec in all_modules() for page in spec.pages}


def test_every_page_is_in_the_table():
    assert set(PAGES) == set(PAGE_ACCESS)


def _offered(at) -> set[str]:
    default = next(p.url_path for p in PAGES.values() if p.default)
    # Streamlit serves the default page at "/", with an empty url path.
    return {page.url_path or default for pages in at.session_state[NAV_PAGES].values() for page in pages}


@pytest.mark.parametrize("visitor", sorted(EVERYONE))
def test_each_visitor_gets_exactly_their_pages(app_for, visitor):
    at = app_for(login=LOGINS.get(visitor))
    allowed = {path for path, who in PAGE_ACCESS.items() if visitor in who}
    assert _offered(at) - {"sign-in"} == allowed
    failures = []
    for path in sorted(allowed):
        at.switch_page(str(PAGES[path].script))
        at.run(timeout=120)
        if at.exception:
            failures.append(f"{path}: {at.exception[0].message}")
    for path in sorted(set(PAGE_ACCESS) - allowed):
        # A page that is not offered is not registered either: it cannot be opened.
        with pytest.raises(ValueError, match="Could not find a navigation page"):
            at.switch_page(str(PAGES[path].script))
    assert failures == []


# ---------------------------------------------------------------------------- routes

@pytest.fixture(scope="module")
def ids(demo_db):
    """Rows of the demo city the route table names."""
    store = Store(demo_db, read_only=True)
    try:
        def one(sql: str):
            row = store.query(sql)
            assert row, sql
            return row[0][0]
        return {
            "title": one("SELECT min(id) FROM library_ebooks_titles"),
            "loan_of_resident01": one(
                """SELECT l.id FROM library_ebooks_loans l JOIN portal_users u ON u.id = l.user_id
                   WHERE u.login = 'resident01' AND l.returned_at IS NULL ORDER BY l.id LIMIT 1"""),
            "published_item": one("SELECT min(id) FROM archive_items WHERE status = 'published'"),
            "draft_item": one("SELECT min(id) FROM archive_items WHERE status = 'draft'"),
            "review_item": one("SELECT min(id) FROM archive_items WHERE status = 'review'"),
            "withdrawn_item": one("SELECT min(id) FROM archive_items WHERE status = 'withdrawn'"),
            "published_media": one(
                """SELECT min(m.id) FROM archive_media m JOIN archive_items i ON i.id = m.item_id
                   WHERE i.status = 'published'"""),
            "draft_media": one(
                """SELECT min(m.id) FROM archive_media m JOIN archive_items i ON i.id = m.item_id
                   WHERE i.status = 'draft'"""),
            "set": one("SELECT min(slug) FROM archive_sets"),
        }
    finally:
        store.close()


@pytest.fixture(scope="module")
def own_server(demo_db, tmp_path_factory):
    """A server of our own on an untouched copy of the demo city: the shared `server` is
    changed by other tests (an e2e test publishes an item), and this table names states."""
    folder = tmp_path_factory.mktemp("access")
    db = folder / "access.duckdb"
    db.write_bytes(demo_db.read_bytes())
    with running_server(db, folder / "server.log") as base:
        yield base


BASIC = {"resident01": ("resident01", "manabi-demo"), "resident02": ("resident02", "manabi-demo"),
         "wrong password": ("resident01", "not-the-password")}

# (method, path, who, status): who is "anonymous" or a BASIC key.
ROUTE_ACCESS = [
    ("GET", "/healthz", "anonymous", 200),
    ("GET", "/auth/forget", "anonymous", 200),
    # OPDS: the catalogue is public; a shelf, borrowing and a book's file need the resident.
    ("GET", "/opds", "anonymous", 200),
    ("GET", "/opds/search?q=a", "anonymous", 200),
    ("GET", "/opds/opensearch.xml", "anonymous", 200),
    ("GET", "/opds/v2/catalog.json", "anonymous", 200),
    ("GET", "/opds/v2/search?query=a", "anonymous", 200),
    ("GET", "/opds/books/{title}", "anonymous", 200),
    ("GET", "/opds/covers/{title}.jpg", "anonymous", {200, 404}),  # 404: a title without a cover
    ("GET", "/opds/shelf", "anonymous", 401),
    ("GET", "/opds/shelf", "wrong password", 401),
    ("GET", "/opds/shelf", "resident01", 200),
    ("POST", "/opds/books/{title}/borrow", "anonymous", 401),
    ("GET", "/opds/loans/{loan_of_resident01}/book.epub", "anonymous", 401),
    ("GET", "/opds/loans/{loan_of_resident01}/book.epub", "resident02", 404),
    ("GET", "/opds/loans/{loan_of_resident01}/book.epub", "resident01", 200),
    # The reading app: only through a loan's token (made by the Read page for its borrower).
    ("GET", "/ebooks/read/not-a-token", "anonymous", 404),
    ("GET", "/ebooks/read/not-a-token/pages/0", "anonymous", 404),
    ("POST", "/ebooks/read/not-a-token/position", "anonymous", {400, 404}),
    ("POST", "/ebooks/read/not-a-token/settings", "anonymous", {400, 404}),
    ("GET", "/ebooks/reader-app/reader.js", "anonymous", 200),
    # xAPI: learning apps with their own credentials only; a resident's password is no key.
    ("GET", "/xapi/about", "anonymous", 200),
    ("GET", "/xapi/statements", "anonymous", 401),
    ("GET", "/xapi/statements", "resident01", 401),
    ("GET", "/xapi/activities/state", "anonymous", 401),
    ("PUT", "/xapi/activities/state", "resident01", 401),
    ("GET", "/xapi/activities/profile", "anonymous", 401),
    ("PUT", "/xapi/activities/profile", "resident01", 401),
    ("GET", "/xapi/agents/profile", "anonymous", 401),
    ("DELETE", "/xapi/agents/profile", "resident01", 401),
    ("GET", "/xapi/activities", "anonymous", 401),
    ("GET", "/xapi/agents", "resident01", 401),
    # Facilities: a calendar feed only with its secret; the payment callback only when signed.
    ("GET", "/facilities/calendar/not-a-token.ics", "anonymous", 404),
    ("GET", "/courses/SMART-BASIC.ics", "anonymous", 200),  # a course's public calendar
    ("GET", "/courses/NO-SUCH.ics", "anonymous", 404),
    # One-click join: only a signed-in session (its cookie) joins; anyone else is sent to sign in,
    # a password over HTTP Basic included (tests/e2e/test_facilities_courses_register_join.py).
    ("GET", "/courses/join/1", "anonymous", 303),
    ("GET", "/courses/join/1", "resident01", 303),
    ("GET", "/classes/join/1", "anonymous", 303),
    ("GET", "/classes/join/1", "resident01", 303),
    ("POST", "/payments/callback", "anonymous", {400, 401, 403, 503}),
    # Archive and IIIF: published items only; drafts, items in review and withdrawn ones never.
    ("GET", "/iiif/collection", "anonymous", 200),
    ("GET", "/iiif/collection/{set}", "anonymous", 200),
    ("GET", "/iiif/{published_item}/manifest", "anonymous", 200),
    ("GET", "/iiif/{draft_item}/manifest", "anonymous", 404),
    ("GET", "/iiif/{review_item}/manifest", "anonymous", 404),
    ("GET", "/iiif/{withdrawn_item}/manifest", "anonymous", 404),
    ("GET", "/archive/media/{published_media}/thumb.jpg", "anonymous", 200),
    ("GET", "/archive/media/{draft_media}/thumb.jpg", "anonymous", 404),
    ("GET", "/iiif/image/{published_media}/info.json", "anonymous", 200),
    ("GET", "/iiif/image/{draft_media}/info.json", "anonymous", 404),
    ("GET", "/iiif/image/{published_media}/full/max/0/default.jpg", "anonymous", {200, 403}),  # 403: rights
    ("GET", "/iiif/image/{draft_media}/full/max/0/default.jpg", "anonymous", 404),
    ("GET", "/oai?verb=Identify", "anonymous", 200),
    ("GET", "/archive/export.csv", "anonymous", 200),
    ("GET", "/archive/export.json", "anonymous", 200),
    # The web font (portal/webfonts.py; installed by make): its files, and no other file.
    ("GET", "/fonts/noto-sans-jp.css", "anonymous", 200),
    ("GET", "/fonts/license.txt", "anonymous", 200),
    ("GET", "/fonts/manabi.duckdb", "anonymous", 404),
    ("GET", "/fonts/..%2F..%2Fpyproject.toml", "anonymous", {400, 404}),  # 400: refused before routing
]


def test_every_route_is_in_the_table(ids):
    """Each route of every module answers at least one path of the table."""
    tabled = [path.format(**ids).split("?")[0] for _, path, _, _ in ROUTE_ACCESS]
    routes = [route for spec in all_modules() if spec.routes for route in spec.routes()]
    # /auth/remember needs a one-time code from a sign-in: tests/e2e/test_portal_sign_in.py.
    untabled = [route.path for route in routes if route.path != "/auth/remember"
                and not any(route.path_regex.match(path) for path in tabled)]
    assert untabled == []


@pytest.mark.parametrize("method,path,who,status", ROUTE_ACCESS, ids=[f"{m} {p} {w}" for m, p, w, _ in ROUTE_ACCESS])
def test_route_answers_each_visitor_as_the_table_says(own_server, ids, method, path, who, status):
    auth = BASIC.get(who)
    answer = httpx.request(method, own_server + path.format(**ids), auth=auth, timeout=30,
                           headers={"X-Experience-API-Version": "1.0.3"})
    expected = status if isinstance(status, set) else {status}
    assert answer.status_code in expected, answer.text[:300]


def test_exports_and_feeds_hold_no_unpublished_item(own_server, ids, demo_db):
    store = Store(demo_db, read_only=True)
    try:
        hidden = [title for (title,) in store.query(
            "SELECT title_ja FROM archive_items WHERE status <> 'published' AND title_ja <> ''")]
    finally:
        store.close()
    assert hidden
    for path in ("/archive/export.csv", "/archive/export.json", "/iiif/collection",
                 "/oai?verb=ListRecords&metadataPrefix=oai_dc"):
        body = httpx.get(own_server + path, timeout=30).text
        leaked = [title for title in hidden if title in body]
        assert leaked == [], f"{path} shows unpublished items: {leaked}"
