"""The librarian's view of circulation: loans per day, queues, and a CSV of loans."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from kernel.actor import Actor
from kernel.clock import Clock
from kernel.csv_export import write_csv
from kernel.store import Store
from library_ebooks.services.catalogue import STAFF


@dataclass
class Queue:
    title_id: int
    title: str
    waiting: int
    copies: int
    unlimited: bool

    @property
    def per_copy(self) -> float:
        return self.waiting / self.copies if self.copies else float(self.waiting)


@dataclass
class Circulation:
    active_loans: int
    holds_waiting: int
    titles: int
    loans_per_day: list[tuple[date, int]]  # every day of the window, zeros included
    queues: list[Queue]                    # titles with residents waiting, longest per copy first


def circulation(store: Store, clock: Clock, actor: Actor, days: int = 30) -> Circulation:
    actor.require(*STAFF)
    now = clock.now()
    first_day = (now - timedelta(days=days - 1)).date()
    active = store.scalar("SELECT count(*) FROM library_ebooks_loans WHERE returned_at IS NULL AND due_at > ?", [now])
    waiting = store.scalar("SELECT count(*) FROM library_ebooks_holds WHERE status = 'waiting'")
    titles = store.scalar("SELECT count(*) FROM library_ebooks_titles")
    per_day = dict(store.query(
        """SELECT CAST(borrowed_at AS DATE) AS day, count(*) FROM library_ebooks_loans
           WHERE CAST(borrowed_at AS DATE) >= ? GROUP BY day""", [first_day]))
    series = [(first_day + timedelta(days=n), int(per_day.get(first_day + timedelta(days=n), 0)))
              for n in range(days)]
    rows = store.cursor().execute(
        """SELECT t.id, t.title, count(*) AS waiting,
                  (SELECT coalesce(sum(copies), 0) FROM library_ebooks_licenses l WHERE l.title_id = t.id
                     AND (l.expires_at IS NULL OR l.expires_at > $now)
                     AND (l.max_loans IS NULL OR l.loans_used < l.max_loans)) AS copies,
                  (SELECT count(*) > 0 FROM library_ebooks_licenses l WHERE l.title_id = t.id AND l.copies IS NULL
                     AND (l.expires_at IS NULL OR l.expires_at > $now)) AS unlimited
           FROM library_ebooks_holds h JOIN library_ebooks_titles t ON t.id = h.title_id
           WHERE h.status = 'waiting' OR (h.status = 'offered' AND h.offer_expires_at > $now)
           GROUP BY t.id, t.title""",
        {"now": now},
    ).fetchall()
    queues = sorted((Queue(r[0], r[1], int(r[2]), int(r[3]), r[4]) for r in rows),
                    key=lambda q: (-q.per_copy, -q.waiting, q.title))
    return Circulation(int(active), int(waiting), int(titles), series, queues)


def loans_csv(store: Store, clock: Clock, actor: Actor) -> str:
    """Every loan as CSV (UTF-8 with BOM so that Excel opens Japanese titles correctly).

    Who borrowed is left out on purpose: Japanese libraries keep what a resident reads
    private (図書館の自由に関する宣言), and counting needs no names."""
    actor.require(*STAFF)
    rows = store.query(
        """SELECT o.id, o.title_id, t.title, o.borrowed_at, o.due_at, o.returned_at, o.renewals
           FROM library_ebooks_loans o JOIN library_ebooks_titles t ON t.id = o.title_id
           ORDER BY o.borrowed_at, o.id""")
    return write_csv(["loan_id", "title_id", "title", "borrowed_at", "due_at", "returned_at", "renewals"],
                     ([v.isoformat() if hasattr(v, "isoformat") else v for v in row] for row in rows))
