"""A fake camera for the scanner's browser tests: Chromium plays a Y4M video that this writes,
frame by frame, from an image of a QR (no ffmpeg needed)."""

from __future__ import annotations

import io
from collections.abc import Sequence
from pathlib import Path
from typing import BinaryIO

from PIL import Image

from registrations.tickets import qr_png

WIDTH, HEIGHT, FRAMES = 640, 480, 10
QR_SIDE = 360
# The door queue: a 720p camera, a ticket in view for 1.2 s every 1.5 s. One frame per 0.3 s
# keeps the file small (a 720p frame is 1.4 MB) and gives the decoder four frames per ticket, far
# fewer than a phone's camera does.
QUEUE_WIDTH, QUEUE_HEIGHT, QUEUE_QR_SIDE = 1280, 720, 320
QUEUE_FRAME_S, QUEUE_RATE = 0.3, "10:3"
QUEUE_IN_VIEW_S, QUEUE_EVERY_S = 1.2, 1.5


def _frame(width: int, height: int, image: Image.Image | None, side: int) -> bytes:
    """One Y4M frame (4:2:0, grey): the image centred on white, or white."""
    frame = Image.new("L", (width, height), 255)
    if image is not None:
        square = image.convert("L").resize((side, side), Image.Resampling.NEAREST)
        frame.paste(square, ((width - side) // 2, (height - side) // 2))
    chroma = bytes([128]) * (width // 2 * height // 2)
    return b"FRAME\n" + frame.tobytes() + chroma + chroma


def _header(video: BinaryIO, width: int, height: int, rate: str) -> None:
    video.write(f"YUV4MPEG2 W{width} H{height} F{rate} Ip A1:1 C420jpeg\n".encode())


def write_y4m(path: Path, image: Image.Image | None) -> None:
    """A short 640x480 video (Chromium loops it) of the image centred on white, or of white."""
    frame = _frame(WIDTH, HEIGHT, image, QR_SIDE)
    with path.open("wb") as video:
        _header(video, WIDTH, HEIGHT, f"{FRAMES}:1")
        for _ in range(FRAMES):
            video.write(frame)


def write_queue_y4m(
    path: Path, images: Sequence[Image.Image], *, lead_s: float = 2.0, tail_s: float = 1.0
) -> float:
    """A 720p video of a brisk queue: white for `lead_s` (the page is getting ready), then each
    image in view for 1.2 s every 1.5 s, then white for `tail_s`; Chromium loops it. Returns the
    moment, in seconds from the start, the last ticket leaves the view."""
    per_ticket = round(QUEUE_IN_VIEW_S / QUEUE_FRAME_S)
    gap = round((QUEUE_EVERY_S - QUEUE_IN_VIEW_S) / QUEUE_FRAME_S)
    blank = _frame(QUEUE_WIDTH, QUEUE_HEIGHT, None, 0)
    frames = 0
    last_out = 0.0
    with path.open("wb") as video:
        _header(video, QUEUE_WIDTH, QUEUE_HEIGHT, QUEUE_RATE)
        for _ in range(round(lead_s / QUEUE_FRAME_S)):
            video.write(blank)
            frames += 1
        for image in images:
            ticket = _frame(QUEUE_WIDTH, QUEUE_HEIGHT, image, QUEUE_QR_SIDE)
            for _ in range(per_ticket):
                video.write(ticket)
            frames += per_ticket
            last_out = frames * QUEUE_FRAME_S
            for _ in range(gap):
                video.write(blank)
            frames += gap
        for _ in range(round(tail_s / QUEUE_FRAME_S)):
            video.write(blank)
    return last_out


def ticket_image(code: str) -> Image.Image:
    """The ticket's QR as the personal page and the e-mail show it."""
    return Image.open(io.BytesIO(qr_png(code, box_size=8)))
