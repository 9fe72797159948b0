"""OPDS routes (filled in below)."""


def routes() -> list:
    return []
