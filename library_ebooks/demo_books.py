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
    DemoBook("kusamakura", "草枕", "くさまくら", "夏目 漱石", "なつめ そうせき", "ja", ("日本文学", "小説"),
             "山中の温泉宿に逗留する画家の目を通して、「非人情」の美を求める旅を描く。",
             "山路を登りながら、こう考えた。<ruby>智<rt>ち</rt></ruby>に働けば角が立つ。情に<ruby>棹<rt>さお</rt></ruby>させば"
             "流される。意地を通せば窮屈だ。とかくに人の世は住みにくい。", True, (60, 110, 90)),
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
    """The cover: title and author on a coloured ground, vertical for vertical books."""
    from library_ebooks.services.covers import generated_cover

    return generated_cover(book.title, book.author, vertical=book.vertical)


# Filler written for the demo (no third party's text): enough chapters and paragraphs
# that the reader's paging, contents and settings have something to show.
_FILLER_JA = ("その日の空は高く、町の向こうに山の稜線がくっきりと見えていた。", "道の端には季節の花が咲き、風が通るたびに小さく揺れた。",
              "誰かが遠くで名前を呼んだような気がして、ふと足を止めた。", "古い橋の上から川をのぞくと、魚の影がすばやく横切っていった。",
              "夕方になると、家々の窓にひとつ、またひとつと明かりがともった。", "机の上には読みかけの本が、ページを開いたまま置かれていた。")
_FILLER_EN = ("The sky that day was high and clear, and the hills stood sharp beyond the town.",
              "Flowers grew along the edge of the road and nodded whenever the wind passed.",
              "Someone seemed to call a name in the distance, and the walker stopped to listen.",
              "From the old bridge one could watch the shadows of fish dart across the river.",
              "As evening came, lights appeared in the windows one after another.",
              "On the desk lay a book, left open at the page where the reading had stopped.")
CHAPTERS = 8
PARAGRAPHS = 6


def _chapters(book: DemoBook) -> list[tuple[str, str]]:
    japanese = book.language == "ja"
    filler = _FILLER_JA if japanese else _FILLER_EN
    numerals = "一二三四五六七八九十"
    chapters = []
    for number in range(1, CHAPTERS + 1):
        label = numerals[number - 1] if japanese else f"Chapter {number}"
        paragraphs = [book.opening] if number == 1 else []
        if number == 2:
            paragraphs.append(book.description)
        for n in range(PARAGRAPHS):
            paragraphs.append("".join(filler[(number + n + k) % len(filler)] for k in range(3)) if japanese
                              else " ".join(filler[(number + n + k) % len(filler)] for k in range(3)))
        if number == CHAPTERS:
            paragraphs.append("（この本は飯塚市電子図書館のデモのために作成した文章です。）" if japanese
                              else "(Text made for the Iizuka City e-library demo.)")
        chapters.append((label, f"<h1>{label}</h1>" + "".join(f"<p>{p}</p>" for p in paragraphs)))
    return chapters


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


# --------------------------------------------------------------------------- picture books
# Fixed-layout EPUB 3 picture books, drawn at demo time with Pillow: each page a picture
# (shapes and the page's sentence, set with the system's Japanese font) in an XHTML page
# sized by its viewport, the sentence also as the picture's alt text (read aloud).

PAGE_SIZE = (600, 800)


@dataclass(frozen=True)
class PictureBook:
    key: str
    title: str
    title_reading: str
    author: str
    author_reading: str
    language: str
    rtl: bool                      # page-progression-direction rtl (Japanese picture books)
    colour: tuple[int, int, int]
    sentences: tuple[str, ...]     # one per page, in turn


PICTURE_BOOKS = (
    PictureBook("kuma", "くまのこ いいづかを あるく", "くまのこいいづかをあるく", "飯塚市電子図書館", "いいづかしでんしとしょかん",
                "ja", True, (230, 170, 80),
                ("くまのこが あさ めを さましました。", "おひさまが にこにこ わらっています。",
                 "かわの ほとりを あるきます。", "とりが うたを うたっています。",
                 "はしを わたって まちへ いきます。", "としょかんで えほんを かりました。",
                 "ゆうやけの そらが きれいです。", "おやすみなさい。また あした。")),
    PictureBook("stars", "Counting Stars", "Counting Stars", "Iizuka City e-library", "Iizuka City e-library", "en",
                False, (40, 60, 120),
                ("One star came out.", "Two stars said hello.", "Three stars went for a walk.",
                 "Four stars sang a song.", "Five stars danced.", "Six stars fell asleep.")),
)


def _page_jpeg(book: PictureBook, number: int, sentence: str) -> bytes:
    from library_ebooks.services.covers import _font

    width, height = PAGE_SIZE
    shade = (number * 37) % 60
    ground = tuple(min(255, c + shade) for c in book.colour)
    image = Image.new("RGB", PAGE_SIZE, ground)
    draw = ImageDraw.Draw(image)
    # A hill, a sun and a figure that walks across the book.
    draw.ellipse((-200, height - 260, width + 200, height + 300), fill=(90, 150, 80))
    draw.ellipse((width - 170, 60, width - 70, 160), fill=(250, 220, 90))
    x = 80 + (number * 53) % (width - 200)
    draw.ellipse((x, height - 330, x + 90, height - 240), fill=(120, 80, 50))
    draw.ellipse((x + 5, height - 345, x + 30, height - 320), fill=(120, 80, 50))
    draw.ellipse((x + 60, height - 345, x + 85, height - 320), fill=(120, 80, 50))
    draw.rectangle((30, 200, width - 30, 290), fill=(255, 255, 255))
    if number == 1:  # the cover: the title large, the author small
        draw.text((width / 2, 232), book.title, font=_font(38), fill=(30, 30, 30), anchor="mm")
        draw.text((width / 2, 275), book.author, font=_font(18), fill=(80, 80, 80), anchor="mm")
    else:
        draw.text((width / 2, 245), sentence, font=_font(30), fill=(30, 30, 30), anchor="mm")
    draw.text((width / 2, height - 30), str(number), font=_font(20), fill=(255, 255, 255), anchor="mm")
    out = io.BytesIO()
    image.save(out, "JPEG", quality=70)
    return out.getvalue()


def make_picture_book(book: PictureBook, *, pages: int | None = None, identifier: str | None = None) -> bytes:
    """A fixed-layout EPUB 3 (rendition:layout pre-paginated) with `pages` pages (default:
    one per sentence), spreads marked page-spread-left/right in the book's direction."""
    count = pages or len(book.sentences) + 1  # the cover, then a page per sentence
    first_side, second_side = ("right", "left") if book.rtl else ("left", "right")
    files: dict[str, bytes | str] = {}
    manifest, spine, nav = [], [], []
    for n in range(1, count + 1):
        sentence = book.title if n == 1 else book.sentences[(n - 2) % len(book.sentences)]
        files[f"OEBPS/images/p{n:03}.jpg"] = _page_jpeg(book, n, sentence)
        files[f"OEBPS/p{n:03}.xhtml"] = (
            '<?xml version="1.0" encoding="utf-8"?>\n<html xmlns="http://www.w3.org/1999/xhtml" '
            f'xml:lang="{book.language}"><head><title>{n}</title>'
            f'<meta name="viewport" content="width={PAGE_SIZE[0]}, height={PAGE_SIZE[1]}"/></head>'
            f'<body><img src="images/p{n:03}.jpg" alt="{sentence}"/></body></html>')
        manifest.append(f'<item id="p{n:03}" href="p{n:03}.xhtml" media-type="application/xhtml+xml"/>'
                        f'<item id="i{n:03}" href="images/p{n:03}.jpg" media-type="image/jpeg"/>')
        # Page 1 (the cover) stands alone on the far side; then pages pair up.
        side = second_side if n % 2 == 1 else first_side
        spine.append(f'<itemref idref="p{n:03}" properties="page-spread-{side}"/>')
        if n == 1 or n % 10 == 0:
            nav.append(f'<li><a href="p{n:03}.xhtml">{n}</a></li>')
    files["OEBPS/nav.xhtml"] = (
        '<?xml version="1.0" encoding="utf-8"?>\n<html xmlns="http://www.w3.org/1999/xhtml" '
        'xmlns:epub="http://www.idpf.org/2007/ops"><head><title>nav</title></head><body>'
        f'<nav epub:type="toc"><ol>{"".join(nav)}</ol></nav></body></html>')
    direction = ' page-progression-direction="rtl"' if book.rtl else ""
    files["OEBPS/package.opf"] = f"""<?xml version="1.0" encoding="utf-8"?>
<package xmlns="http://www.idpf.org/2007/opf" version="3.0" unique-identifier="uid"
         prefix="rendition: http://www.idpf.org/vocab/rendition/#">
 <metadata xmlns:dc="http://purl.org/dc/elements/1.1/">
  <dc:identifier id="uid">{identifier or f"urn:manabi:demo:{book.key}"}</dc:identifier>
  <dc:title id="t">{book.title}</dc:title><meta refines="#t" property="file-as">{book.title_reading}</meta>
  <dc:creator id="c">{book.author}</dc:creator><meta refines="#c" property="file-as">{book.author_reading}</meta>
  <dc:language>{book.language}</dc:language>
  <dc:subject>{"絵本" if book.language == "ja" else "Picture books"}</dc:subject>
  <dc:subject>{"児童書" if book.language == "ja" else "Children's books"}</dc:subject>
  <dc:publisher>{"飯塚市電子図書館（デモ）" if book.language == "ja" else "Iizuka City e-library (demo)"}</dc:publisher>
  <dc:date>2026-04-01</dc:date>
  <meta property="dcterms:modified">2026-04-01T00:00:00Z</meta>
  <meta property="rendition:layout">pre-paginated</meta>
  <meta property="rendition:spread">landscape</meta>
 </metadata>
 <manifest><item id="nav" href="nav.xhtml" media-type="application/xhtml+xml" properties="nav"/>{"".join(manifest)}
 </manifest>
 <spine{direction}>{"".join(spine)}</spine>
</package>"""
    files["META-INF/container.xml"] = CONTAINER_XML
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr(zipfile.ZipInfo("mimetype", (1980, 1, 1, 0, 0, 0)), "application/epub+zip")
        for name, content in files.items():
            info = zipfile.ZipInfo(name, (1980, 1, 1, 0, 0, 0))
            # Pictures are already compressed: stored, they cost nothing to read.
            info.compress_type = zipfile.ZIP_STORED if name.endswith(".jpg") else zipfile.ZIP_DEFLATED
            archive.writestr(info, content)
    return out.getvalue()


CONTAINER_XML = """<?xml version="1.0"?>
<container version="1.0" xmlns="urn:oasis:names:tc:opendocument:xmlns:container">
 <rootfiles><rootfile full-path="OEBPS/package.opf" media-type="application/oebps-package+xml"/></rootfiles>
</container>"""
