-- The learning record store and the learning dashboards' tables (measure 4-1-4).
-- No FOREIGN KEY clauses (see portal/migrations/001_accounts.sql); services check references.

-- Learning apps that may send statements: HTTP Basic key and a hash of the secret (never the secret).
CREATE SEQUENCE analytics_xapi_clients_id;
CREATE TABLE analytics_xapi_clients (
    id           INTEGER PRIMARY KEY DEFAULT nextval('analytics_xapi_clients_id'),
    name         VARCHAR NOT NULL UNIQUE CHECK (length(name) BETWEEN 1 AND 100),
    api_key      VARCHAR NOT NULL UNIQUE,
    secret_hash  VARCHAR NOT NULL,
    created_at   TIMESTAMPTZ NOT NULL,
    disabled     BOOLEAN NOT NULL DEFAULT false
);

-- The roster the dashboards group by: a pseudonymous learner id (the xAPI actor's
-- account name), the school (portal_schools.id), grade (1-9) and class within the grade.
CREATE TABLE analytics_learners (
    learner_id  VARCHAR PRIMARY KEY CHECK (length(learner_id) BETWEEN 1 AND 128),
    school_id   INTEGER NOT NULL,
    grade       INTEGER NOT NULL CHECK (grade BETWEEN 1 AND 9),
    class_name  VARCHAR NOT NULL CHECK (length(class_name) BETWEEN 1 AND 20)
);

-- Curriculum units by MEXT's 16-digit 学習指導要領コード.
CREATE TABLE analytics_units (
    code     VARCHAR PRIMARY KEY CHECK (regexp_full_match(code, '[0-9]{16}')),
    subject  VARCHAR NOT NULL CHECK (length(subject) > 0),
    grade    INTEGER NOT NULL CHECK (grade BETWEEN 1 AND 9),
    name_ja  VARCHAR NOT NULL CHECK (length(name_ja) > 0),
    name_en  VARCHAR NOT NULL CHECK (length(name_en) > 0)
);

-- Every statement, once. The typed columns are what the dashboards aggregate (DuckDB reads
-- only the columns a query names, so the JSON column costs aggregation nothing); `raw` is the
-- statement as the app sent it, and id/stored/authority/version are what the store added.
-- seq orders statements by arrival and carries `more` paging.
CREATE SEQUENCE analytics_statements_seq;
CREATE TABLE analytics_statements (
    id              UUID PRIMARY KEY,
    seq             BIGINT NOT NULL,
    stored          TIMESTAMPTZ NOT NULL,
    ts              TIMESTAMPTZ NOT NULL,          -- the statement's timestamp (stored when absent)
    client_id       INTEGER NOT NULL,              -- analytics_xapi_clients.id; 0 for imports by the operator
    actor_key       VARCHAR NOT NULL,              -- the actor's identifier, e.g. 'account:https://…|p0001'
    learner_id      VARCHAR,                       -- the account name, the roster's learner id
    school_id       INTEGER,                       -- from the roster at ingest (NULL: not on the roster)
    grade           INTEGER,
    class_name      VARCHAR,
    verb_id         VARCHAR NOT NULL,
    object_type     VARCHAR NOT NULL,
    object_id       VARCHAR,                       -- activity IRI, StatementRef id, or the agent's key
    activity_name   VARCHAR,
    unit_code       VARCHAR,                       -- 16-digit curriculum code, when the app sent one
    score_scaled    DOUBLE CHECK (score_scaled BETWEEN -1 AND 1),
    success         BOOLEAN,
    completion      BOOLEAN,
    duration_s      DOUBLE CHECK (duration_s >= 0),
    registration    UUID,
    voids_id        UUID,                          -- set on a voiding statement: whom it voids
    voided          BOOLEAN NOT NULL DEFAULT false,
    content_hash    VARCHAR NOT NULL,              -- sha256 of the statement without id/stored/authority/version
    version         VARCHAR NOT NULL,
    authority       VARCHAR NOT NULL,              -- JSON
    raw             VARCHAR NOT NULL               -- JSON as received
);

-- Who looked at which pupil's records, and when (privacy: every view is logged).
CREATE TABLE analytics_access_log (
    viewed_at   TIMESTAMPTZ NOT NULL,
    user_id     INTEGER NOT NULL,
    learner_id  VARCHAR NOT NULL,
    view        VARCHAR NOT NULL
);
