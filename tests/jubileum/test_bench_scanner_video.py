"""bench/scanner_video.py: the frame stamps and the fake camera's Y4M that the scanner benchmark
(bench/scanner_field.py) plays; no browser, no timing."""

from __future__ import annotations

import random

import pytest
import zxingcpp
from PIL import Image, ImageChops

from bench.scanner_video import (
    HEIGHT,
    MAX_FRAME,
    VARIANTS,
    WARM_UP_TEXT,
    WIDTH,
    Segment,
    bits_to_number,
    frame_size,
    header,
    read_stamp,
    scene_with,
    stamp_bits,
    stamped,
    table,
    ticket_qr,
    write_video,
)

CODE = "ABCDEFGHIJKLMNOPQRST"


@pytest.mark.parametrize("number", [0, 1, 2, 1000, 4097, MAX_FRAME])
def test_stamp_bits_round_trip(number):
    bits = stamp_bits(number)

    assert len(bits) == 16
    assert bits[:2] == [1, 0]
    assert bits_to_number(bits) == number


def test_a_damaged_stamp_reads_as_nothing():
    bits = stamp_bits(1234)
    flipped = [*bits[:5], 1 - bits[5], *bits[6:]]  # one number bit: the parity no longer fits
    no_sentinel = [0, *bits[1:]]

    assert bits_to_number(flipped) is None
    assert bits_to_number(no_sentinel) is None
    assert bits_to_number(bits[:-1]) is None
    with pytest.raises(ValueError):
        stamp_bits(MAX_FRAME + 1)


def test_stamp_reads_back_from_a_noisy_frame():
    noisy = ImageChops.add(
        table(random.Random(1)), Image.effect_noise((WIDTH, HEIGHT), 12), 1.0, -128
    )
    luma = noisy.tobytes()

    assert read_stamp(stamped(luma, 2345)) == 2345
    assert read_stamp(stamped(stamped(luma, 2345), 7)) == 7
    assert len(stamped(luma, 7)) == len(luma)
    assert read_stamp(luma) is None  # no stamp: the table's grain is no number


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_every_variant_of_a_ticket_is_a_readable_qr(variant):
    rng = random.Random(5)
    picture = scene_with(ticket_qr(CODE), VARIANTS[variant], rng, table(rng))

    assert picture.size == (WIDTH, HEIGHT)
    assert [b.text for b in zxingcpp.read_barcodes(picture)] == [f"JUB1:{CODE}"]


def test_video_is_y4m_with_each_frame_stamped_in_order(tmp_path):
    path = tmp_path / "camera.y4m"
    segments = [
        Segment("warm-up", 2),
        Segment("blank", 1),
        Segment("ticket", 2, CODE, "small"),
    ]

    shown = write_video(path, segments, fps=10)

    assert [(s.first, s.end) for s in shown] == [(0, 2), (2, 3), (3, 5)]
    data = path.read_bytes()
    head = header(10)
    assert head == b"YUV4MPEG2 W1280 H720 F10:1 Ip A1:1 C420jpeg\n"
    assert len(data) == len(head) + 5 * frame_size()
    assert not (tmp_path / "camera.y4m.partial").exists()
    for number in range(5):
        start = len(head) + number * frame_size()
        assert data[start : start + 6] == b"FRAME\n"
        luma = data[start + 6 : start + 6 + WIDTH * HEIGHT]
        assert read_stamp(luma) == number
        picture = Image.frombytes("L", (WIDTH, HEIGHT), luma)
        texts = [b.text for b in zxingcpp.read_barcodes(picture)]
        assert texts == ([WARM_UP_TEXT] if number < 2 else [] if number == 2 else [f"JUB1:{CODE}"])
