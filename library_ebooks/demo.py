"""Demo rows: the shelf of generated EPUBs (and fixed-layout picture books drawn at demo
time), their licenses, loans, holds and a month of past circulation. resident01 has two
books on loan and a copy of 坊っちゃん kept for them (their hold's offer), with others
queuing behind; every title keeps a copy free for resident01."""

from __future__ import annotations

from datetime import timedelta

from kernel.errors import ManabiError
from kernel.module import DemoContext
from kernel.provided import offered_view
from library_ebooks.demo_books import PICTURE_BOOKS, SHELF, make_epub, make_picture_book
from library_ebooks.services.catalogue import insert_book
from library_ebooks.services.epub import parse_epub
from library_ebooks.services.lending import _copy_state, borrow_in

# key -> licenses as (model, copies, max_loans, days until the license ends)
LICENSES = {
    "neko": [("one_copy", 2, None, None)],
    "kusamakura": [("one_copy", 3, None, None)],
    "botchan": [("one_copy", 2, None, None)],
    "rashomon": [("simultaneous", None, None, None)],
    "kumo": [("metered", 1, 26, 730)],
    "ginga": [("one_copy", 3, None, None)],
    "chumon": [("metered", 2, None, 365)],
    "melos": [("one_copy", 1, None, None)],
    "iizuka": [("simultaneous", None, None, None)],
    "alice": [("simultaneous", None, None, None)],
    "pride": [("one_copy", 2, None, None)],
    "holmes": [("metered", 1, 10, None), ("one_copy", 1, None, None)],
    "kuma": [("one_copy", 2, None, None)],
    "stars": [("simultaneous", None, None, None)],
}
BROWSER_ONLY = {"kuma"}  # the publisher allows reading in the browser only (no download)


def load(ctx: DemoContext) -> None:
    cur, now = ctx.cur, ctx.clock.now()
    offered_view(cur, "portal.users", "portal.user_roles")  # the portal's accounts, as offered (kernel.provided)
    librarian = cur.execute("SELECT id FROM offered_users WHERE login = 'librarian01'").fetchone()
    librarian_id = librarian[0] if librarian else None
    title_ids = {}
    for book in SHELF:
        data = make_epub(book)
        title_ids[book.key] = insert_book(cur, parse_epub(data), data, now - timedelta(days=60), librarian_id).title_id
    for days_ago, book in enumerate(PICTURE_BOOKS, start=1):  # the newest arrivals
        data = make_picture_book(book)
        title_ids[book.key] = insert_book(cur, parse_epub(data), data, now - timedelta(days=days_ago),
                                          librarian_id).title_id
    for key, licenses in LICENSES.items():
        for model, copies, max_loans, days in licenses:
            cur.execute(
                """INSERT INTO library_ebooks_licenses (title_id, model, copies, max_loans, expires_at, added_at,
                                                        download_allowed)
                   VALUES (?, ?, ?, ?, ?, ?, ?)""",
                [title_ids[key], model, copies, max_loans, now + timedelta(days=days) if days else None,
                 now - timedelta(days=60), key not in BROWSER_ONLY],
            )

    residents = [row[0] for row in cur.execute(
        """SELECT u.id FROM offered_users u JOIN offered_user_roles r ON r.user_id = u.id
           WHERE r.role = 'resident' ORDER BY u.login""").fetchall()]
    resident = dict(cur.execute("SELECT login, id FROM offered_users WHERE login LIKE 'resident%'").fetchall())

    # A month of past loans (returned), for the circulation chart. They end before any
    # current loan starts, so they never compete with today's copies.
    past = 40 if ctx.small else 400
    for _ in range(past):
        key = ctx.rng.choice(list(LICENSES))
        license_id = cur.execute("SELECT min(id) FROM library_ebooks_licenses WHERE title_id = ?",
                                 [title_ids[key]]).fetchone()[0]
        start = now - timedelta(days=ctx.rng.randint(16, 45), hours=ctx.rng.randint(0, 12))
        cur.execute(
            """INSERT INTO library_ebooks_loans (title_id, license_id, user_id, borrowed_at, due_at, returned_at)
               VALUES (?, ?, ?, ?, ?, ?)""",
            [title_ids[key], license_id, ctx.rng.choice(residents), start, start + timedelta(days=14),
             start + timedelta(days=ctx.rng.randint(1, 13))],
        )

    # Today's loans and holds go through the lending rules themselves.
    cur.execute("INSERT INTO library_ebooks_patrons SELECT unnest(?), 0", [residents])
    borrow_in(cur, now - timedelta(days=3), resident["resident01"], title_ids["melos"])
    borrow_in(cur, now - timedelta(days=1), resident["resident01"], title_ids["alice"])
    borrow_in(cur, now - timedelta(days=5), resident["resident02"], title_ids["botchan"])
    borrow_in(cur, now - timedelta(days=2), resident["resident05"], title_ids["neko"])
    borrow_in(cur, now - timedelta(days=2), resident["resident06"], title_ids["pride"])
    # 坊っちゃん: resident02 has one copy, the other is kept for resident01 (first in the
    # queue, offered an hour ago for 48 hours); resident03 and resident04 wait behind.
    for position, login in enumerate(("resident01", "resident03", "resident04")):
        offered = login == "resident01"
        cur.execute(
            """INSERT INTO library_ebooks_holds (title_id, user_id, placed_at, status, offered_at, offer_expires_at)
               VALUES (?, ?, ?, ?, ?, ?)""",
            [title_ids["botchan"], resident[login], now - timedelta(days=4, hours=-position),
             "offered" if offered else "waiting", now - timedelta(hours=1) if offered else None,
             now + timedelta(hours=47) if offered else None],
        )
    if not ctx.small:
        for offset, user_id in enumerate(residents[10:60]):
            key = list(LICENSES)[offset % len(LICENSES)]
            unlimited, free, _ = _copy_state(cur, title_ids[key], now)
            if not unlimited and free <= 1:
                continue  # every title keeps a copy free for the demo resident
            try:
                borrow_in(cur, now - timedelta(hours=offset), user_id, title_ids[key])
            except ManabiError:  # a title with no copy left simply gets no more demo loans
                continue
