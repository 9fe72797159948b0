-- No FOREIGN KEY clauses: DuckDB refuses to update an indexed column (login, e-mail) of a
-- row that a foreign key points at, so references are checked by the services instead.
-- Schools are the portal's: a teacher's school decides what they may see in every module.
CREATE SEQUENCE portal_schools_id;
CREATE TABLE portal_schools (
    id          INTEGER PRIMARY KEY DEFAULT nextval('portal_schools_id'),
    code        VARCHAR NOT NULL UNIQUE,
    name_ja     VARCHAR NOT NULL,
    name_en     VARCHAR NOT NULL,
    kind        VARCHAR NOT NULL CHECK (kind IN ('elementary', 'junior_high', 'compulsory')),
    pupils      INTEGER NOT NULL DEFAULT 0 CHECK (pupils >= 0)
);

CREATE SEQUENCE portal_users_id;
CREATE TABLE portal_users (
    id               INTEGER PRIMARY KEY DEFAULT nextval('portal_users_id'),
    login            VARCHAR NOT NULL UNIQUE CHECK (length(login) BETWEEN 3 AND 64),
    display_name     VARCHAR NOT NULL CHECK (length(display_name) > 0),
    email            VARCHAR UNIQUE,
    -- NULL for accounts that only sign in through the school's identity provider.
    password_hash    VARCHAR,
    school_id        INTEGER,
    is_demo          BOOLEAN NOT NULL DEFAULT false,
    disabled         BOOLEAN NOT NULL DEFAULT false,
    failed_attempts  INTEGER NOT NULL DEFAULT 0 CHECK (failed_attempts >= 0),
    locked_until     TIMESTAMPTZ,
    created_at       TIMESTAMPTZ NOT NULL,
    password_changed_at TIMESTAMPTZ
);

CREATE TABLE portal_user_roles (
    user_id  INTEGER NOT NULL,
    role     VARCHAR NOT NULL CHECK (role IN ('resident', 'teacher', 'school_admin', 'librarian',
                                              'facility_staff', 'curator', 'city_admin')),
    PRIMARY KEY (user_id, role)
);

-- Server-side sessions: only a hash of the token is kept; idle ones end after 30 minutes.
CREATE TABLE portal_sessions (
    token_hash    VARCHAR PRIMARY KEY,
    user_id       INTEGER NOT NULL,
    started_at    TIMESTAMPTZ NOT NULL,
    last_seen_at  TIMESTAMPTZ NOT NULL,
    ended_at      TIMESTAMPTZ,
    end_reason    VARCHAR CHECK (end_reason IN ('sign_out', 'idle', 'password_changed', 'disabled'))
);

-- Every sign-in attempt, for the administrator's audit.
CREATE TABLE portal_sign_in_log (
    attempted_at TIMESTAMPTZ NOT NULL,
    login     VARCHAR NOT NULL,
    user_id   INTEGER,
    outcome   VARCHAR NOT NULL CHECK (outcome IN ('ok', 'bad_password', 'unknown_login', 'locked', 'disabled', 'oidc_ok', 'oidc_unknown')),
    method    VARCHAR NOT NULL DEFAULT 'password'
);
