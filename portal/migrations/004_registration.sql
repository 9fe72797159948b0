-- Residents who register themselves (利用者登録), links sent by mail, rate limits and the
-- retention rule's runs. Rules in portal/services/registration.py and retention.py.

-- What the sign-up form asked, and where the resident stands. The account itself is a
-- portal_users row (role resident, disabled until the e-mail address is confirmed).
CREATE TABLE portal_registrations (
    user_id                 INTEGER PRIMARY KEY,
    kana                    VARCHAR NOT NULL,
    address                 VARCHAR NOT NULL,
    birth_date              DATE NOT NULL,
    -- lives, works or studies in the city (resident rates), or none of these.
    city_tie                VARCHAR NOT NULL CHECK (city_tie IN ('lives', 'works', 'studies', 'none')),
    lang                    VARCHAR NOT NULL DEFAULT 'ja' CHECK (lang IN ('ja', 'en')),
    registered_at           TIMESTAMPTZ NOT NULL,
    email_confirmed_at      TIMESTAMPTZ,
    -- Staff at a counter saw a document: who and when.
    residence_confirmed_at  TIMESTAMPTZ,
    residence_confirmed_by  INTEGER,
    residence_note          VARCHAR
);

-- A library card number (図書館利用者番号) linked to an account (any resident, registered or not).
CREATE TABLE portal_library_cards (
    user_id      INTEGER PRIMARY KEY,
    card_number  VARCHAR NOT NULL,
    linked_at    TIMESTAMPTZ NOT NULL
);

-- A resident who asked to leave (退会): sign-in ends at once, personal data goes per the
-- retention rule (erased_at set when it went).
CREATE TABLE portal_departures (
    user_id    INTEGER PRIMARY KEY,
    left_at    TIMESTAMPTZ NOT NULL,
    erased_at  TIMESTAMPTZ
);

-- Single-use links sent by mail: only the token's hash is kept.
CREATE TABLE portal_mail_tokens (
    token_hash  VARCHAR PRIMARY KEY,
    user_id     INTEGER NOT NULL,
    purpose     VARCHAR NOT NULL CHECK (purpose IN ('confirm_email', 'reset_password')),
    email       VARCHAR NOT NULL,   -- the address the link went to (the new one on a change)
    created_at  TIMESTAMPTZ NOT NULL,
    expires_at  TIMESTAMPTZ NOT NULL,
    used_at     TIMESTAMPTZ,
    CHECK (expires_at > created_at)
);

-- What rate limits count: sign-ups per IP address, mails per address, in the last hour.
CREATE TABLE portal_rate_events (
    kind     VARCHAR NOT NULL CHECK (kind IN ('signup', 'mail')),
    subject  VARCHAR NOT NULL,
    happened_at  TIMESTAMPTZ NOT NULL
);

-- Each run of the retention rules: what each rule removed.
CREATE TABLE portal_retention_runs (
    ran_at   TIMESTAMPTZ NOT NULL,
    rule     VARCHAR NOT NULL,
    removed  INTEGER NOT NULL CHECK (removed >= 0),
    note     VARCHAR
);
