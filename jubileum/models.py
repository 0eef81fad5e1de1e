"""Site-wide models: personal API tokens for organisers and viewers (`jubileum.lib.apitokens`)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class ApiToken(models.Model):
    """A personal token for the organiser API, acting as its user.

    Only the SHA-256 hash of the token is stored; the token itself is shown once, when it is
    made. `prefix` (the first characters) lets a person tell their tokens apart in a list.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="api_tokens",
        verbose_name=_("gebruiker"),
    )
    name = models.CharField(_("naam"), max_length=100, blank=True)
    key_hash = models.CharField(max_length=64, unique=True)
    prefix = models.CharField(_("begin van het token"), max_length=12)
    created_at = models.DateTimeField(_("gemaakt op"), auto_now_add=True)
    last_used_at = models.DateTimeField(_("laatst gebruikt"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("ingetrokken op"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("API-token")
        verbose_name_plural = _("API-tokens")

    def __str__(self) -> str:
        return f"{self.user}: {self.name or self.prefix}…"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None
