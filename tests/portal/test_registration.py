"""Residents register themselves: sign-up, the confirmation link, password reset (single use,
30 minutes), rate limits, the same answer for unknown addresses, change of address, library
card, residence confirmed at a counter, and leaving with loans and bookings in progress."""

from __future__ import annotations

import re
from datetime import date, timedelta
from urllib.parse import parse_qs, urlparse

import pytest

from kernel.actor import SYSTEM, Role
from kernel.errors import Conflict, InvalidInput, PermissionDenied
from portal.modules import all_modules
from portal.services import accounts, registration
from portal.services.registration import SignUp
from tests.library_ebooks.helpers import add_book

PASSWORD = "kawa-no-nagare-2026"
all_modules()  # what modules offer one another (facilities' residency, e-book loans)


def form(**changes) -> SignUp:
    values = dict(name="飯塚 花子", kana="いいづか はなこ", address="福岡県飯塚市新立岩5-5",
                  birth_date=date(1990, 4, 1), email="hanako@example.jp", password=PASSWORD, city_tie="lives")
    return SignUp(**(values | changes))


def mails(store, to: str | None = None) -> list[dict]:
    return store.query_dicts(
        "SELECT kind, to_address, lang, subject, body_text, user_id FROM manabi_outbox "
        "WHERE ? IS NULL OR to_address = ? ORDER BY id", [to, to])


def token_in(mail: dict) -> str:
    url = re.search(r"https?://\S+", mail["body_text"]).group(0)
    return parse_qs(urlparse(url).query)["token"][0]


def registered(store, clock, **changes) -> str:
    """Sign up and confirm; returns the login."""
    registration.register(store, clock, form(**changes), ip="192.0.2.1")
    return registration.confirm_email(store, clock, token_in(mails(store)[-1])).login


def test_sign_up_mails_a_link_and_the_account_signs_in_only_after_it(store, clock):
    registration.register(store, clock, form(), ip="192.0.2.1")
    (mail,) = mails(store)
    assert (mail["kind"], mail["to_address"], mail["lang"]) == ("portal.confirm_email", "hanako@example.jp", "ja")
    assert "飯塚 花子" in mail["body_text"] and "/confirm-email?token=" in mail["body_text"]
    token = token_in(mail)
    # Only the token's hash is kept.
    assert not store.query("SELECT 1 FROM portal_mail_tokens WHERE token_hash = ?", [token])
    with pytest.raises(accounts.EmailNotConfirmed):
        accounts.authenticate(store, clock, "hanako@example.jp", PASSWORD)
    # A wrong password learns nothing about the confirmation.
    with pytest.raises(accounts.BadCredentials):
        accounts.authenticate(store, clock, "hanako@example.jp", "not the password")
    confirmed = registration.confirm_email(store, clock, token)
    assert (confirmed.login, confirmed.changed) == ("hanako", False)
    actor = accounts.authenticate(store, clock, "Hanako@Example.jp", PASSWORD)
    assert actor.roles == frozenset({Role.RESIDENT})
    assert accounts.authenticate(store, clock, "hanako", PASSWORD).user_id == actor.user_id
    # The link works once.
    with pytest.raises(registration.LinkInvalid):
        registration.confirm_email(store, clock, token)


def test_english_sign_up_gets_an_english_mail_and_link(store, clock, monkeypatch):
    monkeypatch.setenv("MANABI_BASE_URL", "https://manabi.city.iizuka.example/")
    registration.register(store, clock, form(lang="en", email="amy@example.org"), ip="192.0.2.1")
    (mail,) = mails(store)
    assert (mail["lang"], mail["subject"]) == ("en", "[Manabi Iizuka] Confirm your e-mail address")
    body = mail["body_text"]
    # An absolute link to this portal, opening the page in English.
    link = f"https://manabi.city.iizuka.example/confirm-email?token={token_in(mail)}&lang=en"
    assert body.startswith("Dear 飯塚 花子,\n") and f"\n{link}\n" in body and "within 24 hours" in body
    assert re.search(r"\nLogin ID: amy \(you can also sign in with your e-mail address\)\n", body)
    assert body.endswith("\nhttps://manabi.city.iizuka.example\nThis address does not take replies.\n")
    registration.confirm_email(store, clock, token_in(mail))
    registration.request_password_reset(store, clock, "amy@example.org", "en")
    reset = mails(store)[-1]
    assert reset["subject"] == "[Manabi Iizuka] Set a new password"
    link = f"https://manabi.city.iizuka.example/reset-password?token={token_in(reset)}&lang=en"
    assert f"\n{link}\n" in reset["body_text"] and "within 30 minutes" in reset["body_text"]
    # Signing up again with the address: its owner is told, in their language, where to reset.
    registration.register(store, clock, form(lang="en", email="amy@example.org"), ip="192.0.2.1")
    again = mails(store)[-1]
    assert (again["kind"], again["subject"]) == ("portal.already_registered", "[Manabi Iizuka] This address is already registered")
    assert "\nhttps://manabi.city.iizuka.example/forgot-password?lang=en\n" in again["body_text"]


def test_the_confirmation_link_expires_after_24_hours(store, clock):
    registration.register(store, clock, form(), ip="192.0.2.1")
    clock.advance(registration.CONFIRM_VALID + timedelta(seconds=1))
    with pytest.raises(registration.LinkInvalid):
        registration.confirm_email(store, clock, token_in(mails(store)[0]))


@pytest.mark.parametrize(("changes", "key"), [
    ({"name": " "}, "registration.name_required"),
    ({"kana": "Hanako"}, "registration.kana_only"),
    ({"address": ""}, "registration.address_required"),
    ({"city_tie": "visits"}, "registration.bad_city_tie"),
    ({"email": "hanako-at-example"}, "accounts.bad_email"),
    ({"password": "short"}, "accounts.password_too_short"),
])
def test_bad_sign_ups_say_what_to_fix_and_store_nothing(store, clock, changes, key):
    with pytest.raises(InvalidInput) as bad:
        registration.register(store, clock, form(**changes), ip="192.0.2.1")
    assert bad.value.key == key
    assert store.scalar("SELECT count(*) FROM portal_users") == 0
    assert mails(store) == []


def test_a_birth_date_in_the_future_is_refused(store, clock):
    tomorrow = clock.now().date() + timedelta(days=1)
    with pytest.raises(InvalidInput, match="bad_birth_date"):
        registration.register(store, clock, form(birth_date=tomorrow), ip="192.0.2.1")


def test_signing_up_with_a_registered_address_answers_the_same_and_mails_its_owner(store, clock):
    registered(store, clock)
    before = store.scalar("SELECT count(*) FROM portal_users")
    registration.register(store, clock, form(name="誰か", password="another-password-1"), ip="192.0.2.9")
    assert store.scalar("SELECT count(*) FROM portal_users") == before
    last = mails(store)[-1]
    assert last["kind"] == "portal.already_registered" and "/forgot-password" in last["body_text"]
    assert accounts.authenticate(store, clock, "hanako@example.jp", PASSWORD)


def test_a_second_unconfirmed_sign_up_replaces_the_first_and_its_link(store, clock):
    registration.register(store, clock, form(), ip="192.0.2.1")
    first = token_in(mails(store)[0])
    registration.register(store, clock, form(password="second-password-22"), ip="192.0.2.1")
    with pytest.raises(registration.LinkInvalid):
        registration.confirm_email(store, clock, first)
    registration.confirm_email(store, clock, token_in(mails(store)[1]))
    assert accounts.authenticate(store, clock, "hanako@example.jp", "second-password-22")
    assert store.scalar("SELECT count(*) FROM portal_users") == 1


def test_sign_ups_from_one_ip_are_limited_per_hour(store, clock):
    for n in range(registration.SIGNUPS_PER_IP):
        registration.register(store, clock, form(email=f"p{n}@example.jp"), ip="198.51.100.7")
    with pytest.raises(registration.TooManySignups) as limited:
        registration.register(store, clock, form(email="one-more@example.jp"), ip="198.51.100.7")
    assert limited.value.params == {"limit": registration.SIGNUPS_PER_IP}
    registration.register(store, clock, form(email="elsewhere@example.jp"), ip="198.51.100.8")
    clock.advance(timedelta(hours=1, seconds=1))
    registration.register(store, clock, form(email="one-more@example.jp"), ip="198.51.100.7")


def test_mails_to_one_address_are_limited_per_hour_known_or_not(store, clock):
    registered(store, clock)  # one mail already
    for _ in range(registration.MAILS_PER_ADDRESS - 1):
        registration.request_password_reset(store, clock, "hanako@example.jp")
    with pytest.raises(registration.TooManyMails):
        registration.request_password_reset(store, clock, "hanako@example.jp")
    for _ in range(registration.MAILS_PER_ADDRESS):
        registration.request_password_reset(store, clock, "nobody@example.jp")
    # The limit reads the same for an address with no account: it tells nothing.
    with pytest.raises(registration.TooManyMails):
        registration.request_password_reset(store, clock, "nobody@example.jp")
    assert len(mails(store, "hanako@example.jp")) == registration.MAILS_PER_ADDRESS
    assert mails(store, "nobody@example.jp") == []


def test_reset_answers_the_same_for_unknown_addresses(store, clock):
    registered(store, clock)
    known = registration.request_password_reset(store, clock, "hanako@example.jp")
    unknown = registration.request_password_reset(store, clock, "nobody@example.jp")
    assert known is None and unknown is None
    assert [m["kind"] for m in mails(store)] == ["portal.confirm_email", "portal.reset_password"]


def test_reset_and_sign_up_answer_no_sooner_than_the_floor_known_or_not(store, clock):
    import time

    registered(store, clock)
    for email in ("hanako@example.jp", "nobody@example.jp"):
        started = time.monotonic()
        registration.request_password_reset(store, clock, email)
        assert time.monotonic() - started >= registration.ANSWER_FLOOR_S
        started = time.monotonic()
        registration.register(store, clock, form(email=email), ip="192.0.2.3")
        assert time.monotonic() - started >= registration.ANSWER_FLOOR_S


def test_a_reset_link_sets_the_password_once_and_ends_every_session(store, clock):
    login = registered(store, clock)
    user_id = accounts.authenticate(store, clock, login, PASSWORD).user_id
    sessions = [accounts.start_session(store, clock, user_id) for _ in range(2)]
    registration.request_password_reset(store, clock, "hanako@example.jp")
    token = token_in(mails(store)[-1])
    assert "/reset-password?token=" in mails(store)[-1]["body_text"]
    assert registration.reset_password(store, clock, token, "brand-new-secret-9") == login
    for session in sessions:
        with pytest.raises(accounts.SessionExpired):
            accounts.resume_session(store, clock, session)
    with pytest.raises(accounts.BadCredentials):
        accounts.authenticate(store, clock, login, PASSWORD)
    assert accounts.authenticate(store, clock, login, "brand-new-secret-9")
    with pytest.raises(registration.LinkInvalid):
        registration.reset_password(store, clock, token, "yet-another-secret-9")


def test_a_reset_link_expires_after_30_minutes(store, clock):
    registered(store, clock)
    registration.request_password_reset(store, clock, "hanako@example.jp")
    token = token_in(mails(store)[-1])
    clock.advance(timedelta(minutes=29, seconds=59))
    registration.check_reset_link(store, clock, token)
    clock.advance(timedelta(seconds=1))
    with pytest.raises(registration.LinkInvalid):
        registration.reset_password(store, clock, token, "brand-new-secret-9")


def test_a_reset_clears_a_lockout_and_confirms_an_unconfirmed_address(store, clock):
    registration.register(store, clock, form(), ip="192.0.2.1")
    registration.request_password_reset(store, clock, "hanako@example.jp")
    registration.reset_password(store, clock, token_in(mails(store)[-1]), "brand-new-secret-9")
    assert accounts.authenticate(store, clock, "hanako@example.jp", "brand-new-secret-9")


def test_change_of_address_keeps_the_old_one_until_the_new_is_confirmed(store, clock):
    login = registered(store, clock)
    actor = accounts.authenticate(store, clock, login, PASSWORD)
    registration.change_email(store, clock, actor, "hanako.new@example.jp")
    assert registration.pending_email(store, clock, actor) == "hanako.new@example.jp"
    kinds = {m["to_address"]: m["kind"] for m in mails(store)[-2:]}
    assert kinds == {"hanako.new@example.jp": "portal.change_email", "hanako@example.jp": "portal.email_change_notice"}
    assert accounts.authenticate(store, clock, "hanako@example.jp", PASSWORD)
    confirmed = registration.confirm_email(store, clock, token_in(mails(store, "hanako.new@example.jp")[-1]))
    assert confirmed.changed and confirmed.email == "hanako.new@example.jp"
    assert accounts.authenticate(store, clock, "hanako.new@example.jp", PASSWORD)
    with pytest.raises(accounts.BadCredentials):
        accounts.authenticate(store, clock, "hanako@example.jp", PASSWORD)


def test_library_card_number_is_linked_once(store, clock):
    hanako = accounts.authenticate(store, clock, registered(store, clock), PASSWORD)
    taro = accounts.authenticate(store, clock, registered(store, clock, email="taro@example.jp", name="飯塚 太郎"),
                                 PASSWORD)
    assert registration.link_library_card(store, clock, hanako, "１２３４-５６７８") == "12345678"
    assert registration.library_card(store, hanako) == "12345678"
    from kernel.provided import provided

    assert provided("portal.library_card")(store, hanako.user_id) == "12345678"
    with pytest.raises(Conflict):
        registration.link_library_card(store, clock, taro, "12345678")
    with pytest.raises(InvalidInput):
        registration.link_library_card(store, clock, taro, "ABC")
    assert registration.link_library_card(store, clock, hanako, "") is None
    assert registration.library_card(store, hanako) is None


def test_counter_staff_confirm_residence_recording_who_and_when(store, clock):
    login = registered(store, clock)
    user_id = accounts.authenticate(store, clock, login, PASSWORD).user_id
    staff_id = accounts.create_user(store, clock, login="counter1", display_name="窓口 一郎",
                                    roles=["facility_staff"], password="counter-password-1")
    staff = accounts.actor_for(store, staff_id)
    # Until then facilities count a non-resident (non-resident rates and horizon).
    assert store.scalar("SELECT is_resident FROM facilities_profiles WHERE user_id = ?", [user_id]) is False
    assert registration.residence(store, user_id)["residence_confirmed"] is False
    (pending,) = registration.pending_registrations(store, staff, "はなこ")
    assert pending.user_id == user_id and pending.address.startswith("福岡県")
    assert registration.pending_registrations(store, staff, "太郎") == []
    resident = accounts.actor_for(store, user_id)
    with pytest.raises(PermissionDenied):
        registration.pending_registrations(store, resident)
    done = registration.confirm_residence(store, clock, staff, user_id, "運転免許証")
    assert (done.residence_confirmed_at, done.residence_confirmed_by) == (clock.now(), "窓口 一郎")
    assert store.scalar("SELECT is_resident FROM facilities_profiles WHERE user_id = ?", [user_id]) is True
    assert registration.pending_registrations(store, staff) == []
    with pytest.raises(Conflict):
        registration.confirm_residence(store, clock, staff, user_id)


def test_someone_with_no_tie_to_the_city_stays_non_resident_after_the_counter(store, clock):
    user_id = accounts.authenticate(store, clock, registered(store, clock, city_tie="none"), PASSWORD).user_id
    registration.confirm_residence(store, clock, SYSTEM, user_id)
    assert store.scalar("SELECT is_resident FROM facilities_profiles WHERE user_id = ?", [user_id]) is False


def test_leaving_is_refused_while_a_booking_is_in_progress_and_ends_e_book_loans(store, clock):
    login = registered(store, clock)
    actor = accounts.authenticate(store, clock, login, PASSWORD)
    now = clock.now()
    # A room, a booking still to come and an e-book loan, written as their modules keep them.
    store.write(lambda cur: (
        cur.execute("INSERT INTO facilities_rooms (id, facility_id, code, name_ja, name_en, kind, capacity) "
                    "VALUES (900, 1, 'R1', '会議室1', 'Meeting room 1', 'room', 10)"),
        cur.execute("INSERT INTO facilities_bookings (room_id, day, block_code, user_id, party, residency, source, "
                    "status, room_yen, total_yen, tax_yen, payment_ref, paid_yen, created_at, created_by) "
                    "VALUES (900, ?, 'am', ?, 'individual', 'nonresident', 'web', 'confirmed', 500, 500, 45, "
                    "'P-1', 500, ?, ?)", [now.date() + timedelta(days=3), actor.user_id, now, actor.user_id]),
        cur.execute("INSERT INTO library_ebooks_loans (title_id, license_id, user_id, borrowed_at, due_at) "
                    "VALUES (1, 1, ?, ?, ?)", [actor.user_id, now, now + timedelta(days=14)]),
    ))
    with pytest.raises(accounts.BadCredentials):
        registration.leave(store, clock, actor, "not my password")
    with pytest.raises(registration.SettleFirst) as refused:
        registration.leave(store, clock, actor, PASSWORD)
    (item,) = refused.value.items
    assert item.key == "facilities.leave.booking" and item.params["room_ja"] == "会議室1"
    store.write(lambda cur: cur.execute("UPDATE facilities_bookings SET status = 'cancelled'"))
    session = accounts.start_session(store, clock, actor.user_id)
    registration.leave(store, clock, actor, PASSWORD)
    assert store.scalar("SELECT returned_at FROM library_ebooks_loans") == clock.now()
    with pytest.raises(accounts.SessionExpired):
        accounts.resume_session(store, clock, session)
    with pytest.raises(accounts.BadCredentials):
        accounts.authenticate(store, clock, login, PASSWORD)
    assert mails(store)[-1]["kind"] == "portal.left"
    # The address is free again for a new registration.
    registration.register(store, clock, form(), ip="192.0.2.1")
    assert mails(store)[-1]["kind"] == "portal.confirm_email"


def test_staff_accounts_cannot_leave_by_themselves(store, clock):
    with pytest.raises(InvalidInput, match="staff_cannot_leave"):
        registration.leave(store, clock, SYSTEM, "whatever")


def test_leaving_names_lottery_entries_and_courses_and_passes_held_copies_on(store, clock):
    actor = accounts.authenticate(store, clock, registered(store, clock), PASSWORD)
    other = accounts.authenticate(store, clock, registered(store, clock, email="taro@example.jp", name="飯塚 太郎"),
                                  PASSWORD)
    now = clock.now()
    store.write(lambda cur: (
        cur.execute("INSERT INTO facilities_lottery_applications (month, user_id, choice, room_id, day, block_code, "
                    "created_at) VALUES ('2099-01', ?, 1, 1, ?, 'am', ?)", [actor.user_id, now.date(), now]),
        cur.execute("INSERT INTO facilities_courses (id, code, title_ja, title_en, lecturer_id, capacity, fee_yen, "
                    "registration_opens, registration_closes, created_at, created_by) VALUES "
                    "(70, 'C70', '陶芸入門', 'Pottery', 1, 10, 1000, ?, ?, ?, 1)",
                    [now - timedelta(days=9), now + timedelta(days=9), now]),
        cur.execute("INSERT INTO facilities_course_registrations (course_id, user_id, status, fee_yen, created_at) "
                    "VALUES (70, ?, 'registered', 1000, ?)", [actor.user_id, now]),
    ))
    with pytest.raises(registration.SettleFirst) as refused:
        registration.leave(store, clock, actor, PASSWORD)
    assert [(m.key, m.params.get("month") or m.params.get("title_ja")) for m in refused.value.items] == [
        ("facilities.leave.lottery", "2099-01"), ("facilities.leave.course", "陶芸入門")]
    store.write(lambda cur: (cur.execute("DELETE FROM facilities_lottery_applications"),
                             cur.execute("UPDATE facilities_course_registrations SET status = 'cancelled'")))
    # One copy of a real title (its offer mail names it), lent to the resident who leaves; the other waits.
    title_id = add_book(store, clock)
    store.write(lambda cur: (
        cur.execute("INSERT INTO library_ebooks_licenses (id, title_id, model, copies, loan_days, added_at) "
                    "VALUES (1, ?, 'one_copy', 1, 14, ?)", [title_id, now]),
        cur.execute("INSERT INTO library_ebooks_loans (title_id, license_id, user_id, borrowed_at, due_at) "
                    "VALUES (?, 1, ?, ?, ?)", [title_id, actor.user_id, now, now + timedelta(days=14)]),
        cur.execute("INSERT INTO library_ebooks_holds (title_id, user_id, placed_at, status) VALUES (?, ?, ?, 'waiting')",
                    [title_id, other.user_id, now]),
    ))
    registration.leave(store, clock, actor, PASSWORD)
    assert store.scalar("SELECT status FROM library_ebooks_holds WHERE user_id = ?", [other.user_id]) == "offered"


def test_racing_sign_ups_of_one_address_make_one_account(tmp_path, clock):
    from concurrent.futures import ThreadPoolExecutor

    from kernel.migrations import migrate
    from kernel.store import Store
    from portal.modules import known_migrations

    store = Store(tmp_path / "race.duckdb")
    migrate(store, clock, known_migrations())
    try:
        with ThreadPoolExecutor(4) as pool:
            answers = list(pool.map(
                lambda n: registration.register(store, clock, form(name=f"花子{n}"), ip=f"192.0.2.{n}"), range(4)))
        assert answers == [None] * 4
        assert store.scalar("SELECT count(*) FROM portal_users WHERE email = 'hanako@example.jp'") == 1
        assert store.scalar("SELECT count(*) FROM portal_registrations") == 1
        # The one link that still works is the last sign-up's.
        live = store.scalar("SELECT count(*) FROM portal_mail_tokens WHERE used_at IS NULL AND user_id IN "
                            "(SELECT id FROM portal_users)")
        assert live == 1
    finally:
        store.close()
