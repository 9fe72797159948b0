"""User text (titles, names, descriptions) reaches pages as text, never as Markdown: an
image in an archive title must not make every visitor's browser fetch a remote URL."""

from __future__ import annotations

import re

from kernel.ui import md_escape

EVIL = "![x](http://evil.example/x.png) **b**"
BROWSE = "../archive/pages/browse.py"
# Markdown that would fetch or link: an image or a link, not backslash-escaped.
_ACTIVE = re.compile(r"(?<!\\)!(?<!\\)\[|(?<!\\)\]\(|(?<!\\)\*\*b")


def literal(markdown: str) -> str:
    """What a reader sees of escaped Markdown: the backslash escapes removed."""
    return re.sub(r"\\([!-/:-@\[-`{-~])", r"\1", markdown).replace("\u2060", "")


def test_md_escape_shows_text_literally():
    for text in (EVIL, "# 見出し", "- list", "1. one", "> quote", "$x$ :smile: ~~s~~ <b>", "a_b*c`d",
                 "www.evil.example", "IZK-T-001 — 石包丁"):
        escaped = md_escape(text)
        assert literal(escaped) == text
        assert not _ACTIVE.search(escaped)
    assert md_escape("# h") == "\\# h" and md_escape("1. one") == "1\\. one" and md_escape("- l") == "\\- l"
    assert md_escape("IZK-T-001 — 石包丁") == "IZK-T-001 — 石包丁"  # a hyphen inside a line is plain text
    assert md_escape("    code\n\n- item\n===") == "code  \n\\- item  \n\\==="
    assert md_escape(None) == ""


def markdown_values(at) -> list[str]:
    kinds = ("markdown", "caption", "title", "header", "subheader", "info", "success", "warning", "error")
    return [element.value for kind in kinds for element in getattr(at, kind)]


def test_an_archive_title_with_an_image_shows_literally(app_for):
    from archive.services import importer
    from kernel.actor import SYSTEM
    from portal.runtime import open_runtime

    at = app_for(page=BROWSE)
    runtime = open_runtime()
    body = ("identifier,title_ja,title_en,type,rights,status\n"
            f'IZK-EVIL-1,"{EVIL.replace(chr(34), chr(34) * 2)}","{EVIL}",object,'
            "http://creativecommons.org/licenses/by/4.0/,published\n")
    [item_id] = importer.import_csv(runtime.store, runtime.clock, SYSTEM, body.encode()).item_ids
    at.text_input(key="archive_query").input("evil").run()
    assert not at.exception
    shown = markdown_values(at)
    assert any(literal(value) == f"**{EVIL}**" for value in shown), shown
    offending = [value for value in shown if "evil" in value and _ACTIVE.search(value.removeprefix("**")[:-2])]
    assert not offending
    assert not any("](http://evil.example" in value or "http://evil" in value for value in shown)

    at.query_params["item"] = str(item_id)
    at.run()
    assert not at.exception
    assert [literal(h.value) for h in at.header] == [EVIL]
    assert not any("](http://evil.example" in value for value in markdown_values(at))
