"""The school roster: OneRoster 1.2 CSV bundles (Japan Profile) made here from the binding's
columns, imported all or nothing; the year rollover; school ICT and the learning record store
following it; a class teacher seeing their pupils' names and everyone else pseudonyms."""

from __future__ import annotations

import json
import threading
from datetime import timedelta

import pytest

from analytics.services import lrs, stored_ids
from kernel.actor import SYSTEM
from kernel.errors import InvalidInput, PermissionDenied
from portal.roster_bundle import make_city, small_plan, write_bundle
from portal.services import accounts, roster
from portal.services.oneroster_spec import COLUMNS
from school_ict.services import registry
from tests.portal.test_cli import manabi

TABLES = ("portal_schools", "portal_users", "portal_user_roles", "portal_teacher_classes", "portal_roster_records",
          "portal_roster_orgs", "portal_roster_sessions", "portal_roster_classes", "portal_roster_pupils",
          "portal_roster_staff", "school_ict_classrooms", "school_ict_pupils", "analytics_learners")


def fiscal_year(clock) -> int:
    today = clock.now().date()
    return today.year if today.month >= 4 else today.year - 1


def snapshot(store) -> dict:
    """Every roster-made table's rows, to compare before and after."""
    return {table: sorted(map(repr, store.query(f"SELECT * FROM {table}"))) for table in TABLES}


def test_the_bundle_uses_the_bindings_columns():
    # A few columns the binding and the Japan Profile name, as the generated bundle writes them.
    assert COLUMNS["users.csv"][:5] == ("sourcedId", "status", "dateLastModified", "enabledUser", "username")
    assert "metadata.jp.kanaGivenName" in COLUMNS["users.csv"] and "metadata.jp.homeClass" in COLUMNS["users.csv"]
    assert COLUMNS["enrollments.csv"][3:8] == ("classSourcedId", "schoolSourcedId", "userSourcedId", "role", "primary")


def test_clean_bundle_imports_with_right_counts_and_twice_changes_nothing(store, clock, tmp_path):
    year = fiscal_year(clock)
    rows = make_city(year, small_plan())
    bundle = write_bundle(rows, tmp_path / "bundle.zip", as_zip=True)
    result = roster.import_bundle(store, clock, SYSTEM, bundle)
    assert result.ok and result.errors == [] and result.stored
    pupils = sum(p.grades * p.pupils_per_grade for p in small_plan())
    teachers = sum(p.teachers for p in small_plan())
    classes = sum(p.grades * p.classes_per_grade for p in small_plan())
    assert result.counts == {"schools": 2, "classes": classes, "pupils": pupils, "teachers": teachers,
                             "enrollments": len(rows["enrollments.csv"])}
    assert store.query("SELECT code, pupils FROM portal_schools ORDER BY code") == [
        ("E01", 6 * 6), ("J01", 3 * 6)]
    # A pupil with name, kana and home class; a teacher account without a password; the principal administers.
    first = rows["users.csv"][0]
    assert store.query("SELECT family_name, given_name, kana_family, kana_given, status FROM portal_roster_pupils "
                       "WHERE sourced_id = ?", [first["sourcedId"]]) == [
        (first["familyName"], first["givenName"], first["metadata.jp.kanaFamilyName"],
         first["metadata.jp.kanaGivenName"], "enrolled")]
    assert store.query("SELECT password_hash IS NULL, email FROM portal_users WHERE login = 'te01002'") == [
        (True, "te01002@school.example.jp")]
    assert store.query("SELECT list(role ORDER BY role) FROM portal_user_roles r JOIN portal_users u "
                       "ON u.id = r.user_id WHERE u.login = 'te01001'") == [(["school_admin", "teacher"],)]
    assert store.scalar("SELECT count(*) FROM portal_teacher_classes") == classes
    # The other modules follow: school ICT's pupils and the learners the dashboards group by.
    assert store.scalar("SELECT count(*) FROM school_ict_pupils WHERE active") == pupils
    assert store.scalar("SELECT count(*) FROM analytics_learners") == pupils

    before = snapshot(store)
    again = roster.import_bundle(store, clock, SYSTEM, bundle)
    assert again.ok and not again.stored and again.counts == result.counts
    assert snapshot(store) == before


def _bad_city(year: int) -> tuple[dict, list[tuple[str, int]]]:
    """A city bundle with one bad row of each kind; returns the rows and the (file, line) of each."""
    rows = make_city(year, small_plan())
    bad = []

    def spoil(name: str, index: int, **fields) -> None:
        rows[name][index].update(fields)
        bad.append((name, index + 2))  # the header is line 1

    spoil("academicSessions.csv", 0, startDate=f"{year}-13-01")                      # not a date
    spoil("classes.csv", 3, schoolSourcedId="ORG-NOWHERE")                            # unknown org
    spoil("users.csv", 5, givenName="")                                               # missing required field
    rows["users.csv"].append(dict(rows["users.csv"][7]))                              # duplicate sourcedId
    bad.append(("users.csv", len(rows["users.csv"]) + 1))
    spoil("roles.csv", 2, role="wizard")                                              # unknown role
    spoil("roles.csv", 4, beginDate="yesterday")                                      # not a date
    spoil("enrollments.csv", 6, classSourcedId="K-NOWHERE")                           # unknown class
    spoil("users.csv", 9, **{"metadata.jp.homeClass": "K-NOWHERE"})                   # unknown home class
    return rows, sorted(bad)


def test_every_bad_row_is_named_and_nothing_is_stored(store, clock, tmp_path):
    rows, bad = _bad_city(fiscal_year(clock))
    before = snapshot(store)
    result = roster.import_bundle(store, clock, SYSTEM, write_bundle(rows, tmp_path / "bad"))
    assert not result.ok and not result.stored
    assert sorted((p.file, p.line) for p in result.errors) == bad
    assert result.counts == roster.ZERO_COUNTS
    assert snapshot(store) == before


def test_cli_json_names_every_bad_row(tmp_path, clock):
    db = tmp_path / "manabi.duckdb"
    rows, bad = _bad_city(fiscal_year(clock))
    done = manabi("roster", "import", str(write_bundle(rows, tmp_path / "bad.zip", as_zip=True)), "--json", db=db)
    assert done.returncode == 1
    report = json.loads(done.stdout)
    assert set(report) == {"ok", "counts", "errors"}
    assert report["ok"] is False and report["counts"] == dict(roster.ZERO_COUNTS)
    assert sorted((e["file"], e["line"]) for e in report["errors"]) == bad
    reasons = {(e["file"], e["line"]): e["reason"] for e in report["errors"]}
    assert "wizard" in reasons[("roles.csv", 4)] and "K-NOWHERE" in reasons[("enrollments.csv", 8)]
    assert "not a date" in reasons[("academicSessions.csv", 2)]
    assert json.loads(manabi("schools", "list", "--json", db=db).stdout) == []

    good = write_bundle(make_city(fiscal_year(clock), small_plan()), tmp_path / "good")
    dry = json.loads(manabi("roster", "import", str(good), "--dry-run", "--json", db=db).stdout)
    assert dry["ok"] and len(dry["preview"]["new"]) == dry["counts"]["pupils"]
    assert json.loads(manabi("schools", "list", "--json", db=db).stdout) == []
    done = manabi("roster", "import", str(good), "--json", db=db)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["counts"] == dry["counts"]
    schools = {s["code"]: s["pupils"] for s in json.loads(manabi("schools", "list", "--json", db=db).stdout)}
    assert schools == {"E01": 36, "J01": 18}
    classes = json.loads(manabi("schools", "classes", "J01", "--json", db=db).stdout)
    assert [(c["grade"], c["class_name"], c["pupils"]) for c in classes] == [
        (g, str(c), 3) for g in (7, 8, 9) for c in (1, 2)]


def test_delta_removes_what_is_tobedeleted(store, clock, tmp_path):
    year = fiscal_year(clock)
    rows = make_city(year, small_plan())
    assert roster.import_bundle(store, clock, SYSTEM, write_bundle(rows, tmp_path / "bulk")).stored
    leaver = rows["users.csv"][0]
    stamp = clock.now().isoformat()
    delta = {name: [] for name in rows}
    delta["users.csv"] = [{**leaver, "status": "tobedeleted", "dateLastModified": stamp}]
    modes = {name: "absent" for name in rows} | {"users.csv": "delta"}
    result = roster.import_bundle(store, clock, SYSTEM, write_bundle(delta, tmp_path / "delta", modes=modes))
    assert result.ok and result.stored, result.errors
    assert [p["id"] for p in result.preview.leaving_pupils] == [leaver["sourcedId"]]
    assert store.query("SELECT status, left_on FROM portal_roster_pupils WHERE sourced_id = ?",
                       [leaver["sourcedId"]]) == [("left", clock.now().date())]
    # A delta row needs its dateLastModified.
    delta["users.csv"] = [{**rows["users.csv"][1], "status": "active", "dateLastModified": ""}]
    refused = roster.import_bundle(store, clock, SYSTEM, write_bundle(delta, tmp_path / "delta2", modes=modes))
    assert [(p.file, p.line) for p in refused.errors] == [("users.csv", 2)]
    # Deleting a class its pupils still name is refused: the records of earlier bundles are named (line 0)
    klass = rows["classes.csv"][0]["sourcedId"]
    delta = {name: [] for name in rows}
    delta["classes.csv"] = [{"sourcedId": klass, "status": "tobedeleted", "dateLastModified": stamp}]
    modes = {name: "absent" for name in rows} | {"classes.csv": "delta"}
    before = snapshot(store)
    refused = roster.import_bundle(store, clock, SYSTEM, write_bundle(delta, tmp_path / "delta3", modes=modes))
    assert not refused.ok and refused.errors
    # (the class's enrollments would go with it; its pupils' home class may not).
    assert {(p.file, p.line, p.key) for p in refused.errors} == {("users.csv", 0, "roster.earlier_reference")}
    assert snapshot(store) == before


def test_a_teacher_email_of_another_account_is_refused(store, clock, tmp_path):
    accounts.create_user(store, clock, login="someone", display_name="someone", roles=["resident"],
                         password="correct horse battery", email="te01002@school.example.jp")
    rows = make_city(fiscal_year(clock), small_plan())
    result = roster.import_bundle(store, clock, SYSTEM, write_bundle(rows, tmp_path / "b"))
    line = next(n for n, row in enumerate(rows["users.csv"], start=2) if row["username"] == "te01002")
    assert [(p.file, p.line, p.key) for p in result.errors] == [("users.csv", line, "roster.email_taken")]


def test_a_roster_import_waits_for_the_live_batches_in_flight(store, clock, tmp_path):
    """Its transaction stamps learners' statements with their class: a live batch still
    committing (begun before it) would keep the old stamp, so the import waits for it."""
    bundle = write_bundle(make_city(fiscal_year(clock), small_plan()), tmp_path / "bundle")
    kept = stored_ids.kept_of(store)
    kept.flying(["an id in flight"])
    done = threading.Event()
    importing = threading.Thread(target=lambda: (roster.import_bundle(store, clock, SYSTEM, bundle), done.set()))
    importing.start()
    assert not done.wait(3)
    assert store.scalar("SELECT count(*) FROM portal_roster_pupils") == 0
    kept.landed(["an id in flight"], committed=True)
    assert done.wait(30)
    importing.join()
    assert store.scalar("SELECT count(*) FROM analytics_learners") == sum(
        p.grades * p.pupils_per_grade for p in small_plan())


def test_year_rollover_moves_pupils_flags_leavers_tablets_and_keeps_learning_records(store, clock, tmp_path):
    year = fiscal_year(clock)
    plans = small_plan()
    assert roster.import_bundle(store, clock, SYSTEM, write_bundle(make_city(year, plans), tmp_path / "y1")).stored
    school = store.scalar("SELECT id FROM portal_schools WHERE code = 'E01'")
    graduate = f"E01-{year - 5}-001"    # grade 6 this year: leaves at the rollover
    staying = f"E01-{year - 1}-002"     # grade 2 this year, grade 3 next
    registry.register_device(store, clock, SYSTEM, asset_tag="PT-TEST-1", serial="SER-1", kind="pupil_tablet",
                             model="Chromebook", school_id=school)
    registry.check_out(store, clock, SYSTEM, "PT-TEST-1", pupil=graduate)
    client = lrs.add_client(store, clock, SYSTEM, "drill")
    statement = {"actor": {"account": {"homePage": "https://manabi.example.jp", "name": graduate}},
                 "verb": {"id": "http://adlnet.gov/expapi/verbs/completed"},
                 "object": {"id": "https://manabi.example.jp/units/1"}}
    client_row = lrs.authenticate(store, client.api_key, client.secret)
    lrs.store_statements(store, clock, client_row, [statement])
    assert store.query("SELECT grade FROM analytics_statements WHERE learner_id = ?", [graduate]) == [(6,)]

    clock.advance(timedelta(days=200))
    nxt = write_bundle(make_city(year + 1, plans), tmp_path / "y2")
    before = snapshot(store)
    preview = roster.import_bundle(store, clock, SYSTEM, nxt, dry_run=True)
    assert preview.ok and not preview.stored and snapshot(store) == before
    p = preview.preview
    assert {x["id"] for x in p.leaving_pupils} == {f"E01-{year - 5}-{n:03d}" for n in range(1, 7)} | {
        f"J01-{year - 2}-{n:03d}" for n in range(1, 7)}
    assert {x["id"] for x in p.new_pupils} == {f"E01-{year + 1}-{n:03d}" for n in range(1, 7)} | {
        f"J01-{year + 1}-{n:03d}" for n in range(1, 7)}
    moved = {x["id"]: (x["from"], x["to"]) for x in p.moved_pupils}
    assert len(moved) == 36 + 18 - 12
    assert moved[staying][0].startswith("E01 2-") and moved[staying][1].startswith("E01 3-")

    result = roster.import_bundle(store, clock, SYSTEM, nxt)
    assert result.stored
    today = clock.now().date()
    assert store.query("SELECT status, left_on FROM portal_roster_pupils WHERE sourced_id = ?", [graduate]) == [
        ("left", today)]
    assert store.query("SELECT grade FROM portal_roster_pupils WHERE sourced_id = ?", [staying]) == [(3,)]
    # School ICT: the leaver inactive, their tablet flagged for return; the mover in the new classroom.
    assert store.query("SELECT active FROM school_ict_pupils WHERE pseudonym = ?", [graduate]) == [(False,)]
    assert store.query("SELECT d.asset_tag FROM school_ict_device_returns r JOIN school_ict_devices d "
                       "ON d.id = r.device_id") == [("PT-TEST-1",)]
    assert store.query("SELECT grade FROM school_ict_pupils WHERE pseudonym = ?", [staying]) == [(3,)]
    from school_ict.services.rosters import devices_to_return
    assert [(tag, pupil) for tag, pupil, _ in devices_to_return(store, school)] == [("PT-TEST-1", graduate)]
    # Learning records: the leaver's statement kept, as it was; the leaver off the dashboards' roster.
    assert store.query("SELECT grade FROM analytics_statements WHERE learner_id = ?", [graduate]) == [(6,)]
    assert store.query("SELECT 1 FROM analytics_learners WHERE learner_id = ?", [graduate]) == []
    assert store.query("SELECT grade FROM analytics_learners WHERE learner_id = ?", [staying]) == [(3,)]
    assert store.scalar("SELECT pupils FROM portal_schools WHERE code = 'E01'") == 36


def test_pupil_names_only_for_the_class_teacher(store, clock, tmp_path):
    year = fiscal_year(clock)
    rows = make_city(year, small_plan())
    assert roster.import_bundle(store, clock, SYSTEM, write_bundle(rows, tmp_path / "b")).stored
    school = store.scalar("SELECT id FROM portal_schools WHERE code = 'E01'")
    teacher_id, grade, class_name = store.query(
        "SELECT t.user_id, t.grade, t.class_name FROM portal_teacher_classes t JOIN portal_users u ON u.id = t.user_id "
        "WHERE u.login = 'te01002'")[0]
    teacher = accounts.actor_for(store, teacher_id)
    names = roster.pupil_names(store, teacher, school, grade, class_name)
    assert len(names) == 3 and all(kana for _, kana in names.values())
    other_class = "2" if class_name == "1" else "1"
    assert roster.pupil_names(store, teacher, school, grade, other_class) == {}
    other_school = store.scalar("SELECT id FROM portal_schools WHERE code = 'J01'")
    assert roster.pupil_names(store, teacher, other_school, 7, "1") == {}


@pytest.mark.timeout(300)
def test_class_teacher_sees_names_on_the_dashboard_others_pseudonyms(app_for, fresh_demo_db, tmp_path, clock):
    """On the demo city: a roster naming teacher01's class; teacher01 sees names (kanji and kana)
    on the class dashboard, another school's administrator and the CSV export pseudonyms."""
    from kernel.store import Store

    demo = Store(fresh_demo_db)
    school_id, grade, class_name = demo.query(
        "SELECT t.school_id, t.grade, t.class_name FROM portal_teacher_classes t JOIN portal_users u "
        "ON u.id = t.user_id WHERE u.login = 'teacher01' ORDER BY 2, 3 LIMIT 1")[0]
    code = demo.scalar("SELECT code FROM portal_schools WHERE id = ?", [school_id])
    learners = [r[0] for r in demo.query(
        "SELECT learner_id FROM analytics_learners WHERE school_id = ? AND grade = ? AND class_name = ? "
        "ORDER BY learner_id", [school_id, grade, class_name])]
    demo.close()
    year = fiscal_year(clock)
    grade_code = ("P1", "P2", "P3", "P4", "P5", "P6", "J1", "J2", "J3")[grade - 1]
    rows = {name: [] for name in COLUMNS}
    rows["academicSessions.csv"] = [{"sourcedId": "FY", "title": f"{year}年度", "type": "schoolYear",
                                     "startDate": f"{year}-04-01", "endDate": f"{year + 1}-03-31",
                                     "schoolYear": str(year)}]
    rows["orgs.csv"] = [{"sourcedId": "ORG", "name": "飯塚小学校", "type": "school", "identifier": code}]
    rows["courses.csv"] = [{"sourcedId": "C", "title": "ホームルーム", "grades": grade_code, "orgSourcedId": "ORG"}]
    rows["classes.csv"] = [{"sourcedId": "K", "title": f"{grade}年{class_name}組", "grades": grade_code,
                            "courseSourcedId": "C", "classCode": class_name, "classType": "homeroom",
                            "schoolSourcedId": "ORG", "termSourcedIds": "FY"}]
    for n, learner in enumerate(learners):
        rows["users.csv"].append({"sourcedId": learner, "enabledUser": "true", "username": learner.lower(),
                                  "givenName": f"花{n}", "familyName": "名簿",
                                  "metadata.jp.kanaGivenName": f"ハナ{n}", "metadata.jp.kanaFamilyName": "メイボ",
                                  "metadata.jp.homeClass": "K"})
        rows["roles.csv"].append({"sourcedId": f"R{n}", "userSourcedId": learner, "roleType": "primary",
                                  "role": "student", "orgSourcedId": "ORG"})
    rows["users.csv"].append({"sourcedId": "T1", "enabledUser": "true", "username": "teacher01", "givenName": "花子",
                              "familyName": "山田", "email": "teacher01@school.example.jp",
                              "metadata.jp.kanaGivenName": "ハナコ", "metadata.jp.kanaFamilyName": "ヤマダ"})
    rows["roles.csv"].append({"sourcedId": "RT", "userSourcedId": "T1", "roleType": "primary", "role": "teacher",
                              "orgSourcedId": "ORG"})
    rows["enrollments.csv"] = [{"sourcedId": "E1", "classSourcedId": "K", "schoolSourcedId": "ORG",
                                "userSourcedId": "T1", "role": "teacher", "primary": "true"}]
    done = manabi("roster", "import", str(write_bundle(rows, tmp_path / "demo-roster")), "--json", db=fresh_demo_db)
    assert done.returncode == 0, done.stdout + done.stderr

    page = "../analytics/pages/class_dashboard.py"
    at = app_for("teacher01", page)
    assert not at.exception
    shown = " ".join(str(df.value.to_dict()) for df in at.dataframe)
    assert "名簿 花0（メイボ ハナ0）" in shown
    assert learners[0] not in shown
    # The school's administrator of another school sees no class of this one; the board view and
    # exports never carry names: the export is made from the services, which hold none.
    from analytics.services import dashboards
    from portal.runtime import open_runtime
    runtime = open_runtime(fresh_demo_db)
    teacher = accounts.actor_for(runtime.store, runtime.store.scalar(
        "SELECT id FROM portal_users WHERE login = 'teacher01'"))
    export = dashboards.class_export(runtime.store, runtime.clock, teacher, grade, class_name, "ja")
    assert "名簿" not in export.write_csv()
    other = runtime.store.scalar("SELECT u.id FROM portal_users u JOIN portal_user_roles r ON r.user_id = u.id "
                                 "WHERE r.role = 'teacher' AND u.school_id <> ? ORDER BY u.id LIMIT 1", [school_id])
    at_other = app_for(runtime.store.scalar("SELECT login FROM portal_users WHERE id = ?", [other]), page)
    assert "名簿" not in " ".join(str(df.value.to_dict()) for df in at_other.dataframe)


def test_school_admin_adds_and_corrects_by_hand_in_their_school_only(store, clock, tmp_path):
    year = fiscal_year(clock)
    assert roster.import_bundle(store, clock, SYSTEM, write_bundle(make_city(year, small_plan()), tmp_path / "b")).stored
    e01 = store.scalar("SELECT id FROM portal_schools WHERE code = 'E01'")
    j01 = store.scalar("SELECT id FROM portal_schools WHERE code = 'J01'")
    head = accounts.actor_for(store, store.scalar("SELECT id FROM portal_users WHERE login = 'te01001'"))
    assert head.has("school_admin") and head.school_id == e01

    made = roster.save_class(store, clock, head, e01, sourced_id=None, grade=1, class_name="3", title="1年3組")
    assert made.ok, made.errors
    new_class = next(c for c in roster.roster_classes(store, head, e01) if c["class_name"] == "3")
    added = roster.save_pupil(store, clock, head, e01, sourced_id=None, family_name="飯塚", given_name="太郎",
                              kana_family="イイヅカ", kana_given="タロウ", class_id=new_class["id"])
    assert added.ok and added.stored, added.errors
    pupil = next(p for p in roster.roster_pupils(store, head, e01) if p["family_name"] == "飯塚")
    assert (pupil["grade"], pupil["class_name"]) == (1, "3")
    assert store.query("SELECT grade FROM school_ict_pupils WHERE pseudonym = ?", [pupil["id"]]) == [(1,)]
    # A correction: the kana and the class.
    other = next(c for c in roster.roster_classes(store, head, e01) if (c["grade"], c["class_name"]) == (2, "1"))
    fixed = roster.save_pupil(store, clock, head, e01, sourced_id=pupil["id"], family_name="飯塚",
                              given_name="太郎", kana_family="イイヅカ", kana_given="タロー", class_id=other["id"])
    assert fixed.ok and [m["id"] for m in fixed.preview.moved_pupils] == [pupil["id"]]
    assert store.query("SELECT kana_given, grade FROM portal_roster_pupils WHERE sourced_id = ?", [pupil["id"]]) == [
        ("タロー", 2)]
    teacher = roster.save_teacher(store, clock, head, e01, sourced_id=None, username="new.teacher",
                                  family_name="新任", given_name="花子", kana_family="シンニン", kana_given="ハナコ",
                                  email="new.teacher@school.example.jp", class_ids=[new_class["id"]])
    assert teacher.ok, teacher.errors
    assert store.query("SELECT grade, class_name FROM portal_teacher_classes t JOIN portal_users u ON u.id = t.user_id "
                       "WHERE u.login = 'new.teacher'") == [(1, "3")]
    # No taking over another account by its login.
    with pytest.raises(InvalidInput):
        roster.save_teacher(store, clock, head, e01, sourced_id=None, username="te01002", family_name="x",
                            given_name="y", kana_family="エックス", kana_given="ワイ", email="", class_ids=[])
    # A bad value is refused like a bad row of a bundle; another school is out of reach.
    refused = roster.save_pupil(store, clock, head, e01, sourced_id=None, family_name="", given_name="次郎",
                                kana_family="", kana_given="ジロウ", class_id=new_class["id"])
    assert not refused.ok and refused.errors[0].key == "roster.missing_field"
    with pytest.raises(PermissionDenied):
        roster.roster_pupils(store, head, j01)


def test_shift_jis_files_are_read_and_a_non_bundle_is_named(store, clock, tmp_path):
    rows = make_city(fiscal_year(clock), small_plan())
    folder = write_bundle(rows, tmp_path / "sjis")
    users = folder / "users.csv"
    users.write_bytes(users.read_text(encoding="utf-8").encode("cp932"))  # as Excel in Japan saves it
    result = roster.import_bundle(store, clock, SYSTEM, folder)
    assert result.ok and result.stored, result.errors
    first = rows["users.csv"][0]
    assert store.query("SELECT family_name, kana_family FROM portal_roster_pupils WHERE sourced_id = ?",
                       [first["sourcedId"]]) == [(first["familyName"], first["metadata.jp.kanaFamilyName"])]
    refused = roster.import_bundle(store, clock, SYSTEM, b"not a zip")
    assert [(p.file, p.line, p.key) for p in refused.errors] == [("upload.zip", 0, "roster.not_a_bundle")]
