from django.shortcuts import render

from ..decorators import perm_required
from ..models import AuditEntry
from .common import page_of


@perm_required("casework.view_audit")
def audit_list(request):
    entries = AuditEntry.objects.select_related("actor").order_by("-id")
    action = request.GET.get("action", "").strip()
    if action:
        entries = entries.filter(action__startswith=action)
    return render(
        request, "casework/audit_list.html", {"page": page_of(request, entries), "action": action}
    )
