"""portal.notify: who gets a notification, in which language, and what is never turned off."""

from __future__ import annotations

from datetime import timedelta

import pytest

from kernel.actor import Actor, Role
from kernel.errors import InvalidInput, Message
from kernel.outbox import notify
from portal.services import accounts
from portal.services import notify as notices


def person(store, clock, login: str, *roles: str, email: str | None = "set") -> Actor:
    roles = roles or ("resident",)
    address = f"{login}@example.jp" if email == "set" else email
    user_id = accounts.create_user(store, clock, login=login, display_name=f"{login.title()} Yamada", roles=roles,
                                   password_hash="not-used", email=address)
    return Actor(user_id=user_id, login=login, display_name=login, roles=frozenset(Role(r) for r in roles))


def outbox(store) -> list[dict]:
    return store.query_dicts("SELECT * FROM manabi_outbox ORDER BY id")


def due_params(clock) -> dict:
    return {"title": "坊っちゃん", "due": clock.now() + timedelta(days=2)}


def test_by_id_or_login_in_the_persons_language(store, clock):
    hanako = person(store, clock, "hanako")
    john = person(store, clock, "john")
    notices.save_choices(store, clock, john, "en", {k.name for k in notices.kinds_for({"resident"})})
    store.write(lambda cur: notify(cur, clock, hanako.user_id, "library_ebooks.loan_due", due_params(clock)))
    store.write(lambda cur: notify(cur, clock, "john", "library_ebooks.loan_due", due_params(clock)))
    ja, en = outbox(store)
    due = clock.now() + timedelta(days=2)
    assert (ja["to_address"], ja["lang"]) == ("hanako@example.jp", "ja")
    assert ja["subject"] == "【学び 飯塚市】返却期限が近づいています:「坊っちゃん」"
    assert f"返却期限: {due.year}年{due.month}月{due.day}日" in ja["body_text"]
    assert (en["to_address"], en["lang"], en["user_id"]) == ("john@example.jp", "en", john.user_id)
    assert en["subject"] == "[Manabi Iizuka] Your loan of \"坊っちゃん\" ends soon"
    assert en["body_text"].startswith("Dear John Yamada,")
    assert f"Due: {due:%a}, {due:%b} {due.day}, {due.year}" in en["body_text"]


def test_nobody_without_an_address_disabled_or_unknown(store, clock):
    person(store, clock, "noaddress", email=None)
    gone = person(store, clock, "gone")
    store.cursor().execute("UPDATE portal_users SET disabled = true WHERE id = ?", [gone.user_id])
    for who in ("noaddress", "gone", "nobody", 9999):
        assert store.write(lambda cur, who=who: notify(cur, clock, who, "library_ebooks.loan_due",
                                                       due_params(clock))) is None
    assert outbox(store) == []


def test_a_dedupe_key_sends_once(store, clock):
    person(store, clock, "hanako")
    first = store.write(lambda cur: notify(cur, clock, "hanako", "library_ebooks.loan_due", due_params(clock),
                                           dedupe_key="loan_due:1"))
    again = store.write(lambda cur: notify(cur, clock, "hanako", "library_ebooks.loan_due", due_params(clock),
                                           dedupe_key="loan_due:1"))
    assert first is not None and again is None and len(outbox(store)) == 1


def test_choices_are_checked_and_security_mail_is_never_turned_off(store, clock):
    hanako = person(store, clock, "hanako")
    with pytest.raises(InvalidInput) as err:
        notices.save_choices(store, clock, hanako, "fr", set())
    assert err.value.key == "mail.bad_lang"
    with pytest.raises(InvalidInput) as err:
        notices.save_choices(store, clock, hanako, "ja", {"school_ict.repair_finished"})  # not a resident's
    assert err.value.key == "mail.unknown_kind"
    assert not notices.SECURITY_KINDS & {k.name for k in notices.kinds_for({"resident", "teacher", "city_admin"})}
    notices.save_choices(store, clock, hanako, "ja", set())  # everything off
    mine = notices.choices(store, hanako)
    assert mine.saved and mine.off == {k.name for k in mine.kinds}
    assert store.write(lambda cur: notify(cur, clock, "hanako", "library_ebooks.loan_due", due_params(clock))) is None


def test_parameters_are_worded_in_the_recipients_language(clock):
    from kernel.i18n import Translator
    from portal.runtime import catalogue

    at = clock.now().replace(hour=9, minute=5)
    for lang, expected in (("ja", f"{at.year}年{at.month}月{at.day}日"), ("en", f"{at.year}")):
        t = Translator(lang, catalogue())
        assert expected in notices._worded(t, "starts", at)
        assert notices._worded(t, "ends_time", at) == ("9:05" if lang == "ja" else "9:05 AM")
        assert notices._worded(t, "total_yen", 1200) == ("￥1,200" if lang == "ja" else "¥1,200")
        assert notices._worded(t, "place", {"ja": "和室", "en": "Japanese room"}) == (
            "和室" if lang == "ja" else "Japanese room")
        assert notices._worded(t, "note", Message("mail.facilities.refund_note", {"refund_yen": 300})) == (
            "返金額: ￥300" if lang == "ja" else "Refund: ¥300")
        assert notices._worded(t, "nothing", None) == ""
