"""An e-mail to a programme's organisers, rendered from its three templates.

Organisers have no language of their own: the caller renders in the site's language
(`translation.override`), and replies go to the programme's organiser address.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string


def organiser_mail(
    template: str, context: dict[str, Any], *, recipients: list[str], reply_to: str
) -> EmailMultiAlternatives:
    """The mail from `<template>_subject.txt`, `<template>.txt` and `<template>.html`; the
    subject on one line, and in the context as `subject` for the bodies."""
    subject = " ".join(render_to_string(f"{template}_subject.txt", context).split())
    context = {**context, "subject": subject}
    message = EmailMultiAlternatives(
        subject=subject,
        body=render_to_string(f"{template}.txt", context),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=recipients,
        reply_to=[reply_to] if reply_to else None,
    )
    message.attach_alternative(render_to_string(f"{template}.html", context), "text/html")
    return message
