"""Which classes a teacher teaches: the link that lets every module show a teacher their
own classes only (analytics' learning dashboards ask for it through kernel.provided,
"portal.teacher_classes").

Rules: only the city administrator, or the school administrator of the teacher's own
school, assigns or removes classes; a class belongs to the teacher's school; only an
account with the teacher role gets classes. A class is named by grade and class name,
written "3-2" (grade 3, class 2) on the command line and in the admin page.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from kernel import offers, provided
from kernel.actor import Actor, Role
from kernel.errors import InvalidInput, NotFound, PermissionDenied
from kernel.store import Store

_CLASS = re.compile(r"^\s*([1-9])\s*-\s*(\S{1,20})\s*$")


@dataclass(frozen=True, order=True)
class SchoolClass:
    grade: int
    class_name: str

    @property
    def label(self) -> str:
        return f"{self.grade}-{self.class_name}"


@dataclass(frozen=True)
class Teacher:
    id: int
    login: str
    display_name: str
    school_id: int
    classes: tuple[SchoolClass, ...]


def parse_class(text: str) -> SchoolClass:
    """'3-2' -> grade 3, class '2'."""
    match = _CLASS.match(text or "")
    if not match:
        raise InvalidInput("teacher_classes.bad_class", value=text)
    return SchoolClass(int(match[1]), match[2])


def classes_of(store: Store, user_id: int) -> list[tuple[int, int, str]]:
    """(school id, grade, class name) of each class the user teaches. Offered to the
    modules as "portal.teacher_classes"."""
    return store.query(
        "SELECT school_id, grade, class_name FROM portal_teacher_classes WHERE user_id = ? "
        "ORDER BY school_id, grade, lpad(class_name, 3, '0')", [user_id])


def _may_manage(by: Actor, school_id: int | None) -> None:
    by.require(Role.CITY_ADMIN, Role.SCHOOL_ADMIN)
    if by.has(Role.CITY_ADMIN):
        return
    if by.school_id is None or by.school_id != school_id:
        raise PermissionDenied("teacher_classes.other_school")


def _teacher(cur, login: str) -> tuple[int, int | None]:
    row = cur.execute(
        """SELECT u.id, u.school_id, bool_or(r.role = 'teacher') FROM portal_users u
           LEFT JOIN portal_user_roles r ON r.user_id = u.id WHERE u.login = ? GROUP BY ALL""",
        [login.strip().lower()]).fetchone()
    if not row:
        raise NotFound("accounts.no_such_login", login=login)
    user_id, school_id, is_teacher = row
    if not is_teacher:
        raise InvalidInput("teacher_classes.not_a_teacher", login=login)
    return user_id, school_id


def teachers(store: Store, by: Actor, school_id: int | None = None) -> list[Teacher]:
    """The teachers of a school with their classes; a school administrator sees their own
    school's only, the city administrator any school (or all with school_id None)."""
    by.require(Role.CITY_ADMIN, Role.SCHOOL_ADMIN)
    if not by.has(Role.CITY_ADMIN):
        school_id = by.school_id
        if school_id is None:
            raise PermissionDenied("teacher_classes.other_school")
    rows = store.query(
        """SELECT u.id, u.login, u.display_name, u.school_id,
                  list(DISTINCT c.grade || '-' || c.class_name) FILTER (WHERE c.grade IS NOT NULL)
           FROM portal_users u JOIN portal_user_roles r ON r.user_id = u.id AND r.role = 'teacher'
           LEFT JOIN portal_teacher_classes c ON c.user_id = u.id AND c.school_id = u.school_id
           WHERE u.school_id IS NOT NULL AND NOT u.disabled AND (? IS NULL OR u.school_id = ?)
           GROUP BY ALL ORDER BY u.login""", [school_id, school_id])
    return [Teacher(uid, login, name, school, tuple(sorted(parse_class(c) for c in (labels or []))))
            for uid, login, name, school, labels in rows]


def set_classes(store: Store, by: Actor, login: str, *, add=(), remove=()) -> tuple[SchoolClass, ...]:
    """Add and remove classes of a teacher (each a SchoolClass or text like '3-2');
    returns the teacher's classes afterwards."""
    to_add = [c if isinstance(c, SchoolClass) else parse_class(c) for c in add]
    to_remove = [c if isinstance(c, SchoolClass) else parse_class(c) for c in remove]

    def work(cur) -> tuple[SchoolClass, ...]:
        user_id, school_id = _teacher(cur, login)
        _may_manage(by, school_id)
        if school_id is None:
            raise InvalidInput("accounts.school_required")
        for c in to_remove:
            cur.execute("DELETE FROM portal_teacher_classes WHERE user_id = ? AND grade = ? AND class_name = ?",
                        [user_id, c.grade, c.class_name])
        for c in to_add:
            cur.execute("INSERT OR IGNORE INTO portal_teacher_classes VALUES (?, ?, ?, ?)",
                        [user_id, school_id, c.grade, c.class_name])
        # Classes of a school the teacher has left no longer count.
        cur.execute("DELETE FROM portal_teacher_classes WHERE user_id = ? AND school_id <> ?", [user_id, school_id])
        rows = cur.execute("SELECT grade, class_name FROM portal_teacher_classes WHERE user_id = ?",
                           [user_id]).fetchall()
        return tuple(sorted(SchoolClass(g, n) for g, n in rows))

    return store.write(work)


def assign(store: Store, by: Actor, login: str, class_label: str) -> tuple[SchoolClass, ...]:
    return set_classes(store, by, login, add=[class_label])


def unassign(store: Store, by: Actor, login: str, class_label: str) -> tuple[SchoolClass, ...]:
    return set_classes(store, by, login, remove=[class_label])


def replace_classes(store: Store, by: Actor, login: str, classes) -> tuple[SchoolClass, ...]:
    """Make a teacher's classes exactly `classes` (the admin page's ticks)."""
    wanted = sorted({c if isinstance(c, SchoolClass) else parse_class(c) for c in classes})

    def work(cur) -> tuple[SchoolClass, ...]:
        user_id, school_id = _teacher(cur, login)
        _may_manage(by, school_id)
        if school_id is None:
            raise InvalidInput("accounts.school_required")
        cur.execute("DELETE FROM portal_teacher_classes WHERE user_id = ?", [user_id])
        for c in wanted:
            cur.execute("INSERT INTO portal_teacher_classes VALUES (?, ?, ?, ?)",
                        [user_id, school_id, c.grade, c.class_name])
        return tuple(wanted)

    return store.write(work)


def known_classes(store: Store, school_id: int, today: date) -> list[SchoolClass]:
    """The classes the modules know at a school (school ICT's classrooms, the learning
    roster's classes) together with those already assigned: what the admin page offers."""
    found: set[SchoolClass] = set()
    classrooms = provided.provided(offers.SCHOOL_ICT_CLASSROOMS)
    if classrooms:
        found |= {SchoolClass(int(room.grade), str(room.class_name)) for room in classrooms(store, school_id, today)}
    roster = provided.provided(offers.ANALYTICS_CLASSES)
    if roster:
        found |= {SchoolClass(int(g), str(n)) for g, n in roster(store, school_id)}
    found |= {SchoolClass(g, n) for g, n in store.query(
        "SELECT DISTINCT grade, class_name FROM portal_teacher_classes WHERE school_id = ?", [school_id])}
    return sorted(found, key=lambda c: (c.grade, c.class_name.rjust(3, "0")))


def assign_demo_homerooms(cur, classes_by_school: dict[int, list[tuple[int, str]]]) -> int:
    """Demo data: every demo teacher (not the school administrators, who see their whole
    school) gets a homeroom class of their school, in the order the accounts were made,
    so teacher01 gets the school's first class. With more teachers than classes, classes get a second teacher.
    Runs in the caller's transaction; offered as "portal.demo_homerooms" to the module
    whose demo makes the classes."""
    rows = cur.execute(
        """SELECT u.id, u.school_id FROM portal_users u
           WHERE u.is_demo AND u.school_id IS NOT NULL
             AND u.id IN (SELECT user_id FROM portal_user_roles WHERE role = 'teacher')
             AND u.id NOT IN (SELECT user_id FROM portal_user_roles WHERE role = 'school_admin')
           ORDER BY u.school_id, u.id""").fetchall()
    links, seen = [], {}
    for user_id, school_id in rows:
        classes = classes_by_school.get(school_id)
        if not classes:
            continue
        n = seen.get(school_id, 0)
        seen[school_id] = n + 1
        grade, class_name = classes[n % len(classes)]
        links.append((user_id, school_id, grade, class_name))
    if links:
        cur.executemany("INSERT OR IGNORE INTO portal_teacher_classes VALUES (?, ?, ?, ?)", links)
    return len(links)
