"""Relations one module offers the others (kernel.provided.offered_view): readable as a
temporary view of the reader's cursor only, on a read-only database too, and nothing more
than the offer's columns."""

from __future__ import annotations

import duckdb
import pytest

from kernel.migrations import migrate
from kernel.provided import offered_view
from kernel.store import Store
from portal.modules import known_migrations
from portal.services import accounts, schools


def test_an_offered_relation_is_a_view_of_this_cursor_only(store, clock):
    store.write(lambda cur: schools.add_schools(cur, [("E01", "飯塚小", "Iizuka ES", "elementary", 3)]))
    cur = store.cursor()
    offered_view(cur, "portal.schools")
    assert cur.execute("SELECT code, name_ja FROM offered_schools").fetchall() == [("E01", "飯塚小")]
    with store.own_cursor() as other, pytest.raises(duckdb.CatalogException):
        other.execute("SELECT * FROM offered_schools")


def test_the_portal_offers_its_accounts_without_anything_secret(store, clock):
    school = store.write(lambda cur: schools.add_schools(cur, [("E01", "飯塚小", "Iizuka ES", "elementary", 3)]))
    accounts.create_user(store, clock, login="teacher01", display_name="先生", roles=["teacher"],
                         password_hash="$argon2id$secret", school_id=school["E01"])
    cur = store.cursor()
    offered_view(cur, "portal.users", "portal.user_roles")
    columns = [d[0] for d in cur.execute("SELECT * FROM offered_users").description]
    assert columns == ["id", "login", "display_name", "email", "school_id", "disabled"]
    assert cur.execute("""SELECT u.login, r.role FROM offered_users u
                          JOIN offered_user_roles r ON r.user_id = u.id""").fetchall() == [("teacher01", "teacher")]


def test_offered_views_work_on_a_read_only_database(clock, tmp_path):
    path = tmp_path / "ro.duckdb"
    writable = Store(path)
    migrate(writable, clock, known_migrations())
    writable.write(lambda cur: schools.add_schools(cur, [("J01", "穂波中", "Honami JHS", "junior_high", 2)]))
    writable.close()
    read_only = Store(path, read_only=True)
    try:
        offered_view(read_only.cursor(), "portal.schools")
        assert read_only.query("SELECT code FROM offered_schools") == [("J01",)]
    finally:
        read_only.close()


def test_asking_for_what_nobody_offers_is_an_error(store):
    with pytest.raises(LookupError):
        offered_view(store.cursor(), "portal.nothing_of_the_kind")
