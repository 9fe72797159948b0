"""OneRoster 1.2 CSV bundles (Japan Profile) of a made-up city, for tests, the benchmark and
operators trying the import: schools, one fiscal year, homeroom classes, pupils with kana,
homeroom teachers and a principal per school.

The same pupil keeps their sourcedId from year to year (school, year of entry, number), so the
bundle of the next fiscal year is a year rollover: every pupil moves up a grade (and may
change class), the top grade leaves, a new first grade joins.
"""

from __future__ import annotations

import csv
import io
import zipfile
from dataclasses import dataclass
from pathlib import Path

from portal.services.oneroster_spec import COLUMNS

_FAMILY = (("佐藤", "サトウ"), ("鈴木", "スズキ"), ("高橋", "タカハシ"), ("田中", "タナカ"), ("伊藤", "イトウ"),
           ("渡辺", "ワタナベ"), ("山本", "ヤマモト"), ("中村", "ナカムラ"), ("小林", "コバヤシ"), ("加藤", "カトウ"))
_GIVEN = (("翔太", "ショウタ"), ("陽菜", "ヒナ"), ("大輝", "ダイキ"), ("美咲", "ミサキ"), ("健太", "ケンタ"),
          ("結衣", "ユイ"), ("蓮", "レン"), ("葵", "アオイ"), ("悠真", "ユウマ"), ("さくら", "サクラ"), ("湊", "ミナト"))
_GRADE_CODES = ("P1", "P2", "P3", "P4", "P5", "P6", "J1", "J2", "J3")


@dataclass(frozen=True)
class SchoolPlan:
    code: str
    name: str
    first_grade: int  # 1 for 小学校, 7 for 中学校
    grades: int
    classes_per_grade: int
    pupils_per_grade: int
    teachers: int
    extra_first_grade: int = 0  # pupils beyond pupils_per_grade in the first grade


def city_plan(pupils: int = 10_000, teachers: int = 830, classes: int = 400) -> list[SchoolPlan]:
    """Exactly `pupils` and `teachers`, and about `classes` classes, over 15 elementary and 5
    junior high schools (three quarters of the classes in the elementary schools)."""
    elementary, junior = 15, 5
    e_classes = max(1, round(classes * 0.675 / (elementary * 6)))
    j_classes = max(1, round((classes - e_classes * 6 * elementary) / (junior * 3)))
    shapes = [(f"E{n + 1:02d}", f"飯塚市立第{n + 1}小学校", 1, 6, e_classes) for n in range(elementary)]
    shapes += [(f"J{n + 1:02d}", f"飯塚市立第{n + 1}中学校", 7, 3, j_classes) for n in range(junior)]
    total_classes = sum(grades * per_grade for *_, grades, per_grade in shapes)
    plans, pupils_left, teachers_left = [], pupils, teachers
    for index, (code, name, first, grades, per_grade) in enumerate(shapes):
        last = index == len(shapes) - 1
        share = grades * per_grade / total_classes
        school_pupils = pupils_left if last else round(pupils * share)
        school_teachers = teachers_left if last else round(teachers * share)
        pupils_left -= school_pupils
        teachers_left -= school_teachers
        per_grade_pupils, extra = divmod(school_pupils, grades)
        plans.append(SchoolPlan(code, name, first, grades, per_grade, per_grade_pupils, school_teachers, extra))
    return plans


def small_plan() -> list[SchoolPlan]:
    return [SchoolPlan("E01", "飯塚市立飯塚小学校", 1, 6, 2, 6, 13),
            SchoolPlan("J01", "飯塚市立飯塚中学校", 7, 3, 2, 6, 7)]


def make_city(year: int, plans: list[SchoolPlan]) -> dict[str, list[dict]]:
    """The rows of every file of fiscal year `year`'s bulk bundle."""
    stamp = ""  # bulk files leave status and dateLastModified empty, as the binding says
    rows: dict[str, list[dict]] = {name: [] for name in COLUMNS}
    session = f"FY{year}"
    rows["academicSessions.csv"].append({"sourcedId": session, "title": f"{year}年度", "type": "schoolYear",
                                         "startDate": f"{year}-04-01", "endDate": f"{year + 1}-03-31",
                                         "schoolYear": str(year)})
    rows["orgs.csv"].append({"sourcedId": "BOE", "name": "飯塚市教育委員会", "type": "district",
                             "identifier": ""})
    for plan in plans:
        org = f"ORG-{plan.code}"
        rows["orgs.csv"].append({"sourcedId": org, "name": plan.name, "type": "school", "identifier": plan.code,
                                 "parentSourcedId": "BOE"})
        homerooms = []
        for g in range(plan.grades):
            grade = plan.first_grade + g
            code = _GRADE_CODES[grade - 1]
            course = f"C-{plan.code}-{year}-{grade}"
            rows["courses.csv"].append({"sourcedId": course, "schoolYearSourcedId": session,
                                        "title": f"{grade - plan.first_grade + 1}年 ホームルーム",
                                        "grades": code, "orgSourcedId": org})
            for c in range(plan.classes_per_grade):
                klass = f"K-{plan.code}-{year}-{grade}-{c + 1}"
                homerooms.append(klass)
                rows["classes.csv"].append({
                    "sourcedId": klass, "title": f"{grade - plan.first_grade + 1}年{c + 1}組", "grades": code,
                    "courseSourcedId": course, "classCode": str(c + 1), "classType": "homeroom",
                    "schoolSourcedId": org, "termSourcedIds": session})
                # A pupil entered in year `entered`; they are in grade year - entered + 1 now.
            entered = year - g
            for n in range(plan.pupils_per_grade + (plan.extra_first_grade if g == 0 else 0)):
                pupil = f"{plan.code}-{entered}-{n + 1:03d}"
                # Classes are mixed again every year (クラス替え).
                klass = f"K-{plan.code}-{year}-{grade}-{(n + year) % plan.classes_per_grade + 1}"
                family, kana_family = _FAMILY[(n + entered) % len(_FAMILY)]
                given, kana_given = _GIVEN[(n * 7 + entered) % len(_GIVEN)]
                rows["users.csv"].append({
                    "sourcedId": pupil, "enabledUser": "true", "username": f"{pupil.lower()}@pupil.example.jp",
                    "givenName": given, "familyName": family, "grades": code, "primaryOrgSourcedId": org,
                    "metadata.jp.kanaGivenName": kana_given, "metadata.jp.kanaFamilyName": kana_family,
                    "metadata.jp.homeClass": klass})
                rows["roles.csv"].append({"sourcedId": f"R-{pupil}", "userSourcedId": pupil, "roleType": "primary",
                                          "role": "student", "orgSourcedId": org})
                rows["enrollments.csv"].append({
                    "sourcedId": f"EN-{year}-{pupil}", "classSourcedId": klass, "schoolSourcedId": org,
                    "userSourcedId": pupil, "role": "student", "primary": "false"})
        for t in range(plan.teachers):
            teacher = f"T-{plan.code}-{t + 1:03d}"
            family, kana_family = _FAMILY[t % len(_FAMILY)]
            given, kana_given = _GIVEN[(t * 3) % len(_GIVEN)]
            login = f"t{plan.code.lower()}{t + 1:03d}"
            rows["users.csv"].append({
                "sourcedId": teacher, "enabledUser": "true", "username": login,
                "givenName": given, "familyName": family, "email": f"{login}@school.example.jp",
                "primaryOrgSourcedId": org, "metadata.jp.kanaGivenName": kana_given,
                "metadata.jp.kanaFamilyName": kana_family})
            rows["roles.csv"].append({"sourcedId": f"R-{teacher}", "userSourcedId": teacher, "roleType": "primary",
                                      "role": "principal" if t == 0 else "teacher", "orgSourcedId": org})
            # Homeroom teachers, moving to another class each year; the principal and the rest teach none.
            if 1 <= t <= len(homerooms):
                klass = homerooms[(t - 1 + year) % len(homerooms)]
                rows["enrollments.csv"].append({
                    "sourcedId": f"EN-{year}-{teacher}", "classSourcedId": klass, "schoolSourcedId": org,
                    "userSourcedId": teacher, "role": "teacher", "primary": "true"})
    for file_rows in rows.values():
        for row in file_rows:
            row.setdefault("status", stamp)
            row.setdefault("dateLastModified", stamp)
    return rows


def manifest(modes: dict[str, str] | None = None) -> list[tuple[str, str]]:
    modes = modes or {}
    lines = [("manifest.version", "1.0"), ("oneroster.version", "1.2")]
    for name in COLUMNS:
        default = "absent" if name in ("demographics.csv", "userProfiles.csv") else "bulk"
        lines.append((f"file.{name[:-4]}", modes.get(name, default)))
    return lines + [("source.systemName", "Manabi test"), ("source.systemCode", "manabi")]


def to_csv(name: str, rows: list[dict]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    if name == "manifest.csv":
        writer.writerow(("propertyName", "value"))
        writer.writerows(rows)
    else:
        writer.writerow(COLUMNS[name])
        writer.writerows([[row.get(c, "") for c in COLUMNS[name]] for row in rows])
    return out.getvalue()


def write_bundle(rows: dict[str, list[dict]], target: Path, *, modes: dict[str, str] | None = None,
                 as_zip: bool = False) -> Path:
    """Write the files (only those not absent) into a folder, or a zip when as_zip."""
    manifest_rows = manifest(modes)
    present = {f"{key[5:]}.csv" for key, value in manifest_rows if key.startswith("file.") and value != "absent"}
    texts = {"manifest.csv": to_csv("manifest.csv", manifest_rows)}
    texts |= {name: to_csv(name, file_rows) for name, file_rows in rows.items() if name in present}
    if as_zip:
        target.parent.mkdir(parents=True, exist_ok=True)
        with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
            for name, text in texts.items():
                archive.writestr(name, text.encode("utf-8"))
    else:
        target.mkdir(parents=True, exist_ok=True)
        for name, text in texts.items():
            (target / name).write_text(text, encoding="utf-8")
    return target


def demo_roster(store, clock, rng) -> dict[str, str] | None:
    """The demo city's roster as bundle files (CSV texts): school ICT's classrooms and pupils
    (their pseudonyms as sourcedIds, so that the learning records and tablets they have meet
    them) with made-up names and kana. None when school ICT is not part of the portal."""
    from kernel import offers
    from kernel.provided import provided

    classrooms, pupils = provided(offers.SCHOOL_ICT_CLASSROOMS), provided(offers.SCHOOL_ICT_PUPILS)
    if not classrooms or not pupils:
        return None
    today = clock.now().date()
    year = today.year if today.month >= 4 else today.year - 1
    rows: dict[str, list[dict]] = {name: [] for name in COLUMNS}
    rows["academicSessions.csv"].append({"sourcedId": f"FY{year}", "title": f"{year}年度", "type": "schoolYear",
                                         "startDate": f"{year}-04-01", "endDate": f"{year + 1}-03-31",
                                         "schoolYear": str(year)})
    for school_id, code, name in store.query("SELECT id, code, name_ja FROM portal_schools ORDER BY code"):
        org = f"ORG-{code}"
        rows["orgs.csv"].append({"sourcedId": org, "name": name, "type": "school", "identifier": code})
        courses = set()
        for room in classrooms(store, school_id, today):
            room_id, grade, class_name = room.id, room.grade, room.class_name
            grade_code = _GRADE_CODES[grade - 1]
            course = f"C-{code}-{grade}"
            if course not in courses:
                courses.add(course)
                rows["courses.csv"].append({"sourcedId": course, "title": f"{grade}年", "grades": grade_code,
                                            "orgSourcedId": org, "schoolYearSourcedId": f"FY{year}"})
            klass = f"K-{code}-{grade}-{class_name}"
            rows["classes.csv"].append({"sourcedId": klass, "title": f"{grade}年{class_name}組", "grades": grade_code,
                                        "courseSourcedId": course, "classCode": class_name, "classType": "homeroom",
                                        "schoolSourcedId": org, "termSourcedIds": f"FY{year}"})
            for pseudonym, _ready in pupils(store, room_id, today):
                family, kana_family = rng.choice(_FAMILY)
                given, kana_given = rng.choice(_GIVEN)
                rows["users.csv"].append({"sourcedId": pseudonym, "enabledUser": "true",
                                          "username": pseudonym.lower(), "givenName": given, "familyName": family,
                                          "metadata.jp.kanaGivenName": kana_given,
                                          "metadata.jp.kanaFamilyName": kana_family,
                                          "metadata.jp.homeClass": klass})
                rows["roles.csv"].append({"sourcedId": f"R-{pseudonym}", "userSourcedId": pseudonym,
                                          "roleType": "primary", "role": "student", "orgSourcedId": org})
    present = {"manifest.csv": to_csv("manifest.csv", manifest({"enrollments.csv": "absent"}))}
    return present | {name: to_csv(name, file_rows) for name, file_rows in rows.items()
                      if name not in ("demographics.csv", "userProfiles.csv", "enrollments.csv")}
