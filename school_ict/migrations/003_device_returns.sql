-- Tablets to collect: a pupil left the school roster (転出・卒業) while holding one. The row
-- stays until the device is checked in; the registry's pages list what is still out.
CREATE TABLE school_ict_device_returns (
    device_id   INTEGER PRIMARY KEY,
    pupil_id    INTEGER NOT NULL,
    flagged_at  TIMESTAMPTZ NOT NULL,
    reason      VARCHAR NOT NULL CHECK (reason IN ('left_roster'))
);
