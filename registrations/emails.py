"""E-mails to the people who registered (being written)."""

from __future__ import annotations


def send(registration_id: int, kind: str) -> None:
    return None


def send_invitation(invitation_id: int) -> None:
    return None
