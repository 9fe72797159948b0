"""The demo city: a deterministic generator and small fixtures (never a database file)."""
