"""A printable QR code for a payment link: the code, a quiet zone, and words under it.

segno (pure Python, no dependencies) encodes the link and writes the code as PNG; Pillow, which
matplotlib brings in anyway for /report, sets the shop's name and the amount underneath, with
the scalable font Pillow ships (no system fonts needed on Heroku). Both are imported on first
use: the bot starts as fast as before and pays for them only when someone asks for a code.
"""

from __future__ import annotations

import io

#: Width of the whole picture in pixels: about 10 cm at 300 dpi, scannable from a poster.
TARGET_WIDTH = 1200
#: Quiet zone around the code in modules (the QR standard asks for 4).
QUIET_ZONE = 4
_MARGIN = 40  # pixels around the text


def payment_qr_png(link: str, lines: list[str]) -> bytes:
    """PNG of `link` as a QR code with `lines` (shop name, amount…) centred under it."""
    import segno
    from PIL import Image, ImageDraw

    code = segno.make_qr(link, error="m")
    modules = code.symbol_size(scale=1, border=QUIET_ZONE)[0]
    scale = max(4, TARGET_WIDTH // modules)
    png = io.BytesIO()
    code.save(png, kind="png", scale=scale, border=QUIET_ZONE)
    png.seek(0)
    qr_image = Image.open(png).convert("L")
    width = qr_image.width
    fonts = [_font(size) for size in _sizes(width, len(lines))]
    heights = [_text_box(font, line)[1] for font, line in zip(fonts, lines, strict=True)]
    # The code's quiet zone is the top margin of the first line.
    text_height = sum(heights) + _MARGIN * (len(lines) + 1) if lines else 0
    picture = Image.new("L", (width, qr_image.height + text_height), 255)
    picture.paste(qr_image, (0, 0))
    draw = ImageDraw.Draw(picture)
    y = qr_image.height
    for font, line, height in zip(fonts, lines, heights, strict=True):
        font = _fit(draw, font, line, width - 2 * _MARGIN)
        line_width = draw.textlength(line, font=font)
        draw.text(((width - line_width) / 2, y), line, font=font, fill=0)
        y += height + _MARGIN
    out = io.BytesIO()
    picture.save(out, format="PNG", optimize=True)
    return out.getvalue()


def _sizes(width: int, n: int) -> list[int]:
    """The first line (the shop) large, the rest a little smaller."""
    big = width // 12
    return [big if i == 0 else int(big * 0.8) for i in range(n)]


def _font(size: int) -> object:
    from PIL import ImageFont

    return ImageFont.load_default(size=size)


def _text_box(font: object, line: str) -> tuple[float, float]:
    """(width, height) of `line`, the height measured from the top of the line."""
    left, _, right, bottom = font.getbbox(line or " ")  # type: ignore[attr-defined]
    return right - left, bottom


def _fit(draw: object, font: object, line: str, room: float) -> object:
    """The same font, smaller until `line` fits in `room` pixels (long shop names)."""
    size = font.size  # type: ignore[attr-defined]
    while size > 12 and draw.textlength(line, font=font) > room:  # type: ignore[attr-defined]
        size = int(size * 0.9)
        font = _font(size)
    return font
