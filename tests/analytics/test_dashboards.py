"""Dashboard figures, the "may need help" rules, privacy by school and small-group suppression."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from analytics.services import dashboards, lrs, roster
from kernel.actor import SYSTEM, Actor
from kernel.clock import TOKYO
from kernel.errors import NotFound, PermissionDenied

HOME = "https://manabi.city.iizuka.lg.jp"
UNIT_A = "8201001110000000"
UNIT_B = "8201002110000000"


@pytest.fixture
def school(store, clock):
    """Two schools; at E01 class 5-1 has p01…p06, class 5-2 has q01…q05; E02 has r01…r05."""
    store.query("INSERT INTO portal_schools (code, name_ja, name_en, kind) VALUES "
                "('E01', '飯塚小学校', 'Iizuka ES', 'elementary'), ('E02', '片島小学校', 'Katashima ES', 'elementary')")
    lines = ["learner_id,school_code,grade,class"]
    lines += [f"p{n:02d},E01,5,1" for n in range(1, 7)] + [f"q{n:02d},E01,5,2" for n in range(1, 6)]
    lines += [f"r{n:02d},E02,5,1" for n in range(1, 6)]
    roster.import_learners(store, SYSTEM, "\n".join(lines) + "\n")
    roster.import_units(store, SYSTEM, "code,subject,grade,name_ja,name_en\n"
                        f"{UNIT_A},算数,5,分数,Fractions\n{UNIT_B},算数,5,図形,Shapes\n")
    made = lrs.add_client(store, clock, SYSTEM, "drill")
    return lrs.authenticate(store, made.api_key, made.secret)


def send(store, clock, client, learner, unit, score, verb="completed", when=None, minutes=10):
    statement = {
        "actor": {"account": {"homePage": HOME, "name": learner}},
        "verb": {"id": f"http://adlnet.gov/expapi/verbs/{verb}"},
        "object": {"id": f"{HOME}/units/{unit}", "definition": {"name": {"ja": f"テスト{unit[-10:-8]}"}}},
        "result": {"score": {"scaled": score}, "completion": True, "duration": f"PT{minutes}M"},
        "timestamp": (when or datetime(2026, 11, 26, 10, 0, tzinfo=TOKYO)).isoformat(),
    }
    return lrs.store_statements(store, clock, client, [statement])[0]


TEACHER = Actor(user_id=3, login="teacher01", roles=frozenset({"teacher"}), school_id=1)
OTHER_TEACHER = Actor(user_id=4, login="teacher050", roles=frozenset({"teacher"}), school_id=2)
ADMIN = Actor(user_id=1, login="admin", roles=frozenset({"city_admin"}))
RESIDENT = Actor(user_id=9, login="resident01", roles=frozenset({"resident"}))


def test_classes_are_the_teachers_school_only(store, school):
    assert [(c.grade, c.class_name, c.pupils) for c in dashboards.classes(store, TEACHER)] == [(5, "1", 6), (5, "2", 5)]
    assert [(c.grade, c.class_name) for c in dashboards.classes(store, OTHER_TEACHER)] == [(5, "1")]
    for outsider in (RESIDENT, ADMIN, Actor(user_id=7, roles=frozenset({"teacher"}))):
        with pytest.raises(PermissionDenied):
            dashboards.classes(store, outsider)


def test_mastery_and_completion_per_pupil_and_class(store, clock, school):
    send(store, clock, school, "p01", UNIT_A, 0.4)
    send(store, clock, school, "p01", UNIT_A, 0.8)
    send(store, clock, school, "q01", UNIT_A, 1.0)
    send(store, clock, school, "r01", UNIT_A, 0.1)  # other school: never in E01's figures
    by_pupil = dashboards.mastery_by_pupil(store, TEACHER, 5, "1")
    assert by_pupil.select("learner_id", "unit_code", "mastery", "completion", "attempts").rows() == [
        ("p01", UNIT_A, 0.6, 1.0, 2)]
    by_class = dashboards.mastery_by_class(store, TEACHER, 5, lang="en")
    assert by_class.select("class_name", "unit", "mastery", "pupils").rows() == [
        ("1", "Fractions", 0.6, 1), ("2", "Fractions", 1.0, 1)]


def test_voided_statements_leave_the_dashboards(store, clock, school):
    kept = send(store, clock, school, "p01", UNIT_A, 0.9)
    gone = send(store, clock, school, "p01", UNIT_A, 0.1)
    lrs.store_statements(store, clock, school, [{
        "actor": {"mbox": "mailto:teacher@example.jp"}, "verb": {"id": "http://adlnet.gov/expapi/verbs/voided"},
        "object": {"objectType": "StatementRef", "id": gone}}])
    assert kept != gone
    assert dashboards.mastery_by_pupil(store, TEACHER, 5, "1")["mastery"].to_list() == [0.9]


def test_score_distribution_takes_assessments_and_time_is_weekly(store, clock, school):
    send(store, clock, school, "p01", UNIT_A, 0.9, verb="passed", minutes=20)
    send(store, clock, school, "p02", UNIT_A, 0.3, verb="failed", minutes=15,
         when=datetime(2026, 11, 17, 9, 0, tzinfo=TOKYO))
    send(store, clock, school, "p02", UNIT_A, 0.5, verb="completed", minutes=5)
    assert sorted(dashboards.score_distribution(store, TEACHER, 5, "1")["score"].to_list()) == [0.3, 0.9]
    weekly = dashboards.weekly_time(store, TEACHER, 5, "1")
    assert [(r[0], str(r[1]), r[2]) for r in weekly.rows()] == [
        ("p02", "2026-11-16", 15.0), ("p01", "2026-11-23", 20.0), ("p02", "2026-11-23", 5.0)]


def test_may_need_help_names_each_rule(store, clock, school):
    for _ in range(3):
        send(store, clock, school, "p01", UNIT_A, 0.2, verb="failed")
    for learner in ("p02", "p03", "p04", "p05"):
        send(store, clock, school, learner, UNIT_B, 0.9)
    send(store, clock, school, "p01", UNIT_B, 0.3)
    # p06 was last active 3 weeks ago: more than 10 school days.
    send(store, clock, school, "p06", UNIT_B, 0.8, when=datetime(2026, 11, 6, 10, 0, tzinfo=TOKYO))
    reasons = {(r.learner_id, r.rule) for r in dashboards.may_need_help(store, clock, TEACHER, 5, "1")}
    assert reasons == {("p01", "below_class"), ("p01", "failed_attempts"), ("p06", "inactive")}
    detail = {r.rule: r.params for r in dashboards.may_need_help(store, clock, TEACHER, 5, "1")}
    assert detail["failed_attempts"] == {"unit": "分数", "count": 3}
    assert detail["inactive"]["days"] == 14
    # A class with no records at all: every pupil is flagged as never active.
    assert {r.rule for r in dashboards.may_need_help(store, clock, TEACHER, 5, "2")} == {"never_active"}


def test_school_days_skip_weekends():
    friday, next_monday = datetime(2026, 11, 20).date(), datetime(2026, 11, 23).date()
    assert dashboards.school_days_between(friday, next_monday) == 0
    assert dashboards.school_days_between(friday, next_monday + timedelta(days=1)) == 1


def test_pupil_timeline_is_logged_and_closed_to_other_schools(store, clock, school):
    send(store, clock, school, "p01", UNIT_A, 0.7)
    timeline = dashboards.pupil_timeline(store, clock, TEACHER, "p01")
    assert timeline["score"].to_list() == [0.7]
    assert dashboards.access_log(store, ADMIN)[0]["learner_id"] == "p01"
    assert dashboards.access_log(store, ADMIN)[0]["user_id"] == TEACHER.user_id
    with pytest.raises(NotFound):
        dashboards.pupil_timeline(store, clock, OTHER_TEACHER, "p01")
    with pytest.raises(PermissionDenied):
        dashboards.access_log(store, TEACHER)


def test_board_view_hides_groups_under_five_and_names_no_pupil(store, clock, school):
    for n in range(1, 6):
        send(store, clock, school, f"p{n:02d}", UNIT_A, 0.5 + n / 20)  # 5 pupils at E01
    for n in range(1, 5):
        send(store, clock, school, f"r{n:02d}", UNIT_A, 0.5)  # only 4 at E02: hidden
    board = dashboards.board_view(store, ADMIN, lang="en")
    assert board.select("school", "grade", "unit", "pupils", "mastery").rows() == [
        ("Iizuka ES", 5, "Fractions", 5, 0.65)]
    assert "learner_id" not in board.columns
    with pytest.raises(PermissionDenied):
        dashboards.board_view(store, TEACHER)
