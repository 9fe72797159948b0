-- Fixed-layout books (picture books, manga): the book's layout and, per spine item,
-- its kind (xhtml | svg | image), its page-spread side and whether it is a fixed page.
-- (DuckDB cannot add a column with a CHECK; the importer writes only the two values.)
ALTER TABLE library_ebooks_titles ADD COLUMN layout VARCHAR DEFAULT 'reflowable';  -- reflowable | pre-paginated
ALTER TABLE library_ebooks_titles ADD COLUMN pages VARCHAR;  -- JSON: [{"kind", "fixed", "spread"}], spine order
-- rendition:spread: when two pages show side by side (auto | landscape | both | none | portrait)
ALTER TABLE library_ebooks_titles ADD COLUMN spread VARCHAR DEFAULT 'auto';

-- The browser reader runs as its own page (/ebooks/read/{token}) so that it can turn
-- pages with the keyboard, swipes and speech without a round trip through Streamlit.
-- A token stands for one resident's one loan and dies with the loan or after hours.
CREATE TABLE library_ebooks_reader_tokens (
    token       VARCHAR PRIMARY KEY,
    loan_id     INTEGER NOT NULL,
    user_id     INTEGER NOT NULL,
    expires_at  TIMESTAMPTZ NOT NULL
);

-- Each resident's reading settings, the same on every device.
CREATE TABLE library_ebooks_reader_settings (
    user_id      INTEGER PRIMARY KEY,
    font_size    INTEGER NOT NULL DEFAULT 100 CHECK (font_size BETWEEN 50 AND 300),       -- percent
    line_height  INTEGER NOT NULL DEFAULT 180 CHECK (line_height BETWEEN 100 AND 300),    -- percent
    theme        VARCHAR NOT NULL DEFAULT 'light' CHECK (theme IN ('light', 'sepia', 'dark')),
    ruby         BOOLEAN NOT NULL DEFAULT true
);

-- Whether the publisher lets a borrower download the file (into a reading app) or
-- only read it in the browser; OPDS offers no download for a browser-only loan.
ALTER TABLE library_ebooks_licenses ADD COLUMN download_allowed BOOLEAN DEFAULT true;
