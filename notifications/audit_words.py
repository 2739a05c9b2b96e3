"""How the audit page names notices and their channels (registered into
casework.audit_display from the app's ready(): the audit page reads no notifications model)."""

from django.utils.translation import gettext as _

from casework import audit_display

from .models import Delivery


def _notice(pk, _unused) -> str:
    return _("notice #%(id)s") % {"id": pk}


def register() -> None:
    audit_display.register_object("notifications.delivery", _notice)
    audit_display.register_choices(("channel",), Delivery.Channel)
