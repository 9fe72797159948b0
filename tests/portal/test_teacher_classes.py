"""Teachers' classes: who may assign them, the rules, the CLI and the admin page."""

from __future__ import annotations

import json

import pytest

from kernel import provided
from kernel.actor import SYSTEM, Actor
from kernel.errors import InvalidInput, NotFound, PermissionDenied
from portal.services import accounts, teacher_classes
from portal.services.schools import add_schools
from portal.services.teacher_classes import SchoolClass
from tests.portal.test_cli import manabi

PASSWORD = "correct horse battery"


@pytest.fixture
def schools(store):
    return store.write(lambda cur: add_schools(cur, [("E01", "飯塚小学校", "Iizuka ES", "elementary", 300),
                                                    ("E02", "片島小学校", "Katashima ES", "elementary", 200)]))


@pytest.fixture
def people(store, clock, schools):
    made = {}
    for login, roles, school in (("hanako", ["teacher"], "E01"), ("taro", ["teacher"], "E02"),
                                 ("head1", ["school_admin", "teacher"], "E01"),
                                 ("resident", ["resident"], None)):
        made[login] = accounts.create_user(store, clock, login=login, display_name=login, roles=roles,
                                           password=PASSWORD, school_id=schools.get(school))
    return made


def _actor(store, user_id):
    return accounts.actor_for(store, user_id)


def test_the_city_admin_and_the_own_school_admin_assign_classes(store, people, schools):
    assert teacher_classes.assign(store, SYSTEM, "hanako", "3-2") == (SchoolClass(3, "2"),)
    head = _actor(store, people["head1"])
    assert teacher_classes.set_classes(store, head, "hanako", add=["1-1", "3-1"], remove=["3-2"]) == (
        SchoolClass(1, "1"), SchoolClass(3, "1"))
    assert teacher_classes.classes_of(store, people["hanako"]) == [
        (schools["E01"], 1, "1"), (schools["E01"], 3, "1")]
    # Another school's teacher is not the school admin's to set.
    with pytest.raises(PermissionDenied):
        teacher_classes.assign(store, head, "taro", "2-1")
    for outsider in ("hanako", "resident"):
        with pytest.raises(PermissionDenied):
            teacher_classes.assign(store, _actor(store, people[outsider]), "hanako", "2-1")
    assert teacher_classes.unassign(store, SYSTEM, "hanako", "1-1") == (SchoolClass(3, "1"),)


def test_class_names_and_teachers_are_checked(store, people):
    for bad in ("3", "0-1", "10-1", "3-", "three-2"):
        with pytest.raises(InvalidInput):
            teacher_classes.assign(store, SYSTEM, "hanako", bad)
    with pytest.raises(InvalidInput):
        teacher_classes.assign(store, SYSTEM, "resident", "3-2")
    with pytest.raises(NotFound):
        teacher_classes.assign(store, SYSTEM, "nobody", "3-2")
    assert teacher_classes.parse_class(" 3 - 2 ") == SchoolClass(3, "2")


def test_a_school_admin_lists_only_their_schools_teachers(store, people, schools):
    teacher_classes.replace_classes(store, SYSTEM, "hanako", ["3-2", "3-1"])
    listed = teacher_classes.teachers(store, _actor(store, people["head1"]))
    assert [(x.login, [c.label for c in x.classes]) for x in listed] == [("hanako", ["3-1", "3-2"]), ("head1", [])]
    assert {x.login for x in teacher_classes.teachers(store, SYSTEM)} == {"hanako", "taro", "head1"}
    with pytest.raises(PermissionDenied):
        teacher_classes.teachers(store, Actor(user_id=5, roles=frozenset({"teacher"}), school_id=schools["E01"]))


def test_the_link_is_offered_to_the_modules(store, people):
    teacher_classes.assign(store, SYSTEM, "taro", "5-1")
    offered = provided.provided("portal.teacher_classes")
    assert offered is not None
    assert [row[1:] for row in offered(store, people["taro"])] == [(5, "1")]


def test_cli_adds_removes_and_shows_classes(fresh_demo_db):
    out = manabi("users", "classes", "teacher002", "--add", "3-2", "--add", "4-1", "--json", db=fresh_demo_db)
    assert out.returncode == 0, out.stderr
    assert "3-2" in json.loads(out.stdout)["classes"]
    out = manabi("users", "classes", "teacher002", "--remove", "3-2", db=fresh_demo_db)
    assert out.returncode == 0 and "3-2" not in out.stdout and "4-1" in out.stdout
    bad = manabi("users", "classes", "teacher002", "--add", "3b", db=fresh_demo_db)
    assert bad.returncode == 1 and "grade-class" in bad.stderr


def test_every_demo_teacher_has_a_homeroom_class(demo_db):
    from kernel.store import Store

    store = Store(demo_db, read_only=True)
    try:
        missing = store.query(
            """SELECT u.login FROM portal_users u JOIN portal_user_roles r ON r.user_id = u.id AND r.role = 'teacher'
               WHERE u.id NOT IN (SELECT user_id FROM portal_user_roles WHERE role = 'school_admin')
                 AND u.id NOT IN (SELECT user_id FROM portal_teacher_classes)""")
        assert missing == []
        assert store.query("""SELECT c.grade, c.class_name FROM portal_teacher_classes c
                              JOIN portal_users u ON u.id = c.user_id WHERE u.login = 'teacher01'""") == [(1, "1")]
    finally:
        store.close()


TEACHER_CLASSES = "../portal/pages/teacher_classes.py"


def test_school_admin_ticks_a_teachers_classes(app_for):
    at = app_for(login="schooladmin01", page=TEACHER_CLASSES, lang="en")
    assert not at.exception
    assert [x.value for x in at.title] == ["Teachers' classes"]
    logins = at.selectbox(key="tc_teacher").options
    assert logins and not any("teacher0" in o and "E02" in o for o in logins)
    at.selectbox(key="tc_teacher").select_index(0).run()
    login = at.selectbox(key="tc_teacher").value
    box = at.multiselect(key=f"tc_classes_{login}")
    assert box.options  # the school's classes are offered
    box.set_value([box.options[-1]]).run()
    next(b for b in at.button if b.key == "tc_save").click().run()
    assert not at.exception
    assert any(login in s.value and box.options[-1] in s.value for s in at.success)


def test_teachers_do_not_get_the_page(app_for):
    at = app_for(login="teacher01")
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        at.switch_page(TEACHER_CLASSES)
