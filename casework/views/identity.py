"""Identity requests: ask with a reason, a custodian decides, the requester sees it for a while."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import Case, When
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from .. import access, finding, identity
from ..decorators import perm_required, staff_required
from ..forms import IdentityDecisionForm, IdentityRequestForm
from ..models import IdentityRequest
from ..services import NotAllowed
from .common import attempt, form_errors, page_of_ids, query_without_page


@require_POST
@perm_required("casework.request_identity")
def request_identity(request, pk):
    report = access.get_report(request.user, pk, perm="casework.request_identity")
    form = IdentityRequestForm(request.POST)
    if not form.is_valid():
        form_errors(request, form)
        return redirect("staff:report", pk=report.pk)
    attempt(
        request,
        identity.request_access,
        report,
        request.user,
        form.cleaned_data["reason"],
        success=_("Request sent to the custodian."),
    )
    return redirect("staff:identity_list")


@perm_required(access.READ_REPORTS)
def identity_list(request):
    user = request.user
    scope = access.in_townships(IdentityRequest.objects.all(), user)
    deciding = access.is_custodian(user)
    qs = scope if deciding else scope.filter(requested_by=user)
    form = finding.IdentitySearchForm(request.GET)
    qs = form.apply(qs) if form.is_valid() else qs.none()
    pending_first = Case(When(status=IdentityRequest.Status.PENDING, then=0), default=1)
    # Sort and page the bare rows (index: township, status, requested_at), then join the
    # page's 50: joining first sorted every request of the county with its report and case.
    ids = qs.order_by(pending_first, "-requested_at", "-pk").values_list("pk", flat=True)
    page = page_of_ids(
        request,
        ids,
        IdentityRequest.objects.select_related(
            "report__township", "report__case", "requested_by", "decided_by"
        ),
    )
    return render(
        request,
        "casework/identity_list.html",
        {
            "page": page,
            "decision_form": IdentityDecisionForm(),
            "deciding": deciding,
            "form": form,
            "query": query_without_page(request),
        },
        status=400 if form.errors else 200,
    )


@require_POST
@perm_required("casework.decide_identity")
def identity_decide(request, pk):
    if not access.is_custodian(request.user):
        raise PermissionDenied  # a superuser who is not a custodian included
    req = access.get_identity_request(request.user, pk)
    form = IdentityDecisionForm(request.POST)
    if not form.is_valid():
        form_errors(request, form)
        return redirect("staff:identity_list")
    attempt(
        request,
        identity.decide,
        req.pk,
        request.user,
        form.cleaned_data["decision"] == "approve",
        form.cleaned_data["note"],
        success=_("Decision recorded."),
    )
    return redirect("staff:identity_list")


@never_cache
@staff_required
def identity_view(request, pk):
    req = access.get_identity_request(request.user, pk)
    if req.requested_by_id != request.user.pk:
        raise PermissionDenied
    try:
        values = identity.reveal(req.pk, request.user)
    except NotAllowed as exc:
        messages.error(request, str(exc))
        return redirect("staff:identity_list")
    response = render(request, "casework/identity_view.html", {"req": req, "values": values})
    response["Cache-Control"] = "no-store"
    return response
