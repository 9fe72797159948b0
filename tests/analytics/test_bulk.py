"""Bulk import: the SQL fast path must agree with the full validator, line by line."""

from __future__ import annotations

import copy
import json
import uuid
from pathlib import Path

import pytest

from analytics.services import bulk, lrs, roster, texts
from analytics.services.xapi_validate import InvalidStatement, validate_statement
from kernel.actor import SYSTEM
from kernel.errors import ImportRejected, InvalidInput
from kernel.migrations import migrate
from kernel.store import Store
from portal.modules import known_migrations

CORPUS = Path("/work/shared/corpus/xapi")
ROOT = Path(__file__).resolve().parents[2]
EXT = lrs.CURRICULUM_EXTENSION


def app_statement(n: int) -> dict:
    """Learning-app statements of the fast shape, in several spellings."""
    statement = {
        "id": str(uuid.UUID(int=n + 1, version=4)),
        "actor": ({"objectType": "Agent", "account": {"homePage": "https://manabi.city.iizuka.lg.jp", "name": f"p{n}"}}
                  if n % 3 else {"name": "学習者", "mbox": f"mailto:P{n}@Example.jp"}),
        "verb": {"id": "http://adlnet.gov/expapi/verbs/passed", "display": {"ja-JP": "合格した", "en-US": "passed"}},
        "object": {"id": f"https://apps.example.jp/units/820100{n % 3}110000000/quiz?x={n}",
                   "definition": {"name": {"en": "Quiz", "ja": "小テスト"}, "type": "http://adlnet.gov/expapi/activities/assessment"}},
        "result": {"score": {"scaled": round(n / 10 - 0.5, 2), "raw": n, "min": 0, "max": 10},
                   "success": n % 2 == 0, "completion": True, "duration": f"PT{n}M{n}.5S", "response": "b"},
        "context": {"registration": str(uuid.UUID(int=1000 + n, version=4)), "platform": "ドリル",
                    "language": "ja-JP", "extensions": {EXT: "8201003110000000", "https://x.jp/ext/n": n}},
        "timestamp": f"2026-11-2{n % 7}T0{n % 9}:15:00{'Z' if n % 2 else '+09:00'}",
    }
    if n % 2:  # the course as the app's grouping, as many apps send it
        statement["context"]["contextActivities"] = {"grouping": [
            {"id": "https://apps.example.jp/courses/5", "definition": {"name": {"ja": "5年算数"}}}]}
    if n % 3 == 2:  # an app's own figures, nested
        statement["result"]["extensions"] = {"https://apps.example.jp/ext/attempt": {"n": n, "hints": [1, None]}}
    if n % 4 == 0:
        del statement["context"]
    if n % 5 == 0:
        del statement["id"]  # the store assigns one
    return statement


def write_lines(path: Path, statements: list) -> Path:
    path.write_text("\n".join(s if isinstance(s, str) else json.dumps(s, ensure_ascii=False) for s in statements)
                    + "\n", encoding="utf-8")
    return path


def without_id(raw: str) -> dict:
    return {k: v for k, v in json.loads(raw).items() if k != "id"}


FACTS = ("ts", "actor_key", "learner_id", "verb_id", "object_type", "object_id", "activity_name", "unit_code",
         "score_scaled", "success", "completion", "duration_s", "registration", "voids_id", "version", "actor_name",
         "json(definition)")  # the definition as JSON: "1e2" and "100.0" say the same


def facts_with_texts(store, columns: str) -> list[tuple]:
    """The columns of every stored statement, by actor, and its text last."""
    rows = store.query(f"SELECT {columns}, seq FROM analytics_statements ORDER BY actor_key")
    found = texts.fetch(store.cursor(), [r[-1] for r in rows])
    return [(*r[:-1], found[r[-1]]) for r in rows]


def test_fast_path_facts_equal_the_python_paths(store, clock, tmp_path):
    statements = [app_statement(n) for n in range(11)]
    for statement in statements:
        validate_statement(statement)  # all valid
    result = bulk.import_jsonl(store, clock, SYSTEM, write_lines(tmp_path / "a.jsonl", statements))
    assert result["read_compiled"] == 11 and result["added"] == 11
    columns = ", ".join(FACTS)
    imported = facts_with_texts(store, columns)
    made = lrs.add_client(store, clock, SYSTEM, "app")
    client = lrs.authenticate(store, made.api_key, made.secret)
    store.query("DELETE FROM analytics_statements")
    store.query("DELETE FROM analytics_statement_texts")
    lrs.store_statements(store, clock, client, statements)
    posted = facts_with_texts(store, columns)
    assert [r[:-1] for r in imported] == [r[:-1] for r in posted]
    # The import keeps each line as sent (its id included); the HTTP path keeps the id apart.
    assert [without_id(r[-1]) for r in imported] == [without_id(r[-1]) for r in posted]
    assert all(json.loads(r[-1]) == without_id(r[-1]) | ({"id": s["id"]} if "id" in s else {})
               for r in imported for s in statements if r[1] == lrs.actor_key(s["actor"]))


def test_a_statement_imported_then_posted_in_other_key_order_is_the_same(store, clock, tmp_path):
    statement = app_statement(1)
    bulk.import_jsonl(store, clock, SYSTEM, write_lines(tmp_path / "a.jsonl", [statement]))
    reordered = dict(reversed(list(copy.deepcopy(statement).items())))
    made = lrs.add_client(store, clock, SYSTEM, "app")
    client = lrs.authenticate(store, made.api_key, made.secret)
    assert lrs.store_statements(store, clock, client, [reordered]) == [statement["id"]]
    assert lrs.statement_count(store) == 1
    reordered["result"]["score"]["raw"] = 2
    with pytest.raises(lrs.StatementConflict):
        lrs.store_statements(store, clock, client, [reordered])


BROKEN = [
    lambda s: s["verb"].update(id="passed"),
    lambda s: s["actor"].update(mbox="mailto:nobody"),
    lambda s: s["actor"]["account"].update(extra="x"),
    lambda s: s["actor"].update(mbox="mailto:a@b.jp"),  # two identifiers
    lambda s: s["result"]["score"].update(scaled=1.01),
    lambda s: s["result"]["score"].update(raw=11),
    lambda s: s["result"]["score"].update(min=10),
    lambda s: s["result"]["score"].update(scaled="0.5"),
    lambda s: s["result"].update(success="true"),
    lambda s: s["result"].update(duration="PT"),
    lambda s: s["result"].update(duration="12 minutes"),
    lambda s: s.update(timestamp="2026-13-40T10:00:00Z"),
    lambda s: s.update(timestamp="2026-11-27T10:00:00-00:00"),
    lambda s: s.update(id="1234"),
    lambda s: s["context"].update(registration="abc"),
    lambda s: s["context"].update(language="日本語"),
    lambda s: s["verb"]["display"].update({"en_US": "x"}),
    lambda s: s["object"]["definition"]["name"].update(ja=None),
    lambda s: s["object"]["definition"].update(type="assessment"),
    lambda s: s["object"].update(objectType="Activty"),
    lambda s: s["context"]["extensions"].update({"not an iri": 1}),
    lambda s: s.update(verb={"id": "http://adlnet.gov/expapi/verbs/voided"}),
    lambda s: s.update(stored2=1),
]


@pytest.mark.parametrize("index", range(len(BROKEN)))
def test_broken_lines_are_refused_and_named(store, clock, tmp_path, index):
    broken = app_statement(7)  # an account actor, with id and context
    BROKEN[index](broken)
    with pytest.raises(InvalidStatement):
        validate_statement(copy.deepcopy(broken))
    path = write_lines(tmp_path / "b.jsonl", [app_statement(1), broken, app_statement(2)])
    with pytest.raises(ImportRejected) as caught:
        bulk.import_jsonl(store, clock, SYSTEM, path)
    assert [p.row for p in caught.value.problems] == [2]
    assert lrs.statement_count(store) == 0


def test_duplicate_properties_and_broken_json_are_named(store, clock, tmp_path):
    good = json.dumps(app_statement(1))
    duplicated = good.replace('"verb":', '"verb": {"id": "http://x.jp/v"}, "verb":', 1)
    path = write_lines(tmp_path / "c.jsonl", [good, duplicated, "{not json", good])
    with pytest.raises(ImportRejected) as caught:
        bulk.import_jsonl(store, clock, SYSTEM, path)
    assert [p.row for p in caught.value.problems] == [2, 3]


def test_the_corpus_goes_through_the_full_validator(store, clock, tmp_path):
    valid = ["attachment", "context", "context_sans_objectType", "default", "object_agent_default",
             "object_group_default", "object_statementref", "object_substatement_default", "result", "unicode",
             "voiding"]
    lines = [json.dumps(json.loads((CORPUS / f"{n}.json").read_text())) for n in valid]
    seen = []
    result = bulk.import_jsonl(store, clock, SYSTEM, write_lines(tmp_path / "d.jsonl", lines),
                               progress=lambda stage, count: seen.append(stage))
    assert result["added"] == len(valid)
    assert 0 < result["read_compiled"] < len(valid)  # the usual shape by the reader, the rest in Python
    assert seen == ["read", "checked", "stored"]  # once each, though the first attempt was rolled back


def test_keys_and_strings_that_look_like_values_do_not_fool_the_reader(store, clock, tmp_path):
    """Keys with colons and digits, strings holding '":', Python's `": "` spacing and \\u
    escapes each keep their own judgement."""
    def with_extensions(n: int, extensions: str) -> str:
        text = json.dumps(app_statement(n), ensure_ascii=(n % 2 == 0))
        return text.replace('"https://x.jp/ext/n"', extensions + ', "https://x.jp/ext/n"', 1)  # the context's
    good = [with_extensions(1, '"http://x.jp/a:1": 1, "http://x.jp/a:2": 2'),
            with_extensions(2, '"http://x.jp/b:": "v\\": 1", "http://x.jp/c": "\\":\\"x"')]
    result = bulk.import_jsonl(store, clock, SYSTEM, write_lines(tmp_path / "g.jsonl", good))
    assert result["added"] == 2
    twice = with_extensions(5, '"http://x.jp/a:1": 1, "http://x.jp/a:1": 2')
    with pytest.raises(ImportRejected) as caught:
        bulk.import_jsonl(store, clock, SYSTEM, write_lines(tmp_path / "h.jsonl", [good[0], twice]))
    assert [p.row for p in caught.value.problems] == [2]
    seq = store.scalar("SELECT seq FROM analytics_statements WHERE actor_key LIKE '%|p2'")
    stored = json.loads(texts.fetch(store.cursor(), [seq])[seq])
    assert stored["context"]["extensions"]["http://x.jp/b:"] == 'v": 1'


def test_a_string_where_a_number_belongs_in_an_otherwise_same_line_is_refused(store, clock, tmp_path):
    lines = [json.dumps(app_statement(n)) for n in (1, 2, 3)]
    lines[2] = lines[2].replace('"scaled": -0.2', '"scaled": "-0.2"')
    assert '"scaled": "-0.2"' in lines[2]
    with pytest.raises(ImportRejected) as caught:
        bulk.import_jsonl(store, clock, SYSTEM, write_lines(tmp_path / "i.jsonl", lines))
    assert [p.row for p in caught.value.problems] == [3]


@pytest.mark.parametrize("extra", [0, lrs.POINT_LOOKUPS + 10])
def test_voiding_in_a_file_small_or_past_the_index_lookups(store, clock, tmp_path, extra):
    """A file voids a statement it holds, and a statement voided before it arrived (by a
    voiding statement already stored) is voided on arrival: by index lookups for a small
    batch, by joins past POINT_LOOKUPS ids."""
    made = lrs.add_client(store, clock, SYSTEM, "app")
    client = lrs.authenticate(store, made.api_key, made.secret)
    early, in_file = str(uuid.uuid4()), str(uuid.uuid4())
    voids = lambda target: {"actor": {"mbox": "mailto:t@example.jp"},  # noqa: E731
                            "verb": {"id": "http://adlnet.gov/expapi/verbs/voided"},
                            "object": {"objectType": "StatementRef", "id": target}}
    lrs.store_statements(store, clock, client, [voids(early)])
    statements = [app_statement(n % 10) | {"id": str(uuid.uuid4())} for n in range(extra)]
    statements += [app_statement(1) | {"id": early}, app_statement(2) | {"id": in_file}, voids(in_file)]
    result = bulk.import_jsonl(store, clock, SYSTEM, write_lines(tmp_path / "v.jsonl", statements))
    assert result["added"] == len(statements)
    voided = {str(r[0]) for r in store.query("SELECT id FROM analytics_statements WHERE voided")}
    assert voided == {early, in_file}
    with pytest.raises(lrs.NotFound):
        lrs.get_statement(store, in_file)


def test_a_file_again_half_stored_with_a_line_twice_adds_only_the_new(store, clock, tmp_path):
    """Ids already stored with the same content are skipped, a line given twice is kept once,
    and the new statements keep their own texts; another content under a stored id, or twice
    in one file, refuses the whole file."""
    statements = [app_statement(n % 10) | {"id": str(uuid.UUID(int=n + 1, version=4))} for n in range(240)]
    first = bulk.import_jsonl(store, clock, SYSTEM, write_lines(tmp_path / "a.jsonl", statements[:150]))
    assert first["added"] == 150
    same = bulk.import_jsonl(store, clock, SYSTEM, tmp_path / "a.jsonl")  # the whole file again
    assert (same["added"], same["already_stored"]) == (0, 150) and lrs.statement_count(store) == 150
    edited = copy.deepcopy(statements[:150])
    edited[70]["result"]["response"] = "edited"
    with pytest.raises(lrs.StatementConflict):
        bulk.import_jsonl(store, clock, SYSTEM, write_lines(tmp_path / "edited.jsonl", edited))
    again = statements[90:] + [statements[200]]  # 60 stored, 90 new (in blocks), one of them twice
    result = bulk.import_jsonl(store, clock, SYSTEM, write_lines(tmp_path / "b.jsonl", again))
    assert (result["added"], result["already_stored"]) == (90, 61)
    assert lrs.statement_count(store) == 240
    for statement in (statements[0], statements[149], statements[150], statements[200], statements[239]):
        got = lrs.get_statement(store, statement["id"])
        assert {k: v for k, v in got.items() if k not in ("stored", "authority", "version")} == statement
        assert (got["authority"], got["version"]) == (lrs.IMPORT_AUTHORITY, "1.0.0")
    changed = copy.deepcopy(statements[5])
    changed["result"]["response"] = "c"
    with pytest.raises(lrs.StatementConflict):
        bulk.import_jsonl(store, clock, SYSTEM, write_lines(tmp_path / "c.jsonl", [app_statement(1), changed]))
    with pytest.raises(InvalidStatement):
        bulk.import_jsonl(store, clock, SYSTEM, write_lines(tmp_path / "d.jsonl", [statements[11] | {"id": str(
            uuid.uuid4())}, app_statement(3) | {"id": str(uuid.UUID(int=9999))}, app_statement(4) | {
                "id": str(uuid.UUID(int=9999))}]))
    assert lrs.statement_count(store) == 240


def test_every_bad_line_is_named_a_score_out_of_range_and_an_unknown_key(store, clock, tmp_path):
    """A score out of range and an unknown key, each in a line otherwise of the common shape:
    both lines named (the reader leaves them to the validator, which says why)."""
    out_of_range, unknown_key = app_statement(4), app_statement(5)
    out_of_range["result"]["score"]["scaled"] = 1.5
    unknown_key["result"]["grade"] = "A"
    path = write_lines(tmp_path / "e.jsonl", [app_statement(1), unknown_key, app_statement(2), out_of_range])
    with pytest.raises(ImportRejected) as caught:
        bulk.import_jsonl(store, clock, SYSTEM, path)
    assert [p.row for p in caught.value.problems] == [2, 4]
    assert lrs.statement_count(store) == 0


def mixed_file(path: Path, count: int) -> Path:
    """count statements: most of the common shape, some other (full validator), CRLF and blank lines."""
    others = [json.loads((CORPUS / f"{name}.json").read_text()) for name in ("context", "result", "unicode")]
    lines = []
    for n in range(count):
        statement = copy.deepcopy(others[n % 3]) if n % 9 == 4 else app_statement(n % 10)
        lines.append(json.dumps(statement | {"id": str(uuid.UUID(int=n + 1, version=4))}, ensure_ascii=n % 2 == 0))
        if n % 50 == 7:
            lines.append("")
    path.write_bytes("\r\n".join(lines[: count // 2]).encode() + b"\r\n" + "\n".join(lines[count // 2:]).encode())
    return path


def test_a_file_too_large_for_the_memory_is_read_in_parts_with_the_same_result(clock, tmp_path, monkeypatch):
    """A file that would not fit in the free memory at once (this machine's free memory is what
    is faked) is read in parts, in one transaction: the statements, facts and texts stored are
    those a whole import stores."""
    path = mixed_file(tmp_path / "big.jsonl", 600)
    stores = {kind: Store(tmp_path / kind / "manabi.duckdb") for kind in ("whole", "parts")}
    for store in stores.values():
        migrate(store, clock, known_migrations())
    whole = bulk.import_jsonl(stores["whole"], clock, SYSTEM, path)
    monkeypatch.setattr(bulk, "memory_available", lambda: path.stat().st_size * bulk.MEMORY_PER_FILE_BYTE // 2)
    monkeypatch.setattr(bulk, "MIN_PART_BYTES", 1)
    seen = []
    parts = bulk.import_jsonl(stores["parts"], clock, SYSTEM, path, progress=lambda *stage: seen.append(stage))
    assert whole["parts"] == 1 and parts["parts"] >= 4
    assert {k: v for k, v in parts.items() if k != "parts"} == {k: v for k, v in whole.items() if k != "parts"}
    assert whole["added"] == 600 and 0 < whole["read_compiled"] < 600
    columns = "id, seq, " + ", ".join(FACTS)
    by_seq = {kind: sorted(facts_with_texts(store, columns), key=lambda row: row[1]) for kind, store in stores.items()}
    assert by_seq["parts"] == by_seq["whole"]
    assert seen[-3:] == [("read", whole["lines"]), ("checked", 600), ("stored", 600)]
    for store in stores.values():
        store.close()


def test_bad_lines_in_every_part_are_named_with_their_line_in_the_file(store, clock, tmp_path):
    """Parts are checked to the end, each bad line named by its line in the whole file, also in
    a part DuckDB's reader refuses (a key twice); nothing of any part stored."""
    lines = [json.dumps(app_statement(n % 10) | {"id": str(uuid.uuid4())}) for n in range(60)]
    out_of_range = app_statement(4)
    out_of_range["result"]["score"]["scaled"] = 1.5
    lines[4] = json.dumps(out_of_range)
    lines[30] = lines[30].replace('"verb":', '"verb": {"id": "http://x.jp/v"}, "verb":', 1)
    lines[57] = lines[57].replace('"result": {', '"result": {"grade": "A", ', 1)
    lines.insert(10, "")
    path = write_lines(tmp_path / "bad.jsonl", lines)
    with pytest.raises(ImportRejected) as caught:
        bulk.import_jsonl(store, clock, SYSTEM, path, part_bytes=path.stat().st_size // 6)
    assert [p.row for p in caught.value.problems] == [5, 32, 59]
    assert lrs.statement_count(store) == 0


def test_an_id_met_again_in_a_later_part_is_compared_with_the_earlier(store, clock, tmp_path):
    statements = [app_statement(n % 10) | {"id": str(uuid.uuid4())} for n in range(60)]
    again = write_lines(tmp_path / "again.jsonl", [*statements, statements[2]])
    # Parts smaller than a line: each part is then one line (read on to its end).
    result = bulk.import_jsonl(store, clock, SYSTEM, again, part_bytes=200)
    assert result["parts"] == 61 and (result["added"], result["already_stored"]) == (60, 1)
    store.query("DELETE FROM analytics_statements")
    changed = copy.deepcopy(statements[2])
    changed["result"]["response"] = "c"
    other = write_lines(tmp_path / "other.jsonl", [*statements, changed])
    with pytest.raises(lrs.StatementConflict):
        bulk.import_jsonl(store, clock, SYSTEM, other, part_bytes=other.stat().st_size // 5)
    assert lrs.statement_count(store) == 0


def test_lines_with_control_characters_or_not_utf8_are_named_too(store, clock, tmp_path):
    """A raw control character inside a line, or bytes that are not UTF-8 (which once made the
    whole file unreadable without saying where): each line named."""
    good = json.dumps(app_statement(1), ensure_ascii=False).encode("utf-8")
    control = json.dumps(app_statement(2)).replace('"passed"', '"pas\x1esed"', 1).encode("utf-8")
    latin1 = json.dumps(app_statement(3), ensure_ascii=False).replace("ドリル", "café").encode("latin-1", "replace")
    path = tmp_path / "bytes.jsonl"
    path.write_bytes(b"\n".join([good, control, good, latin1]) + b"\n")
    with pytest.raises(ImportRejected) as caught:
        bulk.import_jsonl(store, clock, SYSTEM, path)
    assert [p.row for p in caught.value.problems] == [2, 4]
    assert [p.params["reason"].key for p in caught.value.problems] == [
        "analytics.xapi_rule.not_json", "analytics.xapi_rule.not_utf8_json"]
    assert lrs.statement_count(store) == 0


@pytest.mark.parametrize("content", [b"", b"\n \n\t\r\n"])
def test_an_empty_file_or_one_of_blank_lines_holds_no_statements(store, clock, tmp_path, content):
    path = tmp_path / "empty.jsonl"
    path.write_bytes(content)
    with pytest.raises(InvalidInput) as caught:
        bulk.import_jsonl(store, clock, SYSTEM, path)
    assert caught.value.key == "analytics.xapi.import_empty"


@pytest.mark.parametrize("mixed", [False, True])
def test_learners_on_the_roster_are_placed_in_their_school_and_class_as_posted_ones(store, clock, tmp_path, mixed):
    """A file of the common shape is placed by a lookup beside the insert, one of mixed shapes
    by the insert's join: both as the HTTP path places the same statements."""
    store.query("INSERT INTO portal_schools (code, name_ja, name_en, kind) VALUES "
                "('E01', '飯塚小学校', 'Iizuka ES', 'elementary'), ('E02', '片島小学校', 'Katashima ES', 'elementary')")
    roster.import_learners(store, SYSTEM, "learner_id,school_code,grade,class\np1,E01,5,1\np2,E02,3,2\np5,E01,5,2\n")
    statements = [app_statement(n) | {"id": str(uuid.UUID(int=n + 1, version=4))} for n in range(1, 9)]
    if mixed:  # a group as actor: another shape
        statements[-1] = statements[-1] | {"actor": {"objectType": "Group", "member": [statements[0]["actor"]]}}
    bulk.import_jsonl(store, clock, SYSTEM, write_lines(tmp_path / "r.jsonl", statements))
    placed = "SELECT actor_key, school_id, grade, class_name FROM analytics_statements ORDER BY actor_key, seq"
    imported = store.query(placed)
    assert ("account:https://manabi.city.iizuka.lg.jp|p2", 2, 3, "2") in imported
    assert sum(1 for row in imported if row[1] is None) == 8 - 3  # not on the roster
    store.query("DELETE FROM analytics_statements")
    made = lrs.add_client(store, clock, SYSTEM, "app")
    lrs.store_statements(store, clock, lrs.authenticate(store, made.api_key, made.secret), statements)
    assert store.query(placed) == imported
