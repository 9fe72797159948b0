"""The demo shelf: small EPUBs written at seed time with ebooklib, from public-domain
openings of Japanese and English classics (Japanese ones in vertical writing) and one
made-up local-history booklet. Byte for byte the same on every run (fixed times)."""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass
from datetime import datetime

from ebooklib import epub
from PIL import Image, ImageDraw

FIXED_TIME = datetime(2026, 4, 1, 9, 0)


@dataclass(frozen=True)
class DemoBook:
    key: str
    title: str
    title_reading: str
    author: str
    author_reading: str
    language: str
    subjects: tuple[str, ...]
    description: str
    opening: str
    vertical: bool
    colour: tuple[int, int, int]


SHELF = (
    DemoBook("neko", "吾輩は猫である", "わがはいはねこである", "夏目 漱石", "なつめ そうせき", "ja",
             ("日本文学", "小説"), "中学校の英語教師の家に飼われる猫の目から、明治の人々を風刺をこめて描く長編小説。",
             "<ruby>吾輩<rt>わがはい</rt></ruby>は猫である。名前はまだ無い。どこで生れたかとんと見当がつかぬ。"
             "何でも薄暗いじめじめした所でニャーニャー泣いていた事だけは記憶している。", True, (196, 120, 60)),
    DemoBook("botchan", "坊っちゃん", "ぼっちゃん", "夏目 漱石", "なつめ そうせき", "ja",
             ("日本文学", "小説"), "無鉄砲な江戸っ子の青年が、四国の中学校に数学教師として赴任する。",
             "親譲りの無鉄砲で小供の時から損ばかりしている。小学校に居る時分学校の二階から飛び降りて"
             "一週間ほど腰を抜かした事がある。", True, (70, 120, 180)),
    DemoBook("rashomon", "羅生門", "らしょうもん", "芥川 龍之介", "あくたがわ りゅうのすけ", "ja",
             ("日本文学", "短編小説"), "荒れ果てた平安京の羅生門の下で、職を失った下人が生きるための悪に向き合う。",
             "ある日の暮方の事である。一人の<ruby>下人<rt>げにん</rt></ruby>が、羅生門の下で雨やみを待っていた。"
             "広い門の下には、この男のほかに誰もいない。", True, (120, 40, 40)),
    DemoBook("kumo", "蜘蛛の糸", "くものいと", "芥川 龍之介", "あくたがわ りゅうのすけ", "ja",
             ("日本文学", "児童文学"), "地獄に落ちた男カンダタに、御釈迦様が一本の蜘蛛の糸を垂らす。",
             "ある日の事でございます。御釈迦様は極楽の蓮池のふちを、独りでぶらぶら御歩きになって"
             "いらっしゃいました。", True, (90, 150, 110)),
    DemoBook("ginga", "銀河鉄道の夜", "ぎんがてつどうのよる", "宮沢 賢治", "みやざわ けんじ", "ja",
             ("日本文学", "児童文学"), "少年ジョバンニが親友カムパネルラと銀河を走る鉄道で旅をする幻想的な物語。",
             "「ではみなさんは、そういうふうに川だと云われたり、乳の流れたあとだと云われたりしていた"
             "このぼんやりと白いものがほんとうは何かご承知ですか。」", True, (30, 40, 110)),
    DemoBook("chumon", "注文の多い料理店", "ちゅうもんのおおいりょうりてん", "宮沢 賢治", "みやざわ けんじ", "ja",
             ("日本文学", "児童文学"), "山奥で道に迷った二人の紳士が、西洋料理店「山猫軒」に入る。",
             "二人の若い紳士が、すっかりイギリスの兵隊の形をして、ぴかぴかする鉄砲をかついで、"
             "白熊のような犬を二疋つれて、だいぶ山奥の、木の葉のかさかさしたとこを、あるいておりました。",
             True, (150, 110, 40)),
    DemoBook("melos", "走れメロス", "はしれめろす", "太宰 治", "だざい おさむ", "ja",
             ("日本文学", "短編小説"), "人を信じられない王に、友との約束を守るためメロスは走る。",
             "メロスは激怒した。必ず、かの邪智暴虐の王を除かなければならぬと決意した。"
             "メロスには政治がわからぬ。メロスは、村の牧人である。", True, (180, 60, 90)),
    DemoBook("iizuka", "飯塚の歩み — 炭鉱のまちから学びのまちへ", "いいづかのあゆみ", "飯塚市教育委員会",
             "いいづかしきょういくいいんかい", "ja", ("郷土資料", "歴史"),
             "長崎街道の宿場町として栄え、筑豊炭田とともに歩んだ飯塚の歴史をたどる郷土学習用の冊子（デモ用）。",
             "飯塚は長崎街道の宿場町として栄え、明治からは筑豊炭田の中心として発展しました。"
             "嘉穂劇場は、その時代の賑わいを今に伝えています。", False, (60, 60, 60)),
    DemoBook("alice", "Alice's Adventures in Wonderland", "Alice's Adventures in Wonderland", "Lewis Carroll", "Carroll, Lewis",
             "en", ("Fantasy", "Children's literature"),
             "A girl follows a white rabbit down a hole into a world of nonsense and riddles.",
             "Alice was beginning to get very tired of sitting by her sister on the bank, and of having nothing "
             "to do: once or twice she had peeped into the book her sister was reading, but it had no pictures "
             "or conversations in it.", False, (90, 140, 200)),
    DemoBook("pride", "Pride and Prejudice", "Pride and Prejudice", "Jane Austen", "Austen, Jane", "en",
             ("Fiction", "Romance"), "Elizabeth Bennet and Mr Darcy misjudge each other in Regency England.",
             "It is a truth universally acknowledged, that a single man in possession of a good fortune, "
             "must be in want of a wife.", False, (200, 160, 170)),
    DemoBook("holmes", "The Adventures of Sherlock Holmes", "Adventures of Sherlock Holmes, The",
             "Arthur Conan Doyle", "Doyle, Arthur Conan", "en", ("Fiction", "Detective and mystery stories"),
             "Twelve cases of the detective Sherlock Holmes, told by his friend Dr Watson.",
             "To Sherlock Holmes she is always the woman. I have seldom heard him mention her under any "
             "other name.", False, (60, 90, 70)),
)


def _cover_jpeg(book: DemoBook) -> bytes:
    """A plain cover: the book's colour with a few bands (no text, so no font is needed)."""
    image = Image.new("RGB", (300, 450), book.colour)
    draw = ImageDraw.Draw(image)
    light = tuple(min(255, c + 70) for c in book.colour)
    draw.rectangle((24, 60, 276, 70), fill=light)
    draw.rectangle((24, 380, 276, 386), fill=light)
    draw.ellipse((110, 170, 190, 250), outline=light, width=6)
    out = io.BytesIO()
    image.save(out, "JPEG", quality=80)
    return out.getvalue()


def _chapters(book: DemoBook) -> list[tuple[str, str]]:
    if book.language == "ja":
        return [
            ("一", f"<h1>一</h1><p>{book.opening}</p><p>{book.opening}</p>"),
            ("二", f"<h1>二</h1><p>{book.description}</p><p>（デモ用の抜粋です。続きは青空文庫などでお読みください。）</p>"),
            ("三", "<h1>三</h1><p>この電子書籍は飯塚市電子図書館のデモのために作成しました。</p>"),
        ]
    return [
        ("Chapter I", f"<h1>Chapter I</h1><p>{book.opening}</p><p>{book.opening}</p>"),
        ("Chapter II", f"<h1>Chapter II</h1><p>{book.description}</p>"
                       "<p>(A demo excerpt. Read the whole book at Project Gutenberg.)</p>"),
        ("Chapter III", "<h1>Chapter III</h1><p>Made for the Iizuka City e-library demo.</p>"),
    ]


def _fixed_zip(data: bytes) -> bytes:
    """Re-pack with fixed timestamps, so the same book gives the same bytes."""
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as target:
        for info in source.infolist():
            fixed = zipfile.ZipInfo(info.filename, date_time=(1980, 1, 1, 0, 0, 0))
            fixed.compress_type = zipfile.ZIP_STORED if info.filename == "mimetype" else zipfile.ZIP_DEFLATED
            target.writestr(fixed, source.read(info.filename))
    return out.getvalue()


def make_epub(book: DemoBook, *, identifier: str | None = None, title: str | None = None) -> bytes:
    """One EPUB 3 book as bytes."""
    e = epub.EpubBook()
    e.set_identifier(identifier or f"urn:manabi:demo:{book.key}")
    e.title = title or book.title  # set_title() gives the title no id, and file-as needs one
    e.add_metadata("DC", "title", e.title, {"id": "main-title"})
    e.add_metadata("OPF", "meta", book.title_reading, {"refines": "#main-title", "property": "file-as"})
    e.set_language(book.language)
    e.add_author(book.author, file_as=book.author_reading, role="aut", uid="author")
    e.add_metadata("DC", "publisher", "飯塚市電子図書館（デモ）" if book.language == "ja" else "Iizuka City e-library (demo)")
    e.add_metadata("DC", "date", "2026-04-01")
    e.add_metadata("DC", "description", book.description)
    for subject in book.subjects:
        e.add_metadata("DC", "subject", subject)
    e.set_cover("cover.jpg", _cover_jpeg(book), create_page=False)
    style = epub.EpubItem(uid="style", file_name="style.css", media_type="text/css",
                          content=b"html { writing-mode: vertical-rl; }" if book.vertical else b"body { margin: 1em; }")
    e.add_item(style)
    chapters = []
    for number, (label, body) in enumerate(_chapters(book), start=1):
        chapter = epub.EpubHtml(title=label, file_name=f"chapter{number}.xhtml", lang=book.language)
        chapter.content = body
        chapter.add_item(style)
        e.add_item(chapter)
        chapters.append(chapter)
    e.toc = chapters
    e.add_item(epub.EpubNcx())
    e.add_item(epub.EpubNav())
    e.spine = chapters
    if book.vertical:
        e.set_direction("rtl")
    out = io.BytesIO()
    epub.write_epub(out, e, {"mtime": FIXED_TIME})
    return _fixed_zip(out.getvalue())
