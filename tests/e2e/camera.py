"""A fake camera for the scanner's browser tests: Chromium plays a Y4M video that this writes,
frame by frame, from an image of a QR (no ffmpeg needed)."""

from __future__ import annotations

import io
from pathlib import Path

from PIL import Image

from registrations.tickets import qr_png

WIDTH, HEIGHT, FRAMES = 640, 480, 10
QR_SIDE = 360


def write_y4m(path: Path, image: Image.Image | None) -> None:
    """A short 640x480 video (Chromium loops it) of the image centred on white, or of white."""
    frame = Image.new("L", (WIDTH, HEIGHT), 255)
    if image is not None:
        square = image.convert("L").resize((QR_SIDE, QR_SIDE), Image.Resampling.NEAREST)
        frame.paste(square, ((WIDTH - QR_SIDE) // 2, (HEIGHT - QR_SIDE) // 2))
    chroma = bytes([128]) * (WIDTH // 2 * HEIGHT // 2)
    with path.open("wb") as video:
        video.write(f"YUV4MPEG2 W{WIDTH} H{HEIGHT} F{FRAMES}:1 Ip A1:1 C420jpeg\n".encode())
        for _ in range(FRAMES):
            video.write(b"FRAME\n" + frame.tobytes() + chroma + chroma)


def ticket_image(code: str) -> Image.Image:
    """The ticket's QR as the personal page and the e-mail show it."""
    return Image.open(io.BytesIO(qr_png(code, box_size=8)))
