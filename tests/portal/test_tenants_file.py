"""The tenants file: a municipality added gets its own database marked with its code; one that
clashes with another (code, port, database) or is not valid is refused, and nothing is written."""

from __future__ import annotations

from pathlib import Path

import pytest

from kernel import municipality
from kernel.errors import InvalidInput, NotFound
from kernel.store import Store
from portal.services import tenants

IIZUKA = tenants.Tenant("40205", "飯塚市", "Iizuka", 126364, 18601, Path(""), "#0b6e4f")


def test_added_municipalities_get_their_own_database_and_are_listed_down_until_served(tmp_path):
    config = tmp_path / "tenants.toml"
    tenants.add(config, IIZUKA)
    tenants.add(config, tenants.Tenant("40204", "直方市", "Nogata", 55000, 18602, Path("nogata.duckdb")))
    listed = tenants.load(config)
    assert [(t.code, t.port, t.color) for t in listed] == [("40205", 18601, "#0b6e4f"), ("40204", 18602, None)]
    for tenant in listed:
        store = Store(tenant.db_path(config))
        try:
            assert municipality.code(store) == tenant.code
        finally:
            store.close()
    assert tenants.find(config, "40204").db_path(config) == tmp_path / "nogata.duckdb"
    assert {s.health for s in tenants.status(config)} == {"down"}
    assert tenants.find(config, "40205").environment()["MANABI_CITY_NAME_EN"] == "Iizuka"
    with pytest.raises(NotFound):
        tenants.find(config, "40100")


@pytest.mark.parametrize(("change", "key"), [
    ({"code": "4020"}, "tenants.bad_code"),
    ({"code": "40205"}, "tenants.code_taken"),
    ({"port": 18601}, "tenants.port_taken"),
    ({"port": 80}, "tenants.bad_port"),
    ({"population": 0}, "tenants.bad_population"),
    ({"name_en": " "}, "tenants.names_required"),
    ({"color": "green"}, "tenants.bad_color"),
    ({"db": Path("tenants/40205/manabi.duckdb")}, "tenants.db_taken"),
])
def test_a_clash_or_a_bad_value_is_refused_and_nothing_is_written(tmp_path, change, key):
    config = tmp_path / "tenants.toml"
    tenants.add(config, IIZUKA)
    before = config.read_text()
    values = {"code": "40204", "name_ja": "直方市", "name_en": "Nogata", "population": 55000, "port": 18602,
              "db": Path(""), "color": None, **change}
    with pytest.raises(InvalidInput) as refused:
        tenants.add(config, tenants.Tenant(**values))
    assert refused.value.key == key
    assert config.read_text() == before
    assert not (tmp_path / "tenants" / "40204").exists()


def test_a_database_of_another_municipality_is_not_taken(tmp_path):
    config = tmp_path / "tenants.toml"
    tenants.add(config, IIZUKA)
    taken = tenants.find(config, "40205").db_path(config)
    other = tmp_path / "other.toml"
    with pytest.raises(InvalidInput) as refused:
        tenants.add(other, tenants.Tenant("40204", "直方市", "Nogata", 55000, 18602, taken))
    assert refused.value.key == "tenants.db_of_other" and not other.exists()


def test_a_broken_file_is_named_with_what_to_do(tmp_path):
    config = tmp_path / "tenants.toml"
    config.write_text("[[tenant]]\ncode = 40205\n")
    with pytest.raises(InvalidInput) as refused:
        tenants.load(config)
    assert refused.value.key == "tenants.bad_config"
