"""The portal's demo rows: the city's schools and one account per kind of user.

Every demo account's password is DEMO_PASSWORD; the sign-in page lists them only
when the database was seeded as a demo.
"""

from __future__ import annotations

from data import city
from kernel.module import DemoContext
from portal.services import accounts, schools

DEMO_PASSWORD = "manabi-demo"

# The accounts the sign-in page offers, one per role: (login, name_ja, roles).
FEATURED = (
    ("admin", "教育委員会 管理者", ("city_admin",)),
    ("schooladmin01", "学校ICT担当 飯塚小", ("school_admin", "teacher")),
    ("teacher01", "山田 花子 (飯塚小)", ("teacher",)),
    ("resident01", "田中 一郎", ("resident",)),
    ("librarian01", "図書館司書 佐藤", ("librarian",)),
    ("facility01", "施設係 鈴木", ("facility_staff",)),
    ("curator01", "歴史資料館 学芸員 高橋", ("curator",)),
)

_FAMILY = ("佐藤", "鈴木", "高橋", "田中", "伊藤", "渡辺", "山本", "中村", "小林", "加藤",
           "吉田", "山田", "佐々木", "山口", "松本", "井上", "木村", "林", "清水", "原")
_GIVEN = ("翔太", "陽菜", "大輝", "美咲", "健太", "結衣", "蓮", "葵", "悠真", "さくら",
          "一郎", "花子", "直樹", "恵", "拓也", "由美", "誠", "愛", "浩二", "明美")


def _name(rng) -> str:
    return f"{rng.choice(_FAMILY)} {rng.choice(_GIVEN)}"


def load(ctx: DemoContext) -> None:
    cur = ctx.cur
    chosen = city.SCHOOLS if not ctx.small else (city.SCHOOLS[0], city.SCHOOLS[1], city.SCHOOLS[21], city.SCHOOLS[28])
    total_pupils = city.PUPIL_TABLETS if not ctx.small else 240
    weights = [ctx.rng.uniform(0.6, 1.4) for _ in chosen]
    pupils = city.split(total_pupils, len(chosen), weights)
    ids = schools.add_schools(cur, [(c, ja, en, kind, n) for (c, ja, en, kind), n in zip(chosen, pupils, strict=True)])
    school_ids = [ids[c] for c, *_ in chosen]

    # One argon2id hash for the shared demo password: hashing hundreds of accounts
    # one by one would take minutes, and these accounts are public knowledge anyway.
    digest = accounts.hash_password(DEMO_PASSWORD)
    now = ctx.clock.now()
    rows: list[tuple[str, str, int | None, tuple[str, ...]]] = []
    for login, name, roles in FEATURED:
        school = school_ids[0] if {"teacher", "school_admin"} & set(roles) else None
        rows.append((login, name, school, roles))
    teachers = city.TEACHER_TABLETS if not ctx.small else 12
    per_school = city.split(teachers - 1, len(school_ids), [float(n) for n in pupils])
    number = 2
    for school_id, count in zip(school_ids, per_school, strict=True):
        for _ in range(count):
            rows.append((f"teacher{number:03d}", _name(ctx.rng), school_id, ("teacher",)))
            number += 1
    for index, school_id in enumerate(school_ids[1:], start=2):
        rows.append((f"schooladmin{index:02d}", _name(ctx.rng), school_id, ("school_admin", "teacher")))
    residents = 300 if not ctx.small else 20
    rows += [(f"resident{n:02d}" if n < 100 else f"resident{n}", _name(ctx.rng), None, ("resident",))
             for n in range(2, residents + 1)]
    rows += [("librarian02", _name(ctx.rng), None, ("librarian",)),
             ("facility02", _name(ctx.rng), None, ("facility_staff",))]

    cur.executemany(
        """INSERT INTO portal_users (login, display_name, password_hash, school_id, is_demo, created_at,
                                     password_changed_at) VALUES (?, ?, ?, ?, true, ?, ?)""",
        [(login, name, digest, school, now, now) for login, name, school, _ in rows],
    )
    user_ids = dict(cur.execute("SELECT login, id FROM portal_users").fetchall())
    cur.executemany(
        "INSERT INTO portal_user_roles VALUES (?, ?)",
        [(user_ids[login], role) for login, _, _, roles in rows for role in roles],
    )
