"""How a notice names an object: a reference a colleague can find, never its content."""

from django.utils import timezone
from django.utils.translation import gettext as _


def report_reference(report) -> str:
    return _("the report received on %(date)s") % {
        "date": timezone.localdate(report.received_at).isoformat()
    }


def case_reference(case) -> str:
    return _("case %(number)s") % {"number": case.number}
