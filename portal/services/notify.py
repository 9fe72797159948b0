"""Notifications: who gets which mail, in which language, worded from the catalogue.

Modules call `kernel.outbox.notify(cur, clock, user, kind, params)` inside the event's own
transaction; the portal offers `notify` below as "portal.notify". It looks up the person's
address and chosen language, skips kinds they turned off (security mail cannot be turned
off), renders `mail.<kind>.subject` and `.body` with the params in that language, and writes
the outbox row with the same cursor. The sender (portal/services/mail.py) delivers it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime

from kernel.actor import Actor
from kernel.clock import TOKYO, Clock
from kernel.config import setting
from kernel.errors import InvalidInput, Message
from kernel.i18n import DEFAULT_LANGUAGE, LANGUAGES, Translator
from kernel.module import MailKind
from kernel.outbox import Mail, enqueue
from kernel.store import Store

# Mail a person must get whatever they chose: without it they cannot use their account.
# The mails of sign-up, address changes, password reset and leaving (portal/services/registration.py):
# nobody can turn them off.
SECURITY_KINDS = frozenset({f"portal.{kind}" for kind in (
    "confirm_email", "already_registered", "reset_password", "change_email", "email_change_notice", "left")})
DEFAULT_BASE_URL = "http://localhost:8501"
# Dates as letters write them: 2026年12月5日(土), Sat, Dec 5, 2026.
_DATE = {"ja": "y年M月d日(E)", "en": "EEE, MMM d, y"}


def base_url() -> str:
    """Where links in mail point: MANABI_BASE_URL, e.g. https://manabi.city.iizuka.lg.jp."""
    return (setting("base_url", DEFAULT_BASE_URL) or DEFAULT_BASE_URL).rstrip("/")


def all_kinds() -> tuple[MailKind, ...]:
    """Every kind of notification the composed modules send, in module order."""
    from portal.modules import all_modules

    return tuple(kind for spec in all_modules() for kind in spec.mail_kinds)


def kinds_for(roles: frozenset[str] | set[str]) -> tuple[MailKind, ...]:
    """The kinds a person with these roles may choose (the ones that can concern them)."""
    return tuple(k for k in all_kinds() if k.name not in SECURITY_KINDS
                 and (k.roles is None or k.roles & set(roles)))


def _worded(t: Translator, name: str, value: object) -> object:
    """A parameter as the recipient reads it: dates in their language (a name ending in
    `_time`: the time of day only), a name ending in `_yen` as money, a bilingual
    {"ja": ..., "en": ...} value in their language, a Message worded in it."""
    if value is None:
        return ""
    if isinstance(value, Message):
        return t(value.key, **{key: _worded(t, key, v) for key, v in value.params.items()})
    if isinstance(value, dict) and set(value) <= set(LANGUAGES):
        return value.get(t.lang) or value.get(DEFAULT_LANGUAGE) or ""
    if isinstance(value, datetime) and name.endswith("_time"):
        return t.time(value).replace("\u202f", " ")
    if isinstance(value, datetime):
        return f"{t.date(value.astimezone(TOKYO), _DATE[t.lang])} {t.time(value)}".replace("\u202f", " ")
    if isinstance(value, date):
        return t.date(value, _DATE[t.lang])
    if name.endswith("_yen") and isinstance(value, int):
        return t.money(value)
    return value


def render(lang: str, kind: str, name: str, params: dict) -> tuple[str, str]:
    """(subject, plain-text body) of a notification in `lang`."""
    from portal.runtime import catalogue

    t = Translator(lang, catalogue())
    worded = {key: _worded(t, key, value) for key, value in params.items()}
    worded.setdefault("base_url", base_url())
    subject = t("mail.subject", subject=t(f"mail.{kind}.subject", **worded))
    body = "\n\n".join([
        t("mail.greeting", name=name),
        t(f"mail.{kind}.body", **worded).strip(),
        t("mail.footer", base_url=worded["base_url"]),
    ])
    # An optional line left empty (no fee, no refund) leaves no gap; CLDR's narrow no-break
    # space (9:05 AM) becomes a plain one, as every mail program shows it.
    body = re.sub(r"\n{3,}", "\n\n", body) + "\n"
    return subject.replace("\u202f", " "), body.replace("\u202f", " ")


def notify(cur, clock: Clock, recipient: int | str, kind: str, params: dict, *,
           dedupe_key: str | None = None) -> int | None:
    """Queue `kind` for an account (id or login) in the caller's transaction; None when the
    person has no address, is disabled, turned the kind off, or the dedupe_key was used."""
    column = "login" if isinstance(recipient, str) else "id"
    # Point look-ups by key: an event pays for these inside its own transaction.
    row = cur.execute(f"SELECT id, email, display_name, disabled FROM portal_users WHERE {column} = ?",
                      [recipient]).fetchone()
    if row is None or not row[1] or row[3]:
        return None
    user_id, address, name, _ = row
    chosen = cur.execute("SELECT lang FROM portal_mail_settings WHERE user_id = ?", [user_id]).fetchone()
    lang = chosen[0] if chosen else DEFAULT_LANGUAGE
    if kind not in SECURITY_KINDS and cur.execute(
            "SELECT 1 FROM portal_mail_optouts WHERE user_id = ? AND kind = ?", [user_id, kind]).fetchone():
        return None
    subject, body = render(lang, kind, name, params)
    return enqueue(cur, clock, Mail(kind=kind, to_address=address, lang=lang, subject=subject, body_text=body,
                                    user_id=user_id, dedupe_key=dedupe_key))


# --- the person's own choices (account page) --------------------------------------------------

@dataclass(frozen=True)
class MailChoices:
    lang: str
    saved: bool  # False: nothing chosen yet, the language shown is a proposal
    kinds: tuple[MailKind, ...]
    off: frozenset[str]


def choices(store: Store, actor: Actor, proposed_lang: str = DEFAULT_LANGUAGE) -> MailChoices:
    actor.require()
    lang = store.scalar("SELECT lang FROM portal_mail_settings WHERE user_id = ?", [actor.user_id])
    off = frozenset(k for (k,) in store.query("SELECT kind FROM portal_mail_optouts WHERE user_id = ?",
                                              [actor.user_id]))
    return MailChoices(str(lang or proposed_lang), lang is not None, kinds_for(frozenset(actor.roles)), off)


def save_choices(store: Store, clock: Clock, actor: Actor, lang: str, receive: set[str] | frozenset[str]) -> None:
    """Save the person's mail language and the kinds they receive (the others are turned off)."""
    actor.require()
    if lang not in LANGUAGES:
        raise InvalidInput("mail.bad_lang", lang=lang)
    mine = {k.name for k in kinds_for(frozenset(actor.roles))}
    unknown = set(receive) - mine
    if unknown:
        raise InvalidInput("mail.unknown_kind", kind=", ".join(sorted(unknown)))
    off = sorted(mine - set(receive))

    def work(cur) -> None:
        cur.execute("""INSERT INTO portal_mail_settings VALUES (?, ?, ?)
                       ON CONFLICT (user_id) DO UPDATE SET lang = excluded.lang, updated_at = excluded.updated_at""",
                    [actor.user_id, lang, clock.now()])
        cur.execute("DELETE FROM portal_mail_optouts WHERE user_id = ?", [actor.user_id])
        for kind in off:
            cur.execute("INSERT INTO portal_mail_optouts VALUES (?, ?)", [actor.user_id, kind])

    store.write(work)
