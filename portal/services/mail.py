"""The mail sender: delivers what waits in the outbox (kernel/outbox.py) over SMTP.

The server starts it in one background thread (`start`). Every few seconds it sends the
messages that are due, one SMTP connection per batch, and records each result right after
sending it: sent; or, on a temporary failure (no connection, a 4xx answer), another attempt
after an exponential backoff (1, 2, 4 … minutes, at most 6 hours), until MAX_ATTEMPTS have
failed and the message is marked 'failed'. A permanent refusal (5xx: no such mailbox) fails
at once. Without SMTP settings mail waits, and the system page says so.

Each message has a plain-text part (an HTML alternative when given), UTF-8 headers encoded
for Japanese (RFC 2047), a Date, and a Message-ID made from its outbox id, so that a resend
after a crash between sending and recording carries the same id.

Mail that a time rather than an event brings ("a loan is due in 2 days", "your session starts
soon") is written by the modules' server jobs (kernel.jobs), each with a dedupe_key so it goes once.
"""

from __future__ import annotations

import logging
import smtplib
import ssl
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from email import policy
from email.message import EmailMessage
from email.utils import format_datetime, formataddr, parseaddr

from kernel.clock import Clock
from kernel.config import setting
from kernel.errors import InvalidInput, NotFound
from kernel.store import Store

MAX_ATTEMPTS = 12  # 1, 2, 4 … minutes, then every 6 hours: given up after about 20 hours
MAX_BACKOFF = timedelta(hours=6)
BATCH = 100
RECORD_EVERY = 20
POLL_SECONDS = 2.0
STATUSES = ("queued", "sent", "failed")
_log = logging.getLogger("manabi.mail")
_started: set[str] = set()
_started_lock = threading.Lock()


@dataclass(frozen=True)
class SmtpSettings:
    host: str | None
    port: int
    user: str | None
    password: str | None
    sender: str | None  # MANABI_SMTP_FROM, e.g. "学び 飯塚市 <manabi@city.iizuka.lg.jp>"
    starttls: bool
    retry_seconds: float  # the first backoff; each failure doubles it

    @property
    def configured(self) -> bool:
        return bool(self.host and self.sender and parseaddr(self.sender)[1])

    @property
    def missing(self) -> list[str]:
        """The settings still needed before mail can go out."""
        return [name for name, value in (("MANABI_SMTP_HOST", self.host), ("MANABI_SMTP_FROM", self.sender))
                if not value]


def _flag(value: str | None) -> bool:
    return (value or "").strip().lower() in ("1", "true", "yes", "on")


def smtp_settings() -> SmtpSettings:
    starttls = _flag(setting("smtp_starttls"))
    return SmtpSettings(
        host=setting("smtp_host") or None,
        port=int(setting("smtp_port") or (587 if starttls else 25)),
        user=setting("smtp_user") or None,
        password=setting("smtp_password") or None,
        sender=setting("smtp_from") or None,
        starttls=starttls,
        retry_seconds=float(setting("mail_retry_seconds") or 60),
    )


def backoff(settings: SmtpSettings, attempts: int) -> timedelta:
    """The wait after the `attempts`-th failure."""
    return min(timedelta(seconds=settings.retry_seconds * 2 ** (attempts - 1)), MAX_BACKOFF)


# --- the message ------------------------------------------------------------------------------

@dataclass(frozen=True)
class Queued:
    id: int
    created_at: datetime
    kind: str
    to_address: str
    subject: str
    body_text: str
    body_html: str | None
    attempts: int


def _transfer_encoding(text: str) -> str:
    return "7bit" if text.isascii() and all(len(line) <= 998 for line in text.splitlines()) else "base64"


def build_message(mail: Queued, settings: SmtpSettings, now: datetime) -> EmailMessage:
    message = EmailMessage(policy=policy.SMTP)
    name, address = parseaddr(settings.sender or "")
    message["From"] = formataddr((name, address)) if name else address
    message["To"] = mail.to_address
    message["Subject"] = mail.subject
    message["Date"] = format_datetime(now)
    domain = address.rpartition("@")[2] or "manabi.invalid"
    message["Message-ID"] = f"<manabi.{mail.id}.{int(mail.created_at.timestamp())}@{domain}>"
    # RFC 3834: an automatic message, so that mail systems do not answer it with vacation replies.
    message["Auto-Submitted"] = "auto-generated"
    # 7-bit safe on any server (not every one takes 8BITMIME): Japanese text goes base64.
    message.set_content(mail.body_text, charset="utf-8", cte=_transfer_encoding(mail.body_text))
    if mail.body_html:
        message.add_alternative(mail.body_html, subtype="html", charset="utf-8",
                                cte=_transfer_encoding(mail.body_html))
    return message


def _connect(settings: SmtpSettings) -> smtplib.SMTP:
    smtp = smtplib.SMTP(settings.host, settings.port, timeout=30)
    try:
        if settings.starttls:
            smtp.starttls(context=ssl.create_default_context())
        if settings.user:
            smtp.login(settings.user, settings.password or "")
    except BaseException:
        smtp.close()
        raise
    return smtp


def _permanent(exc: Exception) -> bool:
    """A refusal that will not change by trying again (5xx), as opposed to 4xx or no connection."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return all(code >= 500 for code, _ in exc.recipients.values())
    return isinstance(exc, smtplib.SMTPResponseException) and exc.smtp_code >= 500


def _error_text(exc: Exception) -> str:
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return "; ".join(f"{who}: {code} {text.decode(errors='replace') if isinstance(text, bytes) else text}"
                         for who, (code, text) in exc.recipients.items())
    if isinstance(exc, smtplib.SMTPResponseException):
        text = exc.smtp_error.decode(errors="replace") if isinstance(exc.smtp_error, bytes) else str(exc.smtp_error)
        return f"{exc.smtp_code} {text}"
    return f"{type(exc).__name__}: {exc}"[:500]


# --- delivery ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Delivery:
    sent: int = 0
    retrying: int = 0
    failed: int = 0


def due(store: Store, clock: Clock, limit: int = BATCH) -> list[Queued]:
    rows = store.query(
        """SELECT id, created_at, kind, to_address, subject, body_text, body_html, attempts FROM manabi_outbox
           WHERE status = 'queued' AND next_attempt_at <= ? ORDER BY next_attempt_at, id LIMIT ?""",
        [clock.now(), limit])
    return [Queued(*row) for row in rows]


class _Results:
    """Outcomes written in small groups: a commit on the outbox costs ~10 ms, a message ~1 ms.
    A crash may leave up to RECORD_EVERY sent messages marked queued; they go again with the
    same Message-ID (at least once, never lost)."""

    def __init__(self, store: Store, clock: Clock, settings: SmtpSettings) -> None:
        self.store, self.clock, self.settings = store, clock, settings
        self.pending: list[tuple[Queued, str | None, bool]] = []  # (mail, error or None if sent, permanent)
        self.delivery = Delivery()

    def sent(self, mail: Queued) -> None:
        self._add(mail, None, False)

    def failed(self, mail: Queued, error: str, *, permanent: bool) -> None:
        self._add(mail, error, permanent)

    def _add(self, mail: Queued, error: str | None, permanent: bool) -> None:
        self.pending.append((mail, error, permanent))
        if len(self.pending) >= RECORD_EVERY:
            self.flush()

    def flush(self) -> None:
        if not self.pending:
            return
        pending, self.pending = self.pending, []
        now = self.clock.now()
        retrying = failed = 0
        sent_ids = [mail.id for mail, error, _ in pending if error is None]
        updates = [("UPDATE manabi_outbox SET status = 'sent', sent_at = ?, attempts = attempts + 1, last_error = NULL "
                    "WHERE id IN (SELECT unnest(?))", [now, sent_ids])] if sent_ids else []
        for mail, error, permanent in pending:
            if error is None:
                continue
            attempts = mail.attempts + 1
            give_up = permanent or attempts >= MAX_ATTEMPTS
            failed, retrying = failed + give_up, retrying + (not give_up)
            updates.append(("UPDATE manabi_outbox SET status = ?, attempts = ?, last_error = ?, next_attempt_at = ? "
                            "WHERE id = ?",
                            ["failed" if give_up else "queued", attempts, error,
                             now if give_up else now + backoff(self.settings, attempts), mail.id]))

        def work(cur) -> None:
            for sql, params in updates:
                cur.execute(sql, params)

        self.store.write(work)
        self.delivery = Delivery(self.delivery.sent + len(sent_ids), self.delivery.retrying + retrying,
                                 self.delivery.failed + failed)


def deliver_due(store: Store, clock: Clock, settings: SmtpSettings | None = None, *,
                limit: int = BATCH) -> Delivery:
    """Send the messages that are due (up to `limit`) over one connection; record each."""
    settings = settings or smtp_settings()
    if not settings.configured:
        return Delivery()
    batch = due(store, clock, limit)
    if not batch:
        return Delivery()
    results = _Results(store, clock, settings)
    try:
        smtp = _connect(settings)
    except (OSError, smtplib.SMTPException) as exc:
        # No server, or it refused us: every message of the batch waits its backoff.
        error = _error_text(exc)
        _log.warning("mail: cannot reach %s:%s (%s); %d messages wait", settings.host, settings.port, error,
                     len(batch))
        for mail in batch:
            results.failed(mail, error, permanent=False)
        results.flush()
        return results.delivery
    envelope_from = parseaddr(settings.sender or "")[1]
    try:
        for index, mail in enumerate(batch):
            try:
                smtp.send_message(build_message(mail, settings, clock.now()), from_addr=envelope_from,
                                  to_addrs=[mail.to_address])
            except smtplib.SMTPServerDisconnected as exc:
                # The connection is gone: this message and the rest of the batch try again later.
                for rest in batch[index:]:
                    results.failed(rest, _error_text(exc), permanent=False)
                break
            except (smtplib.SMTPException, OSError, UnicodeError) as exc:
                results.failed(mail, _error_text(exc), permanent=_permanent(exc) or isinstance(exc, UnicodeError))
            else:
                results.sent(mail)
    finally:
        results.flush()
        try:
            smtp.quit()
        except (OSError, smtplib.SMTPException):
            smtp.close()
    return results.delivery


def deliver_all(store: Store, clock: Clock, settings: SmtpSettings | None = None) -> Delivery:
    """Deliver batch after batch until nothing is due (or nothing more goes out)."""
    total = Delivery()
    while True:
        step = deliver_due(store, clock, settings)
        total = Delivery(total.sent + step.sent, total.retrying + step.retrying, total.failed + step.failed)
        if step.sent == 0:
            return total


def start(store: Store, clock: Clock) -> bool:
    """The sender's thread, once per database per process: delivery every couple of seconds.
    Returns whether a thread was started."""
    with _started_lock:
        if store.path in _started:
            return False
        _started.add(store.path)
    poll = float(setting("mail_poll_seconds") or POLL_SECONDS)

    def loop() -> None:
        while True:
            try:
                deliver_all(store, clock)
            except Exception:  # noqa: BLE001 - the thread must live on; the next round tries again
                _log.exception("mail sender round failed")
            time.sleep(poll)

    threading.Thread(target=loop, name="manabi-mail", daemon=True).start()
    return True


# --- what the administrator sees and does -------------------------------------------------------

@dataclass(frozen=True)
class OutboxRow:
    id: int
    created_at: datetime
    kind: str
    to_address: str
    subject: str
    status: str
    attempts: int
    next_attempt_at: datetime
    last_error: str | None
    sent_at: datetime | None


@dataclass(frozen=True)
class OutboxSummary:
    configured: bool
    missing: list[str]
    queued: int
    sent: int
    failed: int
    oldest_queued: datetime | None
    latest_failures: list[OutboxRow]


_ROW = """SELECT id, created_at, kind, to_address, subject, status, attempts, next_attempt_at, last_error, sent_at
          FROM manabi_outbox"""


def outbox(store: Store, *, status: str | None = None, limit: int = 200) -> list[OutboxRow]:
    """The newest messages, or those of one status (queued: the next to go first)."""
    if status is not None and status not in STATUSES:
        raise InvalidInput("mail.bad_status", status=status, statuses=", ".join(STATUSES))
    if status == "queued":
        rows = store.query(_ROW + " WHERE status = 'queued' ORDER BY next_attempt_at, id LIMIT ?", [limit])
    else:
        rows = store.query(_ROW + " WHERE ? IS NULL OR status = ? ORDER BY id DESC LIMIT ?", [status, status, limit])
    return [OutboxRow(*row) for row in rows]


def summary(store: Store, settings: SmtpSettings | None = None) -> OutboxSummary:
    settings = settings or smtp_settings()
    counts = dict(store.query("SELECT status, count(*) FROM manabi_outbox GROUP BY status"))
    oldest = store.scalar("SELECT min(created_at) FROM manabi_outbox WHERE status = 'queued'")
    failures = [OutboxRow(*row) for row in store.query(
        _ROW + " WHERE last_error IS NOT NULL AND status <> 'sent' ORDER BY id DESC LIMIT 10")]
    return OutboxSummary(settings.configured, settings.missing, int(counts.get("queued", 0)),
                         int(counts.get("sent", 0)), int(counts.get("failed", 0)), oldest, failures)


def retry(store: Store, clock: Clock, message_id: int | None = None) -> int:
    """Queue a failed message again (or every failed one) with a fresh count of attempts."""

    def work(cur) -> int:
        if message_id is not None:
            row = cur.execute("SELECT status FROM manabi_outbox WHERE id = ?", [message_id]).fetchone()
            if row is None:
                raise NotFound("mail.no_such_message", id=message_id)
            if row[0] != "failed":
                raise InvalidInput("mail.not_failed", id=message_id, status=row[0])
        return len(cur.execute(
            """UPDATE manabi_outbox SET status = 'queued', attempts = 0, next_attempt_at = ?
               WHERE status = 'failed' AND (? IS NULL OR id = ?) RETURNING id""",
            [clock.now(), message_id, message_id]).fetchall())

    return store.write(work)
