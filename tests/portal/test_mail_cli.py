"""`manabi mail`: the outbox as JSON and as lines, sending again what failed, sending now."""

from __future__ import annotations

import json
import os
from datetime import datetime, timedelta

from kernel.store import Store
from tests.conftest import TEST_NOW, free_port
from tests.portal.smtp_sink import SmtpSink
from tests.portal.test_cli import manabi

SMTP_SETTINGS = ("HOST", "PORT", "USER", "PASSWORD", "FROM", "STARTTLS")


def seeded(tmp_path):
    db = tmp_path / "mail.duckdb"
    assert manabi("init", db=db).returncode == 0
    store = Store(db)
    hour_ago = datetime.fromisoformat(TEST_NOW) - timedelta(hours=1)  # the CLI's clock is pinned to TEST_NOW
    store.cursor().execute(
        """INSERT INTO manabi_outbox (created_at, kind, to_address, lang, subject, body_text, status, attempts,
                                      next_attempt_at, last_error)
           VALUES ($1, 'facilities.booking_made', 'hanako@example.jp', 'ja', '予約', '本文', 'queued', 0, $1, NULL),
                  ($1, 'library_ebooks.loan_due', 'refused@example.jp', 'ja', '返却', '本文', 'failed', 8, $1,
                   'refused@example.jp: 550 5.1.1 No such mailbox')""", [hour_ago])
    store.close()
    return db


def test_outbox_lists_what_waits_and_what_failed(tmp_path):
    db = seeded(tmp_path)
    everything = json.loads(manabi("mail", "outbox", "--json", db=db).stdout)
    assert [(m["id"], m["status"], m["to"]) for m in everything] == [
        (2, "failed", "refused@example.jp"), (1, "queued", "hanako@example.jp")]
    assert everything[0]["last_error"].startswith("refused@example.jp: 550")
    failed = json.loads(manabi("mail", "outbox", "--json", "--status", "failed", db=db).stdout)
    assert [m["id"] for m in failed] == [2]
    lines = manabi("mail", "outbox", "--status", "queued", db=db).stdout.splitlines()
    assert len(lines) == 1 and "hanako@example.jp" in lines[0] and "facilities.booking_made" in lines[0]
    wrong = manabi("mail", "outbox", "--status", "lost", db=db)
    assert wrong.returncode == 1 and "queued, sent, failed" in wrong.stderr


def test_retry_and_send_now(tmp_path):
    db = seeded(tmp_path)
    assert manabi("mail", "retry", db=db).returncode == 2
    not_failed = manabi("mail", "retry", "1", db=db)
    assert not_failed.returncode == 1 and "has not failed" in not_failed.stderr
    assert json.loads(manabi("mail", "retry", "2", "--json", db=db).stdout) == {"queued_again": 1}
    env = {f"MANABI_SMTP_{name}": "" for name in SMTP_SETTINGS}
    os.environ.update(env)
    try:
        unset = manabi("mail", "send", db=db)
        assert unset.returncode == 1 and "MANABI_SMTP_HOST" in unset.stderr
        port = free_port()
        os.environ.update({"MANABI_SMTP_HOST": "127.0.0.1", "MANABI_SMTP_PORT": str(port),
                           "MANABI_SMTP_FROM": "manabi@city.iizuka.example"})
        with SmtpSink(port) as sink:
            result = json.loads(manabi("mail", "send", "--json", db=db).stdout)
    finally:
        for name in SMTP_SETTINGS:
            os.environ.pop(f"MANABI_SMTP_{name}", None)
    assert result == {"sent": 1, "retrying": 0, "failed": 1}  # the refused address fails again, at once
    assert sink.envelopes == [("manabi@city.iizuka.example", ["hanako@example.jp"])]
