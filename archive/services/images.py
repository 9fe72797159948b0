"""Images: Pillow checks an upload and makes the three sizes the archive serves.

full     the original, at most 3000 px on the long side (downloads, where rights allow)
display  at most 1200 px (item pages, IIIF canvases)
thumb    at most 320 px (lists, map pop-ups)
All are stored as JPEG bytes in archive_media_files.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

from PIL import Image, ImageOps, UnidentifiedImageError

from kernel.errors import InvalidInput

SIZES = {"full": 3000, "display": 1200, "thumb": 320}
MAX_BYTES = 40 * 1024 * 1024
Image.MAX_IMAGE_PIXELS = 80_000_000  # refuse decompression bombs


@dataclass(frozen=True)
class Rendition:
    size: str
    width: int
    height: int
    data: bytes
    mime: str = "image/jpeg"


def renditions(data: bytes, name: str = "") -> list[Rendition]:
    """The three JPEG sizes of an uploaded image; InvalidInput when it is not one."""
    if not data or len(data) > MAX_BYTES:
        raise InvalidInput("archive.error.bad_image", name=name)
    try:
        with Image.open(io.BytesIO(data)) as probe:
            probe.verify()
        image = Image.open(io.BytesIO(data))
        image = ImageOps.exif_transpose(image)
        image.load()
    except (UnidentifiedImageError, OSError, SyntaxError, Image.DecompressionBombError) as exc:
        raise InvalidInput("archive.error.bad_image", name=name) from exc
    if image.mode not in ("RGB", "L"):
        background = Image.new("RGB", image.size, "white")
        rgba = image.convert("RGBA")
        background.paste(rgba, mask=rgba.getchannel("A"))
        image = background
    out = []
    source = image if image.mode == "RGB" else image.convert("RGB")
    for size, longest in SIZES.items():  # largest first: each size shrinks the one before, in place
        # The full size shrinks little (bicubic is plenty, and 4x faster); the others use Lanczos.
        method = Image.Resampling.BICUBIC if size == "full" else Image.Resampling.LANCZOS
        source.thumbnail((longest, longest), method, reducing_gap=3.0)
        buffer = io.BytesIO()
        source.save(buffer, "JPEG", quality=85 if size != "thumb" else 80, optimize=True)
        out.append(Rendition(size, source.width, source.height, buffer.getvalue()))
    return out
