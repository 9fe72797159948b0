"""Bulk audit: paste or scan the asset tags found in a place; learn which tags are
unknown, which devices were expected there but not seen, and which turned up from
elsewhere. Each audit is kept, and each device seen gets an event in its history."""

from __future__ import annotations

from dataclasses import dataclass

from kernel.actor import Actor
from kernel.errors import InvalidInput, NotFound
from kernel.store import Store
from school_ict.services.access import require_hand_out
from school_ict.services.registry import append_event, split_tags

# Devices that should be found on the premises (lost, retired and repairing ones are away).
_PRESENT = "status IN ('in_stock', 'assigned')"


@dataclass
class AuditResult:
    audit_id: int
    scope: str
    seen: list[str]
    unknown: list[str]  # tags not in this school's registry
    missing: list[str]  # expected in the scope, not seen
    elsewhere: list[str]  # this school's devices, seen but expected somewhere else


def _expected(cur, school_id: int, scope: str) -> list[str]:
    if scope == "school":
        sql, params = f"school_id = ? AND {_PRESENT}", [school_id]
    elif scope.startswith("cart:"):
        sql, params = "school_id = ? AND status = 'in_stock' AND cart = ?", [school_id, scope[5:]]
    elif scope.startswith("classroom:"):
        room = int(scope[10:])
        if cur.execute("SELECT 1 FROM school_ict_classrooms WHERE id = ? AND school_id = ?",
                       [room, school_id]).fetchone() is None:
            raise NotFound("ict.error.no_such_classroom")
        # The room's blackboard and class set, and the tablets of the pupils of that class.
        sql = f"""school_id = ? AND {_PRESENT} AND (classroom_id = ? OR pupil_id IN
                  (SELECT id FROM school_ict_pupils WHERE classroom_id = ?))"""
        params = [school_id, room, room]
    else:
        raise InvalidInput("ict.error.bad_scope", scope=scope)
    return [r[0] for r in cur.execute(f"SELECT asset_tag FROM school_ict_devices WHERE {sql} ORDER BY asset_tag",
                                      params).fetchall()]


def run_audit(store: Store, clock, actor: Actor, school_id: int, scope: str, pasted: str | list[str]) -> AuditResult:
    require_hand_out(actor, school_id)
    tags = split_tags(pasted) if isinstance(pasted, str) else split_tags("\n".join(pasted))
    if not tags:
        raise InvalidInput("ict.error.no_audit_tags")

    def work(cur) -> AuditResult:
        expected = _expected(cur, school_id, scope)
        known = dict(cur.execute(
            "SELECT asset_tag, id FROM school_ict_devices WHERE school_id = ? AND asset_tag IN "
            "(SELECT unnest(?::VARCHAR[]))", [school_id, tags]).fetchall())
        expected_set = set(expected)
        seen = [tag for tag in tags if tag in expected_set]
        unknown = [tag for tag in tags if tag not in known]
        elsewhere = [tag for tag in tags if tag in known and tag not in expected_set]
        missing = [tag for tag in expected if tag not in set(tags)]
        now = clock.now()
        audit_id = cur.execute(
            """INSERT INTO school_ict_audits (school_id, scope, audited_at, by_login, seen, unknown_tags, missing_tags)
               VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id""",
            [school_id, scope, now, actor.login or "system", len(seen), unknown, missing]).fetchone()[0]
        for tag in seen + elsewhere:
            append_event(cur, now, actor, known[tag], "audit_seen", None, None, scope)
        return AuditResult(audit_id, scope, seen, unknown, missing, elsewhere)

    return store.write(work)


def list_audits(store: Store, actor: Actor, school_id: int) -> list[dict]:
    require_hand_out(actor, school_id)
    return store.query_dicts(
        """SELECT id, scope, audited_at, by_login, seen, len(unknown_tags) AS unknown, len(missing_tags) AS missing
           FROM school_ict_audits WHERE school_id = ? ORDER BY audited_at DESC, id DESC""", [school_id])
