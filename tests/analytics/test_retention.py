"""A pupil's learning records after leaving school: gone 5 years after leaving, and not before;
a pupil still at school and every other pupil keep theirs, texts and dashboards included."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta

import polars as pl

from analytics.services import attachments, bulk, clustering, dashboards, documents, lrs, texts
from analytics.services.roster import import_units
from kernel.actor import SYSTEM, Actor
from kernel.clock import TOKYO, FixedClock
from portal.modules import all_modules
from portal.roster_bundle import make_city, small_plan, write_bundle
from portal.services import retention, roster
from tests.analytics.test_xapi_attachments import attachment, sha2
from tests.portal.test_cli import manabi

all_modules()

HOME = "https://manabi.city.iizuka.lg.jp/learners"
COMPLETED = "http://adlnet.gov/expapi/verbs/completed"
UNIT = "https://manabi.city.iizuka.lg.jp/units/8260233111100000/drill"


def years_before(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


def at(day: date) -> FixedClock:
    return FixedClock(datetime(day.year, day.month, day.day, 10, tzinfo=TOKYO))


def without(rows: dict[str, list[dict]], *pupils: str) -> dict[str, list[dict]]:
    """The bundle with these pupils no longer on it (they leave when it is imported)."""
    return {name: [r for r in file_rows if r.get("sourcedId") not in pupils and r.get("userSourcedId") not in pupils]
            for name, file_rows in rows.items()}


def statement(learner: str, n: int, **extra) -> dict:
    return {"actor": {"objectType": "Agent", "account": {"homePage": HOME, "name": learner}},
            "verb": {"id": COMPLETED}, "object": {"id": f"{UNIT}/{n}"},
            "result": {"score": {"scaled": round(0.1 + (n % 9) / 10, 2)}, "completion": True},
            "timestamp": "2020-06-01T09:00:00+09:00", **extra}


def everything(store) -> dict:
    """What analytics keeps, to compare runs."""
    return {table: sorted(map(repr, store.query(f"SELECT * FROM {table}"))) for table in (
        "analytics_statements", "analytics_statement_texts", "analytics_xapi_attachments",
        "analytics_xapi_documents", "analytics_learners", "analytics_access_log")}


def in_dashboard_order(store) -> bool:
    """Whether the rows lie in the order `cluster` wrote them (ties kept in their places)."""
    return not store.scalar(f"""SELECT count(*) FROM (
                                    SELECT row_number() OVER (ORDER BY rowid) AS place,
                                           row_number() OVER (ORDER BY {clustering.ORDER}, rowid) AS sorted
                                    FROM analytics_statements) WHERE place <> sorted""")


def test_a_pupil_who_left_over_5_years_ago_loses_their_records_the_others_keep_theirs(store, clock, tmp_path):
    today = clock.now().date()
    year = today.year if today.month >= 4 else today.year - 1
    rows = make_city(year, small_plan())
    gone, recent, staying, other = (f"E01-{year - 1}-{n:03d}" for n in (1, 2, 3, 4))
    left_gone = years_before(today, 5) - timedelta(days=1)       # 5 years and a day ago
    left_recent = years_before(today, 4)                          # 4 years ago
    entered = years_before(today, 6)

    # The roster: everyone at school 6 years ago; one leaves 5 years and a day ago, one 4 years ago.
    assert roster.import_bundle(store, at(entered), SYSTEM, write_bundle(rows, tmp_path / "b1")).stored
    import_units(store, SYSTEM, "code,subject,grade,name_ja,name_en\n8260233111100000,算数,2,かけ算,Multiplication\n")
    client = lrs.add_client(store, at(entered), SYSTEM, "drill")
    app = lrs.authenticate(store, client.api_key, client.secret)
    # A bulk file: its texts in zstd blocks, the four pupils' lines mixed in each block.
    lines = [json.dumps(statement((gone, recent, staying, other)[n % 4], n)) for n in range(4 * 150)]
    (tmp_path / "day.jsonl").write_text("\n".join(lines) + "\n")
    bulk.import_jsonl(store, at(entered), SYSTEM, tmp_path / "day.jsonl")
    # Live statements, plain texts: with attachments (one only the leaver's, one shared with a
    # pupil still at school), a statement about the leaver, and a teacher voiding one of theirs.
    own, shared = b"my drawing", b"the class worksheet"
    parts = {c: attachments.Part("text/plain", sha2(c), c) for c in (own, shared)}
    with_own = statement(gone, 1, attachments=[attachment(own)])
    with_shared = [statement(who, 2, attachments=[attachment(shared)]) for who in (gone, staying)]
    lrs.store_statements(store, at(entered), app, [with_own], parts=[parts[own]])
    lrs.store_statements(store, at(entered), app, with_shared, parts=[parts[shared]])
    teacher = {"objectType": "Agent", "mbox": "mailto:teacher@school.example.jp"}
    lrs.store_statements(store, at(entered), app, [
        {"actor": teacher, "verb": {"id": "http://adlnet.gov/expapi/verbs/mentored"},
         "object": {"objectType": "Agent", "account": {"homePage": HOME, "name": gone}}}])
    voided_id = store.scalar("SELECT id::VARCHAR FROM analytics_statements WHERE learner_id = ? ORDER BY seq LIMIT 1",
                             [gone])
    lrs.store_statements(store, at(entered), app, [
        {"actor": teacher, "verb": {"id": "http://adlnet.gov/expapi/verbs/voided"},
         "object": {"objectType": "StatementRef", "id": voided_id}}])
    for who in (gone, other):
        agent = json.dumps({"objectType": "Agent", "account": {"homePage": HOME, "name": who}})
        documents.put_document(store, at(entered), client.id, documents.state_scope(UNIT, agent, None), "progress",
                               b'{"page": 3}', "application/json")

    assert roster.import_bundle(store, at(left_gone), SYSTEM, write_bundle(without(rows, gone), tmp_path / "b2")).stored
    assert roster.import_bundle(store, at(left_recent), SYSTEM,
                                write_bundle(without(rows, gone, recent), tmp_path / "b3")).stored
    assert store.query("SELECT sourced_id, left_on FROM portal_roster_pupils WHERE status = 'left' ORDER BY 1") == [
        (gone, left_gone), (recent, left_recent)]
    clustering.cluster(store, SYSTEM)

    count = dict(store.query("SELECT learner_id, count(*) FROM analytics_statements GROUP BY ALL"))
    kept_seqs = [s for (s,) in store.query("SELECT seq FROM analytics_statements WHERE coalesce(learner_id, '') <> ? "
                                           "AND object_id IS DISTINCT FROM ? AND voids_id IS NULL",
                                           [gone, f"account:{HOME}|{gone}"])]
    kept_texts = texts.fetch(store.cursor(), kept_seqs)
    school, *staying_class = store.query("SELECT school_id, grade, class_name FROM portal_roster_pupils "
                                         "WHERE sourced_id = ?", [staying])[0]
    admin = Actor(user_id=0, login="e01-admin", display_name="admin", roles=frozenset({"school_admin"}),
                  school_id=school)
    dashboard = dashboards.mastery_by_pupil(store, admin, *staying_class).filter(pl.col("learner_id") != gone)
    assert dashboard.height and set(dashboard["learner_id"]) >= {staying}

    kept_id = store.scalar("SELECT id::VARCHAR FROM analytics_statements WHERE learner_id = ? LIMIT 1", [other])

    removed = retention.apply(store, clock)
    # The leaver's 150 + 2 statements, the teacher's statement about them and the voiding one.
    assert removed["pupil_records"] == count[gone] + 2
    assert store.query("SELECT count(*) FROM analytics_statements WHERE learner_id = ?", [gone]) == [(0,)]
    assert dict(store.query("SELECT learner_id, count(*) FROM analytics_statements GROUP BY ALL")) == {
        k: v for k, v in count.items() if k not in (gone, None)}
    assert not store.query("SELECT 1 FROM analytics_statements WHERE learner_id IS NULL")
    # Every other statement's text as it was, from blocks rewritten in place and plain rows alike.
    assert texts.fetch(store.cursor(), kept_seqs) == kept_texts
    assert store.scalar("SELECT count(*) FROM analytics_statement_texts WHERE zstd IS NOT NULL") > 0
    assert {a for (a,) in store.query("SELECT sha2 FROM analytics_xapi_attachments")} == {sha2(shared)}
    assert [k for (k,) in store.query("SELECT agent_key FROM analytics_xapi_documents")] == [f"account:{HOME}|{other}"]
    assert lrs.get_statement(store, kept_id)["actor"]["account"]["name"] == other
    assert lrs.query_statements(store, lrs.StatementQuery(
        agent=json.dumps({"account": {"homePage": HOME, "name": gone}})))[0] == []
    # The dashboards: the others' figures unchanged, the rows still in the dashboards' order.
    assert dashboards.mastery_by_pupil(store, admin, *staying_class).equals(dashboard)
    assert in_dashboard_order(store) and clustering.unclustered(store) == 0
    # The system page: the rule applied, with what it removed.
    shown = {s.rule.key: s for s in retention.status(store, SYSTEM)}["pupil_records"]
    assert shown.note is None and shown.removed == removed["pupil_records"]

    # Twice: nothing more goes.
    before = everything(store)
    assert retention.apply(store, clock)["pupil_records"] == 0
    assert everything(store) == before
    # A statement the app sends again later is stored anew (its id is free once more).
    lrs.store_statements(store, clock, app, [statement(other, 9000)])
    assert store.scalar("SELECT count(*) FROM analytics_statements WHERE learner_id = ?", [other]) == count[other] + 1


def test_the_kept_period_counts_calendar_years():
    assert retention.first_kept_day(date(2026, 11, 27), timedelta(days=5 * 365)) == date(2021, 11, 27)
    assert retention.first_kept_day(date(2028, 2, 29), timedelta(days=5 * 365)) == date(2023, 2, 28)
    assert retention.first_kept_day(date(2026, 11, 27), timedelta(days=30)) == date(2026, 10, 28)


def test_manabi_retention_json_on_a_demo_copy(fresh_demo_db, clock):
    from kernel.store import Store

    today = clock.now().date()
    demo = Store(str(fresh_demo_db))
    try:
        learners = [r for (r,) in demo.query(
            "SELECT p.sourced_id FROM portal_roster_pupils p WHERE p.status = 'enrolled' AND EXISTS "
            "(SELECT 1 FROM analytics_statements s WHERE s.learner_id = p.sourced_id) ORDER BY 1 LIMIT 2")]
        assert len(learners) == 2
        # Fixture: the roster says the first left 5 years and a day ago, the second 4 years ago.
        for learner, left in zip(learners, (years_before(today, 5) - timedelta(days=1), years_before(today, 4)),
                                 strict=True):
            demo.cursor().execute("UPDATE portal_roster_pupils SET status = 'left', left_on = ? WHERE sourced_id = ?",
                                  [left, learner])
        count = dict(demo.query("SELECT learner_id, count(*) FROM analytics_statements WHERE learner_id IN "
                                "(SELECT unnest(?::VARCHAR[])) GROUP BY ALL", [learners]))
        total = demo.scalar("SELECT count(*) FROM analytics_statements")
    finally:
        demo.close()

    result = manabi("retention", "--json", db=fresh_demo_db)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["pupil_records"] >= count[learners[0]]
    again = manabi("retention", "--json", db=fresh_demo_db)
    assert json.loads(again.stdout)["pupil_records"] == 0

    demo = Store(str(fresh_demo_db))
    try:
        after = dict(demo.query("SELECT learner_id, count(*) FROM analytics_statements WHERE learner_id IN "
                                "(SELECT unnest(?::VARCHAR[])) GROUP BY ALL", [learners]))
        assert after == {learners[1]: count[learners[1]]}
        assert demo.scalar("SELECT count(*) FROM analytics_statements") == total - json.loads(result.stdout)[
            "pupil_records"]
    finally:
        demo.close()
