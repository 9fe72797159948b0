"""Mail through the real server (`manabi serve`) to a real SMTP server started here.

An event committed while no SMTP server is set waits in the outbox, survives a SIGKILL of the
server, and arrives once the server is started again with MANABI_SMTP_*; the mail is Japanese
with its plain-text part; `manabi mail outbox --json` then shows it sent."""

from __future__ import annotations

import json
import signal
import subprocess
import sys

import httpx
import pytest

from facilities.services import payments
from kernel.errors import ManabiError
from kernel.store import Store
from tests.conftest import ROOT, TEST_NOW, free_port, start_server, stop_server
from tests.portal.smtp_sink import SmtpSink, plain_text

PAYMENT_SECRET = "mail-e2e-payment-secret"
BASE_URL = "https://manabi.city.iizuka.example"  # links are written when the event happens
SMTP_SETTINGS = ("HOST", "PORT", "USER", "PASSWORD", "FROM", "STARTTLS")


@pytest.fixture
def no_smtp(monkeypatch):
    for name in SMTP_SETTINGS:
        monkeypatch.delenv(f"MANABI_SMTP_{name}", raising=False)
    monkeypatch.setenv("MANABI_CONFIG", "/nonexistent/manabi.toml")


def unpaid_booking(db) -> dict:
    """A demo resident's booking still to be paid; the resident is given an address."""
    store = Store(db)
    try:
        row = store.query_dicts(
            """SELECT b.id, b.payment_ref, b.total_yen - b.paid_yen AS owed, b.user_id, u.login
               FROM facilities_bookings b JOIN portal_users u ON u.id = b.user_id
               WHERE b.status = 'confirmed' AND b.paid_at IS NULL AND b.total_yen > 0 ORDER BY b.id LIMIT 1""")[0]
        store.cursor().execute("UPDATE portal_users SET email = 'hanako.yamada@example.jp' WHERE id = ?",
                               [row["user_id"]])
        store.checkpoint()
    finally:
        store.close()
    return row


def borrow_due_soon(db, user_id: int) -> int:
    """An e-book the same resident borrowed 12½ days ago: due in a day and a half."""
    from datetime import datetime, timedelta

    from kernel.clock import FixedClock
    from library_ebooks.services import lending
    from portal.services import accounts

    store = Store(db)
    try:
        actor = accounts.actor_for(store, user_id)
        then = FixedClock(datetime.fromisoformat(TEST_NOW) - timedelta(days=12, hours=12))
        for (title_id,) in store.query("SELECT id FROM library_ebooks_titles ORDER BY id"):
            try:
                return lending.borrow(store, then, actor, title_id).id
            except ManabiError:
                continue
        raise AssertionError("no title to borrow in the demo city")
    finally:
        store.checkpoint()
        store.close()


def outbox_rows(db) -> list[dict]:
    store = Store(db)
    try:
        return store.query_dicts("SELECT * FROM manabi_outbox ORDER BY id")
    finally:
        store.close()


def test_mail_of_a_committed_event_survives_a_sigkill_and_arrives_later(fresh_demo_db, tmp_path, no_smtp):
    booking = unpaid_booking(fresh_demo_db)
    loan_id = borrow_due_soon(fresh_demo_db, booking["user_id"])
    log = tmp_path / "server.log"
    process, base = start_server(fresh_demo_db, log, MANABI_PAYMENT_SECRET=PAYMENT_SECRET, MANABI_BASE_URL=BASE_URL)
    try:
        body = json.dumps({"reference": booking["payment_ref"], "amount": booking["owed"],
                           "transaction_id": "MAIL-TX-1"}).encode()
        answer = httpx.post(f"{base}/payments/callback", content=body, timeout=30,
                            headers={payments.SIGNATURE_HEADER: payments.sign(body, PAYMENT_SECRET)})
        assert answer.json() == {"status": "paid", "booking": booking["id"]}
    finally:
        # The event is committed; the server dies before any mail could go (none is set).
        stop_server(process, signal.SIGKILL)
    # The server's mail jobs ran too: the loan due soon was found and its reminder queued.
    rows = {row["kind"]: row for row in outbox_rows(fresh_demo_db)}
    assert len(rows) == 2
    waiting, reminder = rows["facilities.payment_received"], rows["library_ebooks.loan_due"]
    assert (waiting["kind"], waiting["status"], waiting["attempts"], waiting["user_id"]) == (
        "facilities.payment_received", "queued", 0, booking["user_id"])
    assert (reminder["kind"], reminder["status"], reminder["dedupe_key"]) == (
        "library_ebooks.loan_due", "queued", f"library_ebooks.loan_due:{loan_id}:{reminder['dedupe_key'].rsplit(':')[-1]}")

    port = free_port()
    with SmtpSink(port) as sink:
        process, base = start_server(fresh_demo_db, log, MANABI_SMTP_HOST="127.0.0.1", MANABI_SMTP_PORT=str(port),
                                     MANABI_SMTP_FROM="学び 飯塚市 <manabi@city.iizuka.example>",
                                     MANABI_BASE_URL=BASE_URL)
        try:
            got = next(m for m in sink.wait_for(2) if "お支払い" in m["Subject"])
        finally:
            stop_server(process)
    assert sink.envelopes == [("manabi@city.iizuka.example", ["hanako.yamada@example.jp"])] * 2
    assert got["Subject"].startswith("【学び 飯塚市】お支払いを受け付けました（￥")
    text = plain_text(got)
    assert f"お支払い番号: {booking['payment_ref']}" in text
    assert "https://manabi.city.iizuka.example/facilities-mine" in text
    assert got["Message-ID"] == f"<manabi.{waiting['id']}.{int(waiting['created_at'].timestamp())}@city.iizuka.example>"

    listed = subprocess.run([sys.executable, "-m", "portal.cli_main", "--db", str(fresh_demo_db), "mail", "outbox",
                             "--json", "--status", "sent"], cwd=ROOT, capture_output=True, text=True, check=True)
    sent = next(m for m in json.loads(listed.stdout) if m["id"] == waiting["id"])
    assert len(json.loads(listed.stdout)) == 2
    assert (sent["id"], sent["status"], sent["attempts"], sent["to"], sent["kind"]) == (
        waiting["id"], "sent", 1, "hanako.yamada@example.jp", "facilities.payment_received")
    assert sent["subject"] == got["Subject"]
    queued = subprocess.run([sys.executable, "-m", "portal.cli_main", "--db", str(fresh_demo_db), "mail", "outbox",
                             "--json", "--status", "queued"], cwd=ROOT, capture_output=True, text=True, check=True)
    assert json.loads(queued.stdout) == []
