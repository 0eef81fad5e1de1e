"""API for registrations (being written), mounted by `jubileum.api`."""

from ninja import Router

router = Router()
