-- Import only finds the cover and reads its header: cover_path is its member in the EPUB.
-- The thumbnail (cover_jpeg) is made the first time the cover is shown and kept here;
-- a cover that is already a small JPEG is stored as it is at import.
ALTER TABLE library_ebooks_files ADD COLUMN cover_path VARCHAR;
