"""Documents the system generates into a case file. Rendering only: the services decide when
a document is filed, lock the case and write the audit entry."""

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import timezone, translation

from tipline.models import Report


def registration_form(case, version: int = 1, **_extra) -> bytes:
    """举报登记表: the case's reports in order of acceptance, never the reporters' identity; a
    version after the first says that it replaces the earlier ones."""
    reports = list(Report.objects.filter(case=case).order_by("accepted_at"))
    # A filed document reads the same whatever language the staff member's session uses.
    with translation.override(settings.LANGUAGE_CODE):
        html = render_to_string(
            "casework/registration_form.html",
            {"case": case, "reports": reports, "now": timezone.now(), "version": version},
        )
    return html.encode()
