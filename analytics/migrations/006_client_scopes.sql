-- Client scopes (xAPI's statements/read/mine): a learning app's key reads, by default, only the
-- statements it wrote; reading every statement is a grant the city administrator gives per key
-- (`manabi analytics xapi clients grant NAME --read-all`, or the learning records page).
-- (DuckDB adds no column with a constraint: the services write only true or false.)
ALTER TABLE analytics_xapi_clients ADD COLUMN read_all BOOLEAN DEFAULT false;
