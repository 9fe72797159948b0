-- The e-book catalogue, licenses, loans and holds.
-- No FOREIGN KEY clauses (see portal/migrations/001_accounts.sql): services check references.

CREATE SEQUENCE library_ebooks_titles_id;
-- One row per imported EPUB. creators and toc are JSON text: they are only ever shown whole.
CREATE TABLE library_ebooks_titles (
    id               INTEGER PRIMARY KEY DEFAULT nextval('library_ebooks_titles_id'),
    title            VARCHAR NOT NULL CHECK (length(trim(title)) > 0),
    title_reading    VARCHAR,             -- file-as of the title (kana for Japanese books)
    creators         VARCHAR NOT NULL,    -- JSON: [{"name", "file_as", "role"}]
    language         VARCHAR NOT NULL,    -- BCP 47 as written in the package, lower-case
    identifier       VARCHAR UNIQUE,      -- the package's unique identifier, normalised
    isbn             VARCHAR UNIQUE,      -- ISBN-13 digits when the package names one
    publisher        VARCHAR,
    published        VARCHAR,             -- dc:date as written (a year, a date or a timestamp)
    subjects         VARCHAR[] NOT NULL,
    description      VARCHAR,
    page_direction   VARCHAR NOT NULL CHECK (page_direction IN ('ltr', 'rtl', 'default')),
    writing          VARCHAR NOT NULL CHECK (writing IN ('horizontal', 'vertical', 'rtl')),
    toc              VARCHAR NOT NULL,    -- JSON: [{"label", "href", "level"}]
    spine            VARCHAR NOT NULL,    -- JSON: ["path in the zip", ...] in reading order
    epub_version     VARCHAR NOT NULL,
    content_sha256   VARCHAR NOT NULL UNIQUE,
    byte_size        INTEGER NOT NULL,
    has_cover        BOOLEAN NOT NULL,
    imported_at      TIMESTAMPTZ NOT NULL,
    imported_by      INTEGER
);

-- The book itself and its cover thumbnail, kept apart so catalogue queries stay light.
-- Blobs live in the database so that one file, `manabi backup` and a transaction hold them.
CREATE TABLE library_ebooks_files (
    title_id    INTEGER PRIMARY KEY,
    epub        BLOB NOT NULL,
    cover_jpeg  BLOB
);

-- The search index: pre-tokenised terms (fugashi + unidic-lite) with field weights.
CREATE TABLE library_ebooks_terms (
    title_id  INTEGER NOT NULL,
    term      VARCHAR NOT NULL,
    weight    DOUBLE NOT NULL CHECK (weight > 0),
    PRIMARY KEY (title_id, term)
);

CREATE SEQUENCE library_ebooks_licenses_id;
-- A title may hold any mix of licenses. A borrow updates loans_used on the license it
-- takes, so two borrows of the same license conflict in DuckDB and one is retried.
CREATE TABLE library_ebooks_licenses (
    id           INTEGER PRIMARY KEY DEFAULT nextval('library_ebooks_licenses_id'),
    title_id     INTEGER NOT NULL,
    model        VARCHAR NOT NULL CHECK (model IN ('one_copy', 'metered', 'simultaneous')),
    copies       INTEGER CHECK (copies IS NULL OR copies > 0),   -- NULL: simultaneous use
    max_loans    INTEGER CHECK (max_loans IS NULL OR max_loans > 0),
    expires_at   TIMESTAMPTZ,
    loan_days    INTEGER NOT NULL DEFAULT 14 CHECK (loan_days BETWEEN 1 AND 60),
    loans_used   INTEGER NOT NULL DEFAULT 0 CHECK (loans_used >= 0),
    added_at     TIMESTAMPTZ NOT NULL,
    CHECK ((model = 'simultaneous') = (copies IS NULL)),
    CHECK (max_loans IS NULL OR loans_used <= max_loans)
);

CREATE SEQUENCE library_ebooks_loans_id;
-- A loan is active while returned_at IS NULL and now < due_at: it ends by itself.
CREATE TABLE library_ebooks_loans (
    id            INTEGER PRIMARY KEY DEFAULT nextval('library_ebooks_loans_id'),
    title_id      INTEGER NOT NULL,
    license_id    INTEGER NOT NULL,
    user_id       INTEGER NOT NULL,
    borrowed_at   TIMESTAMPTZ NOT NULL,
    due_at        TIMESTAMPTZ NOT NULL,
    returned_at   TIMESTAMPTZ,
    renewals      INTEGER NOT NULL DEFAULT 0 CHECK (renewals BETWEEN 0 AND 1),
    position      INTEGER NOT NULL DEFAULT 0 CHECK (position >= 0),  -- reader: spine index
    CHECK (due_at > borrowed_at),
    CHECK (returned_at IS NULL OR returned_at >= borrowed_at)
);

CREATE SEQUENCE library_ebooks_holds_id;
-- waiting → offered (for 48 hours) → fulfilled (borrowed) | lapsed (not taken) | cancelled.
CREATE TABLE library_ebooks_holds (
    id                INTEGER PRIMARY KEY DEFAULT nextval('library_ebooks_holds_id'),
    title_id          INTEGER NOT NULL,
    user_id           INTEGER NOT NULL,
    placed_at         TIMESTAMPTZ NOT NULL,
    status            VARCHAR NOT NULL CHECK (status IN ('waiting', 'offered', 'fulfilled', 'lapsed', 'cancelled')),
    offered_at        TIMESTAMPTZ,
    offer_expires_at  TIMESTAMPTZ,
    closed_at         TIMESTAMPTZ,
    CHECK ((status = 'offered') <= (offer_expires_at IS NOT NULL))
);
