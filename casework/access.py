"""Who sees what. Every staff view gets its objects through these helpers.

Township staff see their township; county staff see every township of their county. Objects
outside the scope are 404 (their existence is not confirmed); read-only roles asking to change
something get 403.

Reading reports and cases at all takes the role's permission (``tipline.view_report``,
``casework.view_case``): finance and the administrator hold neither, so every report and case
URL answers them 403 for any id (which confirms nothing), and every list of them is empty.
"""

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404

from org import roles
from org.auth_backend import group_names
from org.scope import in_townships, township_ids
from tipline.models import Report

from .models import Case, IdentityRequest

WRITE_PERMS = (
    "casework.triage_report",
    "casework.assign_case",
    "casework.investigate_case",
    "casework.decide_case",
    "casework.archive_case",
)


READ_REPORTS = "tipline.view_report"
READ_CASES = "casework.view_case"


def can_write(user) -> bool:
    return any(user.has_perm(p) for p in WRITE_PERMS)


def reads_reports(user) -> bool:
    """May read reports: their text, attachments and the identity requests about them."""
    return user.has_perm(READ_REPORTS)


def reads_cases(user) -> bool:
    """May read cases: their pages, files, documents and file scores."""
    return user.has_perm(READ_CASES)


def cases_for(user):
    if not reads_cases(user):
        return Case.objects.none()
    return in_townships(Case.objects.all(), user)


def cases_by_township(user) -> list:
    """cases_for(user), one queryset per township of the user's (each filtered on that township
    alone, so PostgreSQL estimates it from that township's own statistics); empty for a user
    who reads no case, and for a superuser, whose every township is read in one piece."""
    ids = township_ids(user)
    if not reads_cases(user) or ids is None:
        return []
    return [Case.objects.filter(township_id__in=[pk]) for pk in ids]


def reports_for(user):
    if not reads_reports(user):
        return Report.objects.none()
    return in_townships(Report.objects.all(), user)


def _one(queryset, pk):
    try:
        return queryset.get(pk=pk)
    except (queryset.model.DoesNotExist, ValueError, TypeError, ValidationError):
        raise Http404 from None


def get_case(user, pk, *, perm: str | None = None) -> Case:
    """The case if the user may see it (else 404); with perm, 403 unless the user holds it.
    Someone who reads no case at all gets 403 whatever the id."""
    if not reads_cases(user):
        raise PermissionDenied
    case = _one(cases_for(user).select_related("township", "unit", "investigator"), pk)
    if perm and not user.has_perm(perm):
        raise PermissionDenied
    return case


def get_report(user, pk, *, perm: str | None = None) -> Report:
    if not reads_reports(user):
        raise PermissionDenied
    report = _one(reports_for(user).select_related("township", "case"), pk)
    if perm and not user.has_perm(perm):
        raise PermissionDenied
    return report


def is_custodian(user) -> bool:
    """Deciding on identity requests takes membership of the custodian group. Being a superuser
    does not make anyone a custodian: seeing a reporter always takes two people."""
    return bool(
        user is not None
        and user.is_active
        # The permission first: it is read with the user; so are the groups of a signed-in user
        # (org.auth_backend: no query), others' are asked.
        and user.has_perm("casework.decide_identity")
        and roles.CUSTODIAN in group_names(user)
    )


def get_identity_request(user, pk) -> IdentityRequest:
    """Visible to its requester and to custodians of the report's township."""
    if not reads_reports(user):
        raise PermissionDenied
    qs = IdentityRequest.objects.select_related("report__township", "report__case", "requested_by")
    request = _one(in_townships(qs, user), pk)
    if request.requested_by_id != user.pk and not is_custodian(user):
        raise Http404
    return request
