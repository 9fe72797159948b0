"""A real SMTP server for the tests (aiosmtpd), keeping every message it accepts.

`SmtpSink(port)` listens on 127.0.0.1; addresses starting with "refused" get a permanent
550 at RCPT; with `password` it offers AUTH (plain connection) and requires it."""

from __future__ import annotations

import email
import threading
import time
from email import policy
from email.message import EmailMessage

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


class _Handler:
    def __init__(self) -> None:
        self.received: list[tuple[str, list[str], bytes]] = []
        self.lock = threading.Lock()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.startswith("refused"):
            return "550 5.1.1 No such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            self.received.append((envelope.mail_from, list(envelope.rcpt_tos), bytes(envelope.original_content)))
        return "250 Message accepted"


class SmtpSink:
    def __init__(self, port: int, *, user: str | None = None, password: str | None = None) -> None:
        self.port = port
        self.handler = _Handler()
        self.logins: list[str] = []
        kwargs = {}
        if password is not None:
            def check(server, session, envelope, mechanism, auth_data):
                ok = isinstance(auth_data, LoginPassword) and auth_data.login.decode() == user \
                    and auth_data.password.decode() == password
                if ok:
                    self.logins.append(user)
                return AuthResult(success=ok)

            kwargs = {"authenticator": check, "auth_required": True, "auth_require_tls": False}
        self.controller = Controller(self.handler, hostname="127.0.0.1", port=port, ready_timeout=10, **kwargs)

    def __enter__(self) -> SmtpSink:
        self.controller.start()
        return self

    def __exit__(self, *exc) -> None:
        self.controller.stop()

    @property
    def raw(self) -> list[bytes]:
        with self.handler.lock:
            return [data for _, _, data in self.handler.received]

    @property
    def envelopes(self) -> list[tuple[str, list[str]]]:
        with self.handler.lock:
            return [(sender, to) for sender, to, _ in self.handler.received]

    def messages(self) -> list[EmailMessage]:
        return [email.message_from_bytes(data, policy=policy.default) for data in self.raw]

    def wait_for(self, count: int, timeout: float = 60) -> list[EmailMessage]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if len(self.raw) >= count:
                return self.messages()
            time.sleep(0.2)
        raise AssertionError(f"expected {count} messages, the SMTP server got {len(self.raw)}")


def plain_text(message: EmailMessage) -> str:
    return message.get_body(preferencelist=("plain",)).get_content()
