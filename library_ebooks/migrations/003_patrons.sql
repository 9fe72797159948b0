-- One row per resident who has borrowed or held: every borrow and hold updates it, so two
-- transactions of the same resident conflict and one is retried, and the per-resident
-- limits (5 loans, 5 holds) hold even when one resident clicks in two tabs at once.
CREATE TABLE library_ebooks_patrons (
    user_id  INTEGER PRIMARY KEY,
    actions  INTEGER NOT NULL DEFAULT 0  -- counts borrows and holds; the value itself is not used
);
