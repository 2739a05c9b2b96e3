"""The audit log for auditors (纪检): browse, filter by action, export as CSV (audited)."""

import csv
import json
from itertools import islice
from urllib.parse import urlencode

from django.conf import settings
from django.http import StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from .. import audit, audit_display, finding
from ..audit_catalogue import Action
from ..decorators import perm_required
from ..models import AuditEntry
from .keyset import keyset_page


def _entries(request):
    entries = AuditEntry.objects.select_related("actor").order_by("-id")
    action = request.GET.get("action", "").strip()[:80]
    if action:
        entries = entries.filter(action__startswith=action)
    day = finding.AuditDayForm(request.GET)
    if start := day.start():  # ?since=: from that local day on (the home card: today)
        entries = entries.filter(at__gte=start)
    return entries, action, day


@perm_required("casework.view_audit")
def audit_list(request):
    entries, action, day = _entries(request)
    page = keyset_page(request, entries)
    rows = audit_display.describe(page.rows)
    # Counted only from a day on (an indexed range of that day's entries); the whole log is
    # never counted.
    count = entries.order_by().count() if day.start() else None
    return render(
        request,
        "casework/audit_list.html",
        {
            "page": page,
            "rows": rows,
            "action": action,
            "actions": Action.choices,
            "day": day,
            "count": count,
            "keep": urlencode(
                {k: request.GET[k] for k in ("action", "since") if request.GET.get(k, "").strip()}
            ),
        },
        status=400 if day.errors else 200,
    )


CHUNK = 2000  # entries per batch of name look-ups in the export


class _Echo:
    def write(self, value):
        return value


def export_header() -> list[str]:
    """The columns people read first, in words; then the entry exactly as chained (its data as
    stored and its hashes), so an export can be checked against the chain."""
    return [
        _("No."),
        _("Time"),
        _("Person"),
        _("What was done"),
        _("Object"),
        _("Details"),
        _("Action code"),
        _("Object type (code)"),
        _("Object id"),
        _("Data as chained (JSON)"),
        _("Previous entry's hash"),
        _("This entry's hash"),
    ]


def _cells(row: dict) -> list:
    e = row["entry"]
    return [
        e.pk,
        timezone.localtime(e.at).strftime("%Y-%m-%d %H:%M:%S"),
        row["actor"],
        row["sentence"],
        row["object"],
        audit_display.fields_text(row["fields"]),
        e.action,
        e.object_type,
        e.object_id,
        json.dumps(e.data, ensure_ascii=False, sort_keys=True),
        e.prev_hash,
        e.hash,
    ]


@perm_required("casework.view_audit")
def audit_export(request):
    """Entries hold ids and action data only, never a reporter's identity, so they can leave."""
    entries, action, _day = _entries(request)
    audit.record(request.user, Action.AUDIT_EXPORTED, request.user, filter=action)
    writer = csv.writer(_Echo())

    # In Chinese, whatever the language of the page that asked for it: the file is for the county.
    def rows():
        with translation.override(settings.LANGUAGE_CODE):
            yield "\ufeff"  # spreadsheet programs read the file as UTF-8 (Chinese) with this mark
            yield writer.writerow(export_header())
            iterator = entries.iterator(chunk_size=CHUNK)
            while chunk := list(islice(iterator, CHUNK)):
                for row in audit_display.describe(chunk):
                    yield writer.writerow(_cells(row))

    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    response = StreamingHttpResponse(rows(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="audit-{stamp}.csv"'
    response["Cache-Control"] = "no-store"
    return response
