-- Statements at city scale, again (see 004): the values that nearly every statement repeats,
-- made cheap to write. A bulk import spent a sixth of its INSERT writing them as strings.
-- 1. object_type is one of five words: an ENUM, one byte a row.
-- 2. authority is NULL where it is the authority of the client that wrote the statement
--    (lrs.Client.authority; lrs.IMPORT_AUTHORITY for client 0), as every writer now leaves it;
--    a row keeps its own only where it differs.
-- 3. version is NULL where it is 1.0.0 (what the spec sets when a statement names none).
-- The rows keep their order (the dashboards rely on it: see analytics/services/clustering.py).
CREATE TABLE analytics_statements_v5 (
    id              UUID NOT NULL,                 -- unique: see migration 004
    seq             BIGINT NOT NULL,               -- arrival order; the text's key
    stored          TIMESTAMPTZ NOT NULL,
    ts              TIMESTAMPTZ NOT NULL,          -- the statement's timestamp (stored when absent)
    client_id       INTEGER NOT NULL,              -- analytics_xapi_clients.id; 0 for imports by the operator
    actor_key       VARCHAR NOT NULL,              -- the actor's identifier, e.g. 'account:https://…|p0001'
    learner_id      VARCHAR,                       -- the account name, the roster's learner id
    school_id       INTEGER,                       -- from the roster at ingest (NULL: not on the roster)
    grade           INTEGER,
    class_name      VARCHAR,
    verb_id         VARCHAR NOT NULL,
    object_type     ENUM ('Activity', 'Agent', 'Group', 'StatementRef', 'SubStatement') NOT NULL,
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
    version         VARCHAR,                       -- NULL: 1.0.0
    authority       VARCHAR,                       -- JSON; NULL: the writing client's (see above)
    actor_name      VARCHAR,                       -- the actor's name, when it gave one
    definition      VARCHAR                        -- an Activity object's definition (JSON), when sent
);
INSERT INTO analytics_statements_v5
SELECT id, seq, stored, ts, client_id, actor_key, learner_id, school_id, grade, class_name, verb_id, object_type,
       object_id, activity_name, unit_code, score_scaled, success, completion, duration_s, registration, voids_id,
       voided, nullif(version, '1.0.0'), authority, actor_name, definition
FROM analytics_statements;
UPDATE analytics_statements_v5 SET authority = NULL
WHERE client_id = 0 AND json(authority) = json('{"objectType": "Agent", "name": "manabi import", ' ||
                                               '"account": {"homePage": "urn:manabi:xapi:clients", "name": "import"}}');
UPDATE analytics_statements_v5 s SET authority = NULL FROM analytics_xapi_clients c
WHERE c.id = s.client_id AND json(s.authority) = json(json_object(
    'objectType', 'Agent', 'name', c.name, 'account', json_object('homePage', 'urn:manabi:xapi:clients', 'name', c.api_key)));
DROP TABLE analytics_statements;
ALTER TABLE analytics_statements_v5 RENAME TO analytics_statements;
