"""Residents register themselves (利用者登録), confirm their address, reset a forgotten
password, change their address, link a library card and leave (退会).

Rules:
- A sign-up makes a resident account that cannot sign in until the link mailed to its
  address is opened (valid 24 hours, single use; only the token's hash is kept). Signing
  up again with an address still unconfirmed replaces that sign-up (its old links die);
  with an address that has an account, the page answers the same and the mail says so.
- Residence waits for staff at a counter (city administrators, facility staff): until
  then the resident's facility profile counts them as non-resident (non-resident rates
  and booking horizon); e-books, courses and the lottery are open at once.
- A reset link is valid 30 minutes and once; using it sets the password, confirms the
  address it was sent to and ends every session of the account. Asking for one answers
  the same, in comparable time, whether or not the address is known.
- Rate limits: 10 sign-ups an hour from one IP address, 5 mails an hour to one address
  (confirmations, resets, change notices), counted whether or not the address is known.
- A changed address is confirmed by a link sent to it; the old one works until then.
- Leaving: facility bookings, lottery entries and courses in progress are settled first
  (the refusal names them); e-book loans and holds end then. Sign-in ends at once, the
  address is freed, the rest goes as the retention rule says (portal/services/retention.py).

Mails are written to the outbox (kernel.outbox) in the event's own transaction.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import time
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import cache
from pathlib import Path
from urllib.parse import urlencode

from kernel import offers
from kernel.actor import Actor, Role
from kernel.clock import TOKYO, Clock
from kernel.errors import Conflict, InvalidInput, ManabiError, Message, NotFound
from kernel.i18n import Translator, load_catalogue
from kernel.outbox import Mail, enqueue
from kernel.provided import provided
from kernel.store import Store
from portal.services import accounts, retention
from portal.services.notify import base_url

CONFIRM_VALID = timedelta(hours=24)
RESET_VALID = timedelta(minutes=30)
RATE_WINDOW = timedelta(hours=1)
SIGNUPS_PER_IP = 10
MAILS_PER_ADDRESS = 5
CITY_TIES = ("lives", "works", "studies", "none")
# A sign-up or reset request answers no sooner than this, whichever path it took (known
# address or not), so that its time tells nothing: the known path writes more (~10-20 ms).
ANSWER_FLOOR_S = 0.3
# Staff who see people in person at a counter: the city's offices and the facilities'.
COUNTER_ROLES = (Role.CITY_ADMIN, Role.FACILITY_STAFF)
_KANA = re.compile(r"^[\u3041-\u3096\u30A1-\u30FA\u30FC\u30FB\s\u3000]+$")
_CARD = re.compile(r"^[0-9]{4,20}$")
_HERE = Path(__file__).resolve().parent.parent


class TooManySignups(ManabiError):
    key = "registration.too_many_signups"


class TooManyMails(ManabiError):
    key = "registration.too_many_mails"


class LinkInvalid(ManabiError):
    """Unknown, already used or expired: one answer, so links cannot be probed."""

    key = "registration.link_invalid"


class SettleFirst(ManabiError):
    """Leaving is refused while something is in progress; `items` says what."""

    key = "registration.settle_first"

    def __init__(self, items: list[Message]) -> None:
        self.items = items
        super().__init__(None, count=len(items))


@dataclass(frozen=True)
class SignUp:
    name: str
    kana: str
    address: str
    birth_date: date
    email: str
    password: str
    city_tie: str
    lang: str = "ja"


@dataclass(frozen=True)
class Confirmed:
    login: str
    email: str
    changed: bool  # True: an address change, False: a new registration


@dataclass(frozen=True)
class Registrant:
    user_id: int
    login: str
    name: str
    kana: str
    email: str | None
    address: str
    birth_date: date
    city_tie: str
    registered_at: datetime
    email_confirmed_at: datetime | None
    residence_confirmed_at: datetime | None
    residence_confirmed_by: str | None


# ------------------------------------------------------------------------------- helpers

@cache
def _catalogue():
    return load_catalogue([_HERE.parent / "kernel" / "messages.toml", *sorted(_HERE.glob("messages*.toml"))])


def translator(lang: str) -> Translator:
    return Translator(lang, _catalogue())


def page_url(page: str, lang: str, **query: str) -> str:
    """An absolute link for a mail; it opens the page in the mail's language."""
    query |= {"lang": lang} if lang != "ja" else {}
    return f"{base_url()}/{page}" + (f"?{urlencode(query)}" if query else "")


def link(page: str, token: str, lang: str) -> str:
    return page_url(page, lang, token=token)


def _mail(kind: str, lang: str, to: str, user_id: int | None, **params) -> Mail:
    t = translator(lang)
    body = t(f"regmail.{kind}.body", **params).rstrip()
    footer = t("regmail.footer", base_url=base_url())  # who sent it, where, and that replies go nowhere
    return Mail(kind=f"portal.{kind}", to_address=to, lang=t.lang, user_id=user_id,
                subject=t(f"regmail.{kind}.subject", **params), body_text=f"{body}\n\n{footer}\n")


def _answer_no_sooner(started: float) -> None:
    rest = ANSWER_FLOOR_S - (time.monotonic() - started)
    if rest > 0:
        time.sleep(rest)


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _normal_email(email: str) -> str:
    email = (email or "").strip().lower()
    if not accounts._EMAIL.match(email) or len(email) > 254:
        raise InvalidInput("accounts.bad_email", email=email)
    return email


def _recent(cur, kind: str, subject: str, now: datetime) -> int:
    return cur.execute(
        "SELECT count(*) FROM portal_rate_events WHERE kind = ? AND subject = ? AND happened_at > ?",
        [kind, subject, now - RATE_WINDOW]).fetchone()[0]


def _count_mail(cur, address: str, now: datetime) -> None:
    """Count one mail to `address`, or refuse when the hour's limit is reached."""
    if _recent(cur, "mail", address, now) >= MAILS_PER_ADDRESS:
        raise TooManyMails(limit=MAILS_PER_ADDRESS)
    cur.execute("INSERT INTO portal_rate_events VALUES ('mail', ?, ?)", [address, now])


def _new_token(cur, user_id: int, purpose: str, email: str, now: datetime, valid: timedelta) -> str:
    token = secrets.token_urlsafe(32)
    cur.execute("INSERT INTO portal_mail_tokens VALUES (?, ?, ?, ?, ?, ?, NULL)",
                [_hash(token), user_id, purpose, email, now, now + valid])
    return token


def _new_login(cur, email: str) -> str:
    """A login from the address's local part (residents may sign in with either)."""
    base = re.sub(r"[^a-z0-9._-]", "", email.split("@")[0]).lstrip("._-")[:40]
    base = base if len(base) >= 3 else f"user{base}"
    candidate, n = base, 2
    while cur.execute("SELECT 1 FROM portal_users WHERE login = ?", [candidate]).fetchone():
        candidate, n = f"{base}{n}", n + 1
    return candidate


def _record_residency(cur, now: datetime, user_id: int, is_resident: bool) -> None:
    """Tell facilities (when it is part of this portal) which rates apply."""
    record = provided(offers.FACILITIES_RECORD_RESIDENCY)
    if record is not None:
        record(cur, now, user_id, is_resident)


def _user_lang(cur, user_id: int, default: str = "ja") -> str:
    row = cur.execute("SELECT lang FROM portal_registrations WHERE user_id = ?", [user_id]).fetchone()
    return row[0] if row else default


def _already_registered(cur, user_id: int, lang: str, email: str) -> Mail:
    """The owner hears of a sign-up with their address, in their language."""
    mail_lang = _user_lang(cur, user_id, lang)
    return _mail("already_registered", mail_lang, email, user_id, link=page_url("forgot-password", mail_lang))


def _check_sign_up(form: SignUp, today: date) -> tuple[str, str, str, str]:
    name, kana, address = form.name.strip(), form.kana.strip(), form.address.strip()
    if not name or len(name) > 100:
        raise InvalidInput("registration.name_required")
    if not _KANA.match(kana) or len(kana) > 100:
        raise InvalidInput("registration.kana_only")
    if not address or len(address) > 200:
        raise InvalidInput("registration.address_required")
    if form.birth_date is None or form.birth_date >= today or form.birth_date.year < today.year - 130:
        raise InvalidInput("registration.bad_birth_date")
    if form.city_tie not in CITY_TIES:
        raise InvalidInput("registration.bad_city_tie")
    email = _normal_email(form.email)
    accounts.check_password_rules(form.password, email.split("@")[0])
    if form.password.lower() == email:
        raise InvalidInput("accounts.password_is_login")
    return name, kana, address, email


# ------------------------------------------------------------------------------- sign-up

def register(store: Store, clock: Clock, form: SignUp, *, ip: str) -> None:
    """Register a resident and mail the confirmation link. Answers the same (returns None)
    whether or not the address already has an account."""
    started = time.monotonic()  # elapsed time only (the answer floor), not the business clock
    now = clock.now()
    name, kana, address, email = _check_sign_up(form, now.astimezone(TOKYO).date())
    lang = form.lang if form.lang in ("ja", "en") else "ja"
    digest = accounts.hash_password(form.password)  # slow on purpose: outside the transaction

    def work(cur) -> None:
        if _recent(cur, "signup", ip, now) >= SIGNUPS_PER_IP:
            raise TooManySignups(limit=SIGNUPS_PER_IP)
        cur.execute("INSERT INTO portal_rate_events VALUES ('signup', ?, ?)", [ip, now])
        _count_mail(cur, email, now)
        existing = cur.execute(
            """SELECT u.id, r.user_id IS NOT NULL AND r.email_confirmed_at IS NULL
               FROM portal_users u LEFT JOIN portal_registrations r ON r.user_id = u.id
               WHERE u.email = ?""", [email]).fetchone()
        if existing and not existing[1]:
            enqueue(cur, clock, _already_registered(cur, existing[0], lang, email))
            return
        if existing:  # an earlier sign-up never confirmed: this one replaces it, its links die
            _erase_account(cur, existing[0])
        login = _new_login(cur, email)
        (user_id,) = cur.execute(
            """INSERT INTO portal_users (login, display_name, email, password_hash, disabled, created_at,
                                         password_changed_at)
               VALUES (?, ?, ?, ?, true, ?, ?) RETURNING id""",
            [login, name, email, digest, now, now]).fetchone()
        cur.execute("INSERT INTO portal_user_roles VALUES (?, 'resident')", [user_id])
        cur.execute(
            """INSERT INTO portal_registrations (user_id, kana, address, birth_date, city_tie, lang, registered_at)
               VALUES (?, ?, ?, ?, ?, ?, ?)""", [user_id, kana, address, form.birth_date, form.city_tie, lang, now])
        token = _new_token(cur, user_id, "confirm_email", email, now, CONFIRM_VALID)
        enqueue(cur, clock, _mail("confirm_email", lang, email, user_id, name=name, login=login,
                                  link=link("confirm-email", token, lang),
                                  hours=int(CONFIRM_VALID.total_seconds() // 3600)))

    store.write(work)
    _answer_no_sooner(started)


def _erase_account(cur, user_id: int) -> None:
    """Delete an account that never came to life (unconfirmed sign-up) and all it holds."""
    for sql in ("DELETE FROM portal_mail_tokens WHERE user_id = ?",
                "DELETE FROM portal_registrations WHERE user_id = ?",
                "DELETE FROM portal_sessions WHERE user_id = ?",
                "DELETE FROM portal_user_roles WHERE user_id = ?",
                "DELETE FROM portal_users WHERE id = ?"):
        cur.execute(sql, [user_id])


def _take_token(cur, token: str, purpose: str, now: datetime) -> tuple[int, str]:
    row = cur.execute(
        """SELECT t.user_id, t.email FROM portal_mail_tokens t
           WHERE t.token_hash = ? AND t.purpose = ? AND t.used_at IS NULL AND t.expires_at > ?
             AND t.user_id NOT IN (SELECT user_id FROM portal_departures)""",
        [_hash(token or ""), purpose, now]).fetchone()
    if row is None:
        raise LinkInvalid()
    cur.execute("UPDATE portal_mail_tokens SET used_at = ? WHERE token_hash = ?", [now, _hash(token)])
    return row


def _come_to_life(cur, now: datetime, user_id: int) -> None:
    """A sign-up's address is confirmed: the account may sign in. Resident rates wait for the
    counter: until then facilities count a non-resident (told only now, so that a sign-up
    never confirmed leaves nothing behind in other modules)."""
    cur.execute("UPDATE portal_registrations SET email_confirmed_at = ? WHERE user_id = ?", [now, user_id])
    cur.execute("UPDATE portal_users SET disabled = false WHERE id = ?", [user_id])
    _record_residency(cur, now, user_id, False)


def confirm_email(store: Store, clock: Clock, token: str) -> Confirmed:
    """Open a confirmation link: a new registration comes to life, or a changed address
    replaces the old one."""
    now = clock.now()

    def work(cur) -> Confirmed:
        user_id, email = _take_token(cur, token, "confirm_email", now)
        login, current, pending = cur.execute(
            """SELECT u.login, u.email, r.user_id IS NOT NULL AND r.email_confirmed_at IS NULL
               FROM portal_users u LEFT JOIN portal_registrations r ON r.user_id = u.id WHERE u.id = ?""",
            [user_id]).fetchone()
        # Every other confirmation link of this account dies with this one.
        cur.execute("""UPDATE portal_mail_tokens SET used_at = ? WHERE user_id = ? AND purpose = 'confirm_email'
                       AND used_at IS NULL""", [now, user_id])
        if pending:
            _come_to_life(cur, now, user_id)
            return Confirmed(login, email, changed=False)
        if current != email:
            if cur.execute("SELECT 1 FROM portal_users WHERE email = ? AND id <> ?", [email, user_id]).fetchone():
                raise Conflict("accounts.email_taken", email=email)
            cur.execute("UPDATE portal_users SET email = ? WHERE id = ?", [email, user_id])
            cur.execute("UPDATE portal_registrations SET email_confirmed_at = ? WHERE user_id = ?", [now, user_id])
        return Confirmed(login, email, changed=True)

    return store.write(work)


# ------------------------------------------------------------------------------- password reset

def request_password_reset(store: Store, clock: Clock, email: str, lang: str = "ja") -> None:
    """Mail a reset link (30 minutes, single use) when the address has an account that may
    sign in. Answers the same, no sooner than ANSWER_FLOOR_S, whether or not it has one."""
    started = time.monotonic()
    now = clock.now()
    email = _normal_email(email)
    token = secrets.token_urlsafe(32)

    def work(cur) -> None:
        _count_mail(cur, email, now)  # counted for unknown addresses too: the limit tells nothing
        row = cur.execute(
            """SELECT u.id, u.display_name FROM portal_users u
               WHERE u.email = ? AND u.id NOT IN (SELECT user_id FROM portal_departures)
                 AND (NOT u.disabled OR u.id IN (SELECT user_id FROM portal_registrations
                                                 WHERE email_confirmed_at IS NULL))""", [email]).fetchone()
        if row is None:
            return
        user_id, name = row
        cur.execute("INSERT INTO portal_mail_tokens VALUES (?, ?, 'reset_password', ?, ?, ?, NULL)",
                    [_hash(token), user_id, email, now, now + RESET_VALID])
        mail_lang = _user_lang(cur, user_id, lang)
        enqueue(cur, clock, _mail("reset_password", mail_lang, email, user_id, name=name,
                                  link=link("reset-password", token, mail_lang),
                                  minutes=int(RESET_VALID.total_seconds() // 60)))

    store.write(work)
    _answer_no_sooner(started)


def check_reset_link(store: Store, clock: Clock, token: str) -> None:
    """Raise LinkInvalid unless the link can still be used (the page asks before the form)."""
    if not store.query(
        """SELECT 1 FROM portal_mail_tokens WHERE token_hash = ? AND purpose = 'reset_password'
           AND used_at IS NULL AND expires_at > ?""", [_hash(token or ""), clock.now()]):
        raise LinkInvalid()


def reset_password(store: Store, clock: Clock, token: str, new_password: str) -> str:
    """Set a new password with a reset link; every session of the account ends, and the
    address the link went to counts as confirmed. Returns the login."""
    check_reset_link(store, clock, token)
    login = store.scalar("""SELECT u.login FROM portal_mail_tokens t JOIN portal_users u ON u.id = t.user_id
                            WHERE t.token_hash = ?""", [_hash(token)])
    accounts.check_password_rules(new_password, login or "")
    digest = accounts.hash_password(new_password)
    now = clock.now()

    def work(cur) -> str:
        user_id, email = _take_token(cur, token, "reset_password", now)  # again: single use under races
        cur.execute("""UPDATE portal_mail_tokens SET used_at = ? WHERE user_id = ? AND purpose = 'reset_password'
                       AND used_at IS NULL""", [now, user_id])
        cur.execute("""UPDATE portal_users SET password_hash = ?, password_changed_at = ?, failed_attempts = 0,
                       locked_until = NULL WHERE id = ?""", [digest, now, user_id])
        cur.execute("""UPDATE portal_sessions SET ended_at = ?, end_reason = 'password_changed'
                       WHERE user_id = ? AND ended_at IS NULL""", [now, user_id])
        if cur.execute("""SELECT 1 FROM portal_registrations r JOIN portal_users u ON u.id = r.user_id
                          WHERE r.user_id = ? AND r.email_confirmed_at IS NULL AND u.email = ?""",
                       [user_id, email]).fetchone():
            _come_to_life(cur, now, user_id)
        return cur.execute("SELECT login FROM portal_users WHERE id = ?", [user_id]).fetchone()[0]

    return store.write(work)


# ------------------------------------------------------------------------------- the account

def change_email(store: Store, clock: Clock, actor: Actor, new_email: str, lang: str = "ja") -> None:
    """Mail a confirmation link to a new address; the old one stays until it is opened.
    The answer is the same when the new address belongs to another account."""
    actor.require()
    email = _normal_email(new_email)
    if email == (actor.email or ""):
        raise InvalidInput("registration.same_email")
    now = clock.now()

    def work(cur) -> None:
        _count_mail(cur, email, now)
        owner = cur.execute("SELECT id FROM portal_users WHERE email = ?", [email]).fetchone()
        if owner:
            enqueue(cur, clock, _already_registered(cur, owner[0], lang, email))
            return
        token = _new_token(cur, actor.user_id, "confirm_email", email, now, CONFIRM_VALID)
        enqueue(cur, clock, _mail("change_email", lang, email, actor.user_id, name=actor.display_name,
                                  link=link("confirm-email", token, lang),
                                  hours=int(CONFIRM_VALID.total_seconds() // 3600)))
        if actor.email:  # the old address hears of it, in case it was not its owner's doing
            enqueue(cur, clock, _mail("email_change_notice", lang, actor.email, actor.user_id,
                                      name=actor.display_name, new_email=email))

    store.write(work)


def pending_email(store: Store, clock: Clock, actor: Actor) -> str | None:
    """The new address waiting for its confirmation, if any."""
    actor.require()
    return store.scalar(
        """SELECT email FROM portal_mail_tokens WHERE user_id = ? AND purpose = 'confirm_email'
           AND used_at IS NULL AND expires_at > ? ORDER BY created_at DESC LIMIT 1""",
        [actor.user_id, clock.now()])


def library_card(store: Store, actor: Actor) -> str | None:
    actor.require()
    return store.scalar("SELECT card_number FROM portal_library_cards WHERE user_id = ?", [actor.user_id])


def card_of(store: Store, user_id: int) -> str | None:
    """For other modules (kernel.provided "portal.library_card"): the library card number
    linked to an account, if any."""
    return store.scalar("SELECT card_number FROM portal_library_cards WHERE user_id = ?", [user_id])


def link_library_card(store: Store, clock: Clock, actor: Actor, card_number: str) -> str | None:
    """Link the library card number (図書館利用者番号) to one's account; empty unlinks."""
    actor.require(Role.RESIDENT)
    card = re.sub(r"[\s-]", "", card_number or "").translate(str.maketrans("０１２３４５６７８９", "0123456789"))

    def work(cur) -> str | None:
        cur.execute("DELETE FROM portal_library_cards WHERE user_id = ?", [actor.user_id])
        if not card:
            return None
        if not _CARD.match(card):
            raise InvalidInput("registration.bad_card")
        if cur.execute("SELECT 1 FROM portal_library_cards WHERE card_number = ?", [card]).fetchone():
            raise Conflict("registration.card_taken")
        cur.execute("INSERT INTO portal_library_cards VALUES (?, ?, ?)", [actor.user_id, card, clock.now()])
        return card

    return store.write(work)


def leave(store: Store, clock: Clock, actor: Actor, password: str) -> None:
    """Close one's own resident account (退会), after the password is checked."""
    actor.require(Role.RESIDENT)
    if actor.roles - {Role.RESIDENT}:
        raise InvalidInput("registration.staff_cannot_leave")
    accounts.authenticate(store, clock, actor.login, password)
    now = clock.now()

    def work(cur) -> None:
        open_items = provided(offers.FACILITIES_OPEN_COMMITMENTS)
        items = list(open_items(cur, now, actor.user_id)) if open_items else []
        if items:
            raise SettleFirst(items)
        end_loans = provided(offers.LIBRARY_EBOOKS_END_FOR_LEAVING)
        if end_loans is not None:
            end_loans(cur, now, actor.user_id)
        email, name = cur.execute("SELECT email, display_name FROM portal_users WHERE id = ?",
                                  [actor.user_id]).fetchone()
        lang = _user_lang(cur, actor.user_id)
        if email:
            enqueue(cur, clock, _mail("left", lang, email, actor.user_id, name=name,
                                      days=retention.LEFT_ACCOUNT_KEPT.days))
        cur.execute("INSERT INTO portal_departures VALUES (?, ?, NULL)", [actor.user_id, now])
        # Sign-in ends at once and the address is free for a new registration.
        cur.execute("UPDATE portal_users SET disabled = true, email = NULL WHERE id = ?", [actor.user_id])
        cur.execute("""UPDATE portal_sessions SET ended_at = ?, end_reason = 'disabled'
                       WHERE user_id = ? AND ended_at IS NULL""", [now, actor.user_id])
        cur.execute("UPDATE portal_mail_tokens SET used_at = ? WHERE user_id = ? AND used_at IS NULL",
                    [now, actor.user_id])

    store.write(work)


# ------------------------------------------------------------------------------- the counter

def pending_registrations(store: Store, by: Actor, search: str | None = None,
                          *, include_confirmed: bool = False) -> list[Registrant]:
    """Registrations whose address is confirmed and whose residence waits for the counter
    (with `include_confirmed`, those already confirmed too); search by name, kana, e-mail,
    login or address."""
    by.require(*COUNTER_ROLES)
    needle = (search or "").strip() or None
    rows = store.query(
        """SELECT u.id, u.login, u.display_name, r.kana, u.email, r.address, r.birth_date, r.city_tie,
                  r.registered_at, r.email_confirmed_at, r.residence_confirmed_at, s.display_name
           FROM portal_registrations r JOIN portal_users u ON u.id = r.user_id
           LEFT JOIN portal_users s ON s.id = r.residence_confirmed_by
           WHERE r.email_confirmed_at IS NOT NULL
             AND r.user_id NOT IN (SELECT user_id FROM portal_departures)
             AND (? OR r.residence_confirmed_at IS NULL)
             AND (? IS NULL OR u.display_name ILIKE '%' || ? || '%' OR r.kana ILIKE '%' || ? || '%'
                  OR u.email ILIKE '%' || ? || '%' OR u.login ILIKE '%' || ? || '%'
                  OR r.address ILIKE '%' || ? || '%')
           ORDER BY r.residence_confirmed_at NULLS FIRST, r.registered_at, u.id LIMIT 500""",
        [include_confirmed, needle, needle, needle, needle, needle, needle])
    return [Registrant(*row) for row in rows]


def confirm_residence(store: Store, clock: Clock, by: Actor, user_id: int, note: str = "") -> Registrant:
    """Staff saw a document at a counter: record who and when, and tell facilities whether
    resident rates apply (the person lives, works or studies in the city)."""
    by.require(*COUNTER_ROLES)
    now = clock.now()

    def work(cur) -> None:
        row = cur.execute(
            """SELECT city_tie, email_confirmed_at, residence_confirmed_at FROM portal_registrations
               WHERE user_id = ? AND user_id NOT IN (SELECT user_id FROM portal_departures)""",
            [user_id]).fetchone()
        if row is None or row[1] is None:
            raise NotFound("registration.no_such_registration")
        if row[2] is not None:
            raise Conflict("registration.already_confirmed")
        cur.execute("""UPDATE portal_registrations SET residence_confirmed_at = ?, residence_confirmed_by = ?,
                       residence_note = ? WHERE user_id = ?""", [now, by.user_id, (note or "").strip() or None, user_id])
        _record_residency(cur, now, user_id, row[0] != "none")

    store.write(work)
    return next(r for r in pending_registrations(store, by, include_confirmed=True) if r.user_id == user_id)


def residence(store: Store, user_id: int) -> dict | None:
    """For other modules (kernel.provided "portal.residence"): None for an account made by
    staff (not self-registered); else whether the address and residence are confirmed and
    the person's tie to the city."""
    row = store.query(
        """SELECT email_confirmed_at IS NOT NULL, residence_confirmed_at IS NOT NULL, city_tie
           FROM portal_registrations WHERE user_id = ?""", [user_id])
    if not row:
        return None
    email_ok, residence_ok, tie = row[0]
    return {"email_confirmed": email_ok, "residence_confirmed": residence_ok, "city_tie": tie}


def my_registration(store: Store, actor: Actor) -> Registrant | None:
    """The signed-in resident's own registration (None for an account made by staff)."""
    actor.require()
    row = store.query(
        """SELECT u.id, u.login, u.display_name, r.kana, u.email, r.address, r.birth_date, r.city_tie,
                  r.registered_at, r.email_confirmed_at, r.residence_confirmed_at, NULL
           FROM portal_registrations r JOIN portal_users u ON u.id = r.user_id WHERE r.user_id = ?""",
        [actor.user_id])
    return Registrant(*row[0]) if row else None
