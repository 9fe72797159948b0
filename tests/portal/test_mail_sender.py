"""The mail sender against a real SMTP server (aiosmtpd): the message as a mail program
reads it, retries with backoff while the server is down, giving up, refusals, login."""

from __future__ import annotations

from datetime import timedelta

import pytest

from kernel.outbox import Mail, enqueue
from portal.services import mail
from tests.conftest import free_port
from tests.portal.smtp_sink import SmtpSink, plain_text

SENDER = "学び 飯塚市 <manabi@city.iizuka.example>"


def settings(port: int, **overrides) -> mail.SmtpSettings:
    values = {"host": "127.0.0.1", "port": port, "user": None, "password": None, "sender": SENDER,
              "starttls": False, "retry_seconds": 60.0}
    return mail.SmtpSettings(**(values | overrides))


def queue(store, clock, to: str = "hanako@example.jp", **fields) -> int:
    values = {"kind": "test.hello", "to_address": to, "lang": "ja", "subject": "施設予約を受け付けました（中央公民館 和室）",
              "body_text": "山田 花子 様\n\n次の施設予約を受け付けました。\n日時: 2026年12月5日 9:00〜12:00\n"} | fields
    return store.write(lambda cur: enqueue(cur, clock, Mail(**values)))


def status(store, message_id: int) -> dict:
    return store.query_dicts("SELECT * FROM manabi_outbox WHERE id = ?", [message_id])[0]


def test_a_japanese_mail_reads_right_in_a_mail_program(store, clock):
    message_id = queue(store, clock, body_html="<p>次の施設予約を受け付けました。</p>")
    port = free_port()
    with SmtpSink(port) as sink:
        result = mail.deliver_due(store, clock, settings(port))
    assert result == mail.Delivery(sent=1)
    raw = sink.raw[0]
    # Headers travel as 7-bit MIME encoded-words; the parts declare UTF-8.
    assert raw.isascii()
    assert b"=?utf-8?" in raw
    got = sink.messages()[0]
    assert got["Subject"] == "施設予約を受け付けました（中央公民館 和室）"
    assert got["From"].addresses[0].display_name == "学び 飯塚市"
    assert got["From"].addresses[0].addr_spec == "manabi@city.iizuka.example"
    assert got["To"] == "hanako@example.jp"
    assert got["Message-ID"].startswith(f"<manabi.{message_id}.") and got["Message-ID"].endswith("@city.iizuka.example>")
    assert got["Date"].datetime == clock.now().replace(microsecond=0)
    assert got["Auto-Submitted"] == "auto-generated"
    assert got.get_content_type() == "multipart/alternative"
    assert "日時: 2026年12月5日 9:00〜12:00" in plain_text(got)
    assert got.get_body(preferencelist=("html",)).get_content().strip() == "<p>次の施設予約を受け付けました。</p>"
    assert sink.envelopes[0] == ("manabi@city.iizuka.example", ["hanako@example.jp"])
    row = status(store, message_id)
    assert (row["status"], row["attempts"], row["sent_at"]) == ("sent", 1, clock.now())


def test_plain_text_only_is_one_part(store, clock):
    queue(store, clock)
    port = free_port()
    with SmtpSink(port) as sink:
        mail.deliver_due(store, clock, settings(port))
    got = sink.messages()[0]
    assert got.get_content_type() == "text/plain"
    assert got.get_content_charset() == "utf-8"


def test_retries_with_backoff_while_the_server_is_down_then_delivers(store, clock):
    message_id = queue(store, clock)
    port = free_port()  # nothing listens here yet
    smtp = settings(port)
    assert mail.deliver_due(store, clock, smtp) == mail.Delivery(retrying=1)
    row = status(store, message_id)
    assert (row["status"], row["attempts"]) == ("queued", 1)
    assert row["next_attempt_at"] == clock.now() + timedelta(seconds=60)
    assert "ConnectionRefusedError" in row["last_error"]
    # Not due yet: nothing is tried.
    clock.advance(timedelta(seconds=59))
    assert mail.deliver_due(store, clock, smtp) == mail.Delivery()
    # Second failure: the wait doubles.
    clock.advance(timedelta(seconds=1))
    assert mail.deliver_due(store, clock, smtp) == mail.Delivery(retrying=1)
    row = status(store, message_id)
    assert row["attempts"] == 2 and row["next_attempt_at"] == clock.now() + timedelta(seconds=120)
    with SmtpSink(port) as sink:
        assert mail.deliver_due(store, clock, smtp) == mail.Delivery()  # still waiting its backoff
        clock.advance(timedelta(seconds=120))
        assert mail.deliver_due(store, clock, smtp) == mail.Delivery(sent=1)
    assert len(sink.raw) == 1
    row = status(store, message_id)
    assert (row["status"], row["attempts"], row["last_error"]) == ("sent", 3, None)


def test_gives_up_after_the_last_attempt_and_can_be_queued_again(store, clock):
    message_id = queue(store, clock)
    port = free_port()
    smtp = settings(port, retry_seconds=1.0)
    for attempt in range(1, mail.MAX_ATTEMPTS + 1):
        clock.advance(timedelta(hours=7))  # past any backoff
        result = mail.deliver_due(store, clock, smtp)
        assert result == (mail.Delivery(failed=1) if attempt == mail.MAX_ATTEMPTS else mail.Delivery(retrying=1))
    row = status(store, message_id)
    assert (row["status"], row["attempts"]) == ("failed", mail.MAX_ATTEMPTS)
    assert mail.summary(store, smtp).failed == 1
    assert [r.id for r in mail.summary(store, smtp).latest_failures] == [message_id]
    clock.advance(timedelta(days=1))
    assert mail.deliver_due(store, clock, smtp) == mail.Delivery()  # failed mail is left alone
    assert mail.retry(store, clock, message_id) == 1
    with SmtpSink(port) as sink:
        assert mail.deliver_due(store, clock, smtp) == mail.Delivery(sent=1)
    assert len(sink.raw) == 1


def test_a_permanent_refusal_fails_at_once_and_the_rest_still_go(store, clock):
    refused = queue(store, clock, to="refused@example.jp")
    fine = queue(store, clock, to="taro@example.jp")
    port = free_port()
    with SmtpSink(port) as sink:
        assert mail.deliver_due(store, clock, settings(port)) == mail.Delivery(sent=1, failed=1)
    assert sink.envelopes == [("manabi@city.iizuka.example", ["taro@example.jp"])]
    row = status(store, refused)
    assert (row["status"], row["attempts"]) == ("failed", 1) and row["last_error"].startswith("refused@example.jp: 550")
    assert status(store, fine)["status"] == "sent"


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
def test_logs_in_when_a_user_is_set(store, clock):
    queue(store, clock)
    port = free_port()
    # (aiosmtpd answers a wrong password only after a long delay, so that case is not run here;
    # a failed login is a failure to connect: the batch waits its backoff.)
    with SmtpSink(port, user="manabi", password="s3cret-pass") as sink:
        right = mail.deliver_due(store, clock, settings(port, user="manabi", password="s3cret-pass"))
    assert right == mail.Delivery(sent=1)
    assert sink.logins == ["manabi"] and len(sink.raw) == 1


def test_without_smtp_settings_mail_waits_and_says_what_is_missing(store, clock, monkeypatch):
    for name in ("HOST", "FROM", "PORT", "USER", "PASSWORD", "STARTTLS"):
        monkeypatch.delenv(f"MANABI_SMTP_{name}", raising=False)
    monkeypatch.setenv("MANABI_CONFIG", "/nonexistent/manabi.toml")
    message_id = queue(store, clock)
    assert mail.deliver_due(store, clock) == mail.Delivery()
    summary = mail.summary(store)
    assert not summary.configured
    assert summary.missing == ["MANABI_SMTP_HOST", "MANABI_SMTP_FROM"]
    assert (summary.queued, summary.sent, summary.failed) == (1, 0, 0)
    assert status(store, message_id)["attempts"] == 0


def test_settings_come_from_the_environment(monkeypatch):
    monkeypatch.setenv("MANABI_SMTP_HOST", "smtp.city.example")
    monkeypatch.setenv("MANABI_SMTP_FROM", SENDER)
    monkeypatch.setenv("MANABI_SMTP_STARTTLS", "true")
    monkeypatch.delenv("MANABI_SMTP_PORT", raising=False)
    smtp = mail.smtp_settings()
    assert smtp.configured and smtp.starttls and smtp.port == 587
    monkeypatch.setenv("MANABI_SMTP_PORT", "2525")
    assert mail.smtp_settings().port == 2525


def test_outbox_listing_and_retry_refusals(store, clock):
    from kernel.errors import InvalidInput, NotFound

    first = queue(store, clock)
    assert [r.id for r in mail.outbox(store, status="queued")] == [first]
    assert mail.outbox(store, status="sent") == []
    with pytest.raises(InvalidInput):
        mail.outbox(store, status="lost")
    with pytest.raises(InvalidInput):
        mail.retry(store, clock, first)  # not failed
    with pytest.raises(NotFound):
        mail.retry(store, clock, 99999)


def _certificate(folder) -> tuple[str, str]:
    """A self-signed certificate for 127.0.0.1 (cert file, key file)."""
    import datetime as dt
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    # OpenSSL checks it against the real time, which tests never read: valid for this century.
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(dt.datetime(2000, 1, 1, tzinfo=dt.UTC))
            .not_valid_after(dt.datetime(2099, 12, 31, tzinfo=dt.UTC))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                           critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    cert_file, key_file = folder / "smtp.crt", folder / "smtp.key"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return str(cert_file), str(key_file)


def test_starttls_checks_the_certificate(store, clock, tmp_path, monkeypatch):
    import ssl

    from aiosmtpd.controller import Controller

    from tests.portal.smtp_sink import _Handler

    cert_file, key_file = _certificate(tmp_path)
    server_tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_tls.load_cert_chain(cert_file, key_file)
    handler, port = _Handler(), free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port, tls_context=server_tls,
                            require_starttls=True, ready_timeout=10)
    controller.start()
    try:
        message_id = queue(store, clock)
        # Our certificate is not trusted yet: nothing goes out in the clear, the mail waits.
        assert mail.deliver_due(store, clock, settings(port, starttls=True)) == mail.Delivery(retrying=1)
        assert "CERTIFICATE_VERIFY_FAILED" in status(store, message_id)["last_error"]
        assert handler.received == []
        monkeypatch.setenv("SSL_CERT_FILE", cert_file)  # the trust store a city's operator would configure
        clock.advance(timedelta(minutes=1))
        assert mail.deliver_due(store, clock, settings(port, starttls=True)) == mail.Delivery(sent=1)
    finally:
        controller.stop()
    assert len(handler.received) == 1
