"""The portal's benchmark: mail. 1,000 notifications rendered and queued, then delivered to a
local SMTP server (aiosmtpd, in this process) by the same sender the server runs."""

from __future__ import annotations

import subprocess
import sys
import time
from datetime import timedelta

from kernel.clock import Clock
from kernel.outbox import notify
from kernel.served import free_port
from kernel.store import Store

MAILS = 1_000


class _Counter:
    def __init__(self) -> None:
        self.count = 0

    async def handle_DATA(self, server, session, envelope):
        self.count += 1
        return "250 OK"


def run(store: Store, clock: Clock) -> list[dict]:
    from portal.services import accounts, mail

    login = "bench-mail"
    if store.scalar("SELECT id FROM portal_users WHERE login = ?", [login]) is None:
        accounts.create_user(store, clock, login=login, display_name="ベンチ 花子", roles=["resident"],
                             password_hash="not-used", email="bench-mail@example.jp")
    # Only the benchmark's own mail is delivered: whatever the demo queued stays for later.
    store.cursor().execute("UPDATE manabi_outbox SET next_attempt_at = next_attempt_at + INTERVAL 3650 DAY "
                           "WHERE status = 'queued'")
    due = clock.now() + timedelta(days=2)
    # What an event pays for its mail: the look-up, the rendering and the insert, inside the
    # event's own transaction (whose commit it pays anyway).
    def queue_all(cur) -> None:
        for n in range(MAILS):
            notify(cur, clock, login, "library_ebooks.loan_due", {"title": f"坊っちゃん（第{n + 1}巻）", "due": due})

    started = time.perf_counter()
    store.write(queue_all)
    per_mail_ms = (time.perf_counter() - started) * 1000 / MAILS

    # The SMTP server runs in its own process, as a real one would (not sharing our GIL).
    port = free_port()
    sink = subprocess.Popen([sys.executable, "-m", "portal.bench", "sink", str(port)], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True)
    try:
        if sink.stdout.readline().strip() != "ready":
            raise RuntimeError("mail bench: the SMTP server did not start")
        settings = mail.SmtpSettings(host="127.0.0.1", port=port, user=None, password=None,
                                     sender="学び 飯塚市 <manabi@city.iizuka.example>", starttls=False,
                                     retry_seconds=60.0)
        started = time.perf_counter()
        result = mail.deliver_all(store, clock, settings)
        delivered_s = time.perf_counter() - started
    finally:
        received, _ = sink.communicate("", timeout=30)  # stdin closed: it prints what it received
    received = int(received.strip() or 0)
    if result.sent != MAILS or received != MAILS:
        raise RuntimeError(f"mail bench: {result.sent} sent, {received} received of {MAILS}")
    return [
        {"name": "a notification rendered and queued, in the event's transaction", "figure": round(per_mail_ms, 2),
         "unit": "ms", "goal": "—"},
        {"name": f"{MAILS:,} queued mails delivered over SMTP", "figure": round(delivered_s, 2), "unit": "s",
         "goal": "< 30 s"},
    ]


def _sink(port: int) -> None:
    """An SMTP server counting what it accepts, until its standard input closes."""
    from aiosmtpd.controller import Controller

    handler = _Counter()
    controller = Controller(handler, hostname="127.0.0.1", port=port, ready_timeout=10)
    controller.start()
    print("ready", flush=True)
    sys.stdin.read()
    controller.stop()
    print(handler.count, flush=True)


if __name__ == "__main__" and sys.argv[1:2] == ["sink"]:
    _sink(int(sys.argv[2]))
