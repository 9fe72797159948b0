"""Parallel guessing cannot beat the lockout: sign-in attempts for one account take
turns, so at most 5 passwords are checked before the account locks, whatever the
parallelism — through the sign-in service and through HTTP Basic on /opds/shelf."""

from __future__ import annotations

import asyncio
import threading

import duckdb
import httpx
import pytest

from portal.demo import DEMO_PASSWORD
from portal.services import accounts
from tests.conftest import run_async, running_server

PASSWORD = "correct horse battery"


def outcomes(cur, login: str) -> dict[str, int]:
    rows = cur.execute(
        "SELECT outcome, count(*) FROM portal_sign_in_log WHERE login = ? GROUP BY outcome", [login]
    ).fetchall()
    return dict(rows)


def test_thirty_parallel_guesses_check_only_five_passwords(store, clock):
    accounts.create_user(store, clock, login="hanako", display_name="山田 花子", roles=["resident"],
                         password=PASSWORD)
    start = threading.Barrier(30)
    answers: list[str] = []

    def guess(n: int) -> None:
        start.wait()
        try:
            accounts.authenticate(store, clock, "hanako", f"wrong guess {n:02d}")
            answers.append("ok")
        except accounts.AccountLocked:
            answers.append("locked")
        except accounts.BadCredentials:
            answers.append("bad")

    threads = [threading.Thread(target=guess, args=(n,)) for n in range(30)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(answers).count("bad") == 4  # the fifth failure answers "locked"
    assert outcomes(store.cursor(), "hanako") == {"bad_password": 5, "locked": 25}
    # Locked: the right password is refused without being checked.
    with pytest.raises(accounts.AccountLocked):
        accounts.authenticate(store, clock, "hanako", PASSWORD)
    assert outcomes(store.cursor(), "hanako")["locked"] == 26


def test_parallel_basic_auth_guesses_on_the_shelf_cannot_pass_the_lock(fresh_demo_db, tmp_path):
    login = "resident01"

    async def attack(base: str) -> tuple[list[int], int]:
        async with httpx.AsyncClient(base_url=base, timeout=120) as client:
            wrong = [asyncio.create_task(client.get("/opds/shelf", auth=(login, f"guess-{n:02d}-wrong")))
                     for n in range(29)]
            # The right one goes out while the wrong ones are still being answered, once
            # five have come back (the lock is set by then, whichever order they ran in).
            for answered, done in enumerate(asyncio.as_completed(wrong), start=1):
                await done
                if answered == 5:
                    break
            right = await client.get("/opds/shelf", auth=(login, DEMO_PASSWORD))
            return [(await task).status_code for task in wrong], right.status_code

    with running_server(fresh_demo_db, tmp_path / "server.log") as base:
        wrong_codes, right_code = run_async(attack(base))
    assert wrong_codes == [401] * 29
    assert right_code == 401
    with duckdb.connect(str(fresh_demo_db), read_only=True) as con:
        seen = outcomes(con, login)
    # At most five passwords checked (no "ok"); every other attempt met the lock.
    assert seen == {"bad_password": 5, "locked": 25}
