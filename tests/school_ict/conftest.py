"""A small registry on the fresh in-memory store: two schools, classrooms, pupils,
teachers and a few devices, made through the real services."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from kernel.actor import SYSTEM, Actor, Role
from school_ict.services import registry


@dataclass
class Fleet:
    school_a: int
    school_b: int
    room_a1: int
    room_a2: int
    room_b1: int
    teacher_a: Actor
    teacher_b: Actor
    admin_a: Actor
    board: Actor


def _actor(user_id: int, login: str, roles: set[str], school_id: int | None) -> Actor:
    return Actor(user_id=user_id, login=login, display_name=login, roles=frozenset(Role(r) for r in roles),
                 school_id=school_id)


@pytest.fixture
def fleet(store, clock) -> Fleet:
    return build_fleet(store, clock)


def build_fleet(store, clock) -> Fleet:
    """The small registry on any store (the racing tests use a file store)."""
    cur = store.cursor()
    cur.execute("""INSERT INTO portal_schools (code, name_ja, name_en, kind, pupils) VALUES
                   ('E01', '飯塚小学校', 'Iizuka Elementary School', 'elementary', 4),
                   ('E02', '片島小学校', 'Katashima Elementary School', 'elementary', 2)""")
    school_a, school_b = [r[0] for r in cur.execute("SELECT id FROM portal_schools ORDER BY code").fetchall()]
    users = [("teacher_a", school_a, "teacher"), ("teacher_b", school_b, "teacher"),
             ("admin_a", school_a, "school_admin"), ("board", None, "city_admin"), ("teacher_a2", school_a, "teacher")]
    for login, school, role in users:
        uid = cur.execute("INSERT INTO portal_users (login, display_name, school_id, created_at) VALUES (?, ?, ?, ?) "
                          "RETURNING id", [login, login, school, clock.now()]).fetchone()[0]
        cur.execute("INSERT INTO portal_user_roles VALUES (?, ?)", [uid, role])
    ids = dict(cur.execute("SELECT login, id FROM portal_users").fetchall())
    cur.execute("INSERT INTO school_ict_classrooms (school_id, grade, class_name) VALUES (?, 3, '1'), (?, 3, '2'), "
                "(?, 1, '1')", [school_a, school_a, school_b])
    rooms = [r[0] for r in cur.execute("SELECT id FROM school_ict_classrooms ORDER BY id").fetchall()]
    for pseudonym, school, room in [("P-A-1", school_a, rooms[0]), ("P-A-2", school_a, rooms[0]),
                                    ("P-A-3", school_a, rooms[1]), ("P-B-1", school_b, rooms[2])]:
        cur.execute("INSERT INTO school_ict_pupils (pseudonym, school_id, classroom_id, grade) VALUES (?, ?, ?, 3)",
                    [pseudonym, school, room])
    for n in range(1, 7):
        registry.register_device(store, clock, SYSTEM, asset_tag=f"PT-A-{n}", serial=f"SA{n}", kind="pupil_tablet",
                                 model="Chromebook X", school_id=school_a, cart="A" if n <= 4 else "B")
    registry.register_device(store, clock, SYSTEM, asset_tag="PT-B-1", serial="SB1", kind="pupil_tablet",
                             model="Chromebook X", school_id=school_b)
    registry.register_device(store, clock, SYSTEM, asset_tag="TT-A-1", serial="TA1", kind="teacher_tablet",
                             model="iPad", school_id=school_a)
    registry.register_device(store, clock, SYSTEM, asset_tag="EB-A-1", serial="EA1", kind="e_blackboard",
                             model="EB", school_id=school_a)
    registry.register_device(store, clock, SYSTEM, asset_tag="EB-A-2", serial="EA2", kind="e_blackboard",
                             model="EB", school_id=school_a)
    return Fleet(school_a, school_b, rooms[0], rooms[1], rooms[2],
                 _actor(ids["teacher_a"], "teacher_a", {"teacher"}, school_a),
                 _actor(ids["teacher_b"], "teacher_b", {"teacher"}, school_b),
                 _actor(ids["admin_a"], "admin_a", {"school_admin"}, school_a),
                 _actor(ids["board"], "board", {"city_admin"}, None))
