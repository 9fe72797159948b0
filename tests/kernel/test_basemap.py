"""The base map's data: GeoNames' towns around Iizuka, named in both languages, inside the frame."""

from __future__ import annotations

import math

from kernel import basemap

IIZUKA_HALL = (33.6425, 130.692)  # 中央公民館 (demo facility)


def test_the_towns_around_iizuka_are_named_in_both_languages():
    extent = basemap.extent_around([IIZUKA_HALL], margin_km=12)
    towns = basemap.places_in(extent, limit=30)
    by_english = {t.name_en: t for t in towns}
    assert by_english["Iizuka"].name_ja == "飯塚市"
    assert by_english["Iizuka"].name("en") == "Iizuka"
    assert "Tagawa" in by_english and by_english["Tagawa"].name_ja.startswith("田川")
    assert all(extent.contains(t.lat, t.lon) for t in towns)
    assert [t.population for t in towns] == sorted((t.population for t in towns), reverse=True)
    assert len(basemap.places_in(extent, limit=3)) == 3


def test_extent_has_the_margin_and_shape_asked_for():
    points = [(33.569, 130.624), (33.701, 130.733)]
    extent = basemap.extent_around(points, margin_km=2, aspect=2.0)
    assert all(extent.contains(lat, lon) for lat, lon in points)
    km_per_lon = 111.32 * math.cos(math.radians((extent.north + extent.south) / 2))
    width_km = (extent.east - extent.west) * km_per_lon
    height_km = (extent.north - extent.south) * 111.32
    assert abs(width_km / height_km - 2.0) < 0.01
    # 2 km clear of the northernmost point (the height was the longer side once widened).
    assert (extent.north - 33.701) * 111.32 >= 2 - 1e-9


def test_a_one_character_fragment_is_not_taken_for_a_japanese_name():
    assert basemap._japanese_name(["Kami", "上", "嘉麻市"]) == "嘉麻市"
    assert basemap._japanese_name(["上"]) is None
    assert basemap._japanese_name(["Toi", "土居"]) == "土居"
