-- School ICT registry: classrooms, pupils (pseudonymous), devices, who holds what, and
-- every change to a device as an append-only event. No FOREIGN KEY clauses (see README):
-- the services check that schools, pupils, teachers and classrooms exist.

CREATE SEQUENCE school_ict_classrooms_id;
CREATE TABLE school_ict_classrooms (
    id          INTEGER PRIMARY KEY DEFAULT nextval('school_ict_classrooms_id'),
    school_id   INTEGER NOT NULL,
    grade       INTEGER NOT NULL CHECK (grade BETWEEN 1 AND 9),
    class_name  VARCHAR NOT NULL CHECK (length(class_name) > 0),
    UNIQUE (school_id, grade, class_name)
);

-- Pupils carry a pseudonym, never a name: the registry needs to know which tablet a
-- pupil holds, not who the pupil is.
CREATE SEQUENCE school_ict_pupils_id;
CREATE TABLE school_ict_pupils (
    id            INTEGER PRIMARY KEY DEFAULT nextval('school_ict_pupils_id'),
    pseudonym     VARCHAR NOT NULL UNIQUE CHECK (length(pseudonym) BETWEEN 3 AND 40),
    school_id     INTEGER NOT NULL,
    classroom_id  INTEGER NOT NULL,
    grade         INTEGER NOT NULL CHECK (grade BETWEEN 1 AND 9),
    active        BOOLEAN NOT NULL DEFAULT true
);

CREATE SEQUENCE school_ict_devices_id;
CREATE TABLE school_ict_devices (
    id             INTEGER PRIMARY KEY DEFAULT nextval('school_ict_devices_id'),
    asset_tag      VARCHAR NOT NULL UNIQUE CHECK (length(asset_tag) BETWEEN 1 AND 40),
    serial         VARCHAR NOT NULL UNIQUE CHECK (length(serial) BETWEEN 1 AND 60),
    kind           VARCHAR NOT NULL CHECK (kind IN ('pupil_tablet', 'teacher_tablet', 'e_blackboard')),
    model          VARCHAR NOT NULL,
    os_version     VARCHAR,
    school_id      INTEGER NOT NULL,
    purchase_date  DATE,
    warranty_end   DATE,
    -- Auto-update expiration (ChromeOS) or the maker's end of support.
    support_end    DATE,
    status         VARCHAR NOT NULL CHECK (status IN ('in_stock', 'assigned', 'in_repair', 'lost', 'retired')),
    -- At most one holder; a device is 'assigned' exactly when it has one.
    pupil_id       INTEGER,
    teacher_id     INTEGER,
    classroom_id   INTEGER,
    -- The charging cart a tablet lives in when in stock (class sets are lent by cart).
    cart           VARCHAR,
    annotated_user VARCHAR,
    last_seen_at   TIMESTAMPTZ,
    updated_at     TIMESTAMPTZ NOT NULL,
    CHECK ((CAST(pupil_id IS NOT NULL AS INTEGER) + CAST(teacher_id IS NOT NULL AS INTEGER)
            + CAST(classroom_id IS NOT NULL AS INTEGER)) <= 1),
    CHECK ((status = 'assigned') = (pupil_id IS NOT NULL OR teacher_id IS NOT NULL OR classroom_id IS NOT NULL)),
    CHECK (pupil_id IS NULL OR kind = 'pupil_tablet'),
    CHECK (teacher_id IS NULL OR kind = 'teacher_tablet')
);

-- Who holds a device exclusively: 'pupil:<id>', 'teacher:<id>', 'board:<classroom id>'.
-- The primary key makes "a pupil with two tablets" or "two blackboards in one room"
-- impossible even for two writers racing; the device row itself is the other side
-- (two pupils on one tablet) because both writers update it and one must retry.
CREATE TABLE school_ict_holders (
    holder     VARCHAR PRIMARY KEY,
    device_id  INTEGER NOT NULL UNIQUE
);

CREATE SEQUENCE school_ict_events_id;
CREATE TABLE school_ict_events (
    id           BIGINT PRIMARY KEY DEFAULT nextval('school_ict_events_id'),
    device_id    INTEGER NOT NULL,
    happened_at  TIMESTAMPTZ NOT NULL,
    actor_id     INTEGER,
    actor_login  VARCHAR NOT NULL,
    kind         VARCHAR NOT NULL CHECK (kind IN ('registered', 'imported', 'check_out', 'check_in',
                                                  'status', 'repair_opened', 'repair_closed', 'audit_seen',
                                                  'edited')),
    from_status  VARCHAR,
    to_status    VARCHAR,
    -- What the event was about, in words for people ("pupil P-E01-0003", "cart A").
    detail       VARCHAR NOT NULL DEFAULT ''
);
CREATE INDEX school_ict_events_device ON school_ict_events (device_id);

CREATE SEQUENCE school_ict_repairs_id;
CREATE TABLE school_ict_repairs (
    id           INTEGER PRIMARY KEY DEFAULT nextval('school_ict_repairs_id'),
    device_id    INTEGER NOT NULL,
    school_id    INTEGER NOT NULL,
    model        VARCHAR NOT NULL,
    opened_at    TIMESTAMPTZ NOT NULL,
    opened_by    VARCHAR NOT NULL,
    symptom      VARCHAR NOT NULL CHECK (length(symptom) > 0),
    pupil_id     INTEGER,
    cause        VARCHAR NOT NULL CHECK (cause IN ('drop', 'liquid', 'wear', 'unknown')),
    state        VARCHAR NOT NULL CHECK (state IN ('open', 'returned', 'written_off')),
    closed_at    TIMESTAMPTZ,
    resolution   VARCHAR,
    CHECK ((state = 'open') = (closed_at IS NULL))
);

CREATE SEQUENCE school_ict_audits_id;
CREATE TABLE school_ict_audits (
    id            INTEGER PRIMARY KEY DEFAULT nextval('school_ict_audits_id'),
    school_id     INTEGER NOT NULL,
    scope         VARCHAR NOT NULL,
    audited_at    TIMESTAMPTZ NOT NULL,
    by_login      VARCHAR NOT NULL,
    seen          INTEGER NOT NULL,
    unknown_tags  VARCHAR[] NOT NULL,
    missing_tags  VARCHAR[] NOT NULL
);

-- Daily active minutes per device, from an MDM export or a telemetry CSV.
CREATE TABLE school_ict_usage (
    device_id       INTEGER NOT NULL,
    day             DATE NOT NULL,
    active_minutes  INTEGER NOT NULL CHECK (active_minutes BETWEEN 0 AND 1440),
    PRIMARY KEY (device_id, day)
);

-- Network traffic samples per school (4-1-2).
CREATE TABLE school_ict_network_samples (
    school_id  INTEGER NOT NULL,
    sampled_at TIMESTAMPTZ NOT NULL,
    mbps_down  DOUBLE NOT NULL CHECK (mbps_down >= 0),
    mbps_up    DOUBLE NOT NULL CHECK (mbps_up >= 0),
    PRIMARY KEY (school_id, sampled_at)
);

-- Settings the board of education sets (the network target per pupil).
CREATE TABLE school_ict_settings (
    key    VARCHAR PRIMARY KEY,
    value  VARCHAR NOT NULL
);
