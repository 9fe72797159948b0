-- Searching looks terms up by value: an index on term makes that a lookup, not a scan
-- of every title's terms (measured in library_ebooks/bench.py on 100,000 titles).
CREATE INDEX library_ebooks_terms_term ON library_ebooks_terms (term);
