"""The compiled reader of statement lines (analytics/services/_xapi_scan.c): on the forms where
a hand-written reader could go wrong, it takes a line as of the common shape only when the
full validator accepts it, and then reads the facts the validator's path derives."""

from __future__ import annotations

import copy
import json
import random
import uuid

import numpy as np
import pytest

from analytics.services import lrs, statement_lines
from analytics.services.xapi_validate import parse_json
from tests.analytics.test_bulk import app_statement
from tests.analytics.test_bulk_agreement import mutated, valid

COMPARED = ("ts", "actor_key", "learner_id", "verb_id", "object_id", "activity_name", "unit_code",
            "score_scaled", "success", "completion", "duration_s", "actor_name")


def read_one(text: str) -> tuple[int, dict | None]:
    lines = statement_lines.read((text + "\n").encode())
    assert lines.count == 1
    return int(lines.status[0]), (lines.facts.to_pylist()[0] if lines.facts.num_rows else None)


def assert_agrees(text: str) -> int:
    """The reader's verdict on one line against the validator's; the facts when both accept."""
    status, facts = read_one(text)
    if status == statement_lines.FAST:
        assert valid(text), text
        expected = dict(zip(lrs.ROW_COLUMNS, lrs.statement_row(parse_json(text)), strict=True))
        assert {k: facts[k] for k in COMPARED} == {k: expected[k] for k in COMPARED}, text
        sent_id = parse_json(text).get("id")  # the reader's ids are Arrow UUIDs, null when none was sent
        assert facts["id"] == (None if sent_id is None else uuid.UUID(expected["id"])), text
        definitions = [None if d is None else json.loads(d) for d in (facts["definition"], expected["definition"])]
        assert definitions[0] == definitions[1], text
    return status


def changed(path: str, value: object, n: int = 0) -> str:
    statement = copy.deepcopy(app_statement(n))
    *parents, last = path.split(".")
    node = statement
    for key in parents:
        node = node.setdefault(key, {})
    node[last] = value
    return json.dumps(statement, ensure_ascii=False)


FAST, OTHER = statement_lines.FAST, statement_lines.OTHER


@pytest.mark.parametrize(("value", "expected"), [
    ("2024-02-29T10:00:00Z", FAST),  # a leap day
    ("2026-02-29T10:00:00Z", OTHER),  # no such day
    ("2026-04-31T10:00:00+09:00", OTHER),
    ("2026-11-27T24:00:00Z", OTHER),
    ("2026-11-27T10:60:00Z", OTHER),
    ("2026-11-27T10:00:60Z", OTHER),
    ("2026-11-27T10:00:00.123456+09:00", FAST),
    ("2026-11-27T10:00:00.1234567Z", OTHER),  # past microseconds: the validator decides
    ("2026-11-27T10:00+09:00", FAST),
    ("2026-11-27T10:00:00-00:00", OTHER),  # forbidden by the spec
    ("2026-11-27T10:00:00+24:00", OTHER),
    ("2026-11-27T10:00:00", OTHER),  # no zone: UTC by the spec's advice, the validator's path
    ("0000-01-01T00:00:00Z", OTHER),
    ("2026-1-27T10:00:00Z", OTHER),
])
def test_timestamps(value, expected):
    assert assert_agrees(changed("timestamp", value)) == expected


@pytest.mark.parametrize(("value", "expected"), [
    ("PT1H30M", FAST), ("P1Y2M3DT4H5M6.5S", FAST), ("P0D", FAST), ("PT0.25S", FAST),
    ("P", OTHER), ("PT", OTHER), ("P1DT", OTHER), ("PT1S1M", OTHER), ("P1W", OTHER), ("PT.5S", OTHER), ("pt1h", OTHER),
])
def test_durations(value, expected):
    assert assert_agrees(changed("result.duration", value)) == expected


@pytest.mark.parametrize(("path", "value", "expected"), [
    ("result.score.scaled", 1, FAST), ("result.score.scaled", -1.0, FAST), ("result.score.scaled", 1.0000001, OTHER),
    ("result.score.scaled", 1e-7, FAST), ("result.score.raw", 1234567890123456789, OTHER),  # past a double's exactness
    ("result.score.scaled", "0.5", OTHER), ("result.success", "true", OTHER), ("result.completion", None, OTHER),
])
def test_numbers_and_booleans(path, value, expected):
    assert assert_agrees(changed(path, value)) == expected


@pytest.mark.parametrize(("path", "value", "expected"), [
    ("object.id", "https://example.jp/教材/8101001110000000", FAST),  # not ASCII, no space: an IRI
    ("object.id", "https://example.jp/教材\u30001", OTHER),  # an ideographic space: not one
    ("object.id", "https://example.jp/a b", OTHER),
    ("object.id", "example", OTHER),
    ("object.id", "1http://x", OTHER),
    ("verb.id", "http://adlnet.gov/expapi/verbs/voided", OTHER),  # voiding: the validator's path
    ("actor.mbox", "mailto:Taro.Yamada@Example.JP", FAST),
    ("actor.mbox", "mailto:山田@example.jp", OTHER),  # lower-cased by Unicode's rules there
    ("actor.mbox", "mailto:a@b@c", OTHER),
    ("context.registration", "E6A3B6F0-1D6B-4E8E-9D8B-2C7A8B2B9F11", FAST),
    ("context.registration", "e6a3b6f0-1d6b-4e8e-9d8b-2c7a8b2b9f1", OTHER),
    ("context.language", "ja-JP", FAST), ("context.language", "ja_JP", OTHER), ("context.language", "abcdefghi", OTHER),
    ("actor.objectType", "Group", OTHER), ("object.objectType", "StatementRef", OTHER),
])
def test_forms_of_values(path, value, expected):
    statement = json.loads(changed(path, value))
    if path == "actor.mbox":
        statement["actor"].pop("account", None)
    assert assert_agrees(json.dumps(statement, ensure_ascii=False)) == expected


def test_escapes_take_the_validators_path_where_a_value_is_kept_and_not_elsewhere():
    name_escaped = changed("object.definition.name", {"ja": "テスト"}).replace("テ", "\\u30c6")
    assert assert_agrees(name_escaped) == OTHER and valid(name_escaped)
    response_escaped = changed("result.response", "a\\\"b\nc")
    assert assert_agrees(response_escaped) == FAST
    assert assert_agrees(changed("object.id", "http:\\/\\/x.jp\\/a").replace("\\\\/", "\\/")) == OTHER
    assert assert_agrees(changed("actor.name", "山田 太郎")) == FAST


def test_maps_keys_once_and_objects_keys_once():
    twice_in_map = changed("object.definition.name", {"ja": "a"}).replace('{"ja": "a"}', '{"ja": "a", "ja": "b"}')
    assert assert_agrees(twice_in_map) == OTHER and not valid(twice_in_map)
    text = json.dumps(app_statement(1))
    twice_in_object = text.replace('"verb": {', '"verb": {"id": "http://x.jp/v", ', 1)
    assert assert_agrees(twice_in_object) == OTHER and not valid(twice_in_object)
    unknown = text[:-1] + ', "extra": 1}'
    assert assert_agrees(unknown) == OTHER and not valid(unknown)


def test_curriculum_codes_from_extensions_or_the_activity_id():
    code = "8101001110000000"
    in_context = changed("context.extensions", {lrs.CURRICULUM_EXTENSION: code})
    assert read_one(in_context)[1]["unit_code"] == code and assert_agrees(in_context) == FAST
    as_number = changed("context.extensions", {lrs.CURRICULUM_EXTENSION: int(code)})
    # A number is no code (nor compared: an extension's value may be any JSON), as on the validator's path.
    assert assert_agrees(as_number) == FAST and read_one(as_number)[1]["unit_code"] != code
    in_id = changed("object.id", f"https://x.jp/u/1234567890123456789/{code}?a=1")
    assert read_one(in_id)[1]["unit_code"] == code and assert_agrees(in_id) == FAST


@pytest.mark.parametrize("raw", [
    b'{"a": "\xc0\xaf"}',  # an overlong slash
    b'{"a": "\xed\xa0\x80"}',  # a surrogate
    b'{"a": "\xf4\x90\x80\x80"}',  # past U+10FFFF
    b'{"a": "\xe3\x81"}',  # cut short
])
def test_bytes_that_are_not_utf8(raw):
    lines = statement_lines.read(raw + b"\n")
    assert lines.status.tolist() == [statement_lines.NOT_UTF8] and not lines.all_utf8()


def test_lines_ends_blank_lines_and_the_cores_reading_ranges_agree():
    """CRLF and LF, blank lines, a last line without a newline; read on one core and on
    several (a file cut in ranges at line ends) the same."""
    good = [json.dumps(app_statement(n % 11), ensure_ascii=False) for n in range(30_000)]
    data = ("\r\n".join(good[:100]) + "\r\n\n  \t\n" + "\n".join(good[100:]) + "\n{broken").encode()
    assert len(data) > 4 * statement_lines._MIN_RANGE
    one, several = statement_lines.read(data, workers=1), statement_lines.read(data, workers=4)
    for lines in (one, several):
        assert lines.count == 30_000 + 3 and lines.statements == 30_001
        assert lines.status.tolist()[98:103] == [FAST, FAST, 0, 0, FAST] and lines.status[-1] == OTHER
        assert lines.facts.num_rows == 30_000
        texts = lines.texts()
        kept = texts.filter(np.asarray(texts.column("n")) >= 0).column("raw").to_pylist()
        assert kept == [*good, "{broken"]  # without their line ends
    assert one.facts.equals(several.facts)
    assert np.array_equal(one.starts, several.starts) and np.array_equal(one.ends, several.ends)
    # From a line's start on (a part of a file): as if those bytes were all, places told in data.
    begin = data.index(b"\n", len(data) // 3) + 1
    part, alone = statement_lines.read(data, len(data), workers=2, begin=begin), statement_lines.read(data[begin:])
    assert part.facts.equals(alone.facts) and part.status.tolist() == alone.status.tolist()
    assert np.array_equal(part.starts - begin, alone.starts) and np.array_equal(part.ends - begin, alone.ends)
    assert part.texts().column("raw").to_pylist() == alone.texts().column("raw").to_pylist()


def test_thousands_of_changed_statements_never_read_as_fast_where_the_validator_refuses():
    """Seeded random changes to app statements (test_bulk_agreement's), many more than that
    test imports one by one: whenever the reader takes a line as of the common shape, the
    validator accepts it and derives the same facts."""
    fast = 0
    for seed in range(10_000, 13_000):
        if assert_agrees(mutated(random.Random(seed))) == FAST:
            fast += 1
    assert fast > 300  # the changes leave some lines of the common shape


def test_decimals_read_as_the_nearest_double_as_python_reads_them():
    """Figures of up to 15 digits are read by a fast path (one exact multiplication or division),
    longer ones by the C library: each the double Python's float() gives."""
    rng = random.Random(7)
    figures = ["0.1", "0.3", "2.675", "9.999999999999999", "123456789012345", "0.000000000000001", "1.5"]
    figures += [f"{rng.randrange(10 ** rng.randrange(1, 16))}.{rng.randrange(10 ** rng.randrange(1, 9))}"
                for _ in range(2000)]
    figures += [f"{rng.randrange(10 ** 18)}.{rng.randrange(10 ** 9)}" for _ in range(200)]  # past 15 digits
    text = "\n".join(changed("result.duration", f"PT{figure}S") for figure in figures) + "\n"
    lines = statement_lines.read(text.encode())
    assert lines.all_fast()
    assert lines.facts.column("duration_s").to_pylist() == [float(figure) for figure in figures]
    scores = [f"{sign}0.{rng.randrange(10 ** 14):014d}e{rng.randrange(-3, 1)}" for sign in ("", "-") for _ in range(500)]
    text = "\n".join(json.dumps(app_statement(1), ensure_ascii=False).replace('"scaled": -0.4', f'"scaled": {s}') for s in scores)
    lines = statement_lines.read(text.encode())
    assert lines.all_fast() and lines.facts.column("score_scaled").to_pylist() == [float(s) for s in scores]


DEEP = {"a": {"b": {"c": {"d": {"e": {"f": {"g": {"h": {"i": 1}}}}}}}}}  # past the reader's nesting


@pytest.mark.parametrize(("path", "value", "expected", "accepted"), [
    ("context.contextActivities", {"parent": {"id": "https://x.jp/course/1"}}, FAST, True),
    ("context.contextActivities", {"grouping": [{"id": "https://x.jp/g/1", "objectType": "Activity"}, {
        "id": "https://x.jp/g/2", "definition": {"name": {"ja": "国語"}, "type": "https://x.jp/t/course"}}]}, FAST, True),
    ("context.contextActivities", {"category": []}, FAST, True),
    ("context.contextActivities", {"other": [{"id": "https://x.jp/o", "objectType": "Agent"}]}, OTHER, False),
    ("context.contextActivities", {"parent": {"definition": {"name": {"ja": "x"}}}}, OTHER, False),  # no id
    ("context.contextActivities", {"sibling": [{"id": "https://x.jp/s"}]}, OTHER, False),
    ("context.contextActivities", {"parent": [{"id": "https://x.jp/p", "definition": {"interactionType": "choice"}}]},
     OTHER, True),  # interactions: the validator's path
    ("result.extensions", {"https://x.jp/e/device": {"os": "iPadOS", "tags": ["a", 1, None, {"b": False}, []]}},
     FAST, True),
    ("result.extensions", {"https://x.jp/e/big": 123456789012345678901234567890}, FAST, True),
    ("context.extensions", {"https://x.jp/e/deep": DEEP}, OTHER, True),
    ("result", {}, FAST, True), ("context", {}, FAST, True), ("result.score", {}, FAST, True),
    ("object.definition", {}, FAST, True), ("object.definition.name", {}, FAST, True), ("verb.display", {}, FAST, True),
    ("context.extensions", {}, FAST, True),
    ("object.definition.moreInfo", "https://x.jp/more", FAST, True), ("object.definition.moreInfo", "nope", OTHER, False),
    ("actor", {}, OTHER, False), ("verb", {}, OTHER, False), ("object", {}, OTHER, False),
])
def test_shapes_apps_send_beyond_the_plainest(path, value, expected, accepted):
    """Context activities, an app's own extensions (any JSON), empty objects, moreInfo."""
    text = changed(path, value, n=1)
    assert assert_agrees(text) == expected
    assert valid(text) == accepted


def test_a_key_twice_deep_inside_an_extension_is_refused_there_too():
    text = changed("result.extensions", {"https://x.jp/e/a": {"k": 1, "j": [{"x": 1, "y": 2}]}}).replace('"y"', '"x"')
    assert assert_agrees(text) == OTHER and not valid(text)
