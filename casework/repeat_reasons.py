"""Why a clerk opened a new case for a report the system suggested as a repeat of an open case.

A plain list of choices with no project imports: the assessment asks for one (and lists the
reports for the county to review), the audit log shows its label.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _


class NotRepeatReason(models.TextChoices):
    OTHER_SUBJECT = "other_subject", _("A different person or business")
    NEW_FACTS = "new_facts", _("The same person or business, new facts (another act or time)")
    OTHER_PLACE = "other_place", _("A different place or address")
    OTHER = "other", _("Another reason (explain below)")
