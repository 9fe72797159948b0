-- Statements at city scale (tens of millions a school year), so that bulk files load fast:
-- 1. No primary key on id. DuckDB rewrites a table's whole ART index at every checkpoint, so
--    with millions of statements each import or WAL checkpoint paid seconds for it. Ids stay
--    unique because every statement write runs under one lock and checks the stored ids in
--    its own transaction (analytics/services/lrs.py); a lookup by id scans the id column.
-- 2. Each statement's JSON in its own table, in arrival order (seq): the typed facts are then
--    sorted (school, grade, class, time) without carrying 600 bytes of text each, and a text is
--    read only for the statements a request returns. A bulk file's texts are kept as zstd
--    blocks of consecutive statements, one line each (analytics/services/texts.py).
-- 3. No content hash: sameness of a repeated id is decided on the texts themselves.
CREATE TABLE analytics_statement_texts (
    first_seq  BIGINT NOT NULL,                    -- the first statement (analytics_statements.seq) held
    last_seq   BIGINT NOT NULL CHECK (last_seq >= first_seq),
    zstd       BLOB,                               -- zstd of the texts of first_seq..last_seq, each ending in \n
    plain      VARCHAR,                            -- or the one statement's text (first_seq = last_seq)
    CHECK ((zstd IS NULL) <> (plain IS NULL) AND (plain IS NULL OR first_seq = last_seq))
);
INSERT INTO analytics_statement_texts SELECT seq, seq, NULL, raw FROM analytics_statements ORDER BY seq;

CREATE TABLE analytics_statements_v4 (
    id              UUID NOT NULL,                 -- unique: see above
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
    version         VARCHAR NOT NULL,
    authority       VARCHAR NOT NULL,              -- JSON
    -- What the xAPI Activities and Agents resources gather without reading texts:
    actor_name      VARCHAR,                       -- the actor's name, when it gave one
    definition      VARCHAR                        -- an Activity object's definition (JSON), when sent
);
INSERT INTO analytics_statements_v4
SELECT id, seq, stored, ts, client_id, actor_key, learner_id, school_id, grade, class_name, verb_id, object_type,
       object_id, activity_name, unit_code, score_scaled, success, completion, duration_s, registration, voids_id,
       voided, version, authority, json_extract_string(raw, '$.actor.name'),
       CASE WHEN object_type = 'Activity' THEN json_extract(raw, '$.object.definition')::VARCHAR END
FROM analytics_statements ORDER BY school_id, grade, class_name, ts;
DROP TABLE analytics_statements;
ALTER TABLE analytics_statements_v4 RENAME TO analytics_statements;
-- 4. Seqs follow the largest stored (analytics/services/lrs.py next_seq), not a sequence,
--    which rows given seqs of their own could fall behind.
DROP SEQUENCE analytics_statements_seq;
