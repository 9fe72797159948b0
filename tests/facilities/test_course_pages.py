"""AppTest: the course pages for each kind of visitor, on the small demo city."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from urllib.parse import parse_qs, urlsplit

import jwt
import pytest

from facilities.services import meetings
from kernel.clock import TOKYO
from tests.conftest import TEST_NOW

LIST = "../facilities/pages/courses.py"
MINE = "../facilities/pages/course_mine.py"
RUN = "../facilities/pages/course_lecturer.py"


def course_id(code: str) -> int:
    from facilities.services import courses
    from portal.runtime import open_runtime

    return courses.find_course(open_runtime().store, code).id


def texts(elements) -> list[str]:
    return [e.value for e in elements]


def link_buttons(at) -> list:
    return [e.proto for e in at.get("link_button")]


def test_course_list_is_public_in_japanese(app_for):
    at = app_for(page=LIST)
    assert not at.exception
    assert texts(at.title) == ["講座・オンライン講座"]
    headings = texts(at.subheader)
    assert "シニアのためのスマホ教室（基礎）" in headings and "インターネット安全教室（オンライン）" in headings
    assert any("申し込むにはサインイン" in c for c in texts(at.caption))
    assert not [b for b in at.button if b.key and b.key.startswith("register_")]


def test_course_list_in_english(app_for):
    at = app_for(page=LIST, lang="en")
    assert not at.exception
    assert texts(at.title) == ["Courses and online lectures"]
    assert "Smartphone basics for seniors" in texts(at.subheader)


def test_resident_registers_and_joins_the_running_online_session(app_for):
    at = app_for(login="resident01", page=LIST)
    safety = course_id("NET-SAFETY")
    at.button(key=f"register_{safety}").click()
    at.run()
    assert not at.exception
    assert "申し込みました。受講が確定しました。" in texts(at.success)

    at.switch_page(MINE)
    at.run()
    assert not at.exception
    assert texts(at.title) == ["受講中の講座"]
    # One click: the join button is the link that makes the token when pressed (the route is
    # followed to the room in tests/e2e/test_facilities_courses_register_join.py).
    join = [b for b in link_buttons(at) if b.url.startswith("/courses/join/")]
    assert join, "the running online session offers a join button"
    assert join[0].label == "オンラインで参加"
    assert any("あなた専用" in c for c in texts(at.caption))


def test_waitlisted_resident_sees_the_position_and_no_join_link(app_for):
    at = app_for(login="resident10", page=MINE)
    assert not at.exception
    assert any("キャンセル待ち 1 番目" in i for i in texts(at.info))
    assert not [b for b in link_buttons(at) if b.url.startswith("/courses/join/")]


def test_a_full_course_offers_the_waiting_list(app_for):
    at = app_for(login="resident12", page=LIST, lang="en")
    pc = course_id("PC-SENIOR")
    assert at.button(key=f"register_{pc}").label == "Join the waiting list"
    at.button(key=f"register_{pc}").click()
    at.run()
    assert "The course is full: you are number 3 on the waiting list." in texts(at.info)


def test_lecturer_sees_participants_and_joins_as_moderator(app_for):
    at = app_for(login="facility02", page=RUN)
    assert not at.exception
    assert texts(at.title) == ["講座の運営"]
    assert at.dataframe, "sessions and participants are listed"
    at = app_for(login="facility02", page=MINE)
    join = [b for b in link_buttons(at) if b.url.startswith("/courses/join/")]
    assert join and join[0].label == "司会者としてオンラインで参加"
    # What the link's route makes for the lecturer at the click (facilities/routes.py: join_class).
    from facilities.services import courses
    from portal.runtime import open_runtime
    from portal.services import accounts

    runtime = open_runtime()
    lecturer = accounts.actor_for(runtime.store, runtime.store.scalar(
        "SELECT id FROM portal_users WHERE login = 'facility02'"))
    link = courses.join_online(runtime.store, runtime.clock, lecturer, int(join[0].url.rsplit("/", 1)[1]))
    token = parse_qs(urlsplit(link.url).query)["jwt"][0]
    claims = jwt.decode(token, meetings.DEMO_SECRET, algorithms=["HS256"], audience="jitsi",
                        options={"verify_exp": False, "verify_nbf": False, "verify_iat": False})
    assert claims["context"]["user"]["affiliation"] == "owner"
    assert claims["context"]["user"]["moderator"] == "true"


def test_a_resident_runs_no_course_and_cannot_see_participants(app_for):
    at = app_for(login="resident01", page=RUN, lang="en")
    assert not at.exception
    assert "You do not run any course." in texts(at.info)


def test_staff_see_every_course_and_can_change_seats(app_for):
    at = app_for(login="facility01", page=RUN, lang="en")
    assert not at.exception
    options = at.selectbox(key="lecturer_course").options
    assert len(options) == 4
    at.selectbox(key="lecturer_course").select_index(
        next(i for i, o in enumerate(options) if "PC-SENIOR" in o))
    at.run()
    at.number_input[0].set_value(5)
    submit = [b for b in at.button if b.label == "Save"]
    submit[0].click()
    at.run()
    assert not at.exception
    assert "Capacity set to 5; 2 moved up from the waiting list." in texts(at.success)


CLASS = "../facilities/pages/course_class.py"


def open_lesson(at, title: str) -> None:
    """Type the lesson's title and press 開く, the rest of the form as it stands."""
    at.text_input[0].input(title)
    [submit] = [b for b in at.button if b.label == "開く"]
    submit.click()
    at.run()


def test_late_in_the_evening_the_lesson_form_proposes_tomorrows_first_hour(app_for, monkeypatch):
    """At 23:50 the form proposed 23:00 today, which is past, and opening with it was refused."""
    evening = datetime.now(TOKYO).replace(hour=23, minute=50, second=0, microsecond=0)
    monkeypatch.setenv("MANABI_NOW", evening.isoformat())
    at = app_for(login="teacher01", page=CLASS)
    assert [d.value for d in at.date_input] == [evening.date() + timedelta(days=1)]
    assert [s.value for s in at.time_input] == [time(0, 0)]
    open_lesson(at, "夜の補習")
    assert not at.error
    assert "オンライン授業を開きました。" in texts(at.success)


def test_teacher_opens_an_online_english_lesson_and_hands_out_pupil_links(app_for):
    at = app_for(login="teacher01", page=CLASS)
    assert not at.exception
    assert texts(at.title) == ["オンライン授業"]
    assert at.dataframe, "the school's classes with pupils and ready tablets"
    at.radio[0].set_value("english")
    open_lesson(at, "Let's talk: 自己紹介")
    assert not at.exception
    assert "オンライン授業を開きました。" in texts(at.success)

    # One click: the join button is the link that makes the teacher's token when pressed
    # (/classes/join/<id>, followed to the room in tests/e2e/test_facilities_courses_register_join.py).
    [join] = [b for b in link_buttons(at) if b.url.startswith("/classes/join/")]
    lesson_id = int(join.url.removeprefix("/classes/join/"))
    from portal.runtime import open_runtime

    runtime = open_runtime()
    teacher = runtime.store
    from facilities.services import courses_classes
    from portal.services import accounts

    actor = accounts.actor_for(teacher, teacher.scalar("SELECT id FROM portal_users WHERE login = 'teacher01'"))
    host = jwt.decode(parse_qs(urlsplit(courses_classes.teacher_link(teacher, runtime.clock, actor, lesson_id).url)
                               .query)["jwt"][0], meetings.DEMO_SECRET, algorithms=["HS256"], audience="jitsi",
                      options={"verify_exp": False, "verify_nbf": False, "verify_iat": False})
    assert host["context"]["user"]["affiliation"] == "owner"

    [pupils] = [b for b in at.button if b.key and b.key.startswith("class_pupils_")]
    pupils.click()
    at.run()
    table = at.dataframe[-1].value
    assert len(table) > 0 and table.iloc[:, 2].str.contains(host["room"]).all()


def test_residents_are_not_offered_online_classes(app_for):
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        app_for(login="resident01", page=CLASS)


ADMIN = "../facilities/pages/course_admin.py"


def test_staff_create_a_course_and_add_a_room_session_that_books_the_room(app_for):
    at = app_for(login="facility01", page=ADMIN, lang="en")
    assert not at.exception
    assert texts(at.title) == ["Course setup"]
    fields = {ti.label: ti for ti in at.text_input}
    fields["Course code"].input("TABLET-1")
    fields["Lecturer's login"].input("facility02")
    fields["Title (Japanese)"].input("タブレット入門")
    fields["Title (English)"].input("Tablets for beginners")
    [create] = [b for b in at.button if b.label == "Create the course"]
    create.click()
    at.run()
    assert not at.exception
    assert "Course TABLET-1 created. Now add its sessions." in texts(at.success)

    box = at.selectbox(key="admin_course")
    box.select_index(next(i for i, o in enumerate(box.options) if "TABLET-1" in o))
    at.run()
    at.radio(key="admin_mode").set_value("both")
    at.run()
    # A Wednesday beyond the demo's bookings and lottery months (courses may book that far ahead).
    day = datetime.fromisoformat(TEST_NOW).date() + timedelta(days=100)
    day += timedelta(days=(2 - day.weekday()) % 7)
    next(d for d in at.date_input if d.label == "Date").set_value(day)
    [add] = [b for b in at.button if b.label == "Add (the room gets booked)"]
    add.click()
    at.run()
    assert not at.exception
    assert not at.error, texts(at.error)
    assert any(s.startswith("Session on") for s in texts(at.success))
    from facilities.services import booking, courses
    from portal.runtime import open_runtime

    store = open_runtime().store
    [session] = courses.find_course(store, "TABLET-1").sessions
    assert session.booking_id is not None and session.online
    assert not booking.is_free(store, session.room_id, day, session.block_code)


def test_resident_cancels_from_the_list_and_from_my_courses(app_for):
    at = app_for(login="resident01", page=LIST)
    safety = course_id("NET-SAFETY")
    at.button(key=f"register_{safety}").click()
    at.run()
    at.button(key=f"cancel_{safety}").click()
    at.run()
    assert not at.exception
    assert "申込を取り消しました。" in texts(at.info)
    at.button(key=f"register_{safety}").click()
    at.run()
    at.switch_page(MINE)
    at.run()
    at.button(key=f"mine_cancel_{safety}").click()
    at.run()
    assert not at.exception
    assert "申込を取り消しました。" in texts(at.info)
