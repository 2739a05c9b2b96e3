"""Intake triage: the queue of new reports, reject / open a case / link, staff-entered tips."""

from django.core.exceptions import PermissionDenied
from django.db.models import Count
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST

from org.scope import township_list, townships_for
from tipline import receipts, submissions
from tipline.models import Attachment, Report, ReporterIdentity

from .. import access, audit, finding, panels, rules, services, worklists
from ..audit_catalogue import Action
from ..decorators import perm_required, staff_required
from ..forms import (
    IdentityRequestForm,
    LinkForm,
    MessageForm,
    OpenCaseForm,
    RejectForm,
    StaffTipForm,
)
from .common import attempt, file_response, form_errors, page_of_ids, query_without_page


@staff_required
def home(request):
    """Each role's own work first, with counts (worklists), then what everyone sees."""
    counts = worklists.case_counts(request.user, access.cases_for(request.user))
    context = {
        "work": worklists.for_user(request.user, counts),
        "open_cases": counts["open"],
        "townships": township_list(request.user),
        **panels.context(panels.HOME, request.user),  # the rewards' counts ("reward_counts")
    }
    return render(request, "casework/home.html", context)


@perm_required(access.READ_REPORTS)
def queue(request):
    """Reports of one status (awaiting review by default), searched and filtered by
    casework.finding; bad input is shown at its field (400) with no rows."""
    form = finding.ReportSearchForm(request.GET, user=request.user)
    reports = access.reports_for(request.user)
    reports = form.apply(reports) if form.is_valid() else reports.none()
    # Sorted and paged on the bare rows (index: township, status, acceptance_due,
    # received_at); only the page's 50 are then read whole, with township and case, in the
    # same query. Every status at once: newest first (index: received_at).
    if form.chosen_status() == finding.ALL:
        order = ("-received_at", "pk")
    else:
        order = ("acceptance_due", "received_at")
    page = page_of_ids(
        request,
        form.ids(reports, order),
        Report.objects.select_related("township", "case"),
        cap=form.count_cap(),
    )
    # Attachments counted for the page's rows only: a Count() annotation grouped the whole
    # filtered set (and the paginator's COUNT wrapped that GROUP BY).
    counts = dict(
        Attachment.objects.filter(report__in=[r.pk for r in page])
        .order_by()
        .values_list("report")
        .annotate(n=Count("pk"))
    )
    for r in page:
        r.n_attachments = counts.get(r.pk, 0)
    return render(
        request,
        "casework/report_queue.html",
        {"page": page, "form": form, "query": query_without_page(request)},
        status=400 if form.errors else 200,
    )


@staff_required
def report_detail(request, pk):
    report = access.get_report(request.user, pk)
    return render(request, "casework/report_detail.html", report_context(request, report))


def report_context(request, report, **forms) -> dict:
    """The report page's context; ``forms`` replace the blank ones (a form shown again with
    what was typed and its errors, e.g. by the assessment's open-case view)."""
    # the assessment's repeat suggestions and reason form ("repeat", "repeat_form"), the
    # rewards' eligibility marks ("marks_form")
    extra = panels.context(panels.REPORT, report, request.user)
    return {
        "report": report,
        "attachments": report.attachments.all(),
        "messages_": report.messages.all(),
        "has_identity": ReporterIdentity.objects.filter(report=report).exists(),
        "reject_form": RejectForm(),
        "open_form": OpenCaseForm(),
        "link_form": LinkForm(report=report, suggested=panels.suggested_cases(extra)),
        "message_form": MessageForm(),
        "identity_form": IdentityRequestForm(),
        "my_requests": report.identity_requests.filter(requested_by=request.user),
        "can_message": rules.message_reporter(request.user) is None,
        **extra,
        **forms,
    }


@require_POST
@perm_required("casework.triage_report")
def report_reject(request, pk):
    report = access.get_report(request.user, pk, perm="casework.triage_report")
    form = RejectForm(request.POST)
    if not form.is_valid():
        form_errors(request, form)
        return redirect("staff:report", pk=report.pk)
    done = attempt(
        request,
        services.reject_report,
        report.pk,
        request.user,
        form.cleaned_data["reason"],
        form.cleaned_data["note"],
        success=_("The report was not accepted; the reporter will see the reason."),
    )
    return redirect("staff:queue") if done else redirect("staff:report", pk=report.pk)


@require_POST
@perm_required("casework.triage_report")
def report_link(request, pk):
    report = access.get_report(request.user, pk, perm="casework.triage_report")
    form = LinkForm(request.POST, report=report)
    if not form.is_valid():
        form_errors(request, form)
        return redirect("staff:report", pk=report.pk)
    case = access.get_case(request.user, form.cleaned_data["case"].pk)
    linked = attempt(
        request,
        services.link_report,
        report.pk,
        case.pk,
        request.user,
        success=_("The report was added to case %(number)s.") % {"number": case.number},
    )
    if linked is None:
        return redirect("staff:report", pk=report.pk)
    return redirect("staff:case", pk=case.pk)


@require_POST
@staff_required
def report_message(request, pk):
    """A question or note to the reporter: clerks ask for missing facts before accepting,
    investigators during the investigation."""
    report = access.get_report(request.user, pk)
    if rules.message_reporter(request.user) is not None:
        raise PermissionDenied
    form = MessageForm(request.POST)
    if not form.is_valid():
        form_errors(request, form)
        return redirect("staff:report", pk=report.pk)
    attempt(
        request,
        services.message_reporter,
        report.pk,
        request.user,
        form.cleaned_data["body"],
        success=_("Message sent. The reporter sees it with their receipt."),
    )
    return redirect("staff:report", pk=report.pk)


@staff_required
def attachment_download(request, pk, attachment_pk):
    report = access.get_report(request.user, pk)
    attachment = report.attachments.filter(pk=attachment_pk).first()
    if attachment is None:
        raise Http404
    audit.record(request.user, Action.ATTACHMENT_VIEWED, report, attachment=str(attachment.pk))
    return file_response(attachment, f"evidence-{str(attachment.pk)[:8]}.{attachment.extension}")


@never_cache
@perm_required("casework.triage_report")
@sensitive_post_parameters()
def staff_tip(request):
    """Register a tip from the reporting phone, mailbox, a letter or a walk-in."""
    townships = townships_for(request.user)
    form = StaffTipForm(request.POST or None, request.FILES or None, townships=townships)
    if request.method == "POST" and (at := submissions.spent_at(form.submission())):
        return render(request, "casework/staff_tip_again.html", {"at": at}, status=409)
    if request.method == "POST" and form.is_valid():
        try:
            report, receipt = services.register_staff_tip(
                request.user,
                form.to_input(),
                form.cleaned_data["channel"],
                files=form.cleaned_data.get("evidence", []),
                received_at=form.cleaned_data["received_at"],
                channel_reference=form.cleaned_data.get("channel_reference", ""),
                submission=form.submission(),
            )
        except submissions.AlreadySubmitted as exc:
            return render(request, "casework/staff_tip_again.html", {"at": exc.at}, status=409)
        return render(
            request,
            "casework/staff_tip_done.html",
            {"report": report, "grouped": receipts.grouped(receipt)},
        )
    return render(
        request, "casework/staff_tip.html", {"form": form}, status=400 if form.errors else 200
    )
