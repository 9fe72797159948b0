"""Rights statements: Creative Commons licences and rightsstatements.org URIs.

Only these are accepted (the IIIF schema accepts nothing else for `rights`). They are
stored in their canonical http:// form. A download of the full-size image is offered only
where the statement allows reuse; viewing (display size, thumbnails) is always allowed.
"""

from __future__ import annotations

import re

from kernel.errors import InvalidInput

_CC = re.compile(r"^https?://creativecommons\.org/(licenses/(by|by-sa|by-nd|by-nc|by-nc-sa|by-nc-nd)/(1\.0|2\.0|2\.1|2\.5|3\.0|4\.0)(/[a-z]{2})?|publicdomain/(zero|mark)/1\.0)/?$")
_RS = re.compile(r"^https?://rightsstatements\.org/(vocab|page)/(InC|InC-OW-EU|InC-EDU|InC-NC|InC-RUU|NoC-CR|NoC-NC|NoC-OKLR|NoC-US|CNE|UND|NKC)/1\.0/?$")

# rightsstatements.org statements that allow reuse (and so a download).
_RS_REUSABLE = {"NoC-CR", "NoC-NC", "NoC-OKLR", "NoC-US", "InC-EDU", "NKC"}

# The choices offered in forms, most open first.
COMMON = (
    "http://creativecommons.org/publicdomain/mark/1.0/",
    "http://creativecommons.org/publicdomain/zero/1.0/",
    "http://creativecommons.org/licenses/by/4.0/",
    "http://creativecommons.org/licenses/by-sa/4.0/",
    "http://creativecommons.org/licenses/by-nc/4.0/",
    "http://creativecommons.org/licenses/by-nc-nd/4.0/",
    "http://rightsstatements.org/vocab/InC-EDU/1.0/",
    "http://rightsstatements.org/vocab/InC/1.0/",
    "http://rightsstatements.org/vocab/CNE/1.0/",
)


def canonical(uri: str | None) -> str:
    """The stored form of a rights URI, or InvalidInput when it is not one we know."""
    text = (uri or "").strip()
    cc, rs = _CC.match(text), _RS.match(text)
    if not (cc or rs):
        raise InvalidInput("archive.error.bad_rights", rights=text or "—")
    text = "http://" + text.split("://", 1)[1]
    if rs:
        text = text.replace("/page/", "/vocab/")
    return text if text.endswith("/") else text + "/"


def is_valid(uri: str | None) -> bool:
    try:
        canonical(uri)
    except InvalidInput:
        return False
    return True


def allows_download(uri: str) -> bool:
    """Creative Commons licences and public-domain marks allow copies; of the
    rightsstatements.org ones only the 'no copyright' family and InC-EDU/NKC do."""
    if _CC.match(uri):
        return True
    match = _RS.match(uri)
    return bool(match and match[2] in _RS_REUSABLE)


def short_name(uri: str) -> str:
    """'CC BY 4.0', 'CC0 1.0', 'PDM 1.0', 'InC-EDU' — a label for pages and lists."""
    cc = _CC.match(uri)
    if cc:
        if cc[5]:
            return "CC0 1.0" if cc[5] == "zero" else "Public Domain Mark 1.0"
        return f"CC {cc[2].upper()} {cc[3]}"
    rs = _RS.match(uri)
    return rs[2] if rs else uri
