-- xAPI attachments sent as bytes in a multipart/mixed statement request (xAPI 1.0.3 part 2
-- §2.4.11), signatures of signed statements among them (§2.6). Statements name their
-- attachments by sha2 in their own JSON (analytics_statements.raw); the bytes are kept here once
-- per sha2, written in the same transaction as the statements (analytics/services/attachments.py).
CREATE TABLE analytics_xapi_attachments (
    sha2          VARCHAR PRIMARY KEY CHECK (regexp_full_match(sha2, '[0-9a-f]{64}')),
    content_type  VARCHAR NOT NULL,              -- the part's Content-Type (or the attachment's contentType)
    length        BIGINT NOT NULL CHECK (length >= 0),
    content       BLOB NOT NULL
);
