"""Two municipalities side by side on one host (`manabi tenants add|list|serve`): each its own
database, settings and port; nothing of one is readable from the other's instance, by any
HTTP route, account or lake export; `tenants serve` stops them all together."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import duckdb
import httpx

from analytics.demo import DEMO_CLIENT_KEY, DEMO_CLIENT_SECRET
from portal.modules import all_modules
from portal.services import tenants
from tests.conftest import ROOT, free_port

VERSION = {"X-Experience-API-Version": "1.0.3"}
MANABI = [sys.executable, "-m", "portal.cli_main"]


def manabi(*args: str, stdin: str | None = None) -> str:
    done = subprocess.run([*MANABI, *args], cwd=ROOT, capture_output=True, text=True, input=stdin, timeout=300)
    assert done.returncode == 0, done.stderr
    return done.stdout


def data_strings(db: Path) -> set[str]:
    """Words only this database holds: titles and names of its rows, logins, learner ids."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        columns = con.execute(
            "SELECT table_name, column_name FROM information_schema.columns WHERE data_type = 'VARCHAR' "
            "AND column_name IN ('title', 'name_ja', 'login', 'learner_id', 'display_name')").fetchall()
        found = set()
        for table, column in columns:
            found |= {v for (v,) in con.execute(f'SELECT DISTINCT "{column}" FROM "{table}" '
                                                 f'WHERE length("{column}") >= 6 LIMIT 20').fetchall()}
        return found
    finally:
        con.close()


def xapi_markers(base: str, auth: tuple[str, str], word: str) -> dict:
    """A statement and the three kinds of xAPI documents, each carrying a secret made of `word`
    (found in no question asked: an answer that holds it shows the stored thing)."""
    secret = f"{word}-{uuid.uuid4().hex[:10]}"
    activity = f"https://apps.example.jp/{word.lower()}/unit"
    agent = json.dumps({"account": {"homePage": "https://apps.example.jp", "name": f"{word}-pupil"}})
    statement_id = str(uuid.uuid4())
    statement = {"id": statement_id, "actor": json.loads(agent), "verb": {"id": "http://adlnet.gov/expapi/verbs/completed"},
                 "object": {"id": activity, "definition": {"name": {"ja": secret}}}}
    with httpx.Client(base_url=base, auth=auth, headers=VERSION, timeout=30) as client:
        assert client.post("/xapi/statements", json=[statement]).status_code == 200
        body = json.dumps({"note": secret})
        for path, params in (("/xapi/activities/state", {"activityId": activity, "agent": agent, "stateId": "s1"}),
                             ("/xapi/activities/profile", {"activityId": activity, "profileId": "p1"}),
                             ("/xapi/agents/profile", {"agent": agent, "profileId": "p1"})):
            stored = client.put(path, params=params, content=body,
                                headers={"Content-Type": "application/json", "If-None-Match": "*"})
            assert stored.status_code == 204, stored.text
    return {"secret": secret, "pupil": f"{word}-pupil", "statementId": statement_id, "activityId": activity,
            "agent": agent}


def route_requests(markers: dict) -> list[tuple[str, dict]]:
    """Every GET route of every module, asked about the other municipality's things: its
    statement, documents and activity by their ids; numbered resources by the first ids."""
    asks = {"/xapi/statements": {"statementId": markers["statementId"]},
            "/xapi/activities/state": {"activityId": markers["activityId"], "agent": markers["agent"],
                                       "stateId": "s1"},
            "/xapi/activities/profile": {"activityId": markers["activityId"], "profileId": "p1"},
            "/xapi/agents/profile": {"agent": markers["agent"], "profileId": "p1"},
            "/xapi/activities": {"activityId": markers["activityId"]},
            "/xapi/agents": {"agent": markers["agent"]}}
    found = []
    for spec in all_modules():
        for route in spec.routes() if spec.routes else []:
            if "GET" not in (getattr(route, "methods", None) or ()):
                continue
            path = route.path
            for name, value in (("{id:int}", "1"), ("{loan:int}", "1"), ("{item_id:int}", "1"),
                                ("{media_id:int}", "1"), ("{session_id:int}", "1"), ("{index:int}", "0"), ("{fmt:str}", "json"),
                                ("{slug}", "1"), ("{token}", "1"), ("{code}", "1"), ("{name}", "1"),
                                ("{size}", "400"), ("{region}", "full"), ("{rotation}", "0"),
                                ("{quality}", "default.jpg")):
                path = path.replace(name, value)
            assert "{" not in path, f"a route parameter this test does not fill: {route.path}"
            found.append((path, asks.get(route.path, {})))
    return found


def test_two_municipalities_side_by_side(demo_db, tmp_path):
    config = tmp_path / "tenants.toml"
    iizuka_db = tmp_path / "iizuka" / "manabi.duckdb"
    iizuka_db.parent.mkdir()
    shutil.copy(demo_db, iizuka_db)  # Iizuka runs the demo city; Nogata starts empty
    ports = {"40205": free_port(), "40204": free_port()}
    manabi("tenants", "add", "40205", "--name-ja", "飯塚市", "--name-en", "Iizuka", "--population", "126364",
           "--port", str(ports["40205"]), "--db-file", str(iizuka_db), "--color", "#0b6e4f", "--config", str(config))
    manabi("tenants", "add", "40204", "--name-ja", "直方市", "--name-en", "Nogata", "--population", "55000",
           "--port", str(ports["40204"]), "--config", str(config))
    nogata_db = tenants.find(config, "40204").db_path(config)
    nogata_app = json.loads(manabi("--db", str(nogata_db), "analytics", "xapi", "clients", "add", "nogata-drill",
                                   "--json"))
    manabi("--db", str(nogata_db), "users", "add", "nogata-admin", "--name", "直方 管理者", "--role", "city_admin",
           "--password-stdin", stdin="a long nogata password\n")
    only_iizuka = data_strings(iizuka_db)
    assert len(only_iizuka) > 20

    served = subprocess.Popen([*MANABI, "tenants", "serve", "--config", str(config)], cwd=ROOT,
                              stdout=(tmp_path / "serve.out").open("w"), stderr=subprocess.STDOUT,
                              start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        while {s.health for s in tenants.status(config)} != {"ok"}:
            assert served.poll() is None and time.monotonic() < deadline, (tmp_path / "serve.out").read_text()
            time.sleep(0.5)
        listed = json.loads(manabi("tenants", "list", "--config", str(config), "--json"))
        assert [(t["code"], t["port"], t["health"]) for t in listed] == [
            ("40205", ports["40205"], "ok"), ("40204", ports["40204"], "ok")]
        iizuka, nogata = (f"http://127.0.0.1:{ports[c]}" for c in ("40205", "40204"))
        assert httpx.get(f"{iizuka}/healthz").json()["city"] == "飯塚市"
        assert httpx.get(f"{nogata}/healthz").json()["municipality"] == "40204"

        iizuka_auth = (DEMO_CLIENT_KEY, DEMO_CLIENT_SECRET)
        nogata_auth = (nogata_app["key"], nogata_app["secret"])
        marks = {"40205": xapi_markers(iizuka, iizuka_auth, "IIZUKA-ONLY"),
                 "40204": xapi_markers(nogata, nogata_auth, "NOGATA-ONLY")}
        # One municipality's app is no app of the other's.
        assert httpx.get(f"{nogata}/xapi/statements", auth=iizuka_auth, headers=VERSION).status_code == 401

        sides = (("40205", iizuka, iizuka_auth, "40204"), ("40204", nogata, nogata_auth, "40205"))
        for code, base, auth, other in sides:
            theirs = marks[other]
            words = {theirs["secret"]} | (only_iizuka if other == "40205" else set())
            own = marks[code]
            for path, params in route_requests(theirs):
                answer = httpx.get(f"{base}{path}", params=params, auth=auth, headers=VERSION, timeout=60)
                leaked = [w for w in words if w in answer.text]
                assert not leaked, f"{code} {path} shows {other}'s {leaked[:3]}"
                # The same question about its own things is answered: the test can see a leak.
                if path.startswith("/xapi/") and path != "/xapi/about":
                    mine = {**params, **{k: own[k] for k in params if k in own}}
                    asked = httpx.get(f"{base}{path}", params=mine, auth=auth, headers=VERSION, timeout=60)
                    shown = own["pupil"] if path == "/xapi/agents" else own["secret"]
                    assert asked.status_code == 200 and shown in asked.text, (path, asked.text[:300])

        # Accounts: each instance its own.
        logins = {code: {u["login"] for u in json.loads(manabi("--db", str(tenants.find(config, code).db_path(config)),
                                                                  "users", "list", "--json"))} for code in ports}
        assert "nogata-admin" in logins["40204"] and "nogata-admin" not in logins["40205"]
        assert not (logins["40205"] - {"nogata-admin"}) & logins["40204"] - {"nogata-admin"}

        # The lake: each exports (through its own server) into its own partition only.
        lake = tmp_path / "lake"
        for code in ports:
            manabi("--db", str(tenants.find(config, code).db_path(config)), "lake", "export", str(lake), "--json")
        con = duckdb.connect()
        by_city = dict(con.execute(
            f"SELECT municipality, count(*) FROM read_parquet('{lake}/statements/*/*/*/*.parquet', "
            "hive_partitioning = true, hive_types = {'municipality': VARCHAR}) GROUP BY ALL").fetchall())
        marked = dict(con.execute(
            f"SELECT activity_id, list(DISTINCT municipality) FROM read_parquet('{lake}/statements/*/*/*/*.parquet', "
            "hive_partitioning = true, hive_types = {'municipality': VARCHAR}) "
            "WHERE activity_id LIKE 'https://apps.example.jp/%' GROUP BY ALL").fetchall())
        assert by_city["40204"] == 1 and by_city["40205"] > 1000
        assert marked == {marks["40205"]["activityId"]: ["40205"], marks["40204"]["activityId"]: ["40204"]}
    finally:
        os.killpg(served.pid, signal.SIGTERM)
        code = served.wait(timeout=60)
    assert code == 0, (tmp_path / "serve.out").read_text()
    # Stopped together: no server of either left, no port answering.
    assert {s.health for s in tenants.status(config)} == {"down"}
    left = [p for p in Path("/proc").iterdir() if p.name.isdigit() and _cmdline_names(p, str(tmp_path))]
    assert not left


def _cmdline_names(proc: Path, text: str) -> bool:
    try:
        return text in (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return False
