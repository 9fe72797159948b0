"""The retention rules: each kind of personal data goes when its time is up, and not
before; each run is recorded for the system page; the portal's nightly job applies them."""

from __future__ import annotations

from datetime import timedelta

import pytest

from kernel import jobs
from kernel.actor import SYSTEM
from kernel.clock import TOKYO
from kernel.errors import PermissionDenied
from kernel.outbox import Mail, enqueue
from portal.module import SPEC
from portal.modules import all_jobs, all_modules
from portal.services import accounts, registration, retention
from tests.portal.test_registration import PASSWORD, form, mails, registered

all_modules()


def test_an_unconfirmed_registration_goes_after_7_days_and_not_before(store, clock):
    registration.register(store, clock, form(), ip="192.0.2.1")
    clock.advance(retention.UNCONFIRMED_KEPT - timedelta(minutes=1))
    assert retention.apply(store, clock)["unconfirmed"] == 0
    clock.advance(timedelta(minutes=1))
    assert retention.apply(store, clock)["unconfirmed"] == 1
    # Nothing left behind, here or in other modules (facilities hear of an account once confirmed).
    for table in ("portal_users", "portal_registrations", "portal_user_roles", "portal_mail_tokens",
                  "facilities_profiles"):
        assert store.scalar(f"SELECT count(*) FROM {table}") == 0, table


def test_a_left_residents_personal_data_is_erased_after_30_days(store, clock):
    login = registered(store, clock)
    actor = accounts.authenticate(store, clock, login, PASSWORD)
    registration.link_library_card(store, clock, actor, "12345678")
    registration.leave(store, clock, actor, PASSWORD)
    clock.advance(retention.LEFT_ACCOUNT_KEPT - timedelta(minutes=1))
    assert retention.apply(store, clock)["left_account"] == 0
    assert store.scalar("SELECT kana FROM portal_registrations") == "いいづか はなこ"
    clock.advance(timedelta(minutes=1))
    assert retention.apply(store, clock)["left_account"] == 1
    row = store.query("SELECT login, display_name, email, password_hash FROM portal_users WHERE id = ?",
                      [actor.user_id])[0]
    assert row == (f"left-{actor.user_id}", "—", None, None)
    for table in ("portal_registrations", "portal_library_cards", "portal_mail_tokens"):
        assert store.scalar(f"SELECT count(*) FROM {table}") == 0, table
    assert store.scalar("SELECT count(*) FROM portal_sign_in_log WHERE user_id = ?", [actor.user_id]) == 0
    assert store.scalar("SELECT count(*) FROM manabi_outbox WHERE user_id = ?", [actor.user_id]) == 0
    # Erased once: a later run finds nothing more.
    assert retention.apply(store, clock)["left_account"] == 0


def test_sign_in_log_mail_links_sessions_and_mail_go_when_their_time_is_up(store, clock):
    login = registered(store, clock)
    user_id = accounts.authenticate(store, clock, login, PASSWORD).user_id
    token = accounts.start_session(store, clock, user_id)
    accounts.end_session(store, clock, token)
    store.write(lambda cur: enqueue(cur, clock, Mail("test.kind", "x@example.jp", "ja", "件名", "本文")))
    store.write(lambda cur: cur.execute("UPDATE manabi_outbox SET status = 'sent', sent_at = created_at"))
    clock.advance(timedelta(days=29))
    store.write(lambda cur: enqueue(cur, clock, Mail("test.kind", "y@example.jp", "ja", "件名", "本文")))
    removed = retention.apply(store, clock)
    assert removed["sent_mail"] == 0 and removed["mail_links"] == 1 and removed["rate_events"] == 2
    clock.advance(timedelta(days=2))
    assert retention.apply(store, clock)["sent_mail"] == 2  # the confirmation mail, and x's
    assert [m["to_address"] for m in mails(store)] == ["y@example.jp"]  # still queued: kept
    clock.advance(retention.SESSIONS_KEPT)
    assert retention.apply(store, clock)["sessions"] == 1
    clock.advance(retention.SIGN_IN_LOG_KEPT)
    assert retention.apply(store, clock)["sign_in_log"] == 1
    assert store.scalar("SELECT count(*) FROM portal_sign_in_log") == 0


def test_each_run_is_recorded_for_the_system_page(store, clock):
    with pytest.raises(PermissionDenied):
        retention.status(store, accounts.actor_for(store, accounts.create_user(
            store, clock, login="someone", display_name="x", roles=["resident"], password=PASSWORD)))
    before = retention.status(store, SYSTEM)
    assert [s.rule.key for s in before] == [r.key for r in retention.RULES]
    assert all(s.last_run is None for s in before)
    retention.apply(store, clock)
    clock.advance(timedelta(days=1))
    retention.apply(store, clock)
    after = {s.rule.key: s for s in retention.status(store, SYSTEM)}
    assert all(s.last_run == clock.now() for s in after.values())
    # Analytics applies the pupils' rule (tests/analytics/test_retention.py): nothing to remove here.
    assert after["pupil_records"].note is None and after["pupil_records"].removed == 0


def test_the_portal_runs_the_rules_as_its_nightly_job(store, clock):
    registration.register(store, clock, form(), ip="192.0.2.1")
    clock.advance(retention.UNCONFIRMED_KEPT)
    # Into the next night's window (02:00 Tokyo).
    night = clock.now().astimezone(TOKYO).replace(hour=2, minute=30) + timedelta(days=1)
    clock.set(night)
    [portal_nightly] = [job for job in all_jobs() if job.name == "portal"]  # the portal's nightly work
    assert portal_nightly.run is SPEC.nightly
    assert jobs.Scheduler(store, clock, [portal_nightly]).run_due() == ["portal"]
    assert store.scalar("SELECT count(*) FROM portal_users") == 0
    assert store.scalar("SELECT removed FROM portal_retention_runs WHERE rule = 'unconfirmed'") == 1


def test_the_command_applies_the_rules_and_prints_what_went(tmp_path):
    from tests.portal.test_cli import manabi

    db = tmp_path / "m.duckdb"
    assert manabi("init", db=db).returncode == 0
    done = manabi("retention", "--json", db=db)
    assert done.returncode == 0, done.stderr
    removed = __import__("json").loads(done.stdout)
    assert set(removed) == {rule.key for rule in retention.RULES}
    text = manabi("retention", db=db, lang="ja").stdout
    assert "確認されなかった利用者登録: 0" in text
