"""The mail outbox: every module writes the messages an event should send into this table,
with the same cursor (so in the same transaction) as the event itself. A crash then never
loses a mail, and an event that is rolled back sends none. The server's sender
(portal/services/mail.py) delivers what waits here over SMTP, with retries.

The table lives beside the migration bookkeeping (kernel/migrations.py, BOOKKEEPING): every
module may write it, and none owns it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from kernel import offers
from kernel.clock import Clock

OUTBOX_TABLE = """
CREATE SEQUENCE IF NOT EXISTS manabi_outbox_id;
CREATE TABLE IF NOT EXISTS manabi_outbox (
    id               BIGINT PRIMARY KEY DEFAULT nextval('manabi_outbox_id'),
    created_at       TIMESTAMPTZ NOT NULL,
    kind             VARCHAR NOT NULL,          -- e.g. 'portal.confirm_email', 'facilities.booking_made'
    user_id          INTEGER,                   -- NULL for an address with no account yet
    to_address       VARCHAR NOT NULL,
    lang             VARCHAR NOT NULL CHECK (lang IN ('ja', 'en')),
    subject          VARCHAR NOT NULL,
    body_text        VARCHAR NOT NULL,          -- the plain-text part, always present
    body_html        VARCHAR,                   -- an optional HTML alternative
    -- One message per key at most (e.g. 'loan_due:<loan id>'): a job that runs twice sends once.
    dedupe_key       VARCHAR UNIQUE,
    status           VARCHAR NOT NULL DEFAULT 'queued'
                     CHECK (status IN ('queued', 'sent', 'failed')),
    attempts         INTEGER NOT NULL DEFAULT 0,
    next_attempt_at  TIMESTAMPTZ NOT NULL,
    last_error       VARCHAR,
    sent_at          TIMESTAMPTZ
);
"""


@dataclass(frozen=True)
class Mail:
    """One message to one address, already rendered in the recipient's language."""

    kind: str
    to_address: str
    lang: str
    subject: str
    body_text: str
    body_html: str | None = None
    user_id: int | None = None
    dedupe_key: str | None = None


def enqueue(cur, clock: Clock, mail: Mail) -> int | None:
    """Write `mail` to the outbox with the caller's cursor, inside the caller's transaction.

    Returns its id, or None when a message with the same `dedupe_key` is already there."""
    if mail.dedupe_key is not None and cur.execute(
        "SELECT 1 FROM manabi_outbox WHERE dedupe_key = ?", [mail.dedupe_key]
    ).fetchone():
        return None
    now: datetime = clock.now()
    row = cur.execute(
        """INSERT INTO manabi_outbox (created_at, kind, user_id, to_address, lang, subject, body_text,
                                      body_html, dedupe_key, next_attempt_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id""",
        [now, mail.kind, mail.user_id, mail.to_address, mail.lang, mail.subject, mail.body_text,
         mail.body_html, mail.dedupe_key, now],
    ).fetchone()
    return int(row[0])


def notify(cur, clock: Clock, recipient: int | str, kind: str, params: dict | None = None, *,
           dedupe_key: str | None = None) -> int | None:
    """Tell one person of an event, with the cursor of the event's own transaction.

    `recipient` is an account id or a login; `kind` a kind a module declares in its SPEC
    (`mail_kinds`), e.g. 'facilities.booking_made'. The portal's "portal.notify" picks the
    person's address, language and choices and renders the catalogue's `mail.<kind>.subject`
    and `.body` with `params` (dates are formatted in that language; a {"ja": ..., "en": ...}
    value is taken in it). Returns the outbox id, or None when nothing was queued (no
    address, turned off, a duplicate, or no portal in this process)."""
    from kernel.provided import provided

    deliver = provided(offers.PORTAL_NOTIFY)
    if deliver is None:
        return None
    return deliver(cur, clock, recipient, kind, params or {}, dedupe_key=dedupe_key)
