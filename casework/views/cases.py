"""Case list, case page, its actions, the case file and its printable index."""

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import Prefetch, prefetch_related_objects
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from org.scope import OutOfScope
from tipline.models import Report, ReporterIdentity

from .. import access, audit, casefile, finding, panels, rules, services, steps
from ..audit_catalogue import Action, sentence
from ..decorators import perm_required, staff_required
from ..forms import AssignForm, DocumentForm, ExtendForm, MessageForm, StepForm
from ..models import AuditEntry, Case, CaseDocument, DocumentType
from .common import attempt, file_response, form_errors, page_of, page_of_ids, query_without_page


def _by_state_only(form) -> bool:
    """The search asks for a state (or the open cases) and nothing else: each township's cases
    then come out of its list index in the list's order, and a county's list is merged from
    its townships' first rows (IdsFirstPaginator). Any other filter (words, a number, a person,
    dates, a card) may leave few rows of many, better found first and sorted."""
    return form.is_valid() and not any(v for k, v in form.cleaned_data.items() if k != "state")


@perm_required(access.READ_CASES)
def case_list(request):
    """Open cases by default, searched and filtered by casework.finding (?work= is a home
    card's own condition); bad input is shown at its field (400) with no rows."""
    form = finding.CaseSearchForm(request.GET, user=request.user)
    cases = access.cases_for(request.user)
    cases = form.apply(cases) if form.is_valid() else cases.none()
    # Sorted and paged on the bare cases (Meta.ordering, on the list indexes), a county's
    # township by township when only a state is asked for; the page's 50 are joined to
    # township, unit and investigator in the same query, after the LIMIT.
    by_township = access.cases_by_township(request.user) if _by_state_only(form) else []
    page = page_of_ids(
        request,
        cases,
        Case.objects.select_related("township", "unit", "investigator"),
        parts=[form.apply(c) for c in by_township],
        cap=form.count_cap(),
    )
    today = timezone.localdate()
    rows = [(case, case.overdue_flags(today)) for case in page]
    return render(
        request,
        "casework/case_list.html",
        {"page": page, "rows": rows, "form": form, "query": query_without_page(request)},
        status=400 if form.errors else 200,
    )


@perm_required(access.READ_CASES)
def file_scores(request):
    """Case-file completeness for supervisors: incomplete files first.

    Sorted and paginated in SQL on the stored count (Case.missing_documents); the checklist is
    computed only for the page's rows, whose documents are fetched in one query."""
    cases = (
        access.cases_for(request.user)
        .select_related("township")
        .order_by("-missing_documents", "number")
        .prefetch_related(
            Prefetch(
                "documents",
                queryset=CaseDocument.objects.only("id", "case_id", "doc_type_id", "uploaded_at"),
            )
        )
    )
    page = page_of(request, cases)
    doc_types = list(DocumentType.objects.all())
    rows = []
    for case in page:
        missing = casefile.missing_documents(case, doc_types)
        rows.append({"case": case, "missing": missing, "score": casefile.points(len(missing))})
    return render(request, "casework/file_scores.html", {"page": page, "rows": rows})


def _history(case):
    return AuditEntry.objects.filter(
        object_type="casework.case", object_id=str(case.pk)
    ).select_related("actor")


@staff_required
def case_detail(request, pk):
    return _case_page(request, access.get_case(request.user, pk))


def _case_page(request, case, *, step_forms=None, document_form=None, status=200):
    """The case page; a form sent back with errors (a step's, the document form) is shown as
    it was sent, with each error next to its field."""
    user = request.user
    step_forms = step_forms or {}
    doc_types = list(DocumentType.objects.all())
    # The case file, read once: the checklist, the steps' conditions and the outlook use it.
    prefetch_related_objects(
        [case], Prefetch("documents", queryset=CaseDocument.objects.select_related("doc_type"))
    )
    reports = list(Report.objects.filter(case=case).order_by("accepted_at"))
    with_identity = set(
        ReporterIdentity.objects.filter(report__in=reports).values_list("report_id", flat=True)
    )
    # The steps this user may take now or once something is done, with what still blocks each:
    # read from the same declarations the service enforces.
    offered = [
        {
            "step": step,
            "blocked": blocked,
            "form": step_forms.get(step.name)
            or StepForm(step=step, initial={"expected_state": case.state}),
        }
        for step, blocked in steps.offered(case, user)
    ]
    checklist = casefile.checklist(case, doc_types)
    missing = [row["type"] for row in checklist if row["missing"]]
    context = {
        "case": case,
        "reports": [(r, r.pk in with_identity) for r in reports],
        "history": [(e, sentence(e)) for e in _history(case)],
        "checklist": checklist,
        "missing": missing,
        "score": casefile.points(len(missing)),
        "flags": case.overdue_flags(),
        "deadlines": case.deadlines(),
        "extension_days": settings.TIPLINE_DEADLINES["extension"][0],
        "steps": [o for o in offered if not o["step"].decisive],
        "decisive_steps": [o for o in offered if o["step"].decisive],
        "outlook": steps.outlook(case, user),
        "assign_form": AssignForm(
            case=case,
            auto_id="id_assign_%s",
            initial={
                "expected_state": case.state,
                "unit": case.unit_id,
                "investigator": case.investigator_id,
            },
        ),
        "extend_form": ExtendForm(initial={"expected_state": case.state}, auto_id="id_extend_%s"),
        "document_form": document_form or DocumentForm(),
        "feedback_form": MessageForm(),
        "can_assign": rules.assign(user, case) is None,
        "can_extend": rules.extend(user, case) is None,
        "can_file": rules.file_document(user, case) is None,
        "can_feedback": rules.give_feedback(user, case) is None,
        # the assessment's and the reward's panels ("assessment", "reward_card")
        **panels.context(panels.CASE, case, user),
    }
    return render(request, "casework/case_detail.html", context, status=status)


def _back(case):
    return reverse("staff:case", kwargs={"pk": case.pk})


@require_POST
@staff_required
def case_transition(request, pk, name):
    """A step from the case page. A decisive step (查处, 查无实据, 移送) or one that cannot be
    undone (结案归档 seals the file) first shows what will happen and asks for confirmation;
    only the confirmation's own post takes it."""
    case = access.get_case(request.user, pk)
    step = steps.STEPS.get(name)
    if step is None or not step.by_hand:
        raise Http404
    if not access.can_write(request.user):
        raise PermissionDenied
    form = StepForm(request.POST, step=step)
    if not form.is_valid():
        return _case_page(request, case, step_forms={step.name: form}, status=400)
    if not request.user.has_perm(step.permission):
        raise PermissionDenied
    if form.cleaned_data["expected_state"] != case.state:
        messages.error(request, str(services.CaseChanged()))
        return redirect(_back(case))
    if step.asks_confirmation and not form.cleaned_data["confirmed"] and step.blocker(case) is None:
        return render(
            request,
            "casework/step_confirm.html",
            {
                "case": case,
                "step": step,
                "form": form,
                "summary": steps.summary(step, case),
                "values": [(form[n].label, form.cleaned_data[n]) for n in step.inputs],
            },
        )
    try:
        case = services.take_step(
            case.pk,
            request.user,
            step.name,
            expected_state=form.cleaned_data["expected_state"],
            **form.inputs(),
        )
    except services.NotAllowed:
        raise PermissionDenied from None
    except OutOfScope:
        raise Http404 from None
    except services.ServiceError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(
            request, _("The case is now: %(state)s.") % {"state": case.get_state_display()}
        )
    return redirect(_back(case))


@require_POST
@perm_required("casework.assign_case")
def case_assign(request, pk):
    case = access.get_case(request.user, pk, perm="casework.assign_case")
    form = AssignForm(request.POST, case=case)
    if not form.is_valid():
        form_errors(request, form)
        return redirect(_back(case))
    attempt(
        request,
        services.assign,
        case.pk,
        request.user,
        unit_id=form.cleaned_data["unit"].pk,
        investigator=form.cleaned_data["investigator"],
        expected_state=form.cleaned_data["expected_state"],
        success=_("Assignment saved."),
    )
    return redirect(_back(case))


@require_POST
@perm_required("casework.extend_deadline")
def case_extend(request, pk):
    case = access.get_case(request.user, pk, perm="casework.extend_deadline")
    form = ExtendForm(request.POST)
    if not form.is_valid():
        form_errors(request, form)
        return redirect(_back(case))
    attempt(
        request,
        services.extend_deadline,
        case.pk,
        request.user,
        form.cleaned_data["reason"],
        form.cleaned_data["expected_state"],
        success=lambda c: _("The decision deadline is now %(date)s.") % {"date": c.decision_due},
    )
    return redirect(_back(case))


@require_POST
@perm_required("casework.decide_case")
def case_feedback(request, pk):
    case = access.get_case(request.user, pk, perm="casework.decide_case")
    form = MessageForm(request.POST)
    if not form.is_valid():
        form_errors(request, form)
        return redirect(_back(case))
    attempt(
        request,
        services.give_feedback,
        case.pk,
        request.user,
        form.cleaned_data["body"],
        success=_("The reporters were told the outcome."),
    )
    return redirect(_back(case))


@require_POST
@perm_required("casework.investigate_case")
def document_upload(request, pk):
    case = access.get_case(request.user, pk, perm="casework.investigate_case")
    form = DocumentForm(request.POST, request.FILES)
    if not form.is_valid():
        return _case_page(request, case, document_form=form, status=400)
    doc = attempt(
        request,
        services.add_document,
        case.pk,
        request.user,
        form.cleaned_data["doc_type"],
        form.cleaned_data["file"],
        form.cleaned_data["title"],
        success=_("Document filed. What the case still needs is shown under “Next step”."),
    )
    # Straight to what the case still needs for its next step.
    return redirect(_back(case) + ("#outlook" if doc else ""))


@require_POST
@perm_required("casework.investigate_case")
def document_generate(request, pk):
    case = access.get_case(request.user, pk, perm="casework.investigate_case")
    attempt(
        request,
        services.generate_registration_form,
        case.pk,
        request.user,
        success=lambda doc: (
            _("Registration form generated (version %(n)d); it replaces any earlier version.")
            % {"n": doc.version}
            if doc.version > 1
            else _("Registration form generated.")
        ),
    )
    return redirect(_back(case) + "#casefile")


@staff_required
def document_download(request, pk, doc_pk):
    case = access.get_case(request.user, pk)
    doc = case.documents.filter(pk=doc_pk).select_related("doc_type").first()
    if doc is None:
        raise Http404
    audit.record(request.user, Action.DOCUMENT_VIEWED, case, document=str(doc.pk))
    return file_response(doc, f"{case.number}-{doc.doc_type.code}.{doc.extension}")


@staff_required
def case_index(request, pk):
    """Printable case-file index (目录)."""
    case = access.get_case(request.user, pk)
    rows = casefile.checklist(case)
    score = casefile.points(sum(1 for row in rows if row["missing"]))
    return render(
        request,
        "casework/case_index.html",
        {"case": case, "rows": rows, "score": score, "printed_at": timezone.now()},
    )
