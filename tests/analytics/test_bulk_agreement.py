"""The bulk import's fast path (the compiled reader, _xapi_scan.c) must agree with the full validator
on every line: seeded random changes to app statements, one file each, both verdicts compared,
and the facts of every accepted line equal to the Python path's."""

from __future__ import annotations

import copy
import json
import random
import re

import pytest

from analytics.services import bulk, lrs
from analytics.services.xapi_validate import InvalidStatement, parse_json, validate_statement
from kernel.actor import SYSTEM
from kernel.errors import ImportRejected
from tests.analytics.test_bulk import FACTS, app_statement, write_lines

ODD_VALUES = [None, 5, -1.5, "", "x", "P", "2026-11-27T10:00:00Z", True, False, [], [1], {}, {"a": 1},
              "http://x.jp/a", "00000000-0000-4000-8000-000000000001", "mailto:a@b.jp", "ja-JP", "PT5M", 2.0, "ＡＢ"]


# Valid lines around the changed one, with ids no changed line has.
NEIGHBOURS = [json.dumps(app_statement(n) | {"id": f"00000000-0000-4000-8000-0000000009{n:02d}"}) for n in (1, 2)]


def leaves(node: object, path: tuple = ()) -> list[tuple]:
    if isinstance(node, dict):
        found = [path] if path else []
        for key, value in node.items():
            found += leaves(value, (*path, key))
        return found
    return [path]


def at(node: dict, path: tuple) -> tuple[dict, str]:
    for key in path[:-1]:
        node = node[key]
    return node, path[-1]


def mutated(rng: random.Random) -> str:
    statement = app_statement(rng.randrange(11))
    paths = leaves(statement)
    change = rng.randrange(6)
    if change == 0:  # a value of another type or form
        parent, key = at(statement, rng.choice(paths))
        parent[key] = copy.deepcopy(rng.choice(ODD_VALUES))
    elif change == 1:  # a property left out
        parent, key = at(statement, rng.choice(paths))
        del parent[key]
    elif change == 2:  # a property nobody knows, in some object
        objects = [p for p in paths if isinstance(at(statement, p)[0][at(statement, p)[1]], dict)]
        parent, key = at(statement, rng.choice(objects)) if objects else (statement, None)
        target = parent[key] if key else statement
        target[rng.choice(["extra", "name", "id", "en", "http://x.jp/e"])] = copy.deepcopy(rng.choice(ODD_VALUES))
    text = json.dumps(statement, ensure_ascii=rng.random() < 0.5,
                      separators=rng.choice([(",", ":"), (", ", ": "), (",", " : ")]))
    if change == 3:  # a key given twice
        spot = rng.choice([m.start() for m in re.finditer(r'"(verb|id|name|en|scaled|platform|account)"\s*:', text)])
        end = text.index(",", spot) if "," in text[spot:] else len(text) - 1
        text = text[:end] + "," + text[spot:end] + text[end:]  # (may cut an object: broken JSON, refused too)
    elif change == 4:  # escapes a reader must undo
        text = text.replace("/", "\\/", rng.randrange(1, 4)).replace("テ", "\\u30c6")
    return text


def valid(text: str) -> bool:
    try:
        validate_statement(parse_json(text))
    except InvalidStatement:
        return False
    return True


@pytest.mark.parametrize("seed", range(160))
def test_fast_path_and_validator_agree(store, clock, tmp_path, seed):
    rng = random.Random(seed)
    line = mutated(rng)
    expected = valid(line)
    path = write_lines(tmp_path / "m.jsonl", [NEIGHBOURS[0], line, NEIGHBOURS[1]])
    if not expected:
        with pytest.raises(ImportRejected) as caught:
            bulk.import_jsonl(store, clock, SYSTEM, path)
        assert [p.row for p in caught.value.problems] == [2], line
        return
    result = bulk.import_jsonl(store, clock, SYSTEM, path)
    assert result["added"] == 3, line
    columns = ", ".join(FACTS)
    imported = store.query(f"SELECT {columns} FROM analytics_statements WHERE seq = 2")
    # The same statement through the HTTP path's service (the Python facts), on an empty store.
    store.query("DELETE FROM analytics_statements")
    made = lrs.add_client(store, clock, SYSTEM, "app")
    lrs.store_statements(store, clock, lrs.authenticate(store, made.api_key, made.secret), [parse_json(line)])
    assert imported == store.query(f"SELECT {columns} FROM analytics_statements"), line
