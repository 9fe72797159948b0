"""The archive's demo collection: Iizuka heritage named in the plan or well known.

Clearly marked: every item and set has is_demo, the sets say 「デモ」, and each item's
source reads "デモ資料（画像は生成）". Pictures are drawn with Pillow at seed time
(nothing is downloaded). Items are in every workflow state. curator01 prepares and
submits, the city administrator publishes (the second person the workflow asks for).
"""

from __future__ import annotations

import io
import random
from datetime import timedelta

import polars as pl
from PIL import Image, ImageDraw

from archive.services import images, items, media, places_sets
from kernel.actor import Actor
from kernel.module import DemoContext
from kernel.provided import offered_view

CC_BY = "http://creativecommons.org/licenses/by/4.0/"
PDM = "http://creativecommons.org/publicdomain/mark/1.0/"
IN_C_EDU = "http://rightsstatements.org/vocab/InC-EDU/1.0/"
IN_C = "http://rightsstatements.org/vocab/InC/1.0/"
SOURCE = "デモ資料（画像は生成） / Demo item (generated image)"

PLACES = {  # key: (name ja, name en, latitude, longitude)
    "ito": ("旧伊藤伝右衛門邸", "Former Ito Den'emon Residence", 33.6392, 130.6866),
    "kaho": ("嘉穂劇場", "Kaho Theatre", 33.6416, 130.6935),
    "tateiwa": ("立岩遺跡", "Tateiwa Site", 33.6506, 130.6818),
    "uchino": ("長崎街道 内野宿", "Uchino post town, Nagasaki-kaido", 33.5795, 130.6553),
    "iizuka_juku": ("長崎街道 飯塚宿", "Iizuka post town, Nagasaki-kaido", 33.6440, 130.6920),
    "tadakuma": ("忠隈のボタ山", "Tadakuma slag heap", 33.6236, 130.6750),
    "museum": ("飯塚市歴史資料館", "Iizuka City History Museum", 33.6598, 130.7013),
}

SETS = (  # slug, title ja, title en, description ja, description en
    ("ito-denemon", "旧伊藤伝右衛門邸（デモ）", "Former Ito Den'emon Residence (demo)",
     "炭鉱王・伊藤伝右衛門の邸宅と庭園、調度品。デモ用のコレクションです。",
     "The house, garden and furnishings of the coal magnate Ito Den'emon. A demo collection."),
    ("tateiwa", "立岩遺跡の出土品（デモ）", "Finds of the Tateiwa site (demo)",
     "弥生時代の立岩遺跡から出土した石包丁や甕棺。デモ用のコレクションです。",
     "Stone reaping knives and jar burials of the Yayoi-period Tateiwa site. A demo collection."),
    ("nagasaki-kaido", "長崎街道の宿場町（デモ）", "Post towns of the Nagasaki-kaido (demo)",
     "内野宿・飯塚宿など、長崎街道の宿場の記録。デモ用のコレクションです。",
     "Records of Uchino, Iizuka and other post towns of the Nagasaki-kaido. A demo collection."),
    ("coal-mining", "炭鉱の記憶（デモ）", "Memories of coal mining (demo)",
     "筑豊炭田の炭鉱と暮らしの記録。デモ用のコレクションです。",
     "Mines and everyday life of the Chikuho coalfield. A demo collection."),
)

# identifier, type, title ja, title en, date, subjects ja, subjects en, description ja, description en,
# place, sets, rights, status, picture, link
ITEMS = (
    ("IZK-DEMO-001", "building", "旧伊藤伝右衛門邸 主屋", "Former Ito Den'emon Residence: main house", "明治30年代",
     ["炭鉱王", "近代和風建築"], ["coal magnate", "modern Japanese architecture"],
     "<p>筑豊の炭鉱王・伊藤伝右衛門が建てた近代和風住宅。国指定重要文化財。</p>",
     "<p>A modern Japanese-style house built by the Chikuho coal magnate Ito Den'emon.</p>",
     "ito", ["ito-denemon"], CC_BY, "published", "house",
     ("panorama", "https://iizuka-archive.example/demo/ito-denemon/panorama", "3Dパノラマ", "3D panorama")),
    ("IZK-DEMO-002", "site", "旧伊藤伝右衛門邸 庭園", "Former Ito Den'emon Residence: garden", "大正",
     ["庭園", "池泉回遊式"], ["garden", "stroll garden"],
     "<p>池を巡る回遊式の日本庭園。</p>", "<p>A Japanese stroll garden around a pond.</p>",
     "ito", ["ito-denemon"], CC_BY, "published", "garden", None),
    ("IZK-DEMO-003", "object", "旧伊藤伝右衛門邸 ステンドグラス", "Stained glass of the Ito residence", "大正10年",
     ["ステンドグラス", "調度品"], ["stained glass", "furnishings"],
     "<p>応接間を飾る大正期のステンドグラス。</p>", "<p>Taisho-era stained glass of the reception room.</p>",
     "ito", ["ito-denemon"], IN_C, "published", "glass", None),
    ("IZK-DEMO-004", "building", "嘉穂劇場", "Kaho Theatre", "昭和6年",
     ["芝居小屋", "娯楽"], ["playhouse", "entertainment"],
     "<p>江戸時代の歌舞伎小屋の様式を伝える木造の芝居小屋。</p>",
     "<p>A wooden playhouse in the style of Edo-period kabuki theatres.</p>",
     "kaho", [], CC_BY, "published", "theatre",
     ("video", "https://iizuka-archive.example/demo/kaho-theatre/video", "劇場の紹介動画", "Theatre video")),
    ("IZK-DEMO-005", "document", "嘉穂劇場 公演ポスター", "Kaho Theatre playbill", "昭和初期",
     ["ポスター", "興行"], ["poster", "performance"],
     "<p>昭和初期の公演を知らせるポスター。</p>", "<p>A poster announcing an early-Showa performance.</p>",
     "kaho", [], IN_C_EDU, "review", "poster", None),
    ("IZK-DEMO-006", "site", "立岩遺跡", "Tateiwa site", "弥生時代",
     ["弥生時代", "集落"], ["Yayoi period", "settlement"],
     "<p>石包丁の製作で知られる弥生時代の遺跡。</p>",
     "<p>A Yayoi-period site known for making stone reaping knives.</p>",
     "tateiwa", ["tateiwa"], CC_BY, "published", "mound", None),
    ("IZK-DEMO-007", "object", "立岩遺跡出土 石包丁", "Stone reaping knife from Tateiwa", "弥生時代中期",
     ["石包丁", "出土品"], ["stone knife", "excavated find"],
     "<p>輝緑凝灰岩で作られた石包丁。</p>", "<p>A reaping knife of diabase tuff.</p>",
     "tateiwa", ["tateiwa"], CC_BY, "published", "knife", None),
    ("IZK-DEMO-008", "object", "立岩遺跡出土 甕棺", "Jar coffin from Tateiwa", "弥生時代",
     ["甕棺", "墓制"], ["jar burial", "burial customs"],
     "<p>前漢鏡とともに見つかった甕棺。</p>", "<p>A jar coffin found with Former Han mirrors.</p>",
     "tateiwa", ["tateiwa"], PDM, "published", "jar", None),
    ("IZK-DEMO-009", "photograph", "内野宿の街並み", "Street of the Uchino post town", "昭和30年代",
     ["宿場町", "街道"], ["post town", "highway"],
     "<p>長崎街道・内野宿の古い街並みの写真。</p>", "<p>A photograph of the old street of Uchino.</p>",
     "uchino", ["nagasaki-kaido"], CC_BY, "published", "street", None),
    ("IZK-DEMO-010", "document", "飯塚宿 絵図", "Map of the Iizuka post town", "江戸時代後期",
     ["絵図", "宿場町"], ["map", "post town"],
     "<p>飯塚宿の町割りを描いた絵図。</p>", "<p>A painted map of the Iizuka post town.</p>",
     "iizuka_juku", ["nagasaki-kaido"], PDM, "published", "map", None),
    ("IZK-DEMO-011", "photograph", "忠隈のボタ山", "Tadakuma slag heap", "昭和初期",
     ["炭鉱", "ボタ山"], ["coal mining", "slag heap"],
     "<p>筑豊の炭鉱の記憶を伝えるボタ山。</p>", "<p>A slag heap that remembers Chikuho's mines.</p>",
     "tadakuma", ["coal-mining"], CC_BY, "published", "heap", None),
    ("IZK-DEMO-012", "photograph", "炭鉱住宅の暮らし", "Life in the miners' houses", "1950年代",
     ["炭鉱住宅", "暮らし"], ["miners' housing", "daily life"],
     "<p>炭鉱住宅で暮らす家族の写真（整理中）。</p>", None,
     "tadakuma", ["coal-mining"], CC_BY, "draft", "street", None),
    ("IZK-DEMO-013", "document", "炭坑節の歌詞資料", "Tanko-bushi lyrics", "明治45年",
     ["炭坑節", "民謡"], ["Tanko-bushi", "folk song"],
     "<p>炭坑節の歌詞を記した資料（下書き）。</p>", None,
     "museum", ["coal-mining"], IN_C, "draft", "poster", None),
    ("IZK-DEMO-014", "document", "伊藤伝右衛門 書簡", "A letter of Ito Den'emon", "大正5年",
     ["書簡"], ["letter"],
     "<p>権利確認のため公開を取り下げた書簡。</p>", "<p>A letter withdrawn while its rights are checked.</p>",
     "ito", ["ito-denemon"], IN_C, "withdrawn", "poster", None),
)

_PALETTES = {
    "house": ((214, 196, 160), (92, 64, 51)), "garden": ((180, 210, 170), (40, 100, 60)),
    "glass": ((40, 40, 60), (230, 180, 60)), "theatre": ((200, 170, 140), (140, 40, 30)),
    "poster": ((240, 230, 200), (160, 40, 40)), "mound": ((200, 220, 180), (120, 100, 60)),
    "knife": ((230, 225, 215), (90, 100, 90)), "jar": ((225, 215, 200), (150, 100, 70)),
    "street": ((190, 180, 165), (70, 60, 50)), "map": ((235, 220, 185), (110, 80, 50)),
    "heap": ((170, 185, 200), (50, 50, 55)),
}


def picture(kind: str, seed: int, width: int, height: int) -> bytes:
    """A simple drawing of the subject (a house, a jar, a street…), as PNG bytes."""
    rng = random.Random(f"{kind}:{seed}")
    background, ink = _PALETTES[kind]
    image = Image.new("RGB", (width, height), background)
    draw = ImageDraw.Draw(image)
    w, h = width, height
    if kind in ("house", "theatre", "street"):
        draw.rectangle([0, int(h * 0.75), w, h], fill=(150, 140, 120))
        houses = 1 if kind != "street" else 4
        for n in range(houses):
            x0 = int(w * (0.15 + n * 0.2)) if houses > 1 else int(w * 0.2)
            x1 = x0 + (int(w * 0.16) if houses > 1 else int(w * 0.6))
            top = int(h * rng.uniform(0.35, 0.45))
            draw.rectangle([x0, top, x1, int(h * 0.75)], fill=(235, 225, 205), outline=ink, width=3)
            draw.polygon([(x0 - 15, top), ((x0 + x1) // 2, top - int(h * 0.18)), (x1 + 15, top)], fill=ink)
            for k in range(3):
                wx = x0 + (x1 - x0) * (k + 1) // 4
                draw.rectangle([wx - 8, top + 20, wx + 8, top + 45], fill=ink)
    elif kind == "garden":
        draw.ellipse([w * 0.2, h * 0.55, w * 0.8, h * 0.85], fill=(110, 160, 200))
        for _ in range(12):
            x, y = rng.uniform(0, w), rng.uniform(h * 0.2, h * 0.6)
            r = rng.uniform(15, 40)
            draw.ellipse([x - r, y - r, x + r, y + r], fill=ink)
    elif kind == "glass":
        for row in range(6):
            for col in range(8):
                color = rng.choice([(200, 60, 60), (60, 120, 200), (230, 190, 60), (80, 160, 90)])
                draw.rectangle([col * w / 8 + 3, row * h / 6 + 3, (col + 1) * w / 8 - 3, (row + 1) * h / 6 - 3],
                               fill=color, outline=ink, width=2)
    elif kind in ("poster", "map"):
        draw.rectangle([w * 0.1, h * 0.08, w * 0.9, h * 0.92], fill=(250, 245, 230), outline=ink, width=4)
        for k in range(9):
            y = h * (0.2 + k * 0.075)
            draw.line([w * 0.18, y, w * rng.uniform(0.5, 0.82), y], fill=ink, width=5)
        if kind == "map":
            draw.line([w * 0.15, h * 0.8, w * 0.85, h * 0.25], fill=(60, 90, 160), width=8)
    elif kind in ("mound", "heap"):
        draw.rectangle([0, int(h * 0.7), w, h], fill=(120, 150, 90))
        draw.polygon([(w * 0.1, h * 0.7), (w * 0.5, h * (0.2 if kind == "heap" else 0.45)), (w * 0.9, h * 0.7)],
                     fill=ink)
    elif kind == "knife":
        draw.chord([w * 0.15, h * 0.3, w * 0.85, h * 0.9], 180, 360, fill=ink)
        draw.ellipse([w * 0.4, h * 0.45, w * 0.45, h * 0.52], fill=background)
        draw.ellipse([w * 0.55, h * 0.45, w * 0.6, h * 0.52], fill=background)
    elif kind == "jar":
        draw.ellipse([w * 0.3, h * 0.15, w * 0.7, h * 0.9], fill=ink)
        draw.rectangle([w * 0.4, h * 0.08, w * 0.6, h * 0.2], fill=ink)
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def _actor(cur, login: str) -> Actor:
    offered_view(cur, "portal.users", "portal.user_roles")  # the portal's accounts, as offered (kernel.provided)
    row = cur.execute("SELECT id, login, display_name FROM offered_users WHERE login = ?", [login]).fetchone()
    roles = frozenset(r for (r,) in cur.execute(
        "SELECT role FROM offered_user_roles WHERE user_id = ?", [row[0]]).fetchall())
    return Actor(user_id=row[0], login=row[1], display_name=row[2], roles=roles)


def _extra_items(ctx: DemoContext) -> list[tuple]:
    """At city scale: more old photographs of the town, for lists, facets and the map."""
    if ctx.small:
        return []
    eras = ["明治後期", "大正", "昭和初期", "昭和20年代", "昭和30年代", "昭和40年代", "1960年代", "平成"]
    kinds = ["street", "heap", "house", "theatre"]
    out = []
    for n in range(15, 75):
        era = ctx.rng.choice(eras)
        place = ctx.rng.choice(list(PLACES))
        status = ctx.rng.choices(["published", "draft", "review", "withdrawn"], [8, 2, 1, 1])[0]
        out.append((f"IZK-DEMO-{n:03d}", "photograph", f"飯塚の古写真 第{n}号", f"Old photograph of Iizuka No. {n}",
                    era, ["古写真", "町並み"], ["old photograph", "townscape"],
                    f"<p>{PLACES[place][0]}周辺の古写真。</p>", f"<p>An old photograph near {PLACES[place][1]}.</p>",
                    place, ["coal-mining"] if place == "tadakuma" else [], CC_BY, status,
                    ctx.rng.choice(kinds), None))
    return out


def load(ctx: DemoContext) -> None:
    cur, clock = ctx.cur, ctx.clock
    curator, admin = _actor(cur, "curator01"), _actor(cur, "admin")
    size = (480, 360) if ctx.small else (1200, 900)
    place_ids = {key: places_sets.insert_place(cur, *values) for key, values in PLACES.items()}
    set_ids = {slug: places_sets.insert_set(cur, slug, ja, en, dja, den, is_demo=True)
               for slug, ja, en, dja, den in SETS}
    ids = {}
    for n, (identifier, kind, title_ja, title_en, date_text, subj_ja, subj_en, desc_ja, desc_en, place, sets,
            rights_uri, status, drawing, link) in enumerate(ITEMS + tuple(_extra_items(ctx)), start=1):
        values, problems = items.check_input(items.ItemInput(
            identifier=identifier, title_ja=title_ja, title_en=title_en, type=kind, rights=rights_uri,
            date_text=date_text, subjects_ja=subj_ja, subjects_en=subj_en, description_ja=desc_ja,
            description_en=desc_en, source=SOURCE, coverage="飯塚市 / Iizuka City",
            format="画像 / image" if kind != "site" else "遺跡 / site", place_id=place_ids[place],
            creator_ja="飯塚市歴史資料館（デモ）", creator_en="Iizuka City History Museum (demo)"))
        assert not problems, (identifier, problems)
        item_id = items.insert_item(cur, clock, curator, values, is_demo=True)
        ids[identifier] = item_id
        media.insert_image(cur, clock, curator, item_id, images.renditions(picture(drawing, n, *size)),
                           file_name=f"{identifier.lower()}.png", rights_uri=rights_uri,
                           label_ja=title_ja, label_en=title_en)
        if link:
            media.insert_link(cur, clock, curator, item_id, link[0], link[1], rights_uri=rights_uri,
                              label_ja=link[2], label_en=link[3])
        for slug in sets:
            places_sets.put_in_set(cur, clock, curator, set_ids[slug], item_id)
        steps = {"draft": [], "review": [(curator, "submit")],
                 "published": [(curator, "submit"), (admin, "publish")],
                 "withdrawn": [(curator, "submit"), (admin, "publish"), (admin, "withdraw")]}[status]
        for who, action in steps:
            items.move(cur, clock, who, item_id, action)
    for a, b in (("IZK-DEMO-001", "IZK-DEMO-002"), ("IZK-DEMO-001", "IZK-DEMO-003"),
                 ("IZK-DEMO-006", "IZK-DEMO-007"), ("IZK-DEMO-006", "IZK-DEMO-008"),
                 ("IZK-DEMO-004", "IZK-DEMO-005"), ("IZK-DEMO-009", "IZK-DEMO-010"),
                 ("IZK-DEMO-011", "IZK-DEMO-012")):
        places_sets.insert_relation(cur, clock, curator, ids[a], ids[b])
    # Views over the past year, for the curators' report (counts only).
    today = clock.now().date()
    published = [r[0] for r in cur.execute("SELECT id FROM archive_items WHERE status = 'published'").fetchall()]
    rows = []
    for item_id in published:
        for back in range(0, 360, 7 if ctx.small else 1):
            views = ctx.rng.randint(0, 6)
            if views:
                rows.append([item_id, today - timedelta(days=back), views])
    views = pl.DataFrame(rows, schema={"item_id": pl.Int32, "day": pl.Date, "views": pl.Int32}, orient="row")
    cur.register("archive_demo_views", views)
    cur.execute("INSERT INTO archive_views SELECT item_id, day, views FROM archive_demo_views")
    cur.unregister("archive_demo_views")
