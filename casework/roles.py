"""Staff roles (Django groups) and who is responsible for a township."""

from django.contrib.auth import get_user_model
from django.db.models import Q

CLERK = "clerk"
INVESTIGATOR = "investigator"
SUPERVISOR = "supervisor"
CUSTODIAN = "custodian"
FINANCE = "finance"
AUDITOR = "auditor"
ADMINISTRATOR = "administrator"

ALL = (CLERK, INVESTIGATOR, SUPERVISOR, CUSTODIAN, FINANCE, AUDITOR, ADMINISTRATOR)


def staff_for_township(township, role: str):
    """Active users in `role` who see this township: its own staff and its county's staff."""
    return (
        get_user_model()
        .objects.filter(is_active=True, groups__name=role)
        .filter(
            Q(staff_profile__unit__township=township)
            | Q(
                staff_profile__unit__township__isnull=True,
                staff_profile__unit__county_id=township.county_id,
            )
        )
        .distinct()
    )
