"""The OneRoster 1.2 CSV binding's files and columns, with the Japan Profile's extra
columns, in one place: the roster import reads nothing else.

Sources (read 2026-12, never guessed):
- 1EdTech, OneRoster 1.2 CSV binding, https://www.imsglobal.org/spec/oneroster/v1p2/bind/csv/
  (file names, column names and order, required fields, the vocabularies below).
- 1EdTech Japan, OneRoster Japan Profile, as its conformance samples check it:
  github.com/1EdTechJapan/DA2022, "OneRoster1.2_CSV入力/K社/サンプルコード/oneroster_csv_schema.py"
  (the metadata.jp.* columns: users' kana names and home class, classes' specialNeeds,
  enrollments' ShussekiNo and PublicFlg; grades P1-P6 and J1-J3).
"""

from __future__ import annotations

# Files a bundle must hold, and the optional ones this import reads when present.
REQUIRED_FILES = ("manifest.csv", "orgs.csv", "academicSessions.csv", "courses.csv", "classes.csv",
                  "users.csv", "roles.csv", "enrollments.csv")
OPTIONAL_FILES = ("demographics.csv", "userProfiles.csv")

# manifest.csv is two columns of property and value; file.<name> says bulk, delta or absent.
MANIFEST_COLUMNS = ("propertyName", "value")
PROCESSING_MODES = ("bulk", "delta", "absent")

# Every file's columns in the binding's order; the metadata.jp.* ones are the Japan Profile's.
COLUMNS: dict[str, tuple[str, ...]] = {
    "academicSessions.csv": ("sourcedId", "status", "dateLastModified", "title", "type", "startDate",
                             "endDate", "parentSourcedId", "schoolYear"),
    "orgs.csv": ("sourcedId", "status", "dateLastModified", "name", "type", "identifier", "parentSourcedId"),
    "courses.csv": ("sourcedId", "status", "dateLastModified", "schoolYearSourcedId", "title", "courseCode",
                    "grades", "orgSourcedId", "subjects", "subjectCodes"),
    "classes.csv": ("sourcedId", "status", "dateLastModified", "title", "grades", "courseSourcedId", "classCode",
                    "classType", "location", "schoolSourcedId", "termSourcedIds", "subjects", "subjectCodes",
                    "periods", "metadata.jp.specialNeeds"),
    "users.csv": ("sourcedId", "status", "dateLastModified", "enabledUser", "username", "userIds", "givenName",
                  "familyName", "middleName", "identifier", "email", "sms", "phone", "agentSourcedIds", "grades",
                  "password", "userMasterIdentifier", "resourceSourcedIds", "preferredGivenName",
                  "preferredMiddleName", "preferredFamilyName", "primaryOrgSourcedId", "pronouns",
                  "metadata.jp.kanaGivenName", "metadata.jp.kanaFamilyName", "metadata.jp.kanaMiddleName",
                  "metadata.jp.homeClass"),
    "roles.csv": ("sourcedId", "status", "dateLastModified", "userSourcedId", "roleType", "role", "beginDate",
                  "endDate", "orgSourcedId", "userProfileSourcedId"),
    "enrollments.csv": ("sourcedId", "status", "dateLastModified", "classSourcedId", "schoolSourcedId",
                        "userSourcedId", "role", "primary", "beginDate", "endDate", "metadata.jp.ShussekiNo",
                        "metadata.jp.PublicFlg"),
    "demographics.csv": ("sourcedId", "status", "dateLastModified", "birthDate", "sex",
                         "americanIndianOrAlaskaNative", "asian", "blackOrAfricanAmerican",
                         "nativeHawaiianOrOtherPacificIslander", "white", "demographicRaceTwoOrMoreRaces",
                         "hispanicOrLatinoEthnicity", "countryOfBirthCode", "stateOfBirthAbbreviation",
                         "cityOfBirth", "publicSchoolResidenceStatus"),
    "userProfiles.csv": ("sourcedId", "status", "dateLastModified", "userSourcedId", "profileType", "vendorId",
                         "applicationId", "description", "credentialType", "username", "password"),
}

# Fields the binding marks required (a value must be given).
REQUIRED_FIELDS: dict[str, tuple[str, ...]] = {
    "academicSessions.csv": ("sourcedId", "title", "type", "startDate", "endDate", "schoolYear"),
    "orgs.csv": ("sourcedId", "name", "type"),
    "courses.csv": ("sourcedId", "title", "orgSourcedId"),
    "classes.csv": ("sourcedId", "title", "courseSourcedId", "classType", "schoolSourcedId", "termSourcedIds"),
    "users.csv": ("sourcedId", "enabledUser", "username", "givenName", "familyName"),
    "roles.csv": ("sourcedId", "userSourcedId", "roleType", "role", "orgSourcedId"),
    "enrollments.csv": ("sourcedId", "classSourcedId", "schoolSourcedId", "userSourcedId", "role"),
    "demographics.csv": ("sourcedId",),
    "userProfiles.csv": ("sourcedId", "userSourcedId", "profileType", "vendorId", "credentialType", "username"),
}
# The Japan Profile requires the kana readings of every user's name.
JAPAN_REQUIRED_FIELDS = {"users.csv": ("metadata.jp.kanaGivenName", "metadata.jp.kanaFamilyName")}

# Fields holding a date (YYYY-MM-DD); dateLastModified holds a date and time (ISO 8601).
DATE_FIELDS: dict[str, tuple[str, ...]] = {
    "academicSessions.csv": ("startDate", "endDate"),
    "roles.csv": ("beginDate", "endDate"),
    "enrollments.csv": ("beginDate", "endDate"),
    "demographics.csv": ("birthDate",),
}

# The binding's vocabularies.
STATUSES = ("active", "tobedeleted")
VOCABULARIES: dict[str, dict[str, tuple[str, ...]]] = {
    "orgs.csv": {"type": ("department", "school", "district", "local", "state", "national")},
    "academicSessions.csv": {"type": ("gradingPeriod", "semester", "schoolYear", "term")},
    "classes.csv": {"classType": ("homeroom", "scheduled")},
    "users.csv": {"enabledUser": ("true", "false")},
    "roles.csv": {"roleType": ("primary", "secondary"),
                  "role": ("aide", "counselor", "districtAdministrator", "guardian", "parent", "principal",
                           "proctor", "relative", "siteAdministrator", "student", "systemAdministrator",
                           "teacher")},
    "enrollments.csv": {"role": ("administrator", "proctor", "student", "teacher"),
                        "primary": ("true", "false", "")},
}

# The Japan Profile's grade codes (小学校 P1-P6, 中学校 J1-J3) as Manabi's grades 1-9.
GRADES = {"P1": 1, "P2": 2, "P3": 3, "P4": 4, "P5": 5, "P6": 6, "J1": 7, "J2": 8, "J3": 9}
