"""A message parameter that is itself a Message is worded in the same language."""

from __future__ import annotations

from kernel.errors import ImportRejected, InvalidInput, Message, RowProblem
from kernel.i18n import Translator, load_catalogue


def _translators(tmp_path) -> tuple[Translator, Translator]:
    messages = tmp_path / "messages.toml"
    messages.write_text(
        '[x]\n'
        'line = { ja = "{field} — {reason}", en = "{field}: {reason}" }\n'
        'too_long = { ja = "{limit} 文字以内にしてください", en = "must have at most {limit} characters" }\n'
        'required = { ja = "必須です", en = "is required" }\n', encoding="utf-8")
    catalogue = load_catalogue([messages])
    return Translator("ja", catalogue, strict=True), Translator("en", catalogue, strict=True)


def test_a_message_parameter_is_worded_in_the_same_language(tmp_path):
    ja, en = _translators(tmp_path)
    problem = RowProblem(2, "x.line", {"field": "name", "reason": Message("x.too_long", {"limit": 20})})
    assert ja(problem.key, **problem.params) == "name — 20 文字以内にしてください"
    assert en(problem.key, **problem.params) == "name: must have at most 20 characters"
    assert en("x.line", field="id", reason=Message("x.required")) == "id: is required"


def test_errors_word_their_message_parameters_too(tmp_path):
    ja, en = _translators(tmp_path)
    exc = InvalidInput("x.line", field="name", reason=Message("x.required"))
    assert (ja.error(exc), en.error(exc)) == ("name — 必須です", "name: is required")
    rejected = ImportRejected([RowProblem(1, "x.line", {"field": "a", "reason": Message("x.required")})])
    assert [ja(p.key, **p.params) for p in rejected.problems] == ["a — 必須です"]
