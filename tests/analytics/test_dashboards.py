"""Dashboard figures, the "may need help" rules, privacy by school and small-group suppression."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from analytics.services import dashboards, lrs, roster
from kernel.actor import SYSTEM, Actor
from kernel.clock import TOKYO, FixedClock
from kernel.errors import NotFound, PermissionDenied


@pytest.fixture
def clock() -> FixedClock:
    """These tests tell one story of a class up to Friday 27 November 2026, with its weeks,
    weekdays and repairs; their clock is pinned there whatever the suite's pin."""
    return FixedClock(datetime(2026, 11, 27, 10, 0, tzinfo=TOKYO))

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
    # The portal's teacher-class link: TEACHER teaches 5-1 and 5-2 at E01, OTHER_TEACHER 5-1 at E02.
    store.query("INSERT INTO portal_teacher_classes VALUES (3, 1, 5, '1'), (3, 1, 5, '2'), (4, 2, 5, '1')")
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


def test_classes_are_the_teachers_own_only(store, school):
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
    # In whole percent, as the rules are worded: 30 % against a class median of 90 % (0.3, 0.8, 0.9 four times).
    assert detail["below_class"] == {"unit": "図形", "mastery": 30, "median": 90}
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


# ------------------------------------------------------------------ a teacher's own classes

TEACHER_3_2 = Actor(user_id=11, login="teacher32", roles=frozenset({"teacher"}), school_id=1)
SCHOOL_ADMIN = Actor(user_id=12, login="schooladmin01", roles=frozenset({"school_admin", "teacher"}), school_id=1)


@pytest.fixture
def two_classes(store, clock, school):
    """E01 grade 3: class 3-1 (a01, a02) and class 3-2 (b01, b02); TEACHER_3_2 teaches 3-2 only."""
    roster.import_learners(store, SYSTEM, "learner_id,school_code,grade,class\n"
                           "a01,E01,3,1\na02,E01,3,1\nb01,E01,3,2\nb02,E01,3,2\n")
    store.query("INSERT INTO portal_teacher_classes VALUES (11, 1, 3, '2')")
    for learner in ("a01", "a02", "b01", "b02"):
        send(store, clock, school, learner, UNIT_A, 0.6, verb="failed")
    return school


def test_a_teacher_of_3_2_cannot_read_3_1_by_any_function(store, clock, two_classes):
    assert [(c.grade, c.class_name) for c in dashboards.classes(store, TEACHER_3_2)] == [(3, "2")]
    assert set(dashboards.mastery_by_pupil(store, TEACHER_3_2, 3, "2")["learner_id"]) == {"b01", "b02"}
    refused = [
        lambda: dashboards.mastery_by_pupil(store, TEACHER_3_2, 3, "1"),
        lambda: dashboards.score_distribution(store, TEACHER_3_2, 3, "1"),
        lambda: dashboards.weekly_time(store, TEACHER_3_2, 3, "1"),
        lambda: dashboards.weekly_time_with_repairs(store, clock, TEACHER_3_2, 3, "1"),
        lambda: dashboards.activity_overview(store, clock, TEACHER_3_2, 3, "1"),
        lambda: dashboards.may_need_help(store, clock, TEACHER_3_2, 3, "1"),
        lambda: dashboards.class_repair_weeks(store, clock, TEACHER_3_2, 3, "1"),
        lambda: dashboards.class_export(store, clock, TEACHER_3_2, 3, "1"),
        lambda: dashboards.mastery_by_pupil(store, TEACHER_3_2, 5, "1"),  # another grade's class too
    ]
    for call in refused:
        with pytest.raises(PermissionDenied) as caught:
            call()
        assert caught.value.key == "analytics.dash.not_your_class"
    # The class comparison shows only the classes of the grade the teacher teaches.
    assert set(dashboards.mastery_by_class(store, TEACHER_3_2, 3)["class_name"]) == {"2"}
    with pytest.raises(PermissionDenied):
        dashboards.mastery_by_class(store, TEACHER_3_2, 5)
    # A pupil of 3-1 reads as no pupil at all, and the refusal is not logged as a view.
    for call in (lambda: dashboards.pupil_timeline(store, clock, TEACHER_3_2, "a01"),
                 lambda: dashboards.pupil_repair_weeks(store, clock, TEACHER_3_2, "a01")):
        with pytest.raises(NotFound):
            call()
    assert dashboards.access_log(store, ADMIN) == []
    assert dashboards.pupil_timeline(store, clock, TEACHER_3_2, "b01")["score"].to_list() == [0.6]


def test_the_school_admin_sees_every_class_and_the_board_none(store, clock, two_classes):
    assert [(c.grade, c.class_name) for c in dashboards.classes(store, SCHOOL_ADMIN)] == [
        (3, "1"), (3, "2"), (5, "1"), (5, "2")]
    assert set(dashboards.mastery_by_class(store, SCHOOL_ADMIN, 3)["class_name"]) == {"1", "2"}
    assert dashboards.pupil_timeline(store, clock, SCHOOL_ADMIN, "a01").height == 1
    with pytest.raises(PermissionDenied):
        dashboards.mastery_by_pupil(store, ADMIN, 3, "1")


def test_a_teacher_with_no_classes_sees_none(store, two_classes):
    nobody = Actor(user_id=20, login="new", roles=frozenset({"teacher"}), school_id=1)
    assert dashboards.scope(store, nobody).classes == frozenset()
    assert dashboards.classes(store, nobody) == []
    with pytest.raises(PermissionDenied):
        dashboards.weekly_time(store, nobody, 3, "2")


def test_a_class_from_another_school_does_not_count(store, two_classes):
    # A link to 3-2 at E02 gives nothing at E01, the teacher's school.
    store.query("INSERT INTO portal_teacher_classes VALUES (21, 2, 3, '1')")
    moved = Actor(user_id=21, login="moved", roles=frozenset({"teacher"}), school_id=1)
    assert dashboards.classes(store, moved) == []
    with pytest.raises(PermissionDenied):
        dashboards.mastery_by_pupil(store, moved, 3, "1")


def test_the_class_export_is_pseudonymised(store, clock, two_classes, monkeypatch):
    monkeypatch.delenv("MANABI_EXPORT_SECRET", raising=False)
    frame = dashboards.class_export(store, clock, TEACHER_3_2, 3, "2", lang="en")
    text = dashboards.export_csv(frame, {"pupil": "Pseudonym"}).decode("utf-8-sig")
    assert text.splitlines()[0].startswith("Pseudonym,grade,class_name,unit_code")
    assert len(text.splitlines()) == 3
    # No field is a learner id (a pseudonym is random hex, so "a01" may well be inside one).
    fields = {field for line in text.splitlines() for field in line.split(",")}
    assert not fields & {"b01", "b02", "a01", "a02"}
    # Stable: the same pupils get the same pseudonyms in the next export (the key kept in the database).
    secret = store.scalar("SELECT value FROM manabi_meta WHERE key = ?", [dashboards.EXPORT_SECRET_META])
    assert secret and len(secret) == 64
    again = dashboards.class_export(store, clock, TEACHER_3_2, 3, "2")
    assert again["pupil"].to_list() == frame["pupil"].to_list()
    assert set(frame["pupil"]) == {dashboards.pseudonym(secret.encode(), "b01"),
                                   dashboards.pseudonym(secret.encode(), "b02")}
    # The export is a view of each pupil's records: logged.
    assert {(r["learner_id"], r["view"]) for r in dashboards.access_log(store, ADMIN)} == {
        ("b01", "class_export"), ("b02", "class_export")}


def test_a_configured_export_secret_is_used(store, clock, two_classes, monkeypatch):
    monkeypatch.setenv("MANABI_EXPORT_SECRET", "from-configuration")
    frame = dashboards.class_export(store, clock, TEACHER_3_2, 3, "2")
    assert set(frame["pupil"]) == {dashboards.pseudonym(b"from-configuration", lid) for lid in ("b01", "b02")}
    assert store.scalar("SELECT count(*) FROM manabi_meta WHERE key = ?", [dashboards.EXPORT_SECRET_META]) == 0


# ------------------------------------------------------------------ tablets in repair (school ICT)

def _tablet_in_repair(store, pseudonym, opened, closed=None):
    """School ICT's rows for a pupil whose tablet went to repair on `opened` (closed or still open)."""
    pupil = store.scalar("SELECT coalesce(max(id), 0) + 1 FROM school_ict_pupils")
    store.query("INSERT INTO school_ict_pupils (id, pseudonym, school_id, classroom_id, grade) VALUES (?, ?, 1, 1, 3)",
                [pupil, pseudonym])
    store.query("""INSERT INTO school_ict_repairs (device_id, school_id, model, opened_at, opened_by, symptom, pupil_id,
                       cause, state, closed_at) VALUES (?, 1, 'Chromebook', ?, 'test', '画面が割れた', ?, 'drop', ?, ?)""",
                [pupil, opened, pupil, "open" if closed is None else "returned", closed])


def test_weeks_with_the_tablet_in_repair_sit_beside_the_learning(store, clock, two_classes):
    roster.import_learners(store, SYSTEM, "learner_id,school_code,grade,class\nb03,E01,3,2\n")
    send(store, clock, two_classes, "b03", UNIT_A, 0.7, when=datetime(2026, 11, 6, 10, 0, tzinfo=TOKYO))
    _tablet_in_repair(store, "b03", datetime(2026, 11, 10, 9, 0, tzinfo=TOKYO))  # still in repair
    _tablet_in_repair(store, "b02", datetime(2026, 10, 14, 9, 0, tzinfo=TOKYO), datetime(2026, 10, 20, 15, 0, tzinfo=TOKYO))
    weeks = dashboards.class_repair_weeks(store, clock, TEACHER_3_2, 3, "2")
    assert {k: [str(w) for w in v] for k, v in weeks.items()} == {
        "b03": ["2026-11-09", "2026-11-16", "2026-11-23"], "b02": ["2026-10-12", "2026-10-19"]}
    weekly = dashboards.weekly_time_with_repairs(store, clock, TEACHER_3_2, 3, "2")
    marked = {(r["learner_id"], str(r["week"])) for r in weekly.filter(weekly["in_repair"]).iter_rows(named=True)}
    assert ("b03", "2026-11-16") in marked and ("b02", "2026-10-12") in marked
    assert weekly.filter(~weekly["in_repair"])["minutes"].sum() > 0
    # The "may need help" reason says the tablet was in repair when that explains the silence.
    b03 = [r for r in dashboards.may_need_help(store, clock, TEACHER_3_2, 3, "2") if r.learner_id == "b03"
           and r.rule == "inactive"]
    assert b03 and b03[0].key == "analytics.help.inactive_repair"
    assert str(b03[0].params["repair_from"]) == "2026-11-10"
    assert [str(w) for w in dashboards.pupil_repair_weeks(store, clock, TEACHER_3_2, "b03")] == [
        "2026-11-09", "2026-11-16", "2026-11-23"]


def test_a_repair_filed_today_does_not_explain_weeks_of_silence(store, clock, two_classes):
    """Silent since 6 November; a fault reported today (27 November) says nothing about the
    three weeks before it. One filed during the silence, or before it and still open, does."""
    roster.import_learners(store, SYSTEM, "learner_id,school_code,grade,class\nb03,E01,3,2\nb04,E01,3,2\n"
                                          "b05,E01,3,2\nb06,E01,3,2\n")
    for learner in ("b03", "b04", "b05", "b06"):
        send(store, clock, two_classes, learner, UNIT_A, 0.7, when=datetime(2026, 11, 6, 10, 0, tzinfo=TOKYO))
    _tablet_in_repair(store, "b03", datetime(2026, 11, 27, 8, 30, tzinfo=TOKYO))  # filed today
    _tablet_in_repair(store, "b04", datetime(2026, 11, 12, 9, 0, tzinfo=TOKYO))  # filed during the silence
    _tablet_in_repair(store, "b05", datetime(2026, 11, 2, 9, 0, tzinfo=TOKYO))  # before it, still open
    # Closed the day before the silence began: it explains nothing.
    _tablet_in_repair(store, "b06", datetime(2026, 10, 26, 9, 0, tzinfo=TOKYO), datetime(2026, 11, 6, 8, 0, tzinfo=TOKYO))
    idle = {r.learner_id: r for r in dashboards.may_need_help(store, clock, TEACHER_3_2, 3, "2")
            if r.rule == "inactive"}
    assert idle["b03"].key == "analytics.help.inactive" and "repair_from" not in idle["b03"].params
    assert idle["b04"].key == "analytics.help.inactive_repair" and str(idle["b04"].params["repair_from"]) == "2026-11-12"
    assert idle["b05"].key == "analytics.help.inactive_repair" and str(idle["b05"].params["repair_from"]) == "2026-11-02"
    assert idle["b06"].key == "analytics.help.inactive"


def test_a_pupil_needing_help_is_listed_once_with_every_reason(store, clock, two_classes):
    reasons = [dashboards.HelpReason("b02", "failed_attempts", {"unit": "分数", "count": 3}),
               dashboards.HelpReason("b01", "inactive", {"days": 12}),
               dashboards.HelpReason("b02", "inactive", {"days": 11}),
               dashboards.HelpReason("b02", "below_class", {"unit": "図形", "mastery": 30, "median": 80})]
    grouped = dashboards.help_by_pupil(reasons)
    assert [(pupil, [r.rule for r in rs]) for pupil, rs in grouped] == [
        ("b02", ["failed_attempts", "inactive", "below_class"]), ("b01", ["inactive"])]
    # On the real rules: b07 failed one unit three times in October and was silent since.
    roster.import_learners(store, SYSTEM, "learner_id,school_code,grade,class\nb07,E01,3,2\n")
    for day in (1, 2, 5):
        send(store, clock, two_classes, "b07", UNIT_A, 0.2, verb="failed",
             when=datetime(2026, 10, day, 10, 0, tzinfo=TOKYO))
    found = dashboards.may_need_help(store, clock, TEACHER_3_2, 3, "2")
    grouped = dict(dashboards.help_by_pupil(found))
    assert len(grouped) == len({r.learner_id for r in found})
    assert sorted(r.rule for r in grouped["b07"]) == ["failed_attempts", "inactive"]


def test_without_school_ict_the_views_work_without_repairs(store, clock, two_classes, monkeypatch):
    from kernel import provided

    monkeypatch.delitem(provided._offered, "school_ict.repair_weeks")
    monkeypatch.delitem(provided._offered, "school_ict.repair_spans")
    assert dashboards.class_repair_weeks(store, clock, TEACHER_3_2, 3, "2") is None
    assert dashboards.pupil_repair_weeks(store, clock, TEACHER_3_2, "b01") is None
    weekly = dashboards.weekly_time_with_repairs(store, clock, TEACHER_3_2, 3, "2")
    assert not weekly["in_repair"].any()
    assert all(r.key == f"analytics.help.{r.rule}" for r in dashboards.may_need_help(store, clock, TEACHER_3_2, 3, "2"))


def test_subjects_are_named_in_the_readers_language(store, clock, two_classes):
    from kernel.i18n import Translator
    from portal.runtime import catalogue

    ja, en = (Translator(lang, catalogue(), strict=True) for lang in ("ja", "en"))
    # Each subject the units CSV may name is the catalogue's Japanese word for it.
    for subject, key in roster.SUBJECT_KEYS.items():
        assert ja(f"analytics.subject.{key}") == subject
    assert roster.subject_label(en, "算数") == "Arithmetic"
    assert roster.subject_label(en, " 理科 ") == "Science"
    assert roster.subject_label(ja, "算数") == "算数"
    assert roster.subject_label(en, "プログラミング") == "プログラミング"  # not MEXT's: as the CSV gave it
    frame = dashboards.class_export(store, clock, TEACHER_3_2, 3, "2", lang="en")
    assert set(frame["subject"]) == {"算数"}
    text = dashboards.export_csv(frame, {"subject": "Subject"},
                                 worded={"subject": lambda name: roster.subject_label(en, name)})
    rows = text.decode("utf-8-sig").splitlines()
    assert rows[0].split(",")[4] == "Subject" and {row.split(",")[4] for row in rows[1:]} == {"Arithmetic"}


def test_activities_are_named_in_the_readers_language_when_the_app_sent_it(store, clock, school):
    send(store, clock, school, "p01", UNIT_A, 0.9, verb="passed")  # a Japanese name only
    named = {"actor": {"account": {"homePage": HOME, "name": "p02"}},
             "verb": {"id": "http://adlnet.gov/expapi/verbs/failed"},
             "object": {"id": f"{HOME}/units/{UNIT_B}/test",
                        "definition": {"name": {"ja": "図形の小テスト", "en-US": "Shapes quiz"}}},
             "result": {"score": {"scaled": 0.2}}, "timestamp": "2026-11-26T11:00:00+09:00"}
    lrs.store_statements(store, clock, school, [named])
    japanese = dashboards.score_distribution(store, TEACHER, 5, "1")
    assert dict(zip(japanese["score"], japanese["assessment"], strict=True))[0.2] == "図形の小テスト"
    english = dashboards.score_distribution(store, TEACHER, 5, "1", lang="en")
    assert dict(zip(english["score"], english["assessment"], strict=True))[0.2] == "Shapes quiz"
    # Without an English name, the name the app sent.
    assert dict(zip(english["score"], english["assessment"], strict=True))[0.9].startswith("テスト")
    timeline = dashboards.pupil_timeline(store, clock, TEACHER, "p02", lang="en")
    assert timeline["activity"].to_list() == ["Shapes quiz"]
    assert dashboards.pupil_timeline(store, clock, TEACHER, "p02")["activity"].to_list() == ["図形の小テスト"]
