"""Refusals raised by services. Views turn them into a message (or 403) and change nothing."""

from django.utils.translation import gettext as _


class ServiceError(Exception):
    """A rule stopped the change; the message is shown to the user."""


class NotAllowed(ServiceError):
    """The user's role may not do this (a 403 on the staff pages)."""


class CaseChanged(ServiceError):
    def __init__(self):
        super().__init__(
            _("This case was changed by someone else in the meantime. Reload it and try again.")
        )
