"""The errors of the registrations app that its models raise too, so the models need not import
the services (which import the models). The workflows' own errors are in `services`."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from jubileum.lib.errors import DomainError


class RegistrationError(DomainError):
    code = "registration_error"
    status = 409
    message = _("Dit kan niet met deze aanmelding.")


class InvalidState(RegistrationError):
    code = "invalid_state"
    message = _("Dat kan niet meer met deze aanmelding.")


class InvalidTransition(InvalidState):
    """A status change the model's transition table does not allow from the current status;
    `details` names the model and both statuses. Services check the state first and raise
    their own error, so this one means a rule was missed, never that something was written."""
