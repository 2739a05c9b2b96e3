"""Seeing a reporter's identity: requested with a reason, approved by a custodian who is not the
requester, usable for a limited time by the requester only, every view audited."""

from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from django.views.decorators.debug import sensitive_variables

from notifications import outbox
from org import scope
from tipline.models import Report, ReporterIdentity

from . import audit
from .access import is_custodian
from .audit_catalogue import Action
from .errors import NotAllowed, ServiceError
from .models import IdentityRequest
from .services import _require

SHREDDED = gettext_noop(
    "This reporter's identity was destroyed under the retention rules; nobody can see it now."
)


def request_access(report: Report, user, reason: str) -> IdentityRequest:
    _require(user, "casework.request_identity")
    scope.require(user, report.township_id)
    if len(reason.strip()) < 10:
        raise ServiceError(_("Explain why you need to see the reporter's identity."))
    identity = ReporterIdentity.objects.filter(report=report).first()
    if identity is None:
        raise ServiceError(_("This reporter stayed anonymous; there is no identity to see."))
    if identity.is_shredded:
        raise ServiceError(_(SHREDDED))
    with transaction.atomic():
        req = IdentityRequest.objects.create(
            report=report,
            township_id=report.township_id,
            requested_by=user,
            reason=reason.strip(),
        )
        audit.record(user, Action.IDENTITY_REQUESTED, req, report=str(report.id))
        outbox.record("identity.requested", req, township_id=report.township_id)  # notify
    return req


def decide(request_id, custodian, approve: bool, note: str = "") -> IdentityRequest:
    if not is_custodian(custodian):
        raise NotAllowed(_("Only a custodian can decide on identity requests."))
    with transaction.atomic():
        req = (
            IdentityRequest.objects.select_for_update(of=("self",))
            .select_related("report")
            .get(pk=request_id)
        )
        scope.require(custodian, req.report.township_id)
        if req.requested_by_id == custodian.pk:
            raise NotAllowed(_("You cannot decide on your own request."))
        if req.status != IdentityRequest.Status.PENDING:
            raise ServiceError(_("This request has already been decided."))
        now = timezone.now()
        req.status = IdentityRequest.Status.APPROVED if approve else IdentityRequest.Status.REFUSED
        req.decided_by, req.decided_at, req.decision_note = custodian, now, note.strip()
        if approve:
            req.expires_at = now + timedelta(minutes=settings.TIPLINE_IDENTITY_ACCESS_MINUTES)
        req.save()
        action = Action.IDENTITY_APPROVED if approve else Action.IDENTITY_REFUSED
        audit.record(custodian, action, req, report=str(req.report_id))
    return req


@sensitive_variables()
def reveal(request_id, user) -> dict[str, str]:
    """Decrypt the identity for the requester while the approval lasts; audited every time."""
    with transaction.atomic():
        req = IdentityRequest.objects.select_related("report").get(pk=request_id)
        if not req.usable_by(user):
            raise NotAllowed(_("This approval is not valid for you now (it may have expired)."))
        scope.require(user, req.report.township_id)  # e.g. the requester moved township since
        identity = ReporterIdentity.objects.get(report=req.report)
        if identity.is_shredded:
            raise NotAllowed(_(SHREDDED))
        values = identity.reveal()
        audit.record(user, Action.IDENTITY_VIEWED, req, report=str(req.report_id))
    return values
