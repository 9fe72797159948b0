"""Who may see and change which school's devices.

A teacher and a school's ICT admin work on their own school only (their account's school, actor.school_id);
the board of education (city_admin) sees and manages every school. Every service asks
here, so a page parameter or a CLI flag can never widen what an actor sees.
"""

from __future__ import annotations

from kernel.actor import Actor
from kernel.errors import PermissionDenied

STAFF = ("teacher", "school_admin", "city_admin")
MANAGERS = ("school_admin", "city_admin")


def sees_all(actor: Actor) -> bool:
    return actor.has("city_admin")


def school_scope(actor: Actor, school_id: int | None = None) -> int | None:
    """The school the actor may look at: their own, or for the board any (None = all)."""
    actor.require(*STAFF)
    if sees_all(actor):
        return school_id
    if actor.school_id is None:
        raise PermissionDenied("ict.error.no_school")
    if school_id is not None and school_id != actor.school_id:
        raise PermissionDenied("ict.error.other_school")
    return actor.school_id


def require_hand_out(actor: Actor, school_id: int) -> None:
    """Check-out, check-in and audits: teachers and ICT staff of that school, or the board."""
    school_scope(actor, school_id)


def require_manage(actor: Actor, school_id: int | None) -> None:
    """Status changes, repairs, imports: the school's ICT admin, or the board."""
    actor.require(*MANAGERS)
    if sees_all(actor):
        return
    school_scope(actor, school_id)


def require_board(actor: Actor) -> None:
    actor.require("city_admin")
