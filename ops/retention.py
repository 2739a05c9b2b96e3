"""Retention: what the law lets go, and only that. ``manage.py purge`` and a daily beat task.

- Case files are never deleted.
- A rejected report with no case is deleted, with its evidence, TIPLINE_PURGE_REJECTED_DAYS after
  it was rejected (kept while a request to see its reporter exists: that request is a record).
- A reporter's identity, and the payee details of a reward claim, are crypto-shredded
  TIPLINE_SHRED_IDENTITY_DAYS after the case was archived, once its reward is settled (paid,
  lapsed, cancelled) or there is none: data key, sealed values and blind indexes destroyed; the
  report keeps what it says. The case's history records it (an audit entry on the case).
- Spent one-time form tokens (hashes, no content) are forgotten after submissions.TOKEN_DAYS.
- The audit log is never touched; each run writes its own entries, with counts, never content.
"""

import logging
from dataclasses import dataclass, field
from datetime import timedelta
from functools import partial

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from casework import audit
from casework.audit_catalogue import Action
from casework.models import Case, IdentityRequest, State
from casework.rewards.models import Reward, RewardClaim
from casework.rewards.states import RewardState
from tipline import submissions
from tipline.models import Attachment, Report, ReporterIdentity
from vault import storage

log = logging.getLogger(__name__)

SETTLED = (RewardState.PAID, RewardState.LAPSED, RewardState.CANCELLED)


@dataclass
class Plan:
    reports: list = field(default_factory=list)  # rejected reports to delete (ids)
    kept: list = field(default_factory=list)  # (report id, why it stays)
    cases: list = field(default_factory=list)  # (case, identities, claims) to shred


@dataclass
class Done:
    reports_deleted: int = 0
    files_removed: int = 0
    identities_shredded: int = 0
    claims_shredded: int = 0
    cases: int = 0
    form_tokens_forgotten: int = 0


def plan(now=None) -> Plan:
    now = now or timezone.now()
    result = Plan()
    rejected_before = now - timedelta(days=settings.TIPLINE_PURGE_REJECTED_DAYS)
    rejected = Report.objects.filter(
        status=Report.Status.REJECTED, case__isnull=True, triaged_at__lt=rejected_before
    ).order_by("triaged_at")
    requested = set(
        IdentityRequest.objects.filter(report__in=rejected).values_list("report_id", flat=True)
    )
    for report_id in rejected.values_list("pk", flat=True):
        if report_id in requested:
            result.kept.append((report_id, "an identity request refers to it"))
        else:
            result.reports.append(report_id)

    archived_before = now - timedelta(days=settings.TIPLINE_SHRED_IDENTITY_DAYS)
    cases = Case.objects.filter(state=State.ARCHIVED, archived_at__lt=archived_before).exclude(
        case_reward__state__in=[s for s in RewardState.values if s not in SETTLED]
    )
    identities = ReporterIdentity.objects.filter(report__case__in=cases).exclude(
        kek_version=ReporterIdentity.SHREDDED
    )
    claims = RewardClaim.objects.filter(reward__case__in=cases).exclude(
        kek_version=RewardClaim.SHREDDED
    )
    by_case: dict[int, tuple[list, list]] = {}
    for pk, case_id in identities.values_list("pk", "report__case_id"):
        by_case.setdefault(case_id, ([], []))[0].append(pk)
    for pk, case_id in claims.values_list("pk", "reward__case_id"):
        by_case.setdefault(case_id, ([], []))[1].append(pk)
    for case in Case.objects.filter(pk__in=by_case).order_by("archived_at"):
        result.cases.append((case, *by_case[case.pk]))
    return result


def run(now=None) -> Done:
    """Apply the plan: each rejected report and each case in a transaction of its own."""
    done = Done()
    work = plan(now)
    for report_id in work.reports:
        removed = _delete_rejected(report_id)
        if removed is not None:
            done.reports_deleted += 1
            done.files_removed += removed
    for case, identity_ids, claim_ids in work.cases:
        identities, claims = _shred_case(case.pk, identity_ids, claim_ids)
        done.identities_shredded += identities
        done.claims_shredded += claims
        done.cases += bool(identities or claims)
    done.form_tokens_forgotten = submissions.forget_expired(now)
    if done.reports_deleted:
        audit.record(
            None,
            Action.RETENTION_REPORTS_DELETED,
            object_type="tipline.report",
            count=done.reports_deleted,
            files=done.files_removed,
            days=settings.TIPLINE_PURGE_REJECTED_DAYS,
        )
    return done


def _delete_rejected(report_id) -> int | None:
    """Delete one rejected report with its identity, messages and evidence rows; its files go
    once the deletion has committed (never before: a rollback must find them)."""
    with transaction.atomic():
        report = (
            Report.objects.select_for_update()
            .filter(pk=report_id, status=Report.Status.REJECTED, case__isnull=True)
            .first()
        )
        if report is None or IdentityRequest.objects.filter(report=report).exists():
            return None  # triaged again, linked, or asked about meanwhile
        names = [storage.name_for(a) for a in Attachment.objects.filter(report=report)]
        report.delete()
        transaction.on_commit(lambda: _remove(names), robust=True)
    return len(names)


def _remove(names) -> None:
    for name in names:
        storage.remove(name)


def _shred_case(case_id, identity_ids, claim_ids) -> tuple[int, int]:
    with transaction.atomic():
        case = Case.objects.select_for_update(of=("self",)).get(pk=case_id)
        reward = Reward.objects.filter(case=case).first()
        if case.state != State.ARCHIVED or (reward is not None and reward.state not in SETTLED):
            return 0, 0
        identities = _shred(ReporterIdentity, identity_ids)
        claims = _shred(RewardClaim, claim_ids)
        if identities or claims:
            # On the case: its history shows that and when the identities were destroyed.
            audit.record(
                None,
                Action.IDENTITY_SHREDDED,
                case,
                identities=identities,
                payee_details=claims,
                days_after_archiving=settings.TIPLINE_SHRED_IDENTITY_DAYS,
            )
    return identities, claims


def _shred(model, ids) -> int:
    count = 0
    for row in model.objects.select_for_update().filter(pk__in=ids):
        if row.is_shredded:
            continue
        row.shred()
        row.save()
        if row.HAS_FILE:  # the object goes too, once the shredding has committed
            transaction.on_commit(partial(storage.remove, storage.name_for(row)), robust=True)
        count += 1
    return count
