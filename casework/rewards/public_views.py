"""The reporter claims their reward: one public form, posted from the receipt page.

No JavaScript needed; the same receipt throttling as /receipt/ (tipline.services.lookup_receipt);
the claim code is rendered straight from the POST, never redirected or stored in clear.
"""

from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods

from tipline import services as intake
from tipline import submissions, throttle
from tipline.forms import ReceiptForm

from . import claims, services
from .forms import ClaimForm
from .public import payment_info, render_section, reporter_view


def _throttled(request, exc):
    context = {"minutes": exc.minutes, "seconds": exc.retry_after}
    response = render(request, "tipline/throttled.html", context, status=429)
    response["Retry-After"] = str(exc.retry_after)
    return response


def _again(request, report, receipt, form, view, status=400):
    """The reward block again, with the form's errors (the rest of the status page is one
    click away, on the receipt page)."""
    section = render_section(request, report, receipt, form=form, view=view)
    return render(
        request, "rewards/claim_page.html", {"section": section, "receipt": receipt}, status=status
    )


def _already(request, view, receipt):
    """A repeated claim: the claim as the first request left it. A claim code is never shown
    again (only its hash is kept): the page says where it was shown and how to get help."""
    return render(
        request,
        "rewards/claim_done.html",
        {
            "already": True,
            "r": view,
            "reward": view and view["reward"],
            "receipt": receipt,
            "pay": view and payment_info(view["reward"].township.county),
        },
        status=409,
    )


@never_cache
@require_http_methods(["GET", "POST"])
@sensitive_post_parameters()
def claim(request):
    if request.method == "GET":
        # The claim form lives on the receipt page: a bookmarked or reloaded URL goes there.
        return redirect("tipline:receipt")
    receipt_form = ReceiptForm(request.POST)
    if not receipt_form.is_valid():
        return render(request, "tipline/receipt_lookup.html", {"form": receipt_form}, status=400)
    receipt = receipt_form.cleaned_data["receipt"]
    try:
        report = intake.lookup_receipt(receipt, request.client_bucket, request.client_network)
    except throttle.Throttled as exc:
        return _throttled(request, exc)
    if report is None:
        receipt_form.add_error("receipt", _("No report has this receipt number. Please check it."))
        return render(request, "tipline/receipt_lookup.html", {"form": receipt_form}, status=404)
    view = reporter_view(report)
    form = ClaimForm(request.POST)
    if submissions.spent_at(form.submission()):
        # The same form again (a reload, Back and send, a double tap): answered with what the
        # first post did, before anything is validated.
        return _already(request, view, receipt)
    if view is None or not (view["claimable"] or view["changeable"]):
        return render(
            request,
            "rewards/claim_page.html",
            {"receipt": receipt, "nothing": True, "section": ""},
            status=400,
        )
    if not form.is_valid():
        return _again(request, report, receipt, form, view)
    data = form.cleaned_data
    try:
        result = services.claim(
            view["reward"].pk,
            receipt,
            method=data["method"],
            payee_name=data.get("payee_name", ""),
            bank_name=data.get("bank_name", ""),
            account_number=data.get("account_number", ""),
            confirm_check_digit=data.get("confirm_check_digit", False),
            replaces=data.get("replaces", ""),
            submission=form.submission(),
        )
    except services.ClaimError as exc:
        if exc.field == "payee_name":
            # A wrong name counts like a wrong receipt: the form is no oracle for the name.
            throttle.record_wrong_guess(request.client_bucket, request.client_network)
        form.add_error(exc.field if exc.field in form.fields else None, str(exc))
        return _again(request, report, receipt, form, view)
    except services.ServiceError as exc:
        form.add_error(None, str(exc))
        return _again(request, report, receipt, form, reporter_view(report))
    if result.already:
        return _already(request, reporter_view(report), receipt)
    return render(
        request,
        "rewards/claim_done.html",
        {
            "reward": result.reward,
            "code": claims.grouped_code(result.claim_code) if result.claim_code else "",
            "receipt": receipt,
            "pay": payment_info(report.township.county),
        },
    )
