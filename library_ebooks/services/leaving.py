"""A resident who leaves (退会) ends their e-book loans and holds at once: an e-book needs no
trip back to the library. Offered to the portal through kernel.provided
("library_ebooks.end_for_leaving"); runs in the portal's transaction (its cursor)."""

from __future__ import annotations

from datetime import datetime

from library_ebooks.services.lending import settle_holds


def end_for_leaving(cur, now: datetime, user_id: int) -> int:
    """Return every active loan and cancel every open hold of `user_id`; the copies go to
    the next in line. Returns how many loans and holds ended."""
    titles = [t for (t,) in cur.execute(
        """SELECT title_id FROM library_ebooks_loans WHERE user_id = ? AND returned_at IS NULL AND due_at > ?
           UNION SELECT title_id FROM library_ebooks_holds WHERE user_id = ? AND status IN ('waiting', 'offered')""",
        [user_id, now, user_id]).fetchall()]
    loans = cur.execute(
        """UPDATE library_ebooks_loans SET returned_at = ? WHERE user_id = ? AND returned_at IS NULL AND due_at > ?
           RETURNING id""", [now, user_id, now]).fetchall()
    holds = cur.execute(
        """UPDATE library_ebooks_holds SET status = 'cancelled', closed_at = ?
           WHERE user_id = ? AND status IN ('waiting', 'offered') RETURNING id""", [now, user_id]).fetchall()
    for title_id in sorted(set(titles)):
        settle_holds(cur, title_id, now)
    return len(loans) + len(holds)
