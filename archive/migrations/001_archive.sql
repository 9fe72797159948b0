-- The cultural-heritage archive (measure 4-2-1). No FOREIGN KEY clauses (see the portal's
-- 001_accounts.sql): the services check that a referenced item, set or place exists.

-- Places: sites and buildings with coordinates (WGS 84).
CREATE SEQUENCE archive_places_id;
CREATE TABLE archive_places (
    id         INTEGER PRIMARY KEY DEFAULT nextval('archive_places_id'),
    name_ja    VARCHAR NOT NULL CHECK (length(name_ja) > 0),
    name_en    VARCHAR,
    latitude   DOUBLE NOT NULL CHECK (latitude BETWEEN -90 AND 90),
    longitude  DOUBLE NOT NULL CHECK (longitude BETWEEN -180 AND 180),
    UNIQUE (name_ja)
);

-- Items: Dublin Core fields in Japanese and (where given) English.
-- year_from/year_to are the date or era ("明治45年", "昭和初期") as years, for sorting and filters.
-- search_tokens: the item's words (titles, descriptions, subjects, place) cut by MeCab/UniDic,
-- lower-cased, space-separated and space-padded, so that ' token ' finds a whole word.
CREATE SEQUENCE archive_items_id;
CREATE TABLE archive_items (
    id              INTEGER PRIMARY KEY DEFAULT nextval('archive_items_id'),
    identifier      VARCHAR NOT NULL UNIQUE,
    title_ja        VARCHAR NOT NULL CHECK (length(title_ja) > 0),
    title_en        VARCHAR,
    creator_ja      VARCHAR,
    creator_en      VARCHAR,
    date_text       VARCHAR,
    year_from       INTEGER,
    year_to         INTEGER,
    type            VARCHAR NOT NULL CHECK (type IN ('object', 'document', 'photograph', 'building', 'site')),
    subjects_ja     VARCHAR[] NOT NULL DEFAULT [],
    subjects_en     VARCHAR[] NOT NULL DEFAULT [],
    description_ja  VARCHAR,
    description_en  VARCHAR,
    format          VARCHAR,
    source          VARCHAR,
    coverage        VARCHAR,
    rights          VARCHAR NOT NULL,
    place_id        INTEGER,
    status          VARCHAR NOT NULL DEFAULT 'draft'
                    CHECK (status IN ('draft', 'review', 'published', 'withdrawn')),
    is_demo         BOOLEAN NOT NULL DEFAULT false,
    created_by      INTEGER NOT NULL,
    created_at      TIMESTAMPTZ NOT NULL,
    updated_at      TIMESTAMPTZ NOT NULL,
    submitted_by    INTEGER,
    published_by    INTEGER,
    published_at    TIMESTAMPTZ,
    search_tokens   VARCHAR NOT NULL DEFAULT ' ',
    CHECK (year_from IS NULL OR year_to IS NULL OR year_from <= year_to),
    CHECK (status <> 'published' OR published_at IS NOT NULL)
);

-- Item sets (collections), e.g. the former Ito Den'emon residence, finds of the Tateiwa site.
CREATE SEQUENCE archive_sets_id;
CREATE TABLE archive_sets (
    id              INTEGER PRIMARY KEY DEFAULT nextval('archive_sets_id'),
    slug            VARCHAR NOT NULL UNIQUE CHECK (regexp_matches(slug, '^[a-z0-9][a-z0-9-]*$')),
    title_ja        VARCHAR NOT NULL CHECK (length(title_ja) > 0),
    title_en        VARCHAR,
    description_ja  VARCHAR,
    description_en  VARCHAR,
    is_demo         BOOLEAN NOT NULL DEFAULT false
);

CREATE TABLE archive_set_items (
    set_id    INTEGER NOT NULL,
    item_id   INTEGER NOT NULL,
    position  INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (set_id, item_id)
);

-- Related items: each pair once, the smaller id first; read in both directions.
CREATE TABLE archive_relations (
    item_a  INTEGER NOT NULL,
    item_b  INTEGER NOT NULL,
    PRIMARY KEY (item_a, item_b),
    CHECK (item_a < item_b)
);

-- Media: images (bytes in archive_media_files) or links to a 3D model, a panorama or a video.
CREATE SEQUENCE archive_media_id;
CREATE TABLE archive_media (
    id        INTEGER PRIMARY KEY DEFAULT nextval('archive_media_id'),
    item_id   INTEGER NOT NULL,
    position  INTEGER NOT NULL DEFAULT 0,
    kind      VARCHAR NOT NULL CHECK (kind IN ('image', 'panorama', 'model3d', 'video')),
    url       VARCHAR,
    label_ja  VARCHAR,
    label_en  VARCHAR,
    rights    VARCHAR NOT NULL,
    width     INTEGER,
    height    INTEGER,
    file_name VARCHAR,
    created_at TIMESTAMPTZ NOT NULL,
    CHECK ((kind = 'image') = (url IS NULL)),
    CHECK (kind <> 'image' OR (width > 0 AND height > 0))
);

-- The image bytes in three sizes made by Pillow; kept in the database so that
-- `manabi backup` / `restore` (EXPORT DATABASE) carry them with everything else.
CREATE TABLE archive_media_files (
    media_id  INTEGER NOT NULL,
    size      VARCHAR NOT NULL CHECK (size IN ('full', 'display', 'thumb')),
    mime      VARCHAR NOT NULL,
    width     INTEGER NOT NULL CHECK (width > 0),
    height    INTEGER NOT NULL CHECK (height > 0),
    data      BLOB NOT NULL,
    PRIMARY KEY (media_id, size)
);

-- Every change: who, when, what.
CREATE SEQUENCE archive_history_id;
CREATE TABLE archive_history (
    id          INTEGER PRIMARY KEY DEFAULT nextval('archive_history_id'),
    item_id     INTEGER NOT NULL,
    changed_at  TIMESTAMPTZ NOT NULL,
    actor_id    INTEGER NOT NULL,
    actor_login VARCHAR NOT NULL,
    action      VARCHAR NOT NULL,
    detail      VARCHAR
);

-- Views per published item and day: a count, nothing about the viewer.
CREATE TABLE archive_views (
    item_id  INTEGER NOT NULL,
    day      DATE NOT NULL,
    views    INTEGER NOT NULL CHECK (views >= 0),
    PRIMARY KEY (item_id, day)
);
