"""What the portal's resident accounts need from facilities, offered through kernel.provided
(facilities/module.py): the residency a counter confirmed, and what is still in progress
when a resident asks to leave. Both run in the portal's transaction (its cursor)."""

from __future__ import annotations

from datetime import datetime

from kernel.clock import TOKYO
from kernel.errors import Message


def record_residency(cur, now: datetime, user_id: int, is_resident: bool) -> None:
    """Set whether resident rates and the resident booking horizon apply to `user_id`
    (a self-registered resident starts as non-resident until staff see a document)."""
    cur.execute(
        """INSERT INTO facilities_profiles (user_id, is_resident, updated_at) VALUES (?, ?, ?)
           ON CONFLICT (user_id) DO UPDATE SET is_resident = excluded.is_resident,
             updated_at = excluded.updated_at""",
        [user_id, is_resident, now])


def open_commitments(cur, now: datetime, user_id: int) -> list[Message]:
    """What a resident must settle before leaving: bookings still to come (or won in a
    lottery), unpaid bookings, lottery entries not drawn, courses not over or not paid."""
    today = now.astimezone(TOKYO).date()
    items: list[Message] = []
    for day, block, room_ja, room_en, status, owed in cur.execute(
        """SELECT b.day, b.block_code, r.name_ja, r.name_en, b.status, b.total_yen - b.paid_yen
           FROM facilities_bookings b JOIN facilities_rooms r ON r.id = b.room_id
           WHERE b.user_id = ? AND ((b.status IN ('won', 'confirmed') AND b.day >= ?)
                                    OR (b.status = 'confirmed' AND b.paid_yen < b.total_yen))
           ORDER BY b.day, b.block_code""", [user_id, today]).fetchall():
        key = "facilities.leave.unpaid" if status == "confirmed" and owed > 0 else "facilities.leave.booking"
        items.append(Message(key, {"day": day.isoformat(), "block": block, "room_ja": room_ja,
                                   "room_en": room_en, "yen": owed}))
    for (month,) in cur.execute(
        """SELECT DISTINCT month FROM facilities_lottery_applications
           WHERE user_id = ? AND result IS NULL ORDER BY month""", [user_id]).fetchall():
        items.append(Message("facilities.leave.lottery", {"month": month}))
    for title_ja, title_en, owed in cur.execute(
        """SELECT c.title_ja, c.title_en, greatest(g.fee_yen - g.paid_yen, 0)
           FROM facilities_course_registrations g JOIN facilities_courses c ON c.id = g.course_id
           WHERE g.user_id = ? AND g.status IN ('registered', 'waitlisted') AND c.status = 'published'
             AND (g.paid_yen < g.fee_yen AND g.status = 'registered'
                  OR EXISTS (SELECT 1 FROM facilities_course_sessions s WHERE s.course_id = c.id
                             AND s.status = 'planned' AND s.ends_at > ?))
           ORDER BY c.title_ja""", [user_id, now]).fetchall():
        items.append(Message("facilities.leave.course", {"title_ja": title_ja, "title_en": title_en, "yen": owed}))
    return items
