"""Loans and holds: borrow, return, renew, hold queue and offers.

Rules (defaults of public e-libraries such as OverDrive and LibrariE):
- a resident has at most 5 loans and 5 holds at a time;
- a loan runs `loan_days` (default 14) and ends by itself at its due time;
- one renewal, only when nobody waits for the title;
- a freed copy is offered to the first resident in the queue for 48 hours; an offer not
  taken lapses and passes to the next. Offers are settled whenever the title is touched
  (borrow, return, hold, the resident's own page), and availability subtracts waiting
  residents and open offers, so nobody can jump the queue between two settlements.

Never more loans than copies: a borrow updates the row of the license it takes, so two
transactions taking the same license conflict in DuckDB and the loser is retried by
`Store.write`; on retry it counts the winner's loan and finds no copy left.
"""

from __future__ import annotations

import contextlib
import json
from dataclasses import dataclass
from datetime import datetime, timedelta

import duckdb

from kernel.actor import Actor
from kernel.clock import Clock, FixedClock
from kernel.errors import Conflict, ManabiError, NotFound
from kernel.outbox import notify
from kernel.store import Store

LOAN_LIMIT = 5
HOLD_LIMIT = 5
OFFER_HOURS = 48
RESIDENT = "resident"


class NoCopyAvailable(ManabiError):
    key = "ebooks.error.no_copy"


class LimitReached(ManabiError):
    key = "ebooks.error.loan_limit"


class AlreadyHave(ManabiError):
    key = "ebooks.error.already_borrowed"


class NotRenewable(ManabiError):
    key = "ebooks.error.not_renewable"


@dataclass
class Loan:
    id: int
    title_id: int
    title: str
    creators: str
    borrowed_at: datetime
    due_at: datetime
    returned_at: datetime | None
    renewals: int
    position: int
    active: bool
    others_waiting: int = 0

    @property
    def can_renew(self) -> bool:
        return self.active and self.renewals == 0 and self.others_waiting == 0


@dataclass
class Hold:
    id: int
    title_id: int
    title: str
    placed_at: datetime
    status: str
    offer_expires_at: datetime | None
    queue_position: int  # 1 = next in line (0 when offered)


def _creator_names(creators_json: str) -> str:
    return " / ".join(c["name"] for c in json.loads(creators_json))


# --------------------------------------------------------------------------- inside a transaction

def _copy_state(cur, title_id: int, now: datetime) -> tuple[bool, int, list[tuple]]:
    """(unlimited, free copies, usable licenses as (id, copies, loan_days, free)) for a title."""
    licenses = cur.execute(
        """SELECT l.id, l.copies, l.loan_days,
                  (SELECT count(*) FROM library_ebooks_loans o
                   WHERE o.license_id = l.id AND o.returned_at IS NULL AND o.due_at > $now) AS active
           FROM library_ebooks_licenses l
           WHERE l.title_id = $title AND (l.expires_at IS NULL OR l.expires_at > $now)
             AND (l.max_loans IS NULL OR l.loans_used < l.max_loans)
           -- use simultaneous first (costs no copy), then the license that ends soonest
           ORDER BY l.copies IS NOT NULL, l.expires_at NULLS LAST, l.id""",
        {"now": now, "title": title_id},
    ).fetchall()
    usable = [(lid, copies, days, None if copies is None else max(copies - active, 0))
              for lid, copies, days, active in licenses]
    unlimited = any(copies is None for _, copies, _, _ in usable)
    free = sum(f for *_, f in usable if f is not None)
    return unlimited, free, usable


def settle_holds(cur, title_id: int, now: datetime) -> None:
    """Lapse offers whose 48 hours passed; offer free copies to the next residents in line."""
    cur.execute(
        """UPDATE library_ebooks_holds SET status = 'lapsed', closed_at = offer_expires_at
           WHERE title_id = ? AND status = 'offered' AND offer_expires_at <= ?""",
        [title_id, now],
    )
    waiting = cur.execute(
        "SELECT id FROM library_ebooks_holds WHERE title_id = ? AND status = 'waiting' ORDER BY placed_at, id",
        [title_id],
    ).fetchall()
    if not waiting:
        return
    unlimited, free, _ = _copy_state(cur, title_id, now)
    offers = cur.execute(
        "SELECT count(*) FROM library_ebooks_holds WHERE title_id = ? AND status = 'offered'", [title_id]
    ).fetchone()[0]
    spare = len(waiting) if unlimited else free - offers
    offered = waiting[: max(spare, 0)]
    if not offered:
        return
    title = cur.execute("SELECT title FROM library_ebooks_titles WHERE id = ?", [title_id]).fetchone()[0]
    for (hold_id,) in offered:
        user_id = cur.execute(
            "UPDATE library_ebooks_holds SET status = 'offered', offered_at = ?, offer_expires_at = ? WHERE id = ? "
            "RETURNING user_id",
            [now, now + timedelta(hours=OFFER_HOURS), hold_id],
        ).fetchone()[0]
        # The resident has 48 hours: tell them now, in this transaction.
        notify(cur, FixedClock(now), user_id, "library_ebooks.hold_offered",
               {"title": title, "deadline": now + timedelta(hours=OFFER_HOURS), "hours": OFFER_HOURS})


def settle_all_holds(store: Store, clock: Clock) -> dict[str, int]:
    """The server's periodic job: settle every title with an open hold, so a lapsed offer passes
    to the next resident (and a copy freed by a loan ending by itself is offered) without
    anybody touching the title. One short transaction per title. Returns the offers that
    lapsed and those made."""
    now = clock.now()
    titles = [t for (t,) in store.query(
        """SELECT DISTINCT title_id FROM library_ebooks_holds
           WHERE status = 'waiting' OR (status = 'offered' AND offer_expires_at <= ?) ORDER BY title_id""",
        [now])]
    lapsed = offered = 0
    for title_id in titles:
        def work(cur, title_id=title_id) -> tuple[int, int]:
            expired = cur.execute(
                "SELECT count(*) FROM library_ebooks_holds WHERE title_id = ? AND status = 'offered' "
                "AND offer_expires_at <= ?", [title_id, now]).fetchone()[0]
            settle_holds(cur, title_id, now)
            made = cur.execute(
                "SELECT count(*) FROM library_ebooks_holds WHERE title_id = ? AND status = 'offered' "
                "AND offered_at = ?", [title_id, now]).fetchone()[0]
            return int(expired), int(made)

        title_lapsed, title_offered = store.write(work)
        lapsed += title_lapsed
        offered += title_offered
    return {"titles": len(titles), "lapsed": lapsed, "offered": offered}


def _ensure_patron(store: Store, user_id: int) -> None:
    """Create the resident's row once, in its own short transaction (see _touch_patron)."""
    if store.scalar("SELECT 1 FROM library_ebooks_patrons WHERE user_id = ?", [user_id]):
        return
    # Created at the same moment by the resident's other request: fine, the row is there.
    with contextlib.suppress(duckdb.ConstraintException, Conflict):
        store.write(lambda cur: cur.execute(
            "INSERT INTO library_ebooks_patrons VALUES (?, 0) ON CONFLICT DO NOTHING", [user_id]), retries=2)


def _touch_patron(cur, user_id: int) -> None:
    """The write that makes two transactions of one resident conflict (limits hold)."""
    # A changing value: an UPDATE that writes the same value might not count as a write.
    cur.execute("UPDATE library_ebooks_patrons SET actions = actions + 1 WHERE user_id = ?", [user_id])


def _check_title(cur, title_id: int) -> None:
    if not cur.execute("SELECT 1 FROM library_ebooks_titles WHERE id = ?", [title_id]).fetchone():
        raise NotFound("ebooks.error.no_title", id=title_id)


def _active_loan_count(cur, user_id: int, now: datetime) -> int:
    return cur.execute(
        "SELECT count(*) FROM library_ebooks_loans WHERE user_id = ? AND returned_at IS NULL AND due_at > ?",
        [user_id, now],
    ).fetchone()[0]


def borrow_in(cur, now: datetime, user_id: int, title_id: int) -> int:
    """Take a copy for `user_id` inside the caller's transaction; returns the loan id."""
    _check_title(cur, title_id)
    _touch_patron(cur, user_id)
    settle_holds(cur, title_id, now)
    if cur.execute(
        """SELECT 1 FROM library_ebooks_loans
           WHERE user_id = ? AND title_id = ? AND returned_at IS NULL AND due_at > ?""",
        [user_id, title_id, now],
    ).fetchone():
        raise AlreadyHave()
    if _active_loan_count(cur, user_id, now) >= LOAN_LIMIT:
        raise LimitReached("ebooks.error.loan_limit", limit=LOAN_LIMIT)
    queue = cur.execute(
        """SELECT user_id, status FROM library_ebooks_holds
           WHERE title_id = ? AND (status = 'waiting' OR (status = 'offered' AND offer_expires_at > ?))""",
        [title_id, now],
    ).fetchall()
    my_hold = next((status for uid, status in queue if uid == user_id), None)
    others_ahead = sum(1 for uid, status in queue if uid != user_id and (status == "offered" or my_hold is None))
    unlimited, free, usable = _copy_state(cur, title_id, now)
    if not usable or (not unlimited and free - others_ahead <= 0):
        raise NoCopyAvailable()
    license_id, _, loan_days, _ = next(lic for lic in usable if lic[3] is None or lic[3] > 0)
    # The write every borrow of this license makes: concurrent borrows conflict here.
    cur.execute("UPDATE library_ebooks_licenses SET loans_used = loans_used + 1 WHERE id = ?", [license_id])
    loan_id = cur.execute(
        """INSERT INTO library_ebooks_loans (title_id, license_id, user_id, borrowed_at, due_at)
           VALUES (?, ?, ?, ?, ?) RETURNING id""",
        [title_id, license_id, user_id, now, now + timedelta(days=loan_days)],
    ).fetchone()[0]
    if my_hold:
        cur.execute(
            """UPDATE library_ebooks_holds SET status = 'fulfilled', closed_at = ?
               WHERE title_id = ? AND user_id = ? AND status IN ('waiting', 'offered')""",
            [now, title_id, user_id],
        )
    return loan_id


def _own_loan(cur, actor: Actor, loan_id: int) -> tuple:
    row = cur.execute(
        "SELECT id, title_id, user_id, due_at, returned_at, renewals, license_id FROM library_ebooks_loans WHERE id = ?",
        [loan_id],
    ).fetchone()
    # Another resident's loan is answered as "not found": its existence is not theirs to know.
    if row is None or row[2] != actor.user_id:
        raise NotFound("ebooks.error.no_loan")
    return row


# --------------------------------------------------------------------------- services

def borrow(store: Store, clock: Clock, actor: Actor, title_id: int) -> Loan:
    """Borrow a title now, and the new loan; raises NoCopyAvailable when every copy is out
    (place a hold)."""
    actor.require(RESIDENT)
    _ensure_patron(store, actor.user_id)
    loan_id = store.write(lambda cur: borrow_in(cur, clock.now(), actor.user_id, title_id))
    return _loans(store, clock, actor.user_id, include_ended=True, loan_id=loan_id)[0]


def return_loan(store: Store, clock: Clock, actor: Actor, loan_id: int) -> None:
    """Give a book back before its due time; the copy goes to the next in line."""
    actor.require()

    def work(cur) -> None:
        now = clock.now()
        _, title_id, _, due_at, returned_at, _, _ = _own_loan(cur, actor, loan_id)
        if returned_at is not None or due_at <= now:
            raise NotFound("ebooks.error.loan_ended")
        cur.execute("UPDATE library_ebooks_loans SET returned_at = ? WHERE id = ?", [now, loan_id])
        settle_holds(cur, title_id, now)

    store.write(work)


def renew(store: Store, clock: Clock, actor: Actor, loan_id: int) -> datetime:
    """Extend a loan once by its license's loan period, when nobody waits for the title."""
    actor.require()

    def work(cur) -> datetime:
        now = clock.now()
        _, title_id, _, due_at, returned_at, renewals, license_id = _own_loan(cur, actor, loan_id)
        if returned_at is not None or due_at <= now:
            raise NotFound("ebooks.error.loan_ended")
        if renewals >= 1:
            raise NotRenewable("ebooks.error.renewed_once")
        settle_holds(cur, title_id, now)
        waiting = cur.execute(
            """SELECT count(*) FROM library_ebooks_holds WHERE title_id = ?
               AND (status = 'waiting' OR (status = 'offered' AND offer_expires_at > ?))""",
            [title_id, now],
        ).fetchone()[0]
        if waiting:
            raise NotRenewable("ebooks.error.others_waiting")
        days = cur.execute("SELECT loan_days FROM library_ebooks_licenses WHERE id = ?", [license_id]).fetchone()[0]
        new_due = due_at + timedelta(days=days)
        cur.execute("UPDATE library_ebooks_loans SET due_at = ?, renewals = renewals + 1 WHERE id = ?",
                    [new_due, loan_id])
        return new_due

    return store.write(work)


def place_hold(store: Store, clock: Clock, actor: Actor, title_id: int) -> int:
    """Join the queue for a title whose copies are all out."""
    actor.require(RESIDENT)
    _ensure_patron(store, actor.user_id)

    def work(cur) -> int:
        now = clock.now()
        _check_title(cur, title_id)
        _touch_patron(cur, actor.user_id)
        settle_holds(cur, title_id, now)
        if cur.execute(
            """SELECT 1 FROM library_ebooks_loans
               WHERE user_id = ? AND title_id = ? AND returned_at IS NULL AND due_at > ?""",
            [actor.user_id, title_id, now],
        ).fetchone():
            raise AlreadyHave()
        open_holds = cur.execute(
            """SELECT title_id FROM library_ebooks_holds WHERE user_id = ?
               AND (status = 'waiting' OR (status = 'offered' AND offer_expires_at > ?))""",
            [actor.user_id, now],
        ).fetchall()
        if any(t == title_id for (t,) in open_holds):
            raise AlreadyHave("ebooks.error.already_held")
        if len(open_holds) >= HOLD_LIMIT:
            raise LimitReached("ebooks.error.hold_limit", limit=HOLD_LIMIT)
        queue = cur.execute(
            """SELECT count(*) FROM library_ebooks_holds WHERE title_id = ?
               AND (status = 'waiting' OR (status = 'offered' AND offer_expires_at > ?))""",
            [title_id, now],
        ).fetchone()[0]
        unlimited, free, _ = _copy_state(cur, title_id, now)
        if unlimited or free - queue > 0:
            raise AlreadyHave("ebooks.error.borrow_instead")
        return cur.execute(
            """INSERT INTO library_ebooks_holds (title_id, user_id, placed_at, status)
               VALUES (?, ?, ?, 'waiting') RETURNING id""",
            [title_id, actor.user_id, now],
        ).fetchone()[0]

    return store.write(work)


def cancel_hold(store: Store, clock: Clock, actor: Actor, hold_id: int) -> None:
    actor.require()

    def work(cur) -> None:
        now = clock.now()
        row = cur.execute("SELECT user_id, title_id, status FROM library_ebooks_holds WHERE id = ?",
                          [hold_id]).fetchone()
        if row is None or row[0] != actor.user_id or row[2] not in ("waiting", "offered"):
            raise NotFound("ebooks.error.no_hold")
        cur.execute("UPDATE library_ebooks_holds SET status = 'cancelled', closed_at = ? WHERE id = ?",
                    [now, hold_id])
        settle_holds(cur, row[1], now)

    store.write(work)


def my_loans(store: Store, clock: Clock, actor: Actor, *, include_ended: bool = False) -> list[Loan]:
    """The actor's own loans (active first); never anyone else's."""
    actor.require()
    return _loans(store, clock, actor.user_id, include_ended=include_ended)


def _loans(store: Store, clock: Clock, user_id: int, *, include_ended: bool, loan_id: int | None = None) -> list[Loan]:
    rows = store.cursor().execute(
        """SELECT o.id, o.title_id, t.title, t.creators, o.borrowed_at, o.due_at, o.returned_at, o.renewals,
                  o.position, o.returned_at IS NULL AND o.due_at > $now AS active,
                  (SELECT count(*) FROM library_ebooks_holds h WHERE h.title_id = o.title_id
                     AND (h.status = 'waiting' OR (h.status = 'offered' AND h.offer_expires_at > $now)))
           FROM library_ebooks_loans o JOIN library_ebooks_titles t ON t.id = o.title_id
           WHERE o.user_id = $user AND ($ended OR (o.returned_at IS NULL AND o.due_at > $now))
             AND ($loan IS NULL OR o.id = $loan)
           ORDER BY active DESC, o.due_at""",
        {"now": clock.now(), "user": user_id, "ended": include_ended, "loan": loan_id},
    ).fetchall()
    return [Loan(r[0], r[1], r[2], _creator_names(r[3]), *r[4:]) for r in rows]


def my_holds(store: Store, clock: Clock, actor: Actor) -> list[Hold]:
    """The actor's open holds with their place in the queue; offers are settled first."""
    actor.require()
    now = clock.now()
    title_ids = [r[0] for r in store.query(
        "SELECT DISTINCT title_id FROM library_ebooks_holds WHERE user_id = ? AND status IN ('waiting', 'offered')",
        [actor.user_id])]
    if title_ids:
        def settle(cur) -> None:
            for title_id in title_ids:
                settle_holds(cur, title_id, now)

        store.write(settle)
    rows = store.cursor().execute(
        """SELECT h.id, h.title_id, t.title, h.placed_at, h.status, h.offer_expires_at,
                  CASE WHEN h.status = 'offered' THEN 0 ELSE
                    (SELECT count(*) FROM library_ebooks_holds q WHERE q.title_id = h.title_id
                       AND q.status = 'waiting'
                       AND (q.placed_at < h.placed_at OR (q.placed_at = h.placed_at AND q.id <= h.id))) END
           FROM library_ebooks_holds h JOIN library_ebooks_titles t ON t.id = h.title_id
           WHERE h.user_id = $user AND h.status IN ('waiting', 'offered')
           ORDER BY h.status DESC, h.placed_at""",
        {"user": actor.user_id},
    ).fetchall()
    return [Hold(*row) for row in rows]


# --------------------------------------------------------------------------- mail jobs

DUE_SOON = timedelta(days=2)


def remind_due_loans(store: Store, clock: Clock) -> int:
    """Mail residents whose loan ends within 2 days, once per loan and due time (a renewal
    gives a new due time and a new reminder). Returns how many were queued."""
    now = clock.now()
    # Found outside a transaction, so that a minute with nothing to tell writes nothing.
    loans = store.query(
        """SELECT o.id, o.user_id, o.due_at, t.title FROM library_ebooks_loans o
           JOIN library_ebooks_titles t ON t.id = o.title_id
           WHERE o.returned_at IS NULL AND o.due_at > ? AND o.due_at <= ?
             AND NOT EXISTS (SELECT 1 FROM manabi_outbox m WHERE m.dedupe_key =
                             'library_ebooks.loan_due:' || o.id || ':' || CAST(floor(epoch(o.due_at)) AS BIGINT))
           ORDER BY o.due_at, o.id""", [now, now + DUE_SOON])
    if not loans:
        return 0

    def work(cur) -> int:
        queued = 0
        for loan_id, user_id, due_at, title in loans:
            queued += notify(cur, clock, user_id, "library_ebooks.loan_due", {"title": title, "due": due_at},
                             dedupe_key=f"library_ebooks.loan_due:{loan_id}:{int(due_at.timestamp())}") is not None
        return queued

    return store.write(work)

