"""Changes the assessment records: quotas, falsified cases, dismissed repeat suggestions, frozen
years. One function per change: permission, lock, scope, rules, save and audit entry in one
transaction (the same pattern as casework.services)."""

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from org import scope
from org.models import County, Township
from tipline.models import Report
from vault import storage

from .. import audit, casefile, hooks
from ..audit_catalogue import Action
from ..errors import NotAllowed, ServiceError
from ..models import Case, CaseDocument, DocumentType
from ..services import lock_case, lock_report
from ..states import PERM_TRIAGE
from . import report
from .models import AssessmentFreeze, CaseFalsification, RepeatDismissal, TownshipQuota

PERM_QUOTA = "assessment.change_townshipquota"
PERM_FREEZE = "assessment.freeze_assessment"
PERM_FALSIFY = "assessment.mark_falsified"
FINDING_DOCUMENT = "falsification_finding"  # the document type of a falsification finding

MIN_YEAR, MAX_YEAR = 2000, 2100


def _require(user, perm: str):
    if not user.has_perm(perm):
        raise NotAllowed(_("You are not allowed to do this."))


def require_county(user, county_id: int) -> None:
    """County-level decisions (quotas, freezing) belong to the county's own staff.

    Outside the county: OutOfScope (not found); township staff of the county: not allowed."""
    if user.is_superuser:
        return
    profile = getattr(user, "staff_profile", None)
    if profile is None or profile.unit.county_id != county_id:
        raise scope.OutOfScope
    if profile.unit.township_id is not None:
        raise NotAllowed(_("Only county staff can do this."))


def _check_year(year: int) -> int:
    if not isinstance(year, int) or not MIN_YEAR <= year <= MAX_YEAR:
        raise ServiceError(_("Choose a year between 2000 and 2100."))
    return year


# --- quotas -----------------------------------------------------------------------------------


def set_quota(township_id, year: int, quota: int, user) -> TownshipQuota:
    """The county's case quota (县定任务) of a township for a year: a whole number ≥ 0."""
    _require(user, PERM_QUOTA)
    _check_year(year)
    if isinstance(quota, bool) or not isinstance(quota, int) or quota < 0:
        raise ServiceError(_("The quota is a whole number, 0 or more."))
    with transaction.atomic():
        try:
            township = Township.objects.select_for_update().get(pk=township_id)
        except Township.DoesNotExist:
            raise scope.OutOfScope from None
        require_county(user, township.county_id)
        row = TownshipQuota.objects.filter(township=township, year=year).first()
        old = row.quota if row else None
        if row is not None and old == quota:
            return row
        if row is None:
            row = TownshipQuota(township=township, year=year)
        row.quota, row.updated_by, row.updated_at = quota, user, timezone.now()
        row.save()
        audit.record(
            user, Action.QUOTA_SET, row, township=township.code, year=year, old=old, new=quota
        )
    return row


def set_quotas(county_id, year: int, quotas: dict, user) -> int:
    """Several townships of one county at once (the settings page); returns how many changed."""
    _require(user, PERM_QUOTA)
    changed = 0
    with transaction.atomic():
        ids = set(Township.objects.filter(county_id=county_id).values_list("pk", flat=True))
        for township_id, quota in quotas.items():
            if township_id not in ids:
                raise scope.OutOfScope
            before = TownshipQuota.objects.filter(township_id=township_id, year=year).first()
            if before is None or before.quota != quota:
                set_quota(township_id, year, quota, user)
                changed += 1
    return changed


# --- falsified cases -------------------------------------------------------------------------


def mark_falsified(case_id, user, reason: str, clean_file, title: str = "") -> CaseFalsification:
    """弄虚作假, found after verification (查实): the finding is filed into the case file as a
    sealed document, the mark costs the township 50 points in the year it is made, and any
    reward on the case is cancelled."""
    _require(user, PERM_FALSIFY)
    reason = (reason or "").strip()
    if not reason:
        raise ServiceError(_("Describe what the verification found."))
    if clean_file is None:
        raise ServiceError(_("Attach the document that supports the finding."))
    written = None
    try:
        with transaction.atomic():
            case = lock_case(case_id, user)
            if CaseFalsification.objects.filter(case=case).exists():
                raise ServiceError(_("This case is already marked as falsified."))
            doc_type = DocumentType.objects.get(code=FINDING_DOCUMENT)
            # Filed even into an archived file: a falsification is usually found by an
            # inspection after the case was closed, and hiding it there would defeat the rule.
            doc = CaseDocument(
                case=case,
                doc_type=doc_type,
                title=(title.strip() or str(doc_type.name))[:200],
                mime=clean_file.mime,
                extension=clean_file.extension,
                size=len(clean_file.content),
                uploaded_by=user,
            )
            written = storage.write(doc, clean_file.content)
            doc.save()
            casefile.refresh_case(case)
            audit.record(
                user, Action.DOCUMENT_UPLOADED, case, document=str(doc.id), type=doc_type.code
            )
            marking = CaseFalsification.objects.create(
                case=case, reason=reason, document=doc, marked_by=user, marked_at=timezone.now()
            )
            audit.record(
                user,
                Action.CASE_FALSIFIED,
                case,
                number=case.number,
                document=str(doc.id),
                reason=reason,
            )
            _after_falsified(case, user, reason)
    except BaseException:
        if written:
            written.unlink(missing_ok=True)
        raise
    return marking


def _after_falsified(case: Case, user, reason: str) -> None:
    """What follows a falsified case, announced to the apps that registered for it (rewards:
    cancel a reward not yet settled) in the marking's transaction: if one fails, the marking
    fails with it."""
    hooks.announce_falsified(case, user, reason)


# --- repeat suggestions ----------------------------------------------------------------------


def dismiss_suggestion(report_id, case_id, user) -> RepeatDismissal:
    """The clerk judged that the report does not repeat this case: it is not suggested again."""
    _require(user, PERM_TRIAGE)
    with transaction.atomic():
        rep = lock_report(report_id, user)
        if rep.status != Report.Status.RECEIVED:
            raise ServiceError(_("This report has already been dealt with by someone else."))
        case = Case.objects.filter(pk=case_id, township_id=rep.township_id).first()
        if case is None:
            raise scope.OutOfScope  # another township's case, or none: not found either way
        try:
            with transaction.atomic():
                dismissal = RepeatDismissal.objects.create(report=rep, case=case, dismissed_by=user)
        except IntegrityError:
            raise ServiceError(_("This suggestion was already dismissed.")) from None
        audit.record(user, Action.REPEAT_DISMISSED, rep, case=case.number)
    return dismissal


# --- frozen years ----------------------------------------------------------------------------


def freeze_year(county_id, year: int, user) -> AssessmentFreeze:
    """Keep the county's figures of the year as they stand now; later changes never alter them."""
    _require(user, PERM_FREEZE)
    _check_year(year)
    with transaction.atomic():
        try:
            county = County.objects.select_for_update().get(pk=county_id)
        except County.DoesNotExist:
            raise scope.OutOfScope from None
        require_county(user, county.pk)
        if year > timezone.localdate().year:
            raise ServiceError(_("A year can only be frozen once it has begun."))
        if AssessmentFreeze.objects.filter(county=county, year=year).exists():
            raise ServiceError(_("This year is already frozen."))
        rows = report.live_rows(county, year)
        # A ranking the county signs ranks every township: one without a quota is not ranked.
        unset = [row["name"] for row in rows if not row["quota_set"]]
        if unset:
            raise ServiceError(
                _(
                    "Set the quota of every township for %(year)d before freezing it. Without a "
                    "quota: %(townships)s."
                )
                % {"year": year, "townships": "、".join(unset)}
            )
        freeze = AssessmentFreeze.objects.create(
            county=county, year=year, frozen_by=user, frozen_at=timezone.now(), snapshot=rows
        )
        audit.record(
            user,
            Action.ASSESSMENT_FROZEN,
            freeze,
            county=county.code,
            year=year,
            net={row["township"]: row["net"] for row in rows},
            total={row["township"]: row["total"] for row in rows},
        )
    return freeze
