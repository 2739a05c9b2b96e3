"""Public pages: about the scheme, the report form, the receipt pages."""

from django.conf import settings
from django.http import HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from org.models import Township
from vault.keyring import get_keyring

from . import extensions, receipts, services, throttle
from .forms import FollowUpForm, ReceiptForm, ReportForm
from .models import Channel


def _throttled(request, exc: throttle.Throttled, template="tipline/throttled.html"):
    context = {"minutes": exc.minutes, "seconds": exc.retry_after}
    response = render(request, template, context, status=429)
    response["Retry-After"] = str(exc.retry_after)
    return response


@require_GET
def home(request):
    townships = Township.objects.filter(active=True).select_related("county")
    return render(request, "tipline/home.html", {"townships": townships})


@never_cache
@require_http_methods(["GET", "POST"])
@sensitive_post_parameters()
def report(request):
    if request.method == "GET":
        return render(request, "tipline/report_form.html", {"form": ReportForm()})
    try:
        # Counted before anything of the request is looked at, valid or not.
        throttle.admit_report_attempt(request.client_bucket)
    except throttle.Throttled as exc:
        return _throttled(request, exc)
    form = ReportForm(request.POST, request.FILES)
    if not form.is_valid():
        return render(request, "tipline/report_form.html", {"form": form}, status=400)
    try:
        throttle.admit_filing(request.client_bucket)
    except throttle.Throttled as exc:
        return _throttled(request, exc)
    report, receipt = services.create_report(
        form.to_input(), channel=Channel.WEB, files=form.cleaned_data.get("evidence", [])
    )
    # Rendered straight from the POST, never redirected: the receipt exists only in this response.
    return render(
        request,
        "tipline/receipt_issued.html",
        {"receipt": receipt, "grouped": receipts.grouped(receipt), "report": report},
    )


def _find(request, form):
    """(report, None) for a valid, known receipt; otherwise (None, the response to send)."""
    if not form.is_valid():
        return None, render(request, "tipline/receipt_lookup.html", {"form": form}, status=400)
    try:
        report = services.lookup_receipt(
            form.cleaned_data["receipt"], request.client_bucket, request.client_network
        )
    except throttle.Throttled as exc:
        return None, _throttled(request, exc)
    if report is None:
        form.add_error("receipt", _("No report has this receipt number. Please check it."))
        return None, render(request, "tipline/receipt_lookup.html", {"form": form}, status=404)
    return report, None


def _status_page(request, report, receipt, followup_form=None, status=200, added=False):
    context = {
        "view": services.reporter_view(report),
        "followup_form": followup_form or FollowUpForm(initial={"receipt": receipt}),
        "receipt": receipt,
        "added": added,
        # Blocks the layers above own (e.g. the reward), registered in tipline.extensions.
        "sections": extensions.status_sections(request, report, receipt),
    }
    return render(request, "tipline/receipt_status.html", context, status=status)


@never_cache
@require_http_methods(["GET", "POST"])
@sensitive_post_parameters()
def receipt_status(request):
    if request.method == "GET":
        return render(request, "tipline/receipt_lookup.html", {"form": ReceiptForm()})
    form = ReceiptForm(request.POST)
    report, response = _find(request, form)
    if response:
        return response
    return _status_page(request, report, form.cleaned_data["receipt"])


@never_cache
@require_POST
@sensitive_post_parameters()
def receipt_followup(request):
    try:
        throttle.take("followup_per_client", request.client_bucket)
    except throttle.Throttled as exc:
        return _throttled(request, exc)
    receipt_form = ReceiptForm(request.POST)
    report, response = _find(request, receipt_form)
    if response:
        return response
    receipt = receipt_form.cleaned_data["receipt"]
    try:
        throttle.take("followup_per_report", throttle.report_bucket(report.pk))
    except throttle.Throttled as exc:
        return _throttled(request, exc)
    form = FollowUpForm(request.POST, request.FILES)
    if not form.is_valid():
        return _status_page(request, report, receipt, followup_form=form, status=400)
    try:
        services.add_reporter_followup(
            report, form.cleaned_data["body"].strip(), form.cleaned_data.get("evidence", [])
        )
    except services.EvidenceLimitReached as exc:
        form.add_error("evidence", str(exc))
        return _status_page(request, report, receipt, followup_form=form, status=400)
    return _status_page(request, report, receipt, added=True)


@never_cache
@require_POST
@sensitive_post_parameters()
def receipt_download(request):
    """The signed receipt file: proves when the report was received (the first reporter wins)."""
    form = ReceiptForm(request.POST)
    report, response = _find(request, form)
    if response:
        return response
    text = receipts.receipt_file(form.cleaned_data["receipt"], report.received_at)
    response = HttpResponse(text, content_type="text/plain; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="tipline-receipt.txt"'
    return response


@require_GET
def receipt_public_key(request):
    return HttpResponse(get_keyring().public_key_pem(), content_type="text/plain; charset=utf-8")


@require_GET
def verify_info(request):
    return render(
        request,
        "tipline/verify.html",
        {"public_key": get_keyring().public_key_pem(), "digits": settings.TIPLINE_RECEIPT_DIGITS},
    )
