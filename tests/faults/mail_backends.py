"""A mail backend for worker subprocesses (selected with MAIL_BACKEND) that a test can freeze.

Each e-mail is written to its own file in FAULTS_MAIL_DIR, standing for "the provider accepted
it". While the file `hold` exists in that folder, the backend stops before (FAULTS_HOLD=before:
the provider hangs) or after (FAULTS_HOLD=after: accepted, but the worker has not yet recorded
it sent) writing, and first creates `holding` so the test knows the worker is mid-send.
"""

from __future__ import annotations

import os
import time
import uuid
from pathlib import Path

from django.core.mail.backends.base import BaseEmailBackend


class HoldingFileBackend(BaseEmailBackend):
    def send_messages(self, email_messages) -> int:
        folder = Path(os.environ["FAULTS_MAIL_DIR"])
        hold = os.environ.get("FAULTS_HOLD", "")
        for message in email_messages:
            if hold == "before":
                self._hold(folder)
            (folder / f"{uuid.uuid4().hex}.eml").write_bytes(message.message().as_bytes())
            if hold == "after":
                self._hold(folder)
        return len(email_messages)

    @staticmethod
    def _hold(folder: Path) -> None:
        if not (folder / "hold").exists():
            return
        (folder / "holding").touch()
        while (folder / "hold").exists():
            time.sleep(0.05)
