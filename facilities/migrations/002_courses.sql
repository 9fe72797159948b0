-- Courses: lectures at the community centres, in a booked room and/or online (Jitsi).
-- No FOREIGN KEY clauses (see README): the services check references.

CREATE SEQUENCE facilities_courses_id;
CREATE TABLE facilities_courses (
    id                   INTEGER PRIMARY KEY DEFAULT nextval('facilities_courses_id'),
    code                 VARCHAR NOT NULL UNIQUE,
    title_ja             VARCHAR NOT NULL CHECK (length(title_ja) > 0),
    title_en             VARCHAR NOT NULL CHECK (length(title_en) > 0),
    description_ja       VARCHAR NOT NULL DEFAULT '',
    description_en       VARCHAR NOT NULL DEFAULT '',
    lecturer_id          INTEGER NOT NULL,
    facility_id          INTEGER,            -- the centre that runs it (NULL: online only)
    capacity             INTEGER NOT NULL CHECK (capacity > 0),
    -- Seats taken, kept with the course so that every registration and cancellation
    -- writes this one row: racing writers then conflict and retry instead of both
    -- taking the last seat; the CHECK is the last line of defence.
    seats_taken          INTEGER NOT NULL DEFAULT 0,
    -- The waiting list's ticket counter (first come, first promoted).
    waitlist_counter     INTEGER NOT NULL DEFAULT 0,
    fee_yen              INTEGER NOT NULL DEFAULT 0 CHECK (fee_yen >= 0),
    registration_opens   TIMESTAMPTZ NOT NULL,
    registration_closes  TIMESTAMPTZ NOT NULL,
    status               VARCHAR NOT NULL DEFAULT 'published' CHECK (status IN ('published', 'cancelled')),
    created_at           TIMESTAMPTZ NOT NULL,
    created_by           INTEGER NOT NULL,
    CHECK (seats_taken BETWEEN 0 AND capacity),
    CHECK (registration_closes > registration_opens)
);

-- Sessions: a date and block in a room (the room booked through facilities_bookings,
-- source 'course'), and/or online in an unguessable Jitsi room.
CREATE SEQUENCE facilities_course_sessions_id;
CREATE TABLE facilities_course_sessions (
    id            INTEGER PRIMARY KEY DEFAULT nextval('facilities_course_sessions_id'),
    course_id     INTEGER NOT NULL,
    starts_at     TIMESTAMPTZ NOT NULL,
    ends_at       TIMESTAMPTZ NOT NULL,
    room_id       INTEGER,
    block_code    VARCHAR,
    booking_id    INTEGER UNIQUE,
    meeting_room  VARCHAR UNIQUE,            -- NULL: in the room only
    status        VARCHAR NOT NULL DEFAULT 'planned' CHECK (status IN ('planned', 'cancelled')),
    CHECK (ends_at > starts_at),
    CHECK (room_id IS NOT NULL OR meeting_room IS NOT NULL),
    CHECK ((room_id IS NULL) = (booking_id IS NULL))
);

-- One row per person and course, whatever happens to it; status says where they stand.
CREATE SEQUENCE facilities_course_registrations_id;
CREATE TABLE facilities_course_registrations (
    id              INTEGER PRIMARY KEY DEFAULT nextval('facilities_course_registrations_id'),
    course_id       INTEGER NOT NULL,
    user_id         INTEGER NOT NULL,
    status          VARCHAR NOT NULL CHECK (status IN ('registered', 'waitlisted', 'cancelled')),
    waitlist_ticket INTEGER,                 -- order on the waiting list
    fee_yen         INTEGER NOT NULL DEFAULT 0 CHECK (fee_yen >= 0),   -- owed once registered
    paid_yen        INTEGER NOT NULL DEFAULT 0 CHECK (paid_yen >= 0),
    paid_at         TIMESTAMPTZ,
    created_at      TIMESTAMPTZ NOT NULL,
    registered_at   TIMESTAMPTZ,             -- when they got a seat (directly or promoted)
    promoted        BOOLEAN NOT NULL DEFAULT false,
    cancelled_at    TIMESTAMPTZ,
    UNIQUE (course_id, user_id),
    CHECK ((status = 'waitlisted') = (waitlist_ticket IS NOT NULL))
);

-- Attendance: who asked for their join link, per online session (course or school class).
CREATE TABLE facilities_meeting_joins (
    kind         VARCHAR NOT NULL CHECK (kind IN ('course', 'class')),
    session_id   INTEGER NOT NULL,
    participant  VARCHAR NOT NULL,           -- a portal user id, or a pupil's class seat
    moderator    BOOLEAN NOT NULL,
    first_at     TIMESTAMPTZ NOT NULL,
    last_at      TIMESTAMPTZ NOT NULL,
    links        INTEGER NOT NULL DEFAULT 1 CHECK (links > 0),
    PRIMARY KEY (kind, session_id, participant)
);

-- A school's online class (4-1-1) or online English lesson (4-1-2) for one class: the
-- teacher moderates; the class's pupils (pseudonymous, not portal users) get member links.
CREATE SEQUENCE facilities_class_sessions_id;
CREATE TABLE facilities_class_sessions (
    id            INTEGER PRIMARY KEY DEFAULT nextval('facilities_class_sessions_id'),
    school_id     INTEGER NOT NULL,
    classroom_id  INTEGER NOT NULL,
    teacher_id    INTEGER NOT NULL,
    kind          VARCHAR NOT NULL CHECK (kind IN ('class', 'english')),
    title         VARCHAR NOT NULL CHECK (length(title) > 0),
    starts_at     TIMESTAMPTZ NOT NULL,
    ends_at       TIMESTAMPTZ NOT NULL,
    meeting_room  VARCHAR NOT NULL UNIQUE,
    created_at    TIMESTAMPTZ NOT NULL,
    CHECK (ends_at > starts_at)
);
