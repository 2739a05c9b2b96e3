"""Public pages: about the scheme, the report form, the receipt pages."""

import logging
from functools import lru_cache
from pathlib import Path

from django.conf import settings
from django.contrib.staticfiles import finders
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_GET, require_http_methods

from org.models import Township
from vault.keyring import get_keyring

from . import extensions, outage, receipts, resubmission, services, submissions, throttle
from .forms import FollowUpForm, ReceiptForm, ReportForm, VerifyForm
from .models import Channel

log = logging.getLogger(__name__)


def _throttled(request, exc: throttle.Throttled, template="tipline/throttled.html"):
    context = {"minutes": exc.minutes, "seconds": exc.retry_after}
    response = render(request, template, context, status=429)
    response["Retry-After"] = str(exc.retry_after)
    return response


def _typed_report_form(request) -> ReportForm:
    """An unbound report form holding what the citizen typed (files must be chosen again)."""
    typed = {
        name: request.POST.get(name, "")
        for name in (*ReportForm.base_fields, submissions.FIELD)
        if name != "homepage"
    }
    return ReportForm(initial=typed)


def _report_throttled(request, exc: throttle.Throttled):
    """The report form again, with what the citizen typed and how long to wait: nothing of it
    is validated, decoded or stored."""
    context = {
        "form": _typed_report_form(request),
        "minutes": exc.minutes,
        "seconds": exc.retry_after,
        "throttled": True,
    }
    response = render(request, "tipline/report_form.html", context, status=429)
    response["Retry-After"] = str(exc.retry_after)
    return response


def _report_storage_full(request, exc):
    """The evidence disk is full, or the object storage does not answer: nothing was filed (no
    row, no file). The form again with what was typed, offering to send it without the files
    now (the token is unspent)."""
    unreachable = outage.storage_unreachable(exc)
    context = {
        "form": _typed_report_form(request),
        "storage_full": True,
        "storage_unreachable": unreachable,
    }
    response = render(
        request, "tipline/report_form.html", context, status=503 if unreachable else 507
    )
    if unreachable:
        response["Retry-After"] = str(outage.RETRY_AFTER_SECONDS)
    return response


def _already_received(request, at):
    """The same report form posted again (a reload, a double tap): it was filed the first time.
    The receipt is not shown again: it exists nowhere but on the page the first post returned."""
    return render(request, "tipline/already_received.html", {"at": at}, status=409)


@require_GET
def home(request):
    townships = Township.objects.filter(active=True).select_related("county")
    # The amounts the reward policy in force states (registered by the rewards app).
    context = {"townships": townships, "reward_terms": extensions.reward_terms()}
    return render(request, "tipline/home.html", context)


@never_cache
@require_http_methods(["GET", "POST"])
@sensitive_post_parameters()
def report(request):
    if request.method == "GET":
        return render(request, "tipline/report_form.html", {"form": ReportForm()})
    # The same form again (a reload of the receipt page): told so at once, before the attempt
    # counts, so reloading never throttles anyone. One indexed look-up, nothing decoded.
    token = submissions.valid(request.POST.get(submissions.FIELD))
    if at := submissions.spent_at(token):
        return _already_received(request, at)
    try:
        # Counted before anything else of the request is looked at, valid or not.
        throttle.admit_report_attempt(request.client_bucket)
    except throttle.Throttled as exc:
        return _report_throttled(request, exc)
    form = ReportForm(request.POST, request.FILES)
    if not form.is_valid():
        return render(request, "tipline/report_form.html", {"form": form}, status=400)
    # The same report again from this browser (Back after filing, then Send): answered as a
    # reload is, before it counts as a filing.
    if at := resubmission.filed_at(
        request, form.cleaned_data["category"], form.cleaned_data["description"]
    ):
        return _already_received(request, at)
    try:
        throttle.admit_filing(request.client_bucket)
    except throttle.Throttled as exc:
        return _report_throttled(request, exc)
    try:
        report, receipt = services.create_report(
            form.to_input(),
            channel=Channel.WEB,
            files=form.cleaned_data.get("evidence", []),
            submission=token,
        )
    except submissions.AlreadySubmitted as exc:  # a parallel post of the same form won
        return _already_received(request, exc.at)
    except OSError as exc:
        if not outage.cannot_store_files(exc):
            raise
        log.warning("evidence storage cannot take files", extra={"error": type(exc).__name__})
        return _report_storage_full(request, exc)
    # Rendered straight from the POST, never redirected: the receipt exists only in this response.
    response = render(
        request,
        "tipline/receipt_issued.html",
        {
            "receipt": receipt,
            "grouped": receipts.grouped(receipt),
            "report": report,
            "next_steps": services.next_steps(report),  # when to come back
        },
    )
    resubmission.remember(
        request, response, report.category, report.description, report.received_at
    )
    return response


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


def _status_page(
    request, report, receipt, followup_form=None, status=200, added=False, already=False
):
    context = {
        "view": services.reporter_view(report),
        "next_steps": services.next_steps(report),
        "followup_form": followup_form or FollowUpForm(initial={"receipt": receipt}),
        "receipt": receipt,
        "added": added,
        "already_added": already,
        "closed_message": None if report.open_to_reporter else services.closed_message(report),
        # Blocks the layers above own (e.g. the reward), registered in tipline.extensions.
        "sections": extensions.status_sections(request, report, receipt),
    }
    return render(request, "tipline/receipt_status.html", context, status=status)


FOLLOW_UP = "add"  # the value of the "action" field of the follow-up form


@never_cache
@require_http_methods(["GET", "POST"])
@sensitive_post_parameters()
def receipt_status(request):
    """The receipt page. The follow-up form posts here too, so after adding information the
    address bar shows this page, which a reload or a bookmark opens again."""
    if request.method == "GET":
        return render(request, "tipline/receipt_lookup.html", {"form": ReceiptForm()})
    if request.POST.get("action") == FOLLOW_UP:
        return _followup(request)
    form = ReceiptForm(request.POST)
    report, response = _find(request, form)
    if response:
        return response
    return _status_page(request, report, form.cleaned_data["receipt"])


@never_cache
@require_http_methods(["GET", "POST"])
@sensitive_post_parameters()
def receipt_followup(request):
    """Follow-ups from status pages rendered before they posted to /receipt/ (still open in a
    tab); opened directly (a bookmark, the back button) it goes to the receipt page."""
    if request.method == "GET":
        return redirect("tipline:receipt")
    return _followup(request)


def _followup(request):
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
    token = form.submission()
    if submissions.spent_at(token):
        return _status_page(request, report, receipt, already=True)
    if not report.open_to_reporter:
        return _status_page(request, report, receipt, status=400)
    if not form.is_valid():
        return _status_page(request, report, receipt, followup_form=form, status=400)
    try:
        services.add_reporter_followup(
            report,
            form.cleaned_data["body"].strip(),
            form.cleaned_data.get("evidence", []),
            submission=token,
        )
    except submissions.AlreadySubmitted:
        return _status_page(request, report, receipt, already=True)
    except services.ReportClosed:  # closed meanwhile
        report.refresh_from_db()
        return _status_page(request, report, receipt, status=400)
    except services.EvidenceLimitReached as exc:
        form.add_error("evidence", str(exc))
        return _status_page(request, report, receipt, followup_form=form, status=400)
    except OSError as exc:
        if not outage.cannot_store_files(exc):
            raise
        log.warning("evidence storage cannot take files", extra={"error": type(exc).__name__})
        form.add_error("evidence", outage.storage_full_message(exc))
        status = 503 if outage.storage_unreachable(exc) else 507
        return _status_page(request, report, receipt, followup_form=form, status=status)
    return _status_page(request, report, receipt, added=True)


@never_cache
@require_http_methods(["GET", "POST"])
@sensitive_post_parameters()
def receipt_download(request):
    """The signed receipt file: proves when the report was received (the first reporter wins).
    Opened directly (a bookmark, a reload after the download) it goes to the receipt page."""
    if request.method == "GET":
        return redirect("tipline:receipt")
    form = ReceiptForm(request.POST)
    report, response = _find(request, form)
    if response:
        return response
    text = receipts.receipt_file(
        form.cleaned_data["receipt"], report.received_at, verify_url=_verify_url(request)
    )
    response = HttpResponse(text, content_type="text/plain; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="tipline-receipt.txt"'
    return response


@lru_cache(maxsize=1)
def _favicon() -> bytes:
    return Path(finders.find("favicon.ico")).read_bytes()


@require_GET
def favicon(request):
    response = HttpResponse(_favicon(), content_type="image/vnd.microsoft.icon")
    response["Cache-Control"] = "public, max-age=604800"
    return response


@require_GET
def receipt_public_key(request):
    return HttpResponse(get_keyring().public_key_pem(), content_type="text/plain; charset=utf-8")


def _verify_url(request) -> str:
    return request.build_absolute_uri(reverse("tipline:verify"))


@never_cache
@require_http_methods(["GET", "POST"])
def verify_info(request):
    """Check a receipt file: uploaded (or pasted), checked in memory against the public key,
    never stored; then how the check works, for those who want to do it themselves."""
    form = VerifyForm(request.POST, request.FILES) if request.method == "POST" else VerifyForm()
    result, status = None, 200
    if request.method == "POST":
        if form.is_valid():
            result = receipts.verify_receipt_file(
                form.receipt_text(), get_keyring().public_key_pem()
            )
            result = {"valid": result is not None, "received_at": result and result[1]}
        status = 200 if result and result["valid"] else 400
    return render(
        request,
        "tipline/verify.html",
        {
            "form": form,
            "result": result,
            "public_key": get_keyring().public_key_pem(),
            "digits": settings.TIPLINE_RECEIPT_DIGITS,
        },
        status=status,
    )
