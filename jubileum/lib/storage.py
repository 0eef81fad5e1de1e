"""File storage that no URL reaches."""

from __future__ import annotations

from django.core.files.storage import FileSystemStorage, storages
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.utils.functional import LazyObject, empty


class PrivateFileSystemStorage(FileSystemStorage):
    """Files on disk with no public URL: budget attachments (invoices, quotes).

    FileSystemStorage falls back to MEDIA_URL when `base_url` is None, so a template that printed
    `attachment.file.url` would link to /media/..., a public path. Here asking for a URL is an
    error; the files leave only through a view that checks the reader's role first.
    """

    def url(self, name: str | None) -> str:
        raise ValueError("This file is not accessible via a URL.")


class _PrivateStorage(LazyObject):
    _wrapped: object  # the storage once looked up; `empty` until then

    def _setup(self) -> None:
        self._wrapped = storages["private"]


# The "private" storage, looked up when first used and again after STORAGES changes (a test's
# override). A FileField calls its `storage` callable once, at import; returning this proxy from
# that callable, rather than `storages["private"]` itself, keeps such an override effective.
private_storage = _PrivateStorage()


@receiver(setting_changed)
def _forget_private_storage(*, setting: str, **kwargs: object) -> None:
    if setting == "STORAGES":
        private_storage._wrapped = empty
