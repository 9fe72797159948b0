-- Course fees paid by QR code (provider callback, reference 'C-<registration id>') or at the counter.
-- No FOREIGN KEY clauses (see README): the services check references.
CREATE TABLE facilities_course_payments (
    registration_id  INTEGER NOT NULL,
    method           VARCHAR NOT NULL CHECK (method IN ('qr', 'counter')),
    yen              INTEGER NOT NULL CHECK (yen > 0),
    transaction_id   VARCHAR UNIQUE,
    recorded_at      TIMESTAMPTZ NOT NULL,
    recorded_by      INTEGER
);
