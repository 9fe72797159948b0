-- The xAPI document resources (xAPI 1.0.3 part 3, §7.3–7.6): the state, activity profile and
-- agent profile documents that learning apps keep in the learning record store.
-- No FOREIGN KEY clauses (see portal/migrations/001_accounts.sql); services check references.

-- One row per document. A state is keyed by activity, agent, registration and stateId; an
-- activity profile by activity and profileId; an agent profile by agent and profileId. Parts a
-- kind does not use are '' so that the key is one plain primary key.
-- agent_key is lrs.actor_key of the agent (one string per identified agent, e.g. 'mbox:…').
-- content is kept byte for byte with its Content-Type; etag is the sha1 of content (hex), as
-- the spec's ETag examples; updated answers `since` and Last-Modified.
CREATE TABLE analytics_xapi_documents (
    kind          VARCHAR NOT NULL CHECK (kind IN ('state', 'activity_profile', 'agent_profile')),
    activity_id   VARCHAR NOT NULL,
    agent_key     VARCHAR NOT NULL,
    registration  VARCHAR NOT NULL,
    doc_id        VARCHAR NOT NULL CHECK (length(doc_id) BETWEEN 1 AND 1000),
    content_type  VARCHAR NOT NULL,
    content       BLOB NOT NULL,
    etag          VARCHAR NOT NULL,
    updated       TIMESTAMPTZ NOT NULL,
    client_id     INTEGER NOT NULL,              -- analytics_xapi_clients.id of the last writer
    PRIMARY KEY (kind, activity_id, agent_key, registration, doc_id)
);
