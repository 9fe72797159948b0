-- Facility booking: facilities, rooms, time blocks, fees, closures, bookings, lottery, payments.
-- No FOREIGN KEY clauses (see README): the services check references.

-- A building: the central hall, a community centre, a sports facility.
CREATE SEQUENCE facilities_facilities_id;
CREATE TABLE facilities_facilities (
    id                      INTEGER PRIMARY KEY DEFAULT nextval('facilities_facilities_id'),
    code                    VARCHAR NOT NULL UNIQUE,
    kind                    VARCHAR NOT NULL CHECK (kind IN ('hall', 'centre', 'sports')),
    name_ja                 VARCHAR NOT NULL,
    name_en                 VARCHAR NOT NULL,
    address_ja              VARCHAR NOT NULL DEFAULT '',
    lat                     DOUBLE NOT NULL,
    lon                     DOUBLE NOT NULL,
    -- ISO weekdays the facility is closed (1 = Monday … 7 = Sunday).
    closed_weekdays         INTEGER[] NOT NULL DEFAULT [],
    -- Booking rules: residents may book earlier than non-residents.
    resident_days_ahead     INTEGER NOT NULL DEFAULT 90 CHECK (resident_days_ahead > 0),
    nonresident_days_ahead  INTEGER NOT NULL DEFAULT 30 CHECK (nonresident_days_ahead > 0),
    max_blocks_per_month    INTEGER NOT NULL DEFAULT 8 CHECK (max_blocks_per_month > 0),
    -- Cancel online until this many days before the date; a full refund from refund_full_days.
    cancel_days_before      INTEGER NOT NULL DEFAULT 1 CHECK (cancel_days_before >= 0),
    refund_full_days        INTEGER NOT NULL DEFAULT 7 CHECK (refund_full_days >= 0),
    refund_late_percent     INTEGER NOT NULL DEFAULT 50 CHECK (refund_late_percent BETWEEN 0 AND 100),
    -- Days a new booking has to be paid in (never later than the day before the date).
    pay_within_days         INTEGER NOT NULL DEFAULT 7 CHECK (pay_within_days > 0),
    active                  BOOLEAN NOT NULL DEFAULT true
);

-- Time blocks per facility, e.g. am 9–12, pm 13–17, ev 18–22.
CREATE TABLE facilities_blocks (
    facility_id  INTEGER NOT NULL,
    code         VARCHAR NOT NULL CHECK (code IN ('am', 'pm', 'ev')),
    starts       TIME NOT NULL,
    ends         TIME NOT NULL,
    PRIMARY KEY (facility_id, code),
    CHECK (ends > starts)
);

-- Equipment: built in (fee 0) or an add-on charged per block.
CREATE TABLE facilities_equipment (
    code       VARCHAR PRIMARY KEY,
    name_ja    VARCHAR NOT NULL,
    name_en    VARCHAR NOT NULL,
    addon_yen  INTEGER NOT NULL DEFAULT 0 CHECK (addon_yen >= 0)
);

CREATE SEQUENCE facilities_rooms_id;
CREATE TABLE facilities_rooms (
    id           INTEGER PRIMARY KEY DEFAULT nextval('facilities_rooms_id'),
    facility_id  INTEGER NOT NULL,
    code         VARCHAR NOT NULL,
    name_ja      VARCHAR NOT NULL,
    name_en      VARCHAR NOT NULL,
    kind         VARCHAR NOT NULL CHECK (kind IN ('room', 'hall', 'japanese', 'kitchen', 'gym', 'court', 'studio')),
    capacity     INTEGER NOT NULL CHECK (capacity > 0),
    equipment    VARCHAR[] NOT NULL DEFAULT [],
    accessible   BOOLEAN NOT NULL DEFAULT true,
    active       BOOLEAN NOT NULL DEFAULT true,
    UNIQUE (facility_id, code)
);

-- Fees in yen, tax included, per room and block, for residents or not, groups or individuals.
CREATE TABLE facilities_fees (
    room_id     INTEGER NOT NULL,
    block_code  VARCHAR NOT NULL,
    residency   VARCHAR NOT NULL CHECK (residency IN ('resident', 'nonresident')),
    party       VARCHAR NOT NULL CHECK (party IN ('group', 'individual')),
    yen         INTEGER NOT NULL CHECK (yen >= 0),
    PRIMARY KEY (room_id, block_code, residency, party)
);

-- Reductions and exemptions (減免): percent off the room fee; 100 is an exemption.
CREATE TABLE facilities_reductions (
    code      VARCHAR PRIMARY KEY,
    name_ja   VARCHAR NOT NULL,
    name_en   VARCHAR NOT NULL,
    percent   INTEGER NOT NULL CHECK (percent BETWEEN 1 AND 100)
);

-- What the booking rules need to know about a user (the portal does not keep residency).
CREATE TABLE facilities_profiles (
    user_id          INTEGER PRIMARY KEY,
    is_resident      BOOLEAN NOT NULL DEFAULT true,
    group_name       VARCHAR,            -- a registered community group, if any
    reduction_code   VARCHAR,            -- the reduction staff approved, if any
    reduction_note   VARCHAR,            -- why (e.g. the handbook number checked)
    calendar_token   VARCHAR UNIQUE,     -- the secret of the user's ICS feed
    updated_at       TIMESTAMPTZ
);

-- Closures: maintenance blackouts or holidays, for a whole facility (room_id NULL) or a room.
CREATE SEQUENCE facilities_closures_id;
CREATE TABLE facilities_closures (
    id           INTEGER PRIMARY KEY DEFAULT nextval('facilities_closures_id'),
    facility_id  INTEGER NOT NULL,
    room_id      INTEGER,
    first_day    DATE NOT NULL,
    last_day     DATE NOT NULL,
    reason       VARCHAR NOT NULL,
    CHECK (last_day >= first_day)
);

-- Every booking ever made (history, receipts, refunds). A live one also holds its slot below.
CREATE SEQUENCE facilities_bookings_id;
CREATE TABLE facilities_bookings (
    id                INTEGER PRIMARY KEY DEFAULT nextval('facilities_bookings_id'),
    room_id           INTEGER NOT NULL,
    day               DATE NOT NULL,
    block_code        VARCHAR NOT NULL,
    user_id           INTEGER NOT NULL,
    purpose           VARCHAR NOT NULL DEFAULT '',
    attendees         INTEGER NOT NULL DEFAULT 1 CHECK (attendees > 0),
    party             VARCHAR NOT NULL CHECK (party IN ('group', 'individual')),
    residency         VARCHAR NOT NULL CHECK (residency IN ('resident', 'nonresident')),
    source            VARCHAR NOT NULL CHECK (source IN ('web', 'course', 'lottery', 'counter', 'demo')),
    -- won: a lottery win awaiting confirmation; confirmed: holds the slot;
    -- cancelled / released (unpaid or unconfirmed by the deadline) / lost: slot freed.
    status            VARCHAR NOT NULL CHECK (status IN ('won', 'confirmed', 'cancelled', 'released')),
    room_yen          INTEGER NOT NULL CHECK (room_yen >= 0),
    reduction_code    VARCHAR,
    reduction_reason  VARCHAR,
    reduction_yen     INTEGER NOT NULL DEFAULT 0 CHECK (reduction_yen >= 0),
    addons            VARCHAR[] NOT NULL DEFAULT [],
    addon_yen         INTEGER NOT NULL DEFAULT 0 CHECK (addon_yen >= 0),
    total_yen         INTEGER NOT NULL CHECK (total_yen >= 0),
    tax_yen           INTEGER NOT NULL CHECK (tax_yen >= 0),
    payment_ref       VARCHAR NOT NULL UNIQUE,
    confirm_by        TIMESTAMPTZ,
    pay_by            TIMESTAMPTZ,
    paid_at           TIMESTAMPTZ,
    paid_yen          INTEGER NOT NULL DEFAULT 0 CHECK (paid_yen >= 0),
    payment_method    VARCHAR CHECK (payment_method IN ('qr', 'counter', 'none')),
    refund_yen        INTEGER NOT NULL DEFAULT 0 CHECK (refund_yen >= 0),
    created_at        TIMESTAMPTZ NOT NULL,
    created_by        INTEGER NOT NULL,
    ended_at          TIMESTAMPTZ,
    ended_by          INTEGER,
    CHECK (total_yen = room_yen - reduction_yen + addon_yen)
);

-- The live slots: ONE row per room, date and block, whatever the number of cancelled
-- bookings before it. Booking inserts here; cancelling deletes. The primary key is
-- what makes a double booking impossible, even for racing writers.
CREATE TABLE facilities_slots (
    room_id     INTEGER NOT NULL,
    day         DATE NOT NULL,
    block_code  VARCHAR NOT NULL,
    booking_id  INTEGER NOT NULL UNIQUE,
    PRIMARY KEY (room_id, day, block_code)
);

-- Payments received (QR provider callback or counter) and refunds; a provider's
-- transaction is accepted once.
CREATE SEQUENCE facilities_payments_id;
CREATE TABLE facilities_payments (
    id              INTEGER PRIMARY KEY DEFAULT nextval('facilities_payments_id'),
    booking_id      INTEGER NOT NULL,
    kind            VARCHAR NOT NULL CHECK (kind IN ('payment', 'refund')),
    method          VARCHAR NOT NULL CHECK (method IN ('qr', 'counter')),
    yen             INTEGER NOT NULL CHECK (yen > 0),
    transaction_id  VARCHAR UNIQUE,
    recorded_at     TIMESTAMPTZ NOT NULL,
    recorded_by     INTEGER
);

-- The lottery of a month: its dates, and once drawn, the seed and who drew it.
CREATE TABLE facilities_lottery_months (
    month         VARCHAR PRIMARY KEY CHECK (regexp_full_match(month, '\d{4}-\d{2}')),
    apply_from    DATE NOT NULL,
    apply_until   DATE NOT NULL,
    draw_on       DATE NOT NULL,
    confirm_by    DATE NOT NULL,
    open_on       DATE NOT NULL,       -- unclaimed and unapplied slots open first-come
    max_choices   INTEGER NOT NULL DEFAULT 3 CHECK (max_choices BETWEEN 1 AND 10),
    seed          VARCHAR,
    drawn_at      TIMESTAMPTZ,
    drawn_by      INTEGER,
    CHECK (apply_from <= apply_until AND apply_until < draw_on AND draw_on <= confirm_by AND confirm_by <= open_on)
);

-- The slots staff put to the lottery.
CREATE TABLE facilities_lottery_slots (
    month       VARCHAR NOT NULL,
    room_id     INTEGER NOT NULL,
    day         DATE NOT NULL,
    block_code  VARCHAR NOT NULL,
    PRIMARY KEY (room_id, day, block_code)
);

-- Applications: up to max_choices ranked choices per person; one per person per slot.
CREATE SEQUENCE facilities_lottery_applications_id;
CREATE TABLE facilities_lottery_applications (
    id          INTEGER PRIMARY KEY DEFAULT nextval('facilities_lottery_applications_id'),
    month       VARCHAR NOT NULL,
    user_id     INTEGER NOT NULL,
    choice      INTEGER NOT NULL CHECK (choice >= 1),
    room_id     INTEGER NOT NULL,
    day         DATE NOT NULL,
    block_code  VARCHAR NOT NULL,
    party       VARCHAR NOT NULL DEFAULT 'group' CHECK (party IN ('group', 'individual')),
    purpose     VARCHAR NOT NULL DEFAULT '',
    attendees   INTEGER NOT NULL DEFAULT 1 CHECK (attendees > 0),
    created_at  TIMESTAMPTZ NOT NULL,
    result      VARCHAR CHECK (result IN ('won', 'lost')),
    UNIQUE (month, user_id, choice),
    UNIQUE (month, user_id, room_id, day, block_code)
);

-- The audit of a draw: per slot, in the order drawn, who applied and who won.
CREATE TABLE facilities_lottery_draws (
    month        VARCHAR NOT NULL,
    step         INTEGER NOT NULL,
    room_id      INTEGER NOT NULL,
    day          DATE NOT NULL,
    block_code   VARCHAR NOT NULL,
    choice       INTEGER NOT NULL,
    applicants   INTEGER[] NOT NULL,   -- user ids in the order the draw put them
    winner_id    INTEGER,
    booking_id   INTEGER,
    PRIMARY KEY (month, step)
);
