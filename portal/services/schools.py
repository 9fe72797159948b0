"""Schools: the portal keeps them because a teacher's school decides what every
module shows them. School ICT adds classrooms, pupils and devices to them."""

from __future__ import annotations

from dataclasses import dataclass

from kernel.errors import NotFound
from kernel.store import Store


@dataclass(frozen=True)
class School:
    id: int
    code: str
    name_ja: str
    name_en: str
    kind: str
    pupils: int

    def name(self, lang: str) -> str:
        return self.name_ja if lang == "ja" else self.name_en


def list_schools(store: Store) -> list[School]:
    return [School(*row) for row in store.query(
        "SELECT id, code, name_ja, name_en, kind, pupils FROM portal_schools ORDER BY code"
    )]


def add_schools(cur, schools: list[tuple[str, str, str, str, int]]) -> dict[str, int]:
    """Insert (code, name_ja, name_en, kind, pupils) rows inside the caller's transaction;
    returns code -> id."""
    cur.executemany(
        "INSERT INTO portal_schools (code, name_ja, name_en, kind, pupils) VALUES (?, ?, ?, ?, ?)", schools
    )
    return dict(cur.execute("SELECT code, id FROM portal_schools").fetchall())


def school_id_for_code(store: Store, code: str) -> int:
    """A school's id by its code (as the city's list writes it, any case)."""
    school_id = store.scalar("SELECT id FROM portal_schools WHERE code = ?", [code.strip().upper()])
    if school_id is None:
        raise NotFound("accounts.no_such_school", school=code)
    return school_id


def schools_relation(cur):
    """The schools as a lazy DuckDB relation (offered as "portal.schools")."""
    return cur.sql("SELECT id, code, name_ja, name_en, kind, pupils FROM portal_schools")
