"""Draw the scanner's app icons (static/icons/scanner-192.png and scanner-512.png) from the
site's favicon (static/icons/favicon.svg): the white flame on the theme red, on a full square so
that phones which cut their own shape out of it (maskable icons) keep the flame whole.

Pillow draws no SVG, so the favicon's one path is written out here as points: its cubic curves
and its half circle, in the favicon's 32x32 units. Run from the project root after changing the
favicon: `.venv/bin/python docs/make_scanner_icons.py`.
"""

from __future__ import annotations

import math
from pathlib import Path

from PIL import Image, ImageDraw

RED = "#b41e1e"  # --theme in static/css/site.css and the favicon's fill
SIZES = (192, 512)
OUT = Path(__file__).resolve().parent.parent / "static" / "icons"
SUPERSAMPLE = 4  # drawn large, then scaled down: smooth edges without anti-aliased drawing
STEPS = 48

Point = tuple[float, float]


def cubic(p0: Point, p1: Point, p2: Point, p3: Point) -> list[Point]:
    points = []
    for i in range(1, STEPS + 1):
        t = i / STEPS
        u = 1 - t
        points.append(
            (
                u**3 * p0[0] + 3 * u**2 * t * p1[0] + 3 * u * t**2 * p2[0] + t**3 * p3[0],
                u**3 * p0[1] + 3 * u**2 * t * p1[1] + 3 * u * t**2 * p2[1] + t**3 * p3[1],
            )
        )
    return points


def flame() -> list[Point]:
    """favicon.svg's path `M16 4c1 5 7 8 7 15a7 7 0 0 1-14 0c0-4 2-6 4-8 0 3 1 5 3 5-1-4 0-8
    0-12z` in absolute points."""
    points: list[Point] = [(16, 4)]
    points += cubic((16, 4), (17, 9), (23, 12), (23, 19))
    # The half circle of radius 7 around (16, 19), from its right through its bottom to its left.
    points += [
        (16 + 7 * math.cos(math.pi * i / STEPS), 19 + 7 * math.sin(math.pi * i / STEPS))
        for i in range(1, STEPS + 1)
    ]
    points += cubic((9, 19), (9, 15), (11, 13), (13, 11))
    points += cubic((13, 11), (13, 14), (14, 16), (16, 16))
    points += cubic((16, 16), (15, 12), (16, 8), (16, 4))
    return points


def icon(size: int) -> Image.Image:
    big = size * SUPERSAMPLE
    image = Image.new("RGB", (big, big), RED)
    # The flame in the middle 80%: the safe zone of a maskable icon.
    scale = big * 0.8 / 32
    offset = big * 0.1
    ImageDraw.Draw(image).polygon(
        [(offset + x * scale, offset + y * scale) for x, y in flame()], fill="white"
    )
    return image.resize((size, size), Image.Resampling.LANCZOS)


def main() -> None:
    for size in SIZES:
        icon(size).save(OUT / f"scanner-{size}.png", optimize=True)


if __name__ == "__main__":
    main()
