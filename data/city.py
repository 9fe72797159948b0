"""Reference figures of Iizuka City used by the demo generator.

Counts come from the regional informatization plan (../shared/seed/): 9,923 pupil
tablets, 320 e-blackboards in ordinary classrooms, 830 teacher tablets, public Wi-Fi
at the central community hall, 12 community centres and the sports facilities.
School and centre names follow the city's districts; the per-school split is made up.
"""

from __future__ import annotations

PUPIL_TABLETS = 9_923
E_BLACKBOARDS = 320
TEACHER_TABLETS = 830

# (code, name_ja, name_en, kind): 21 elementary, 7 junior high, 2 compulsory schools.
SCHOOLS: tuple[tuple[str, str, str, str], ...] = (
    ("E01", "飯塚小学校", "Iizuka Elementary School", "elementary"),
    ("E02", "片島小学校", "Katashima Elementary School", "elementary"),
    ("E03", "立岩小学校", "Tateiwa Elementary School", "elementary"),
    ("E04", "菰田小学校", "Komoda Elementary School", "elementary"),
    ("E05", "飯塚東小学校", "Iizuka Higashi Elementary School", "elementary"),
    ("E06", "鯰田小学校", "Namazuta Elementary School", "elementary"),
    ("E07", "二瀬小学校", "Futase Elementary School", "elementary"),
    ("E08", "伊岐須小学校", "Ikisu Elementary School", "elementary"),
    ("E09", "蓮台寺小学校", "Rendaiji Elementary School", "elementary"),
    ("E10", "八木山小学校", "Yakiyama Elementary School", "elementary"),
    ("E11", "上穂波小学校", "Kamihonami Elementary School", "elementary"),
    ("E12", "大分小学校", "Daibu Elementary School", "elementary"),
    ("E13", "平恒小学校", "Hiratsune Elementary School", "elementary"),
    ("E14", "穂波東小学校", "Honami Higashi Elementary School", "elementary"),
    ("E15", "穂波西小学校", "Honami Nishi Elementary School", "elementary"),
    ("E16", "楽市小学校", "Rakuichi Elementary School", "elementary"),
    ("E17", "庄内小学校", "Shonai Elementary School", "elementary"),
    ("E18", "筑穂小学校", "Chikuho Elementary School", "elementary"),
    ("E19", "内野小学校", "Uchino Elementary School", "elementary"),
    ("E20", "碓井小学校", "Usui Elementary School", "elementary"),
    ("E21", "椋本小学校", "Mukumoto Elementary School", "elementary"),
    ("J01", "飯塚第一中学校", "Iizuka Daiichi Junior High School", "junior_high"),
    ("J02", "飯塚第二中学校", "Iizuka Daini Junior High School", "junior_high"),
    ("J03", "菰田中学校", "Komoda Junior High School", "junior_high"),
    ("J04", "二瀬中学校", "Futase Junior High School", "junior_high"),
    ("J05", "穂波西中学校", "Honami Nishi Junior High School", "junior_high"),
    ("J06", "庄内中学校", "Shonai Junior High School", "junior_high"),
    ("J07", "筑穂中学校", "Chikuho Junior High School", "junior_high"),
    ("C01", "頴田小中学校", "Kaita Compulsory School", "compulsory"),
    ("C02", "幸袋小中学校", "Kobukuro Compulsory School", "compulsory"),
)

# Lifelong-learning facilities named in the plan (public Wi-Fi sites), for the facilities module.
CENTRAL_HALL = ("中央公民館", "Central Community Hall")
COMMUNITY_CENTRES: tuple[tuple[str, str], ...] = (
    ("飯塚交流センター", "Iizuka Community Centre"),
    ("立岩交流センター", "Tateiwa Community Centre"),
    ("菰田交流センター", "Komoda Community Centre"),
    ("飯塚東交流センター", "Iizuka Higashi Community Centre"),
    ("鯰田交流センター", "Namazuta Community Centre"),
    ("二瀬交流センター", "Futase Community Centre"),
    ("幸袋交流センター", "Kobukuro Community Centre"),
    ("鎮西交流センター", "Chinzei Community Centre"),
    ("穂波交流センター", "Honami Community Centre"),
    ("筑穂交流センター", "Chikuho Community Centre"),
    ("庄内交流センター", "Shonai Community Centre"),
    ("頴田交流センター", "Kaita Community Centre"),
)
SPORTS_FACILITIES: tuple[tuple[str, str], ...] = (
    ("いいづかスポーツ・リゾート テニスコート", "Iizuka Sports Resort Tennis Courts"),
    ("飯塚市総合体育館", "Iizuka City General Gymnasium"),
    ("穂波福祉総合センター", "Honami Welfare Centre"),
)
HERITAGE_SITES: tuple[tuple[str, str], ...] = (
    ("旧伊藤伝右衛門邸", "Former Ito Den'emon Residence"),
    ("飯塚市歴史資料館", "Iizuka City History Museum"),
)


def split(total: int, parts: int, weights: list[float]) -> list[int]:
    """Split `total` into `parts` integers proportional to `weights`, summing exactly."""
    scale = total / sum(weights)
    raw = [w * scale for w in weights[:parts]]
    counts = [int(x) for x in raw]
    # Hand out what rounding down left over, largest remainders first.
    for i in sorted(range(parts), key=lambda i: raw[i] - counts[i], reverse=True)[: total - sum(counts)]:
        counts[i] += 1
    return counts
