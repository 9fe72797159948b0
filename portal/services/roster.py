"""The city's school roster from OneRoster 1.2 CSV bundles (Japan Profile): schools, the fiscal
year, classes, pupils with name and kana, teachers and school administrators, teachers' classes.

One import, all or nothing: the bundle is read and checked whole (every bad row named with its
file and line, header = line 1) before anything is written, then written in one transaction.
Bulk files replace what the roster held of their kind, delta files change it (`status`
tobedeleted removes a record), absent files leave it; the records of earlier bundles are kept
(portal_roster_records) so that a delta applies on top of them and the same bundle twice
changes nothing. A new year's bulk bundle is the year rollover (年次更新): pupils move to their
new classes, those no longer listed leave (their records kept, their tablets flagged for return
by school ICT), new pupils join; `preview` says who before anything is written.

The other modules follow through functions they offer (kernel.provided), called inside the
import's transaction: "school_ict.apply_roster" (classrooms, pupils, tablets to return) and
"analytics.apply_roster" (the learners the learning dashboards group by). A pupil's sourcedId
is the pseudonym every module knows them by; only this table holds their name.
"""

from __future__ import annotations

import contextlib
import csv
import io
import re
import uuid
import zipfile
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path

import polars as pl

from kernel import csv_import, offers, provided
from kernel.actor import Actor, Role
from kernel.clock import Clock
from kernel.errors import InvalidInput, NotFound, PermissionDenied
from kernel.store import Store
from portal.services import oneroster_spec as spec

_SEP = "\x1f"
_LOGIN = re.compile(r"^[a-z0-9][a-z0-9._-]{2,63}$")
_YEAR = re.compile(r"^\d{4}$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
# OneRoster roles that make a Manabi teacher, and those that also make a school administrator.
STAFF_ROLES = ("teacher", "principal", "siteAdministrator")
ADMIN_ROLES = ("principal", "siteAdministrator")


@dataclass(frozen=True)
class Problem:
    """One bad row: the file, its line (the header is line 1) and why, as a catalogue key."""

    file: str
    line: int
    key: str
    params: dict = field(default_factory=dict)


@dataclass
class Preview:
    """What an import would change: pupils who join, move or leave, teachers who come or go."""

    new_pupils: list[dict] = field(default_factory=list)
    moved_pupils: list[dict] = field(default_factory=list)
    leaving_pupils: list[dict] = field(default_factory=list)
    new_teachers: list[dict] = field(default_factory=list)
    leaving_teachers: list[dict] = field(default_factory=list)
    changed: bool = False


@dataclass
class ImportResult:
    ok: bool
    counts: dict[str, int]
    errors: list[Problem]
    preview: Preview | None = None
    dry_run: bool = False
    stored: bool = False


ZERO_COUNTS = {"schools": 0, "classes": 0, "pupils": 0, "teachers": 0, "enrollments": 0}


# ---------------------------------------------------------------- reading the bundle

Rows = dict[str, tuple[int | None, dict]]  # sourcedId -> (line in this bundle or None, fields)


def _files(source: str | Path | bytes) -> dict[str, str]:
    """The bundle's CSV files by name (a zip's folders ignored): from a folder, a zip file or a
    zip's bytes (the upload page)."""
    if isinstance(source, dict):  # hand edits: the files as text
        return source
    if isinstance(source, bytes | bytearray):
        if not zipfile.is_zipfile(io.BytesIO(source)):
            raise InvalidInput("roster.not_a_bundle", path="zip")
        return _zip_files(zipfile.ZipFile(io.BytesIO(source)))
    path = Path(source)
    if path.is_dir():
        return {p.name: csv_import.decode_text(p.read_bytes()) for p in path.iterdir() if p.suffix == ".csv"}
    if path.is_file() and zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as archive:
            return _zip_files(archive)
    raise InvalidInput("roster.not_a_bundle", path=str(source))


def _zip_files(archive: zipfile.ZipFile) -> dict[str, str]:
    found = {}
    for info in archive.infolist():
        name = info.filename.rsplit("/", 1)[-1]
        if name.endswith(".csv") and not info.is_dir():
            found[name] = csv_import.decode_text(archive.read(info))
    return found


def _table(name: str, text: str, problems: list[Problem]) -> list[tuple[int, dict]] | None:
    # U+001F separates a record's stored values; it has no place in a roster.
    text = text.replace(_SEP, " ") if _SEP in text else text
    table = csv_import.read_rows(text)
    header = table.header
    wanted = spec.MANIFEST_COLUMNS if name == "manifest.csv" else spec.COLUMNS[name]
    # The Japan Profile's columns may be left out; the binding's own may not.
    missing = table.missing(c for c in wanted if not c.startswith("metadata."))
    if missing:
        problems.append(Problem(name, 1, "roster.missing_columns", {"columns": ", ".join(missing)}))
        return None
    rows = []
    for line, cells in table.records:
        values = table.values(cells)
        if values is None:
            problems.append(Problem(name, line, "roster.bad_width", {"found": len(cells), "wanted": len(header)}))
            continue
        rows.append((line, values))
    return rows


def _is_date(value: str) -> bool:
    if not _DATE.match(value):
        return False
    try:
        date.fromisoformat(value)
    except ValueError:
        return False
    return True


def _is_datetime(value: str) -> bool:
    try:
        datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return False
    return True


def _check_rows(name: str, mode: str, rows: list[tuple[int, dict]], header_has_jp: bool,
                problems: list[Problem], rejected: set[str]) -> dict[str, tuple[int, dict]]:
    """Each row on its own: required fields, status and dates as the mode wants, vocabularies,
    duplicate sourcedIds. Returns the good rows by sourcedId."""
    required = spec.REQUIRED_FIELDS[name] + (spec.JAPAN_REQUIRED_FIELDS.get(name, ()) if header_has_jp else ())
    vocabularies = spec.VOCABULARIES.get(name, {})
    good: dict[str, tuple[int, dict]] = {}
    for line, row in rows:
        reasons: list[tuple[str, dict]] = []
        status = row.get("status", "")
        deleting = status == "tobedeleted"
        for column in (required if not deleting else ("sourcedId",)):
            if not row.get(column):
                reasons.append(("roster.missing_field", {"column": column}))
        if status and status not in spec.STATUSES:
            reasons.append(("roster.bad_value", {"column": "status", "value": status,
                                                 "allowed": ", ".join(spec.STATUSES)}))
        elif mode == "bulk" and deleting:
            reasons.append(("roster.delete_in_bulk", {}))
        modified = row.get("dateLastModified", "")
        if mode == "delta" and not modified:
            reasons.append(("roster.missing_field", {"column": "dateLastModified"}))
        elif modified and not _is_datetime(modified):
            reasons.append(("roster.bad_datetime", {"column": "dateLastModified", "value": modified}))
        for column in spec.DATE_FIELDS.get(name, ()):
            if row.get(column) and not _is_date(row[column]):
                reasons.append(("roster.bad_date", {"column": column, "value": row[column]}))
        if not deleting:
            for column, allowed in vocabularies.items():
                value = row.get(column, "")
                if value and value not in allowed:
                    reasons.append(("roster.bad_value", {"column": column, "value": value,
                                                         "allowed": ", ".join(a for a in allowed if a)}))
            for column in ("grades",):
                for code in filter(None, (g.strip() for g in row.get(column, "").split(","))):
                    if code not in spec.GRADES:
                        reasons.append(("roster.bad_grade", {"value": code}))
            if name == "academicSessions.csv" and row.get("schoolYear") and not _YEAR.match(row["schoolYear"]):
                reasons.append(("roster.bad_year", {"value": row["schoolYear"]}))
        sourced_id = row.get("sourcedId", "")
        if sourced_id and sourced_id in good:
            reasons.append(("roster.duplicate_id", {"id": sourced_id, "first": good[sourced_id][0]}))
        for key, params in reasons:
            problems.append(Problem(name, line, key, params))
        if reasons and sourced_id:
            rejected.add(sourced_id)
        if not reasons:
            good[sourced_id] = (line, row)
    return good


def _manifest(files: dict[str, str], problems: list[Problem]) -> dict[str, str]:
    """Each file's processing mode from manifest.csv (bulk, delta or absent)."""
    rows = _table("manifest.csv", files["manifest.csv"], problems) or []
    properties = {row["propertyName"]: (line, row["value"]) for line, row in rows}
    version = properties.get("oneroster.version")
    if not version or version[1] != "1.2":
        problems.append(Problem("manifest.csv", version[0] if version else 1, "roster.bad_version",
                                {"value": version[1] if version else ""}))
    modes = {}
    for name in spec.REQUIRED_FILES[1:] + spec.OPTIONAL_FILES:
        line, mode = properties.get(f"file.{name[:-4]}", (1, "absent"))
        if mode not in spec.PROCESSING_MODES:
            problems.append(Problem("manifest.csv", line, "roster.bad_value", {
                "column": f"file.{name[:-4]}", "value": mode, "allowed": ", ".join(spec.PROCESSING_MODES)}))
            mode = "absent"
        if mode != "absent" and name not in files:
            problems.append(Problem(name, 1, "roster.missing_file", {}))
            mode = "absent"
        modes[name] = mode
    return modes


# ---------------------------------------------------------------- the roster as a whole


@dataclass
class _Wanted:
    """The roster the bundle asks for, derived from the merged records."""

    schools: dict[str, dict] = field(default_factory=dict)      # org sourcedId -> school
    sessions: list[tuple] = field(default_factory=list)
    classes: dict[str, dict] = field(default_factory=dict)      # class sourcedId -> class
    pupils: dict[str, dict] = field(default_factory=dict)       # user sourcedId -> pupil
    staff: dict[str, dict] = field(default_factory=dict)        # user sourcedId -> account
    teacher_classes: set[tuple[str, str]] = field(default_factory=set)  # (user sid, class sid)
    enrollments: int = 0


def _school_kind(name: str, grades: set[int]) -> str:
    if "義務教育" in name:
        return "compulsory"
    if "中学" in name:
        return "junior_high"
    if "小学" in name:
        return "elementary"
    if grades and min(grades) >= 7:
        return "junior_high"
    return "compulsory" if grades and max(grades) >= 7 else "elementary"


def _login(username: str) -> str:
    """A portal login from the roster's username (often an e-mail address)."""
    login = re.sub(r"[^a-z0-9._-]", "-", username.strip().lower())
    return login if login[:1].isalnum() else f"u{login}"


def _grade_of(codes: str) -> int | None:
    grades = [spec.GRADES[c.strip()] for c in codes.split(",") if c.strip() in spec.GRADES]
    return min(grades) if grades else None


def _derive(merged: dict[str, Rows], today: date, problems: list[Problem],
            rejected: dict[str, set[str]]) -> _Wanted:
    """References across files, then the schools, classes, pupils and staff they make. A reference
    to a row rejected on its own is no second error (that row is named already)."""
    wanted = _Wanted()
    linked = _references(merged, problems, rejected)
    wanted.enrollments = linked.enrollments
    _derive_classes_and_schools(merged, linked, problems, wanted)
    _derive_people(merged, linked, today, problems, wanted)
    return wanted


@dataclass
class _Linked:
    """What the bundle's references leave standing: its schools, the classes and users whose
    references all resolve, each user's roles and (class, role) enrolments."""
    schools: set[str]
    live_classes: set[str]
    live_users: set[str]
    user_roles: dict[str, list[dict]]
    class_members: dict[str, list[tuple[str, str]]]
    enrollments: int


def _references(merged: dict[str, Rows], problems: list[Problem], rejected: dict[str, set[str]]) -> _Linked:
    """Every reference across the files checked; a dangling one named (once)."""
    orgs, sessions, courses = merged["orgs.csv"], merged["academicSessions.csv"], merged["courses.csv"]
    classes, users, roles = merged["classes.csv"], merged["users.csv"], merged["roles.csv"]
    enrollments = merged["enrollments.csv"]
    schools = {sid for sid, (_, row) in orgs.items() if row["type"] == "school"}
    enrolled = 0

    def refer(name: str, line: int | None, column: str, value: str, known, what: str) -> bool:
        if not value or value in known:
            return True
        target = what.split(" ")[0]
        if value in rejected.get(target, ()) or value in dangling.get(target, ()):
            return False
        # Roles and enrollments of earlier bundles go with the user or class they belong to;
        # any other record of an earlier bundle left hanging is named (line 0): the bundle
        # removed what it refers to without changing or removing the record itself.
        if line is None and name in ("roles.csv", "enrollments.csv"):
            return False
        problems.append(Problem(name, line or 0, "roster.unknown_reference" if line else "roster.earlier_reference", {
            "column": column, "value": value, "what": what}))
        return False

    dangling: dict[str, set[str]] = defaultdict(set)  # records of earlier bundles left hanging
    for line, row in orgs.values():
        refer("orgs.csv", line, "parentSourcedId", row.get("parentSourcedId", ""), orgs, "orgs.csv")
    for line, row in sessions.values():
        refer("academicSessions.csv", line, "parentSourcedId", row.get("parentSourcedId", ""), sessions,
              "academicSessions.csv")
    for sid, (line, row) in courses.items():
        ok = refer("courses.csv", line, "orgSourcedId", row["orgSourcedId"], orgs, "orgs.csv")
        ok &= refer("courses.csv", line, "schoolYearSourcedId", row.get("schoolYearSourcedId", ""), sessions,
                    "academicSessions.csv")
        if not ok:
            dangling["courses.csv"].add(sid)
    for sid, (line, row) in classes.items():
        ok = refer("classes.csv", line, "schoolSourcedId", row["schoolSourcedId"], schools, "orgs.csv (school)")
        ok &= refer("classes.csv", line, "courseSourcedId", row["courseSourcedId"],
                    courses.keys() - dangling["courses.csv"], "courses.csv")
        for term in (t.strip() for t in row["termSourcedIds"].split(",")):
            ok &= refer("classes.csv", line, "termSourcedIds", term, sessions, "academicSessions.csv")
        if not ok:
            dangling["classes.csv"].add(sid)
    live_classes = classes.keys() - dangling["classes.csv"]
    for sid, (line, row) in users.items():
        ok = refer("users.csv", line, "primaryOrgSourcedId", row.get("primaryOrgSourcedId", ""), orgs, "orgs.csv")
        ok &= refer("users.csv", line, "metadata.jp.homeClass", row.get("metadata.jp.homeClass", ""),
                    live_classes, "classes.csv")
        for agent in filter(None, (a.strip() for a in row.get("agentSourcedIds", "").split(","))):
            ok &= refer("users.csv", line, "agentSourcedIds", agent, users, "users.csv")
        if not ok:
            dangling["users.csv"].add(sid)
    live_users = users.keys() - dangling["users.csv"]
    user_roles: dict[str, list[dict]] = defaultdict(list)
    for line, row in roles.values():
        ok = refer("roles.csv", line, "userSourcedId", row["userSourcedId"], live_users, "users.csv")
        ok &= refer("roles.csv", line, "orgSourcedId", row["orgSourcedId"], orgs, "orgs.csv")
        if ok:
            user_roles[row["userSourcedId"]].append({**row, "_line": line})
    class_members: dict[str, list[tuple[str, str]]] = defaultdict(list)  # user -> [(class, role)]
    for line, row in enrollments.values():
        ok = refer("enrollments.csv", line, "classSourcedId", row["classSourcedId"], live_classes, "classes.csv")
        ok &= refer("enrollments.csv", line, "schoolSourcedId", row["schoolSourcedId"], schools,
                    "orgs.csv (school)")
        ok &= refer("enrollments.csv", line, "userSourcedId", row["userSourcedId"], live_users, "users.csv")
        if ok:
            class_members[row["userSourcedId"]].append((row["classSourcedId"], row["role"]))
            enrolled += 1
    return _Linked(schools, live_classes, live_users, user_roles, class_members, enrolled)


def _derive_classes_and_schools(merged: dict[str, Rows], linked: _Linked, problems: list[Problem],
                                wanted: _Wanted) -> None:
    """The fiscal year and its terms, the classes (grade, name) and the schools (code, kind)."""
    orgs, sessions, courses = merged["orgs.csv"], merged["academicSessions.csv"], merged["courses.csv"]
    classes = merged["classes.csv"]
    live_classes, schools = linked.live_classes, linked.schools
    # Sessions: the fiscal year and its terms.
    years = {}
    for sid, (_, row) in sessions.items():
        year = int(row["schoolYear"])
        years[sid] = year
        wanted.sessions.append((sid, row["title"], row["type"], year, row["startDate"], row["endDate"]))

    # Classes: grade from the class (or its course), name from classCode (or title).
    class_grades: dict[str, set[int]] = defaultdict(set)
    seen_names: dict[tuple, str] = {}
    for sid in sorted(live_classes):
        line, row = classes[sid]
        grade = _grade_of(row.get("grades", "")) or _grade_of(courses[row["courseSourcedId"]][1].get("grades", ""))
        class_name = row.get("classCode") or row["title"]
        if grade is None:
            if line is not None:
                problems.append(Problem("classes.csv", line, "roster.no_grade", {}))
            continue
        if len(class_name) > 20:
            if line is not None:
                problems.append(Problem("classes.csv", line, "roster.long_class_name", {"value": class_name}))
            continue
        key = (row["schoolSourcedId"], grade, class_name)
        if key in seen_names and line is not None:
            problems.append(Problem("classes.csv", line, "roster.same_class_name", {
                "grade": grade, "name": class_name, "other": seen_names[key]}))
            continue
        seen_names[key] = sid
        terms = [years[t.strip()] for t in row["termSourcedIds"].split(",") if t.strip() in years]
        wanted.classes[sid] = {"school": row["schoolSourcedId"], "grade": grade, "class_name": class_name,
                               "title": row["title"], "class_type": row["classType"],
                               "school_year": max(terms) if terms else None}
        class_grades[row["schoolSourcedId"]].add(grade)

    for sid in sorted(schools):
        row = orgs[sid][1]
        wanted.schools[sid] = {"code": (row.get("identifier") or sid).upper(), "name": row["name"],
                               "kind": _school_kind(row["name"], class_grades[sid])}


def _derive_people(merged: dict[str, Rows], linked: _Linked, today: date, problems: list[Problem],
                   wanted: _Wanted) -> None:
    """A student role makes a pupil (in their home class); a teacher, principal or site
    administrator an account (with the classes they teach)."""
    users = merged["users.csv"]
    live_users, user_roles, class_members = linked.live_users, linked.user_roles, linked.class_members
    logins: dict[str, str] = {}
    emails: dict[str, str] = {}
    for sid in sorted(live_users):
        line, row = users[sid]
        mine = [r for r in user_roles.get(sid, []) if r.get("status") != "tobedeleted"]
        if not mine:
            continue
        first = next((r for r in mine if r["roleType"] == "primary"), mine[0])
        org = first["orgSourcedId"]
        where = line if line is not None else first["_line"]
        family = row.get("preferredFamilyName") or row["familyName"]
        given = row.get("preferredGivenName") or row["givenName"]
        if first["role"] == "student":
            if org not in wanted.schools:
                if where is not None:
                    problems.append(Problem("roles.csv", first["_line"] or 1, "roster.not_a_school", {"value": org}))
                continue
            home = row.get("metadata.jp.homeClass", "")
            if not home:
                taken = [c for c, r in class_members.get(sid, []) if r == "student" and c in wanted.classes]
                homerooms = [c for c in taken if wanted.classes[c]["class_type"] == "homeroom"]
                home = (homerooms or taken or [""])[0]
            if home not in wanted.classes:
                if where is not None:
                    problems.append(Problem("users.csv", line or 1, "roster.no_home_class", {"id": sid}))
                continue
            if wanted.classes[home]["school"] != org:
                if where is not None:
                    problems.append(Problem("users.csv", line or 1, "roster.class_of_other_school", {"value": home}))
                continue
            if not 3 <= len(sid) <= 40:
                if line is not None:
                    problems.append(Problem("users.csv", line, "roster.bad_pupil_id", {"id": sid}))
                continue
            klass = wanted.classes[home]
            begin = first.get("beginDate") or ""
            wanted.pupils[sid] = {
                "school": org, "grade": klass["grade"], "class_name": klass["class_name"], "home_class": home,
                "family_name": family, "given_name": given,
                "kana_family": row.get("metadata.jp.kanaFamilyName", ""),
                "kana_given": row.get("metadata.jp.kanaGivenName", ""),
                "enrolled_on": date.fromisoformat(begin) if begin else today}
        elif any(r["role"] in STAFF_ROLES for r in mine):
            login = _login(row["username"])
            email = (row.get("email") or "").strip().lower() or None
            if not _LOGIN.match(login):
                if line is not None:
                    problems.append(Problem("users.csv", line, "roster.bad_username", {"value": row["username"]}))
                continue
            if login in logins:
                if line is not None:
                    problems.append(Problem("users.csv", line, "roster.duplicate_username", {"value": row["username"]}))
                continue
            if email and email in emails:
                if line is not None:
                    problems.append(Problem("users.csv", line, "roster.duplicate_email", {"value": email}))
                continue
            logins[login] = sid
            if email:
                emails[email] = sid
            staff_orgs = [r["orgSourcedId"] for r in mine if r["role"] in STAFF_ROLES]
            school = next((o for o in [org, *staff_orgs] if o in wanted.schools), None)
            wanted.staff[sid] = {
                "login": login, "name": f"{family} {given}", "email": email,
                "school": school, "disabled": row["enabledUser"] == "false",
                "admin": any(r["role"] in ADMIN_ROLES for r in mine), "line": line}
            for class_sid, role in class_members.get(sid, []):
                if role == "teacher" and class_sid in wanted.classes and wanted.classes[class_sid]["school"] == school:
                    wanted.teacher_classes.add((sid, class_sid))


def _read_bundle(store: Store, source, today: date) -> tuple[dict[str, Rows], dict[str, str], _Wanted | None,
                                                              list[Problem]]:
    try:
        files = _files(source)
    except InvalidInput as exc:  # reported like a bad row, so that --json stays one shape
        name = "upload.zip" if isinstance(source, bytes | bytearray | dict) else Path(source).name
        return {}, {}, None, [Problem(name, 0, exc.key, dict(exc.params))]
    problems: list[Problem] = []
    if "manifest.csv" not in files:
        return {}, {}, None, [Problem("manifest.csv", 1, "roster.missing_file", {})]
    modes = _manifest(files, problems)
    # Earlier records matter to files sent as delta or left absent only.
    earlier: dict[str, Rows] = defaultdict(dict)
    keep = [name for name, mode in modes.items() if mode != "bulk"]
    for name, sid, fields in store.query("SELECT file, sourced_id, fields FROM portal_roster_records "
                                         "WHERE file IN (SELECT unnest(?::VARCHAR[]))", [keep]):
        earlier[name][sid] = (None, dict(zip(spec.COLUMNS[name], fields.split(_SEP), strict=True)))
    merged: dict[str, Rows] = {}
    rejected: dict[str, set[str]] = defaultdict(set)
    for name in spec.REQUIRED_FILES[1:] + spec.OPTIONAL_FILES:
        mode = modes[name]
        if mode == "absent":
            merged[name] = dict(earlier.get(name, {}))
            continue
        rows = _table(name, files[name], problems)
        if rows is None:
            merged[name] = dict(earlier.get(name, {}))
            continue
        header_has_jp = any(c.startswith("metadata.jp.") for c in (rows[0][1] if rows else {}))
        good = _check_rows(name, mode, rows, header_has_jp, problems, rejected[name])
        if mode == "bulk":
            merged[name] = {sid: (line, row) for sid, (line, row) in good.items()}
        else:
            table = dict(earlier.get(name, {}))
            for sid, (line, row) in good.items():
                if row.get("status") == "tobedeleted":
                    table.pop(sid, None)
                else:
                    table[sid] = (line, row)
            merged[name] = table
    # References are checked even when rows were bad, so that every bad row is named at once;
    # the rest of the checks (a pupil's class, staff logins) need good rows to mean anything.
    found: list[Problem] = []
    wanted = _derive(merged, today, found, rejected)
    if problems:
        problems += [p for p in found if p.key in ("roster.unknown_reference", "roster.earlier_reference")]
        return merged, modes, None, problems
    return merged, modes, wanted, found


# ---------------------------------------------------------------- comparing with the store


def _current(store: Store) -> dict:
    pupils = {row[0]: row for row in store.query(
        "SELECT sourced_id, school_id, grade, class_name, status, family_name, given_name, kana_family, kana_given, "
        "home_class, enrolled_on, left_on FROM portal_roster_pupils")}
    staff = {sid: (uid, login, name, email, school, disabled) for sid, uid, login, name, email, school, disabled
             in store.query("SELECT s.sourced_id, u.id, u.login, u.display_name, u.email, u.school_id, u.disabled "
                            "FROM portal_roster_staff s JOIN portal_users u ON u.id = s.user_id")}
    return {"pupils": pupils, "staff": staff,
            "orgs": dict(store.query("SELECT sourced_id, school_id FROM portal_roster_orgs")),
            "codes": dict(store.query("SELECT code, id FROM portal_schools")),
            "school_codes": dict(store.query("SELECT id, code FROM portal_schools"))}


def _preview(wanted: _Wanted, now: dict, merged: dict[str, Rows], school_codes: dict[str, str]) -> Preview:
    preview = Preview()

    def label(p: dict) -> str:
        return f"{school_codes.get(p['school'], p['school'])} {p['grade']}-{p['class_name']}"

    old_pupils = now["pupils"]
    orgs_by_school = {v: k for k, v in now["orgs"].items()}
    for sid, p in sorted(wanted.pupils.items()):
        old = old_pupils.get(sid)
        name = f"{p['family_name']} {p['given_name']}"
        if old is None or old[4] == "left":
            preview.new_pupils.append({"id": sid, "name": name, "to": label(p)})
            continue
        before = {"school": orgs_by_school.get(old[1], old[1]), "grade": old[2], "class_name": old[3]}
        if (before["school"], before["grade"], before["class_name"]) != (p["school"], p["grade"], p["class_name"]):
            preview.moved_pupils.append({"id": sid, "name": name, "from": label(before), "to": label(p)})
    for sid, old in sorted(old_pupils.items()):
        if old[4] == "enrolled" and sid not in wanted.pupils:
            before = {"school": orgs_by_school.get(old[1], old[1]), "grade": old[2], "class_name": old[3]}
            preview.leaving_pupils.append({"id": sid, "name": f"{old[5]} {old[6]}", "from": label(before)})
    for sid, s in sorted(wanted.staff.items()):
        if sid not in now["staff"]:
            preview.new_teachers.append({"id": sid, "login": s["login"], "name": s["name"]})
    for sid, (_uid, login, name, *_rest) in sorted(now["staff"].items()):
        if sid not in wanted.staff:
            preview.leaving_teachers.append({"id": sid, "login": login, "name": name})
    return preview


def _counts(wanted: _Wanted) -> dict[str, int]:
    return {"schools": len(wanted.schools), "classes": len(wanted.classes), "pupils": len(wanted.pupils),
            "teachers": len(wanted.staff), "enrollments": wanted.enrollments}


def import_bundle(store: Store, clock: Clock, actor: Actor, source: str | Path | bytes, *,
                  dry_run: bool = False) -> ImportResult:
    """Check a OneRoster bundle whole and, when every row is good and not dry_run, store it."""
    actor.require(Role.CITY_ADMIN)
    return _import(store, clock, source, dry_run)


def _import(store: Store, clock: Clock, source, dry_run: bool) -> ImportResult:
    # Imports and hand edits take turns: each reads the roster, then writes what it decided.
    with store.lock("portal.roster"):
        return _import_alone(store, clock, source, dry_run)


def _import_alone(store: Store, clock: Clock, source, dry_run: bool) -> ImportResult:
    today = clock.now().date()
    merged, modes, wanted, problems = _read_bundle(store, source, today)
    if problems or wanted is None:
        order = spec.REQUIRED_FILES + spec.OPTIONAL_FILES
        problems.sort(key=lambda p: (order.index(p.file) if p.file in order else -1, p.line))
        return ImportResult(False, dict(ZERO_COUNTS), problems, dry_run=dry_run)
    now = _current(store)
    clashes = _account_clashes(store, wanted, now)
    if clashes:
        return ImportResult(False, dict(ZERO_COUNTS), clashes, dry_run=dry_run)
    records = [(name, sid, _SEP.join([row.get(c, "") for c in spec.COLUMNS[name]]))
               for name, rows in merged.items() for sid, (_, row) in rows.items()]
    school_codes = {sid: s["code"] for sid, s in wanted.schools.items()}
    preview = _preview(wanted, now, merged, school_codes)
    preview.changed = _differs(store, records)
    result = ImportResult(True, _counts(wanted), [], preview, dry_run)
    if dry_run or not preview.changed:
        return result
    with statements_held(store):  # it stamps learning records with their learner's class
        store.write(lambda cur: _apply(cur, clock, wanted, records, now, preview))
    result.stored = True
    return result


def statements_held(store: Store) -> contextlib.AbstractContextManager:
    """A block in which analytics' writers of learning records stand still (when it is
    installed): for a transaction that writes or stamps learning records as they do."""
    held = provided.provided(offers.ANALYTICS_STATEMENTS_HELD)
    return held(store) if held else contextlib.nullcontext()


def _account_clashes(store: Store, wanted: _Wanted, now: dict) -> list[Problem]:
    """Staff whose e-mail address belongs to another account (e-mail signs them in)."""
    by_email = {email: (uid, login) for uid, login, email in store.query(
        "SELECT id, login, email FROM portal_users WHERE email IS NOT NULL")}
    problems = []
    for sid, s in wanted.staff.items():
        owner = by_email.get(s["email"]) if s["email"] else None
        mine = now["staff"].get(sid, (None,))[0]
        if owner and owner[0] != mine and owner[1] != s["login"]:
            problems.append(Problem("users.csv", s["line"] or 0, "roster.email_taken", {"value": s["email"]}))
    return problems


def _differs(store: Store, records: list[tuple[str, str, str]]) -> bool:
    """Whether the records differ from the stored ones."""
    stored = store.query("SELECT file, sourced_id, fields FROM portal_roster_records")
    return len(stored) != len(records) or set(stored) != set(records)


# ---------------------------------------------------------------- writing


def _insert_frame(cur, table: str, frame: pl.DataFrame) -> None:
    if frame.height:
        cur.register("_roster_rows", frame)
        cur.execute(f"INSERT INTO {table} ({', '.join(frame.columns)}) SELECT * FROM _roster_rows")
        cur.unregister("_roster_rows")


def _apply(cur, clock: Clock, wanted: _Wanted, records, now: dict, preview: Preview) -> None:
    today, moment = clock.now().date(), clock.now()
    # Records of the bundles, for the next delta.
    cur.execute("DELETE FROM portal_roster_records")
    _insert_frame(cur, "portal_roster_records", pl.DataFrame(
        records, schema={"file": pl.Utf8, "sourced_id": pl.Utf8, "fields": pl.Utf8}, orient="row"))

    # Schools: a roster school joins the portal school of the same code, or becomes one.
    school_ids: dict[str, int] = {}
    for sid, school in wanted.schools.items():
        school_id = now["orgs"].get(sid) or now["codes"].get(school["code"])
        if school_id is None:
            school_id = cur.execute(
                "INSERT INTO portal_schools (code, name_ja, name_en, kind) VALUES (?, ?, ?, ?) RETURNING id",
                [school["code"], school["name"], school["name"], school["kind"]]).fetchone()[0]
        else:
            # A school the portal knew keeps its kind: the roster's name is only a hint of it.
            cur.execute("UPDATE portal_schools SET code = ?, name_ja = ? WHERE id = ? "
                        "AND (code, name_ja) IS DISTINCT FROM (?, ?)",
                        [school["code"], school["name"], school_id, school["code"], school["name"]])
        school_ids[sid] = school_id
    cur.execute("DELETE FROM portal_roster_orgs")
    if school_ids:
        cur.executemany("INSERT INTO portal_roster_orgs VALUES (?, ?)", list(school_ids.items()))

    cur.execute("DELETE FROM portal_roster_sessions")
    if wanted.sessions:
        cur.executemany("INSERT INTO portal_roster_sessions VALUES (?, ?, ?, ?, ?, ?)", wanted.sessions)
    cur.execute("DELETE FROM portal_roster_classes")
    _insert_frame(cur, "portal_roster_classes", pl.DataFrame(
        [{"sourced_id": sid, "school_id": school_ids[c["school"]], "grade": c["grade"],
          "class_name": c["class_name"], "title": c["title"], "class_type": c["class_type"],
          "school_year": c["school_year"]} for sid, c in wanted.classes.items()],
        schema={"sourced_id": pl.Utf8, "school_id": pl.Int32, "grade": pl.Int32, "class_name": pl.Utf8,
                "title": pl.Utf8, "class_type": pl.Utf8, "school_year": pl.Int32}))

    # Pupils: the wanted ones enrolled, those no longer listed left (kept, with the day they left).
    pupils = []
    for sid, p in wanted.pupils.items():
        old = now["pupils"].get(sid)
        enrolled_on = old[10] if old is not None and old[4] == "enrolled" else p["enrolled_on"]
        pupils.append({"sourced_id": sid, "school_id": school_ids[p["school"]], "grade": p["grade"],
                       "class_name": p["class_name"], "home_class": p["home_class"],
                       "family_name": p["family_name"], "given_name": p["given_name"],
                       "kana_family": p["kana_family"], "kana_given": p["kana_given"], "status": "enrolled",
                       "enrolled_on": enrolled_on, "left_on": None})
    for sid, old in now["pupils"].items():
        if sid not in wanted.pupils:
            (_, school_id, grade, class_name, status, family, given, kana_family, kana_given, home,
             enrolled_on, left_on) = old
            left_on = today if status == "enrolled" else left_on
            pupils.append({"sourced_id": sid, "school_id": school_id, "grade": grade, "class_name": class_name,
                           "home_class": home, "family_name": family, "given_name": given,
                           "kana_family": kana_family, "kana_given": kana_given, "status": "left",
                           "enrolled_on": enrolled_on, "left_on": left_on})
    cur.execute("DELETE FROM portal_roster_pupils")
    _insert_frame(cur, "portal_roster_pupils", pl.DataFrame(pupils, schema={
        "sourced_id": pl.Utf8, "school_id": pl.Int32, "grade": pl.Int32, "class_name": pl.Utf8,
        "home_class": pl.Utf8, "family_name": pl.Utf8, "given_name": pl.Utf8, "kana_family": pl.Utf8,
        "kana_given": pl.Utf8, "status": pl.Utf8, "enrolled_on": pl.Date, "left_on": pl.Date}))
    cur.execute("""UPDATE portal_schools s SET pupils = coalesce(
                       (SELECT count(*) FROM portal_roster_pupils p WHERE p.school_id = s.id
                        AND p.status = 'enrolled'), 0)
                   WHERE s.id IN (SELECT school_id FROM portal_roster_orgs)""")

    _apply_staff(cur, moment, wanted, now, school_ids)

    # The modules that keep pupils of their own follow in this transaction.
    classes = [(school_ids[c["school"]], c["grade"], c["class_name"]) for c in wanted.classes.values()]
    enrolled = [(sid, school_ids[p["school"]], p["grade"], p["class_name"]) for sid, p in wanted.pupils.items()]
    leavers = [p["id"] for p in preview.leaving_pupils]
    for offer in (offers.SCHOOL_ICT_APPLY_ROSTER, offers.ANALYTICS_APPLY_ROSTER):
        follow = provided.provided(offer)
        if follow:
            follow(cur, classes, enrolled, leavers, moment)


def _apply_staff(cur, moment: datetime, wanted: _Wanted, now: dict, school_ids: dict[str, int]) -> None:
    """Teachers' accounts, roles and classes, set-based (830 one-by-one statements took seconds)."""
    frame = pl.DataFrame(
        [{"sourced_id": sid, "user_id": now["staff"][sid][0] if sid in now["staff"] else None,
          "login": s["login"], "display_name": s["name"], "email": s["email"],
          "school_id": school_ids.get(s["school"]) if s["school"] else None,
          "disabled": s["disabled"], "admin": s["admin"]} for sid, s in wanted.staff.items()],
        schema={"sourced_id": pl.Utf8, "user_id": pl.Int32, "login": pl.Utf8, "display_name": pl.Utf8,
                "email": pl.Utf8, "school_id": pl.Int32, "disabled": pl.Boolean, "admin": pl.Boolean})
    cur.register("_roster_staff", frame)
    cur.execute("CREATE OR REPLACE TEMP TABLE _staff AS SELECT * FROM _roster_staff")
    cur.unregister("_roster_staff")
    # A teacher the city already made by hand (same login, not yet the roster's) becomes the roster's.
    # So does the account of a roster record now leaving under a new sourcedId with the same username.
    cur.execute("""UPDATE _staff s SET user_id = u.id FROM portal_users u
                   WHERE s.user_id IS NULL AND u.login = s.login AND u.id NOT IN
                     (SELECT user_id FROM portal_roster_staff WHERE sourced_id IN (SELECT sourced_id FROM _staff))""")
    cur.execute("""INSERT INTO portal_users (login, display_name, email, school_id, disabled, created_at)
                   SELECT login, display_name, email, school_id, disabled, ? FROM _staff WHERE user_id IS NULL""",
                [moment])
    cur.execute("UPDATE _staff s SET user_id = u.id FROM portal_users u WHERE s.user_id IS NULL AND u.login = s.login")
    # Only rows that differ are updated (DuckDB rewrites a row whose unique columns are set).
    cur.execute("""UPDATE portal_users u SET login = s.login, display_name = s.display_name, email = s.email,
                       school_id = s.school_id, disabled = s.disabled
                   FROM _staff s WHERE u.id = s.user_id AND (u.login, u.display_name, u.email, u.school_id,
                       u.disabled) IS DISTINCT FROM (s.login, s.display_name, s.email, s.school_id, s.disabled)""")
    cur.execute("""INSERT OR IGNORE INTO portal_user_roles
                   SELECT user_id, 'teacher' FROM _staff UNION SELECT user_id, 'school_admin' FROM _staff WHERE admin""")
    # A roster teacher who is no longer a principal or site administrator stops being a school administrator.
    cur.execute("DELETE FROM portal_user_roles WHERE role = 'school_admin' AND user_id IN "
                "(SELECT user_id FROM _staff WHERE NOT admin)")
    # Teachers no longer on the roster: their account is disabled and their classes end.
    kept = {row[0] for row in cur.execute("SELECT user_id FROM _staff").fetchall()}
    gone = [uid for sid, (uid, *_rest) in now["staff"].items() if sid not in wanted.staff and uid not in kept]
    if gone:
        cur.execute("UPDATE portal_users SET disabled = true WHERE id IN (SELECT unnest(?::INTEGER[]))", [gone])
    cur.execute("DELETE FROM portal_roster_staff")
    cur.execute("INSERT INTO portal_roster_staff SELECT sourced_id, user_id FROM _staff")
    # Roster teachers' classes are exactly their enrollments.
    cur.execute("DELETE FROM portal_teacher_classes WHERE user_id IN (SELECT user_id FROM _staff) "
                "OR user_id IN (SELECT unnest(?::INTEGER[]))", [gone])
    links = pl.DataFrame(
        sorted({(u, school_ids[wanted.classes[c]["school"]], wanted.classes[c]["grade"],
                 wanted.classes[c]["class_name"]) for u, c in wanted.teacher_classes}),
        schema={"sourced_id": pl.Utf8, "school_id": pl.Int32, "grade": pl.Int32, "class_name": pl.Utf8},
        orient="row")
    cur.register("_roster_links", links)
    cur.execute("""INSERT INTO portal_teacher_classes SELECT s.user_id, l.school_id, l.grade, l.class_name
                   FROM _roster_links l JOIN _staff s USING (sourced_id)""")
    cur.unregister("_roster_links")
    cur.execute("DROP TABLE _staff")


# ---------------------------------------------------------------- reading the roster


def school_classes(store: Store, code: str) -> list[dict]:
    """A school's classes with their enrolled pupils: the roster's classes, or, for a school
    with no roster, the classes pupils are in."""
    school = store.query("SELECT id FROM portal_schools WHERE code = ?", [code.strip().upper()])
    if not school:
        raise NotFound("roster.no_such_school", code=code)
    rows = store.query(
        """WITH counted AS (SELECT grade, class_name, count(*) AS pupils FROM portal_roster_pupils
                            WHERE school_id = ? AND status = 'enrolled' GROUP BY ALL)
           SELECT coalesce(c.grade, n.grade) AS g, coalesce(c.class_name, n.class_name) AS name, c.title,
                  c.class_type, c.school_year, coalesce(n.pupils, 0)
           FROM (SELECT * FROM portal_roster_classes WHERE school_id = ?) c
           FULL JOIN counted n ON n.grade = c.grade AND n.class_name = c.class_name
           ORDER BY g, lpad(name, 3, '0'), name""", [school[0][0], school[0][0]])
    return [{"grade": g, "class_name": n, "title": title or f"{g}-{n}", "class_type": kind or "homeroom",
             "school_year": year, "pupils": pupils} for g, n, title, kind, year, pupils in rows]


def pupil_names(store: Store, actor: Actor, school_id: int, grade: int, class_name: str) -> dict[str, tuple[str, str]]:
    """learner id -> (name, kana) of the pupils of a class, for its own teachers (and the school's
    administrators) only; anyone else gets nothing, and sees pseudonyms. Offered as
    "portal.pupil_names" to the learning dashboards."""
    if actor.school_id != school_id or not actor.has(Role.TEACHER, Role.SCHOOL_ADMIN):
        return {}
    if not actor.has(Role.SCHOOL_ADMIN) and not store.query(
            "SELECT 1 FROM portal_teacher_classes WHERE user_id = ? AND school_id = ? AND grade = ? "
            "AND class_name = ?", [actor.user_id, school_id, grade, class_name]):
        return {}
    return {sid: (f"{family} {given}", f"{kana_family} {kana_given}".strip())
            for sid, family, given, kana_family, kana_given in store.query(
                "SELECT sourced_id, family_name, given_name, kana_family, kana_given FROM portal_roster_pupils "
                "WHERE school_id = ? AND grade = ? AND class_name = ? AND status = 'enrolled'",
                [school_id, grade, class_name])}


def pupils_left_longer_than(cur, kept: timedelta, today: date) -> list[str]:
    """The learner ids (sourcedIds) of pupils who left school more than `kept` before `today`
    (whole years as calendar years: retention.first_kept_day) and have not come back, read in
    the caller's transaction. Offered as "portal.pupils_left_longer_than" to the modules that
    keep a pupil's data past leaving (their retention rules): only the roster knows who left when."""
    from portal.services.retention import first_kept_day

    return [sid for (sid,) in cur.execute(
        "SELECT sourced_id FROM portal_roster_pupils WHERE status = 'left' AND left_on < ? ORDER BY sourced_id",
        [first_kept_day(today, kept)]).fetchall()]


def problems_as_json(t, problems: Iterable[Problem]) -> list[dict]:
    return [{"file": p.file, "line": p.line, "reason": t(p.key, **p.params)} for p in problems]


def require_school(actor: Actor, school_id: int) -> None:
    if not actor.has(Role.CITY_ADMIN) and actor.school_id != school_id:
        raise PermissionDenied("roster.other_school")


# ---------------------------------------------------------------- hand edits

# A school administrator adds or corrects a pupil, a class or a teacher of their own school by
# hand. The edit is a small delta bundle going through the same checks and the same writing as
# an import, so the other modules follow it too. The next bulk bundle from the school system is
# the roster again: a correction made only here is undone by it.


def _csv(name: str, rows: list[dict]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(spec.COLUMNS[name])
    writer.writerows([[row.get(c, "") for c in spec.COLUMNS[name]] for row in rows])
    return out.getvalue()


def _edit(store: Store, clock: Clock, rows: dict[str, list[dict]]) -> ImportResult:
    stamp = clock.now().isoformat()
    manifest = [("manifest.version", "1.0"), ("oneroster.version", "1.2")]
    manifest += [(f"file.{name[:-4]}", "delta" if name in rows else "absent")
                 for name in spec.REQUIRED_FILES[1:] + spec.OPTIONAL_FILES]
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows([("propertyName", "value"), *manifest])
    files = {"manifest.csv": out.getvalue()}
    for name, file_rows in rows.items():
        files[name] = _csv(name, [{"status": "active", **row, "dateLastModified": stamp} for row in file_rows])
    return _import(store, clock, files, dry_run=False)


def _record(store: Store, name: str, sourced_id: str) -> dict:
    row = store.query("SELECT fields FROM portal_roster_records WHERE file = ? AND sourced_id = ?",
                      [name, sourced_id])
    return dict(zip(spec.COLUMNS[name], row[0][0].split(_SEP), strict=True)) if row else {}


def _school_org(store: Store, actor: Actor, school_id: int) -> str:
    actor.require(Role.CITY_ADMIN, Role.SCHOOL_ADMIN)
    require_school(actor, school_id)
    org = store.query("SELECT sourced_id FROM portal_roster_orgs WHERE school_id = ?", [school_id])
    if not org:
        raise InvalidInput("roster.no_roster_school")
    return org[0][0]


def roster_classes(store: Store, actor: Actor, school_id: int) -> list[dict]:
    """The roster's classes of a school (sourcedId, grade, class name, title) for the edit page."""
    _school_org(store, actor, school_id)
    return [{"id": sid, "grade": g, "class_name": n, "title": title} for sid, g, n, title in store.query(
        "SELECT sourced_id, grade, class_name, title FROM portal_roster_classes WHERE school_id = ? "
        "ORDER BY grade, lpad(class_name, 3, '0')", [school_id])]


def roster_pupils(store: Store, actor: Actor, school_id: int) -> list[dict]:
    """A school's enrolled pupils by name, for its own administrators and the city's."""
    _school_org(store, actor, school_id)
    return [{"id": sid, "family_name": f, "given_name": g, "kana_family": kf, "kana_given": kg, "grade": gr,
             "class_name": c, "home_class": h} for sid, f, g, kf, kg, gr, c, h in store.query(
        "SELECT sourced_id, family_name, given_name, kana_family, kana_given, grade, class_name, home_class "
        "FROM portal_roster_pupils WHERE school_id = ? AND status = 'enrolled' "
        "ORDER BY grade, lpad(class_name, 3, '0'), kana_family, kana_given", [school_id])]


def save_pupil(store: Store, clock: Clock, actor: Actor, school_id: int, *, sourced_id: str | None,
               family_name: str, given_name: str, kana_family: str, kana_given: str,
               class_id: str) -> ImportResult:
    """Add a pupil (sourced_id None) or correct one: name, kana and home class."""
    org = _school_org(store, actor, school_id)
    sourced_id = sourced_id or f"M-{uuid.uuid4()}"[:40]
    user = _record(store, "users.csv", sourced_id) or {
        "sourcedId": sourced_id, "enabledUser": "true", "username": sourced_id.lower(), "primaryOrgSourcedId": org}
    if user.get("primaryOrgSourcedId", org) != org:
        raise PermissionDenied("roster.other_school")
    user |= {"familyName": family_name.strip(), "givenName": given_name.strip(),
             "preferredFamilyName": "", "preferredGivenName": "",
             "metadata.jp.kanaFamilyName": kana_family.strip(), "metadata.jp.kanaGivenName": kana_given.strip(),
             "metadata.jp.homeClass": class_id}
    rows = {"users.csv": [user]}
    if not _record(store, "roles.csv", f"R-{sourced_id}") and not store.query(
            "SELECT 1 FROM portal_roster_pupils WHERE sourced_id = ? AND status = 'enrolled'", [sourced_id]):
        rows["roles.csv"] = [{"sourcedId": f"R-{sourced_id}", "userSourcedId": sourced_id, "roleType": "primary",
                              "role": "student", "orgSourcedId": org}]
    return _edit(store, clock, rows)


def save_class(store: Store, clock: Clock, actor: Actor, school_id: int, *, sourced_id: str | None, grade: int,
               class_name: str, title: str) -> ImportResult:
    """Add a homeroom class of the current fiscal year (sourced_id None) or correct its name."""
    org = _school_org(store, actor, school_id)
    if not 1 <= int(grade) <= 9:
        raise InvalidInput("roster.bad_grade", value=grade)
    code = next(c for c, g in spec.GRADES.items() if g == int(grade))
    klass = _record(store, "classes.csv", sourced_id) if sourced_id else {}
    rows: dict[str, list[dict]] = {}
    if not klass:
        year = store.query("SELECT sourced_id FROM portal_roster_sessions WHERE kind = 'schoolYear' "
                           "ORDER BY school_year DESC LIMIT 1")
        if not year:
            raise InvalidInput("roster.no_roster_school")
        course = f"M-{org}-{code}"
        if not _record(store, "courses.csv", course):
            rows["courses.csv"] = [{"sourcedId": course, "title": title.strip() or class_name, "grades": code,
                                    "orgSourcedId": org, "schoolYearSourcedId": year[0][0]}]
        klass = {"sourcedId": f"M-{uuid.uuid4()}", "courseSourcedId": course, "classType": "homeroom",
                 "schoolSourcedId": org, "termSourcedIds": year[0][0]}
    elif klass["schoolSourcedId"] != org:
        raise PermissionDenied("roster.other_school")
    klass |= {"title": title.strip() or class_name.strip(), "classCode": class_name.strip(), "grades": code}
    rows["classes.csv"] = [klass]
    return _edit(store, clock, rows)


def save_teacher(store: Store, clock: Clock, actor: Actor, school_id: int, *, sourced_id: str | None,
                 username: str, family_name: str, given_name: str, kana_family: str, kana_given: str,
                 email: str, class_ids: list[str]) -> ImportResult:
    """Add a teacher (an account signing in by e-mail) or correct one, with the classes they teach."""
    org = _school_org(store, actor, school_id)
    # By hand, a roster teacher never takes over an account that is not theirs (the bulk
    # import by the city administrator may link a hand-made account of the same login).
    owner = store.query("SELECT u.id, s.sourced_id FROM portal_users u LEFT JOIN portal_roster_staff s "
                        "ON s.user_id = u.id WHERE u.login = ?", [_login(username)])
    if owner and (sourced_id is None or owner[0][1] != sourced_id):
        raise InvalidInput("accounts.login_taken", login=_login(username))
    sourced_id = sourced_id or f"M-{uuid.uuid4()}"[:40]
    user = _record(store, "users.csv", sourced_id) or {
        "sourcedId": sourced_id, "enabledUser": "true", "primaryOrgSourcedId": org}
    if user.get("primaryOrgSourcedId", org) != org:
        raise PermissionDenied("roster.other_school")
    user |= {"username": username.strip(), "familyName": family_name.strip(), "givenName": given_name.strip(),
             "preferredFamilyName": "", "preferredGivenName": "", "email": email.strip(),
             "metadata.jp.kanaFamilyName": kana_family.strip(), "metadata.jp.kanaGivenName": kana_given.strip()}
    rows = {"users.csv": [user]}
    if not store.query("SELECT 1 FROM portal_roster_staff WHERE sourced_id = ?", [sourced_id]):
        rows["roles.csv"] = [{"sourcedId": f"R-{sourced_id}", "userSourcedId": sourced_id, "roleType": "primary",
                              "role": "teacher", "orgSourcedId": org}]
    # Classes no longer ticked end; ticked ones not yet taught begin.
    taught = {}
    for sid, fields in store.query("SELECT sourced_id, fields FROM portal_roster_records WHERE file = 'enrollments.csv' "
                                   "AND contains(fields, ?)", [sourced_id]):
        row = dict(zip(spec.COLUMNS["enrollments.csv"], fields.split(_SEP), strict=True))
        if row["userSourcedId"] == sourced_id and row["role"] == "teacher":
            taught[row["classSourcedId"]] = sid
    rows["enrollments.csv"] = [{"sourcedId": sid, "status": "tobedeleted"} for c, sid in taught.items()
                               if c not in class_ids]
    rows["enrollments.csv"] += [{"sourcedId": f"M-{sourced_id}-{c}", "classSourcedId": c, "schoolSourcedId": org,
                                 "userSourcedId": sourced_id, "role": "teacher", "primary": "true"}
                                for c in class_ids if c not in taught]
    return _edit(store, clock, rows)


def roster_teachers(store: Store, actor: Actor, school_id: int) -> list[dict]:
    """A school's roster teachers as the edit page shows them, with the classes they teach."""
    _school_org(store, actor, school_id)
    found = []
    for sid, fields, classes in store.query(
            """SELECT s.sourced_id, r.fields, list(c.sourced_id) FILTER (WHERE c.sourced_id IS NOT NULL)
               FROM portal_roster_staff s JOIN portal_users u ON u.id = s.user_id AND u.school_id = ?
               JOIN portal_roster_records r ON r.file = 'users.csv' AND r.sourced_id = s.sourced_id
               LEFT JOIN portal_teacher_classes t ON t.user_id = u.id
               LEFT JOIN portal_roster_classes c ON c.school_id = t.school_id AND c.grade = t.grade
                    AND c.class_name = t.class_name
               WHERE NOT u.disabled GROUP BY ALL ORDER BY 2""", [school_id]):
        row = dict(zip(spec.COLUMNS["users.csv"], fields.split(_SEP), strict=True))
        found.append({"id": sid, "username": row["username"], "family_name": row["familyName"],
                      "given_name": row["givenName"], "kana_family": row.get("metadata.jp.kanaFamilyName", ""),
                      "kana_given": row.get("metadata.jp.kanaGivenName", ""), "email": row.get("email", ""),
                      "classes": sorted(classes or [])})
    return found


def roster_schools(store: Store, actor: Actor) -> list[tuple[int, str]]:
    """(school id, name) of the roster's schools the actor may edit."""
    actor.require(Role.CITY_ADMIN, Role.SCHOOL_ADMIN)
    rows = store.query("SELECT s.id, s.name_ja FROM portal_schools s JOIN portal_roster_orgs o ON o.school_id = s.id "
                       "ORDER BY s.code")
    return [r for r in rows if actor.has(Role.CITY_ADMIN) or r[0] == actor.school_id]
