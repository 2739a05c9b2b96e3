"""The audit log for auditors (纪检): browse, filter by action, export as CSV (audited)."""

import csv
import json

from django.http import StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone

from .. import audit
from ..audit_catalogue import Action, describe
from ..decorators import perm_required
from ..models import AuditEntry
from .common import page_of


def _entries(request):
    entries = AuditEntry.objects.select_related("actor").order_by("-id")
    action = request.GET.get("action", "").strip()[:80]
    if action:
        entries = entries.filter(action__startswith=action)
    return entries, action


@perm_required("casework.view_audit")
def audit_list(request):
    entries, action = _entries(request)
    page = page_of(request, entries)
    rows = [(entry, describe(entry.action)) for entry in page]
    return render(
        request,
        "casework/audit_list.html",
        {"page": page, "rows": rows, "action": action, "actions": Action.choices},
    )


class _Echo:
    def write(self, value):
        return value


@perm_required("casework.view_audit")
def audit_export(request):
    """Entries hold ids and action data only, never a reporter's identity, so they can leave."""
    entries, action = _entries(request)
    audit.record(request.user, Action.AUDIT_EXPORTED, request.user, filter=action)
    writer = csv.writer(_Echo())
    header = [
        "id",
        "at",
        "actor",
        "action",
        "description",
        "object_type",
        "object_id",
        "data",
        "prev",
        "hash",
    ]

    def rows():
        yield writer.writerow(header)
        for e in entries.iterator(chunk_size=2000):
            yield writer.writerow(
                [
                    e.pk,
                    e.at.isoformat(),
                    e.actor.username if e.actor else "",
                    e.action,
                    describe(e.action),
                    e.object_type,
                    e.object_id,
                    json.dumps(e.data, ensure_ascii=False, sort_keys=True),
                    e.prev_hash,
                    e.hash,
                ]
            )

    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    response = StreamingHttpResponse(rows(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="audit-{stamp}.csv"'
    response["Cache-Control"] = "no-store"
    return response
