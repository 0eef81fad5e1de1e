"""bench/scanner_field.py: which change of the result panel belongs to which ticket (no browser,
no timing). The script runs from bench/, so its sibling modules are imported from there."""

from __future__ import annotations

import sys
from pathlib import Path

BENCH = str(Path(__file__).resolve().parents[2] / "bench")
if BENCH not in sys.path:
    sys.path.insert(0, BENCH)

from scanner_field import Seen, attribute, interleaved, queue, subset  # noqa: E402
from scanner_video import Segment, layout  # noqa: E402

NAMES = {"AAAA": "Gast000", "BBBB": "Gast001", "CCCC": "Gast002"}


def _paint(at: float, text: str, result: str = "ok") -> dict:
    return {"t": at - 5, "raf": at, "result": result, "nonce": "", "text": text}


def _video():
    # frames 0-9 warm-up, 10-14 blank, then three tickets of 10 frames with 5 blank between
    return layout(
        [
            Segment("warm-up", 10),
            Segment("blank", 5),
            Segment("ticket", 10, "AAAA"),
            Segment("blank", 5),
            Segment("ticket", 10, "BBBB"),
            Segment("blank", 5),
            Segment("ticket", 10, "CCCC"),
            Segment("blank", 5),
        ]
    )


def _frames(numbers) -> list[tuple[int, float]]:
    return [(n, 1000.0 + n * 100) for n in numbers]


def test_a_change_counts_for_the_ticket_it_names_or_else_the_last_one_shown():
    seen = Seen(
        frames=_frames(range(60)),
        paints=[
            _paint(1300, "✕ Dit is geen toegangsbewijs", "not_ours"),  # the warm-up QR
            _paint(2750, "✓ Welkom — 1 persoon Gast000 B."),  # ticket AAAA, first frame 2500
            _paint(4300, "Bezig …", "pending"),  # names nobody: BBBB, shown from 4000
            _paint(4600, "✓ Welkom — 2 personen Gast001 B."),  # BBBB again: not its first
            _paint(5600, "✓ Welkom — 3 personen Gast000 B."),  # AAAA again: already painted
        ],
        confirms=[],
        errors=[],
    )

    outcome = attribute(_video(), seen, NAMES)

    assert outcome.shown == {"AAAA": 2500.0, "BBBB": 4000.0, "CCCC": 5500.0}
    assert outcome.painted == {"AAAA": 2750.0, "BBBB": 4300.0}
    assert sorted(outcome.latencies()) == [250.0, 300.0]
    assert outcome.ready_ms == 300.0  # from the first frame presented
    assert outcome.unseen == 0
    assert outcome.answers["ok"] == 3


def test_after_the_last_frame_an_unnamed_change_is_no_tickets_and_unseen_tickets_are_counted():
    # The page presented frames up to 44 and then the video began again (0, 1, ...).
    seen = Seen(
        frames=_frames(range(45)),
        paints=[
            _paint(2700, "✓ Welkom Gast000 B."),
            _paint(5600, "✕ Dit is geen toegangsbewijs", "not_ours"),  # the loop's warm-up
        ],
        confirms=[],
        errors=[],
    )

    outcome = attribute(_video(), seen, NAMES)

    assert outcome.painted == {"AAAA": 2700.0}
    assert outcome.unseen == 1  # CCCC (frames 45-54) was never presented
    assert subset(outcome, ["AAAA", "CCCC"]).unseen == 1
    assert subset(outcome, ["AAAA", "CCCC"]).painted == {"AAAA": 2700.0}


def test_single_tickets_come_in_turn_after_the_lead_in():
    tickets = interleaved({"clean": ["A", "B"], "blurred": ["C", "D"], "small": ["E", "F"]})
    assert tickets == [
        ("A", "clean"),
        ("C", "blurred"),
        ("E", "small"),
        ("B", "clean"),
        ("D", "blurred"),
        ("F", "small"),
    ]

    segments = queue(tickets[:2], 10, view=2.2, gap=0.8)

    assert [(s.kind, s.frames, s.code, s.variant) for s in segments] == [
        ("warm-up", 20, "", "clean"),
        ("blank", 23, "", "clean"),
        ("ticket", 22, "A", "clean"),
        ("blank", 8, "", "clean"),
        ("ticket", 22, "C", "blurred"),
        ("blank", 8, "", "clean"),
        ("blank", 10, "", "clean"),
    ]
