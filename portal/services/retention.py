"""How long personal data is kept (個人情報の保存期間), and the nightly work that applies it.

One rule per kind of personal data (README, "Retention"); `apply(store, clock)` runs every
rule in one transaction and records what each removed (portal_retention_runs), which the
city administrator's system page shows. It is the portal's nightly job (portal/module.py,
`nightly`), run by the server between 02:00 and 05:00.

A pupil's learning records are analytics' data: their rule is applied by the function
analytics offers as "analytics.apply_retention" (store, clock, kept: timedelta) -> int (the
statements it removed), when it offers one; otherwise the run records that it was not applied.
What the device registry keeps of a pupil goes by the same period, through
"school_ict.apply_retention" (store, clock, kept) -> int (the pupils it erased). Both ask the
roster who left when ("portal.pupils_left_longer_than", below in roster.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from kernel import offers
from kernel.actor import Actor, Role
from kernel.clock import Clock
from kernel.provided import provided
from kernel.store import Store

UNCONFIRMED_KEPT = timedelta(days=7)
LEFT_ACCOUNT_KEPT = timedelta(days=30)
SIGN_IN_LOG_KEPT = timedelta(days=365)
SESSIONS_KEPT = timedelta(days=90)
LINKS_KEPT = timedelta(days=7)
SENT_MAIL_KEPT = timedelta(days=30)
FAILED_MAIL_KEPT = timedelta(days=90)
RATE_EVENTS_KEPT = timedelta(days=2)
# 指導要録's records of guidance are kept 5 years (学校教育法施行規則 第28条).
PUPIL_RECORDS_KEPT = timedelta(days=5 * 365)


def first_kept_day(today: date, kept: timedelta) -> date:
    """The first leaving day still kept on `today`: a whole number of 365-day years counts
    calendar years (left 2021-03-31, kept 5 years: kept through 2026-03-31, gone on 04-01),
    anything else days."""
    if kept.days % 365:
        return today - kept
    years = kept.days // 365
    try:
        return today.replace(year=today.year - years)
    except ValueError:  # 29 February into a common year
        return today.replace(year=today.year - years, day=28)


@dataclass(frozen=True)
class Rule:
    key: str          # messages: retention.name.<key>, retention.detail.<key>
    kept: timedelta


RULES = (
    Rule("unconfirmed", UNCONFIRMED_KEPT),
    Rule("left_account", LEFT_ACCOUNT_KEPT),
    Rule("sign_in_log", SIGN_IN_LOG_KEPT),
    Rule("sessions", SESSIONS_KEPT),
    Rule("mail_links", LINKS_KEPT),
    Rule("sent_mail", SENT_MAIL_KEPT),
    Rule("failed_mail", FAILED_MAIL_KEPT),
    Rule("rate_events", RATE_EVENTS_KEPT),
    Rule("pupil_records", PUPIL_RECORDS_KEPT),
    Rule("pupil_devices", PUPIL_RECORDS_KEPT),
)


@dataclass(frozen=True)
class RuleStatus:
    rule: Rule
    last_run: datetime | None
    removed: int | None
    note: str | None


def _count(cur, sql: str, params: list) -> int:
    return len(cur.execute(sql + " RETURNING 1", params).fetchall())


def _unconfirmed(cur, now: datetime) -> int:
    ids = [i for (i,) in cur.execute(
        """SELECT user_id FROM portal_registrations WHERE email_confirmed_at IS NULL AND registered_at <= ?""",
        [now - UNCONFIRMED_KEPT]).fetchall()]
    for sql in ("DELETE FROM portal_mail_tokens WHERE user_id IN (SELECT unnest(?))",
                "DELETE FROM portal_sign_in_log WHERE user_id IN (SELECT unnest(?))",
                "DELETE FROM portal_sessions WHERE user_id IN (SELECT unnest(?))",
                "DELETE FROM portal_user_roles WHERE user_id IN (SELECT unnest(?))",
                "DELETE FROM portal_registrations WHERE user_id IN (SELECT unnest(?))",
                "DELETE FROM portal_users WHERE id IN (SELECT unnest(?))"):
        cur.execute(sql, [ids])
    return len(ids)


def _left_accounts(cur, now: datetime) -> int:
    """Erase a departed resident's personal data; the account row stays as an anonymous id
    so that bookings and payments kept for the city's accounts still add up."""
    ids = [i for (i,) in cur.execute(
        "SELECT user_id FROM portal_departures WHERE erased_at IS NULL AND left_at <= ?",
        [now - LEFT_ACCOUNT_KEPT]).fetchall()]
    for sql in ("DELETE FROM portal_registrations WHERE user_id IN (SELECT unnest(?))",
                "DELETE FROM portal_library_cards WHERE user_id IN (SELECT unnest(?))",
                "DELETE FROM portal_mail_tokens WHERE user_id IN (SELECT unnest(?))",
                "DELETE FROM portal_sign_in_log WHERE user_id IN (SELECT unnest(?))",
                "DELETE FROM portal_sessions WHERE user_id IN (SELECT unnest(?))",
                "DELETE FROM manabi_outbox WHERE user_id IN (SELECT unnest(?))",
                "DELETE FROM portal_teacher_classes WHERE user_id IN (SELECT unnest(?))"):
        cur.execute(sql, [ids])
    cur.execute(
        """UPDATE portal_users SET login = 'left-' || id, display_name = '—', email = NULL,
           password_hash = NULL, disabled = true WHERE id IN (SELECT unnest(?))""", [ids])
    cur.execute("UPDATE portal_departures SET erased_at = ? WHERE user_id IN (SELECT unnest(?))", [now, ids])
    return len(ids)


def _offered_rule(rule: offers.Offer[offers.RetentionRule], store: Store, clock: Clock) -> tuple[int, str | None]:
    """A rule another module applies to its own data (each in a transaction of its own)."""
    apply_there = provided(rule)
    if apply_there is None:
        return 0, "not_offered"
    return int(apply_there(store, clock, PUPIL_RECORDS_KEPT) or 0), None


def apply(store: Store, clock: Clock) -> dict[str, int]:
    """Apply every rule now; returns what each removed (also recorded for the system page)."""
    now = clock.now()

    def work(cur) -> dict[str, int]:
        return {
            "unconfirmed": _unconfirmed(cur, now),
            "left_account": _left_accounts(cur, now),
            "sign_in_log": _count(cur, "DELETE FROM portal_sign_in_log WHERE attempted_at <= ?",
                                  [now - SIGN_IN_LOG_KEPT]),
            "sessions": _count(cur, "DELETE FROM portal_sessions WHERE coalesce(ended_at, last_seen_at) <= ?",
                               [now - SESSIONS_KEPT]),
            "mail_links": _count(cur, "DELETE FROM portal_mail_tokens WHERE coalesce(used_at, expires_at) <= ?",
                                 [now - LINKS_KEPT]),
            "sent_mail": _count(cur, "DELETE FROM manabi_outbox WHERE status = 'sent' AND sent_at <= ?",
                                [now - SENT_MAIL_KEPT]),
            "failed_mail": _count(cur, "DELETE FROM manabi_outbox WHERE status = 'failed' AND created_at <= ?",
                                  [now - FAILED_MAIL_KEPT]),
            "rate_events": _count(cur, "DELETE FROM portal_rate_events WHERE happened_at <= ?", [now - RATE_EVENTS_KEPT]),
        }

    removed = store.write(work)
    notes = {}
    # Learning records first, then the registry: both read the roster's leaving dates.
    for key, rule in (("pupil_records", offers.ANALYTICS_APPLY_RETENTION),
                      ("pupil_devices", offers.SCHOOL_ICT_APPLY_RETENTION)):
        removed[key], notes[key] = _offered_rule(rule, store, clock)
    store.write(lambda cur: cur.executemany(
        "INSERT INTO portal_retention_runs VALUES (?, ?, ?, ?)",
        [[now, key, count, notes.get(key)] for key, count in removed.items()]))
    return removed


def status(store: Store, by: Actor) -> list[RuleStatus]:
    """Each rule with its last run and what that run removed (city administrators)."""
    by.require(Role.CITY_ADMIN)
    last = {rule: (ran, removed, note) for rule, ran, removed, note in store.query(
        """SELECT rule, ran_at, removed, note FROM portal_retention_runs
           QUALIFY row_number() OVER (PARTITION BY rule ORDER BY ran_at DESC) = 1""")}
    return [RuleStatus(rule, *last.get(rule.key, (None, None, None))) for rule in RULES]
