"""The xAPI rules a statement breaks are catalogue messages: a person reads them in Japanese
or English (CLI, pages), the HTTP API keeps answering learning apps in English."""

from __future__ import annotations

import ast
import json
import os
import string
import subprocess
import sys
from pathlib import Path

import pytest

from analytics.services import bulk
from analytics.services.xapi_validate import RULE_PREFIX, InvalidStatement, validate_statement
from kernel.actor import SYSTEM
from kernel.errors import ImportRejected
from kernel.i18n import LANGUAGES, Translator
from portal.runtime import catalogue

ROOT = Path(__file__).resolve().parents[2]
RAISING = [ROOT / "analytics/services/xapi_validate.py", ROOT / "analytics/services/lrs.py"]

GOOD = {"actor": {"mbox": "mailto:p1@example.jp"}, "verb": {"id": "http://adlnet.gov/expapi/verbs/passed"},
        "object": {"id": "https://apps.example.jp/units/quiz"}}


def _rules_raised() -> list[tuple[str, str, set[str]]]:
    """(file:line, rule, keyword names) of every `_fail(path, "rule", …)` and
    `InvalidStatement(path, "rule", …)` in the code."""
    found = []
    for path in RAISING:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
                    and node.func.id in ("_fail", "InvalidStatement") and len(node.args) >= 2):
                rule = node.args[1]
                if isinstance(rule, ast.Constant) and isinstance(rule.value, str):
                    found.append((f"{path.name}:{node.lineno}", rule.value, {k.arg for k in node.keywords}))
    return found


def test_every_rule_raised_is_in_the_catalogue_in_both_languages_with_its_parameters():
    known = catalogue()
    raised = _rules_raised()
    assert len(raised) > 40  # the scan found the rules
    problems = []
    for where, rule, given in raised:
        texts = known.get(RULE_PREFIX + rule)
        if texts is None:
            problems.append(f"{where}: {RULE_PREFIX}{rule} is not in the catalogue")
            continue
        for lang in LANGUAGES:
            wanted = {name for _, name, _, _ in string.Formatter().parse(texts.get(lang, "")) if name}
            if not texts.get(lang, "").strip() or wanted - given:
                problems.append(f"{where}: {RULE_PREFIX}{rule} [{lang}] needs {sorted(wanted - given)}")
    assert problems == []


def test_the_reason_is_a_message_and_its_english_is_kept_for_the_http_api():
    with pytest.raises(InvalidStatement) as caught:
        validate_statement({**GOOD, "actor": {"mbox": "p1@example.jp"}})
    exc = caught.value
    assert (exc.path, exc.rule) == ("actor.mbox", "mbox")
    assert exc.reason == "must be 'mailto:' and an e-mail address"
    ja, en = (Translator(lang, catalogue(), strict=True) for lang in ("ja", "en"))
    assert ja.error(exc) == "1 件目のステートメントが xAPI の規則に合いません: actor.mbox — 「mailto:」で始まるメールアドレスにしてください"
    assert en.error(exc) == "Statement 1 is not valid xAPI: actor.mbox — must be 'mailto:' and an e-mail address"


def _bad_file(tmp_path: Path) -> Path:
    lines = [GOOD, {**GOOD, "actor": {"mbox": "p2@example.jp"}}, {**GOOD, "extra": 1},
             {**GOOD, "result": {"score": {"scaled": 1.5}}}]
    path = tmp_path / "bad.jsonl"
    path.write_text("\n".join(json.dumps(line) for line in lines) + "\n{not json\n", encoding="utf-8")
    return path


JAPANESE = [
    "行 2: xAPI の規則に合いません: actor.mbox — 「mailto:」で始まるメールアドレスにしてください",
    "行 3: xAPI の規則に合いません: extra — 「extra」はここでは使えない項目です。削除するか、綴りを確認してください",
    "行 4: xAPI の規則に合いません: result.score.scaled — -1 から 1 までの数値にしてください（今は 1.5）",
    "行 5: xAPI の規則に合いません: （ステートメント全体） — JSON として読めません（2 文字目）。括弧・引用符・カンマを確認してください",
]
ENGLISH = [
    "Row 2: not valid xAPI: actor.mbox — must be 'mailto:' and an e-mail address",
    "Row 3: not valid xAPI: extra — is not a property allowed here",
    "Row 4: not valid xAPI: result.score.scaled — must be between -1 and 1",
    "Row 5: not valid xAPI: (statement) — not JSON: Expecting property name enclosed in double quotes: "
    "line 1 column 2 (char 1)",
]


def test_an_import_names_its_bad_lines_in_the_readers_language(store, clock, tmp_path):
    with pytest.raises(ImportRejected) as caught:
        bulk.import_jsonl(store, clock, SYSTEM, _bad_file(tmp_path))
    for lang, expected in (("ja", JAPANESE), ("en", ENGLISH)):
        t = Translator(lang, catalogue(), strict=True)
        assert [f"{t('ui.row')} {p.row}: {t(p.key, **p.params)}" for p in caught.value.problems] == expected


@pytest.mark.parametrize("lang,expected", [("ja", JAPANESE), ("en", ENGLISH)])
def test_the_import_command_prints_the_bad_lines_in_japanese_or_english(fresh_demo_db, tmp_path, lang, expected):
    done = subprocess.run([sys.executable, "-m", "portal.cli_main", "--db", str(fresh_demo_db), "analytics", "xapi",
                           "import", str(_bad_file(tmp_path))], capture_output=True, text=True, cwd=ROOT,
                          env={**os.environ, "MANABI_LANG": lang})
    assert done.returncode == 1
    assert [line.strip() for line in done.stderr.splitlines()[-len(expected):]] == expected
