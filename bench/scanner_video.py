"""The fake camera's videos for bench/scanner_field.py: frame-stamped Y4M files of tickets on a
table, written frame by frame with Pillow (no ffmpeg, no numpy).

Every frame carries its number in a stamp: a row of 16 black or white blocks in the top-left
corner, on a clean white band. The page under test reads the stamp in requestVideoFrameCallback
(`STAMP_JS` in scanner_field.py mirrors `read_stamp` here), so it knows when each frame was
shown without touching the scanner's code. The bits, left to right:

    block 0 black, block 1 white (sentinels) | 13 bits of the frame number, most significant
    first | block 15: black when the number of black blocks among the 13 is odd (parity)

A ticket is a paper card (grain) with the ticket's QR on it, turned by up to ±10° and lying a
little off centre on a darker table (grain), with sensor noise that changes from frame to frame.
Three variants: `clean` (the QR ~380 px across at 720p), `blurred` (the same, out of focus) and
`small` (the QR ~150 px across: a phone held far away, ~4.5 px per module).
"""

from __future__ import annotations

import io
import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import qrcode
from PIL import Image, ImageChops, ImageDraw, ImageFilter

from registrations.tickets import qr_png

WIDTH, HEIGHT = 1280, 720

STAMP_BITS = 16
NUMBER_BITS = 13
MAX_FRAME = (1 << NUMBER_BITS) - 1
STAMP_BLOCK = 16  # pixels per block, square
STAMP_X, STAMP_Y = 16, 16  # the first block's top-left corner
STAMP_MARGIN = 8  # white around the blocks
BLACK, WHITE = 16, 235  # video range luma

# What is shown before the first ticket: a QR that is no ticket (the scanner answers "not ours"
# without asking the server), which tells when the scanner first read anything.
WARM_UP_TEXT = "BENCH-WARM-UP"


@dataclass(frozen=True)
class Variant:
    qr_side: int  # pixels across the QR, quiet zone included
    blur: float  # Gaussian blur radius over the whole picture; 0: sharp


VARIANTS = {
    "clean": Variant(qr_side=380, blur=0.0),
    "blurred": Variant(qr_side=380, blur=2.2),
    "small": Variant(qr_side=150, blur=0.0),
}


def stamp_bits(number: int) -> list[int]:
    """The 16 blocks of frame `number` (1 = black)."""
    if not 0 <= number <= MAX_FRAME:
        raise ValueError(f"frame number {number} out of 0..{MAX_FRAME}")
    bits = [(number >> shift) & 1 for shift in range(NUMBER_BITS - 1, -1, -1)]
    return [1, 0, *bits, sum(bits) % 2]


def bits_to_number(bits: Sequence[int]) -> int | None:
    """The frame number of 16 blocks, or None when the sentinels or the parity are wrong."""
    if len(bits) != STAMP_BITS or bits[0] != 1 or bits[1] != 0:
        return None
    number_bits = bits[2 : 2 + NUMBER_BITS]
    if sum(number_bits) % 2 != bits[-1]:
        return None
    number = 0
    for bit in number_bits:
        number = number << 1 | bit
    return number


def stamp_rows(number: int) -> list[tuple[int, bytes]]:
    """(y, bytes from x=STAMP_X - STAMP_MARGIN) rows of luma that draw the stamp with its band."""
    band = bytearray()
    for bit in stamp_bits(number):
        band += bytes([BLACK if bit else WHITE]) * STAMP_BLOCK
    margin = bytes([WHITE]) * STAMP_MARGIN
    row = margin + bytes(band) + margin
    blank = bytes([WHITE]) * len(row)
    top = STAMP_Y - STAMP_MARGIN
    return [
        (y, row if STAMP_Y <= y < STAMP_Y + STAMP_BLOCK else blank)
        for y in range(top, STAMP_Y + STAMP_BLOCK + STAMP_MARGIN)
    ]


def stamp_into(frame: bytearray, number: int, width: int = WIDTH) -> None:
    """Stamps frame `number` into a luma plane, in place (the band is overwritten whole)."""
    x = STAMP_X - STAMP_MARGIN
    for y, row in stamp_rows(number):
        start = y * width + x
        frame[start : start + len(row)] = row


def stamped(luma: bytes, number: int, width: int = WIDTH) -> bytes:
    """A copy of a frame's luma plane with frame `number` stamped into its corner."""
    frame = bytearray(luma)
    stamp_into(frame, number, width)
    return bytes(frame)


def read_stamp(luma: bytes, width: int = WIDTH) -> int | None:
    """The frame number stamped in a luma plane (the mean of each block's middle 4x4), or None."""
    bits = []
    for block in range(STAMP_BITS):
        x0 = STAMP_X + block * STAMP_BLOCK + STAMP_BLOCK // 2 - 2
        y0 = STAMP_Y + STAMP_BLOCK // 2 - 2
        values = [luma[(y0 + dy) * width + x0 + dx] for dy in range(4) for dx in range(4)]
        bits.append(1 if sum(values) / len(values) < 128 else 0)
    return bits_to_number(bits)


# Pictures ------------------------------------------------------------------------------------


def _grain(size: tuple[int, int], rng: random.Random, level: int, spread: float) -> Image.Image:
    """A surface of brightness `level` with a fine grain (paper, a wooden table)."""
    noise = Image.effect_noise(size, 40).filter(ImageFilter.GaussianBlur(0.7 + rng.random() * 0.3))
    return noise.point(lambda v: max(0, min(255, round(level + (v - 128) * spread))))


def table(rng: random.Random) -> Image.Image:
    """The empty scene: a grey table, a little lighter towards the middle."""
    scene = _grain((WIDTH, HEIGHT), rng, 92, 0.25)
    light = Image.radial_gradient("L").resize((WIDTH, HEIGHT)).point(lambda v: (255 - v) // 6)
    return ImageChops.add(scene, light)


def qr_image(payload_png: bytes) -> Image.Image:
    return Image.open(io.BytesIO(payload_png)).convert("L")


def warm_up_qr() -> Image.Image:
    code = qrcode.QRCode(border=4, box_size=8)
    code.add_data(WARM_UP_TEXT)
    code.make(fit=True)
    buffer = io.BytesIO()
    code.make_image().save(buffer, format="PNG")
    return qr_image(buffer.getvalue())


def ticket_qr(code: str) -> Image.Image:
    """The ticket's QR as the personal page and the e-mail show it."""
    return qr_image(qr_png(code, box_size=8))


def scene_with(
    qr: Image.Image, variant: Variant, rng: random.Random, base: Image.Image
) -> Image.Image:
    """`base` (the table) with a paper ticket holding `qr`, turned by up to ±10°, a little off
    centre, blurred as the variant says."""
    side = variant.qr_side
    pad = max(8, side // 10)
    text_height = max(12, side // 4)
    card = _grain((side + 2 * pad, side + 2 * pad + text_height), rng, 226, 0.18)
    ink = qr.resize((side, side), Image.Resampling.NEAREST).point(lambda v: 28 if v < 128 else 255)
    card.paste(ImageChops.darker(card.crop((pad, pad, pad + side, pad + side)), ink), (pad, pad))
    draw = ImageDraw.Draw(card)
    line = max(3, text_height // 6)
    for n, share in enumerate((0.8, 0.55)):  # two lines of "text" under the code
        y = side + pad + line + n * 2 * line
        draw.rectangle((pad, y, pad + int(side * share), y + line - 1), fill=70)
    angle = rng.uniform(-10, 10)
    turned = card.rotate(angle, resample=Image.Resampling.BICUBIC, expand=True, fillcolor=0)
    mask = Image.new("L", card.size, 255).rotate(
        angle, resample=Image.Resampling.BICUBIC, expand=True, fillcolor=0
    )
    frame = base.copy()
    x = (WIDTH - turned.width) // 2 + rng.randint(-60, 60)
    y = (HEIGHT - turned.height) // 2 + rng.randint(-25, 25)
    frame.paste(turned, (x, y), mask)
    if variant.blur:
        frame = frame.filter(ImageFilter.GaussianBlur(variant.blur))
    return frame


# Videos --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Segment:
    """`frames` frames of one picture: a ticket (`code`), the warm-up QR, or the empty table."""

    kind: str  # "ticket", "warm-up" or "blank"
    frames: int
    code: str = ""
    variant: str = "clean"


@dataclass(frozen=True)
class Shown:
    """Where a segment ended up in the video: frames first..end-1."""

    segment: Segment
    first: int
    end: int


def layout(segments: Iterable[Segment]) -> list[Shown]:
    shown, at = [], 0
    for segment in segments:
        shown.append(Shown(segment, at, at + segment.frames))
        at += segment.frames
    if at - 1 > MAX_FRAME:
        raise ValueError(f"{at} frames: the stamp holds at most {MAX_FRAME + 1}")
    return shown


def header(fps: int, width: int = WIDTH, height: int = HEIGHT) -> bytes:
    return f"YUV4MPEG2 W{width} H{height} F{fps}:1 Ip A1:1 C420jpeg\n".encode()


def write_video(path: Path, segments: Sequence[Segment], *, fps: int, seed: int = 1) -> list[Shown]:
    """Writes the segments one after another as a frame-stamped 1280x720 grey Y4M at `fps`
    (Chromium loops it), through a temporary file renamed into place, so that a browser that
    has the old file open keeps reading the old one. Returns where each segment is."""
    rng = random.Random(seed)
    base = table(rng)
    # Sensor noise: a few layers, used in turn, so that no two frames in a row are alike.
    noise = [Image.effect_noise((WIDTH, HEIGHT), 7) for _ in range(3)]
    chroma = bytes([128]) * (WIDTH // 2 * HEIGHT // 2 * 2)  # U and V: grey
    shown = layout(segments)
    partial = path.with_name(path.name + ".partial")
    with partial.open("wb") as video:
        video.write(header(fps))
        empty: list[bytearray] = []  # the empty table's frames, made once
        for place in shown:
            segment = place.segment
            if segment.kind == "blank" and empty:
                lumas = empty
            else:
                if segment.kind == "blank":
                    picture = base
                else:
                    qr = warm_up_qr() if segment.kind == "warm-up" else ticket_qr(segment.code)
                    picture = scene_with(qr, VARIANTS[segment.variant], rng, base)
                lumas = [
                    bytearray(ImageChops.add(picture, layer, 1.0, -128).tobytes())
                    for layer in noise
                ]
                if segment.kind == "blank":
                    empty = lumas
            for number in range(place.first, place.end):
                luma = lumas[number % len(lumas)]
                stamp_into(luma, number)
                video.write(b"FRAME\n")
                video.write(luma)
                video.write(chroma)
    partial.replace(path)
    return shown


def frame_size(width: int = WIDTH, height: int = HEIGHT) -> int:
    """Bytes of one frame in the file (4:2:0), its FRAME line included."""
    return len(b"FRAME\n") + width * height * 3 // 2
