-- The city's school roster, imported from OneRoster 1.2 CSV bundles (portal/services/roster.py).
-- Schools stay in portal_schools, teachers in portal_users (role teacher, no password: they sign
-- in with the school's identity provider by e-mail), their classes in portal_teacher_classes.
-- These tables keep what links them to the bundle: each record's sourcedId.

-- Every record of the last bundles as the sender gave it (the values of the file's columns in
-- the binding's order, joined by U+001F): a delta bundle is applied on top of them, and a
-- bundle seen before changes nothing.
-- No primary key: each import rewrites the table whole from records keyed by (file, sourcedId)
-- already, and DuckDB's index made that rewrite the slowest step of a city's import.
CREATE TABLE portal_roster_records (
    file        VARCHAR NOT NULL,
    sourced_id  VARCHAR NOT NULL,
    fields      VARCHAR NOT NULL
);

CREATE TABLE portal_roster_orgs (
    sourced_id  VARCHAR PRIMARY KEY,
    school_id   INTEGER UNIQUE
);

-- Academic sessions: the fiscal year (schoolYear) and its terms.
CREATE TABLE portal_roster_sessions (
    sourced_id   VARCHAR PRIMARY KEY,
    title        VARCHAR NOT NULL,
    kind         VARCHAR NOT NULL,
    school_year  INTEGER NOT NULL,
    start_date   DATE NOT NULL,
    end_date     DATE NOT NULL
);

CREATE TABLE portal_roster_classes (
    sourced_id   VARCHAR PRIMARY KEY,
    school_id    INTEGER NOT NULL,
    grade        INTEGER NOT NULL CHECK (grade BETWEEN 1 AND 9),
    class_name   VARCHAR NOT NULL CHECK (length(class_name) BETWEEN 1 AND 20),
    title        VARCHAR NOT NULL,
    class_type   VARCHAR NOT NULL CHECK (class_type IN ('homeroom', 'scheduled')),
    school_year  INTEGER
);

-- Pupils by name and kana with their home class. The sourcedId is also the pseudonym the other
-- modules know them by (school ICT's pupil, the learning record store's learner id).
CREATE TABLE portal_roster_pupils (
    sourced_id   VARCHAR PRIMARY KEY CHECK (length(sourced_id) BETWEEN 3 AND 40),
    school_id    INTEGER NOT NULL,
    grade        INTEGER NOT NULL CHECK (grade BETWEEN 1 AND 9),
    class_name   VARCHAR NOT NULL,
    home_class   VARCHAR NOT NULL,
    family_name  VARCHAR NOT NULL,
    given_name   VARCHAR NOT NULL,
    kana_family  VARCHAR NOT NULL DEFAULT '',
    kana_given   VARCHAR NOT NULL DEFAULT '',
    status       VARCHAR NOT NULL CHECK (status IN ('enrolled', 'left')),
    enrolled_on  DATE NOT NULL,
    left_on      DATE,
    CHECK ((status = 'left') = (left_on IS NOT NULL))
);
CREATE INDEX portal_roster_pupils_class ON portal_roster_pupils (school_id, grade, class_name);

-- Teachers and school administrators: the account each roster user became.
CREATE TABLE portal_roster_staff (
    sourced_id  VARCHAR PRIMARY KEY,
    user_id     INTEGER NOT NULL UNIQUE
);
