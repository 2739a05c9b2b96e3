"""Assessment pages: the county ranking with its chart, a township's drill-down, exports,
quota settings and freezing; the repeat-suggestion and falsification actions of the report and
case pages. Every figure comes from report.assessment (the same as assessment_report prints)."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import Subquery
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from org.models import County, Township
from org.scope import OutOfScope, townships_for

from .. import access, audit
from ..audit_catalogue import Action
from ..decorators import perm_required
from ..errors import NotAllowed
from ..forms import OpenCaseForm
from ..models import Case
from ..states import PERM_TRIAGE
from ..views.common import attempt, file_response, form_errors
from ..views.triage import report_context
from . import (
    chart,
    exports,
    inputs,
    inspections,
    notes,
    report,
    services,
    sheet,
    sheet_detail,
    triage,
)
from .forms import (
    AdjustmentForm,
    FalsifyForm,
    FreezeForm,
    QuotaForm,
    RepeatReasonForm,
    RoundForm,
    TemplateForm,
)
from .models import (
    AssessmentFreeze,
    InspectionEntry,
    InspectionRound,
    SheetAdjustment,
    SheetEvidence,
    TownshipQuota,
)

PERM_VIEW = "assessment.view_assessment"


def _year(request) -> int:
    raw = request.POST.get("year") or request.GET.get("year") or ""
    try:
        year = int(raw)
    except ValueError:
        return timezone.localdate().year
    return year if services.MIN_YEAR <= year <= services.MAX_YEAR else timezone.localdate().year


def _county(request) -> County:
    """The user's county (a superuser may pick one with ?county=CODE)."""
    counties = County.objects.filter(townships__in=townships_for(request.user)).distinct()
    code = request.POST.get("county") or request.GET.get("county")
    county = (counties.filter(code=code) if code else counties).order_by("code").first()
    if county is None:
        raise Http404
    return county


def _require_county_staff(user, county) -> None:
    """Quotas and freezing: 404 outside the county, 403 for its township staff."""
    try:
        services.require_county(user, county.pk)
    except OutOfScope:
        raise Http404 from None
    except NotAllowed:
        raise PermissionDenied from None


def _is_county_staff(user, county) -> bool:
    try:
        services.require_county(user, county.pk)
    except (OutOfScope, NotAllowed):
        return False
    return True


def _link(name, county, year, **kwargs) -> str:
    return f"{reverse(name, kwargs=kwargs)}?{urlencode({'county': county.code, 'year': year})}"


def _visible(request, county, year) -> report.Assessment:
    codes = townships_for(request.user).filter(county=county).values_list("code", flat=True)
    return report.cached(county, year).only(list(codes))


def _county_townships(request) -> tuple[County, list[Township]]:
    """The user's county (as _county) and the townships of it they see, in one query."""
    user = request.user
    counties = County.objects.filter(townships__in=townships_for(user))
    code = request.POST.get("county") or request.GET.get("county")
    if code:
        counties = counties.filter(code=code)
    chosen = counties.order_by("code").values("pk")[:1]
    visible = list(
        townships_for(user)
        .filter(county_id=Subquery(chosen))
        .select_related("county")
        .order_by("code")
    )
    if not visible:
        raise Http404
    return visible[0].county, visible


def _deducted(row) -> float:
    return row["repeat_deduction"] + row["falsified_deduction"] + row["shortfall_deduction"]


@perm_required(PERM_VIEW)
def county_page(request):
    user = request.user
    (county, visible), year = _county_townships(request), _year(request)
    result = report.cached(county, year).only([t.code for t in visible])
    county_staff = _is_county_staff(user, county)
    live = {r["township"]: r for r in result.live}
    overrides = triage.overridden(visible, *inputs.year_bounds(year))
    rows = [
        {
            "row": r,
            "diff": result.differences.get(r["township"], {}),
            "deducted": _deducted(r),
            "deducted_today": _deducted(live.get(r["township"], r)),
            "live": live.get(r["township"], r),
        }
        for r in result.rows
    ]
    context = {
        "county": county,
        "year": year,
        "result": result,
        "rows": rows,
        "chart": chart.layout([r for r in result.rows if r["quota_set"]]),
        "unranked": [r["name"] for r in result.rows if not r["quota_set"]],
        # New cases opened although a repeat was suggested, per township, for review.
        "overrides": [(t, overrides[t.code]) for t in visible if t.code in overrides],
        "can_freeze": county_staff
        and user.has_perm(services.PERM_FREEZE)
        and not result.frozen
        and year <= timezone.localdate().year,
        "can_set_quotas": county_staff and user.has_perm(services.PERM_QUOTA),
        "can_edit_template": county_staff and user.has_perm(inspections.PERM_TEMPLATE),
        "freeze_form": FreezeForm(initial={"year": year}),
        "query": urlencode({"county": county.code, "year": year}),
        "years": (year - 1, year + 1),
    }
    return render(request, "assessment/county.html", context)


@perm_required(PERM_VIEW)
def township_page(request, code):
    township = townships_for(request.user).filter(code=code).select_related("county").first()
    if township is None:
        raise Http404
    county, year = township.county, _year(request)
    result = report.cached(county, year).only([code])
    row = (result.rows or result.added or [None])[0]
    if row is None:
        raise Http404
    live = next((r for r in result.live if r["township"] == code), row)
    numbers = {d["case"] for d in row["deductions"] if d["case"]}
    numbers |= {m["case"] for m in row["missing"]} | {m["case"] for m in live["missing"]}
    case_ids = dict(
        Case.objects.filter(township=township, number__in=numbers).values_list("number", "pk")
    )
    context = {
        "township": township,
        "county": county,
        "year": year,
        "result": result,
        "row": row,
        "live": live,
        "diff": result.differences.get(code, {}),
        "deductions": [{**d, "case_pk": case_ids.get(d["case"])} for d in row["deductions"]],
        "missing": [{**m, "case_pk": case_ids.get(m["case"])} for m in row["missing"]],
        "query": urlencode({"county": county.code, "year": year}),
        "notes": notes.interpretations(),
        "sections": sheet_detail.sections(row, township, year),
        "adjustments": sheet_detail.adjustments(row, township, year),
        "can_inspect": request.user.has_perm(inspections.PERM_INSPECT)
        and _is_county_staff(request.user, county)
        and not result.frozen,
    }
    return render(request, "assessment/township.html", context)


@perm_required(PERM_VIEW)
def export(request, fmt):
    county, year = _county(request), _year(request)
    result = _visible(request, county, year)
    audit.record(
        request.user,
        Action.ASSESSMENT_EXPORTED,
        county,
        year=year,
        format=fmt,
        frozen=result.frozen,
        townships=[r["township"] for r in result.rows],
    )
    name = f"assessment-{county.code}-{year}"
    if fmt == "xlsx":
        response = HttpResponse(
            exports.to_xlsx(result.rows, f"{county.code}-{year}"),
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
    else:
        response = HttpResponse(
            exports.to_csv(result.rows).encode("utf-8-sig"), content_type="text/csv; charset=utf-8"
        )
    response["Content-Disposition"] = f'attachment; filename="{name}.{fmt}"'
    response["Cache-Control"] = "no-store"
    return response


@perm_required(services.PERM_QUOTA)
def settings_page(request):
    user = request.user
    county, year = _county(request), _year(request)
    _require_county_staff(user, county)
    townships = list(Township.objects.filter(county=county).order_by("code"))
    quotas = dict(
        TownshipQuota.objects.filter(township__county=county, year=year).values_list(
            "township_id", "quota"
        )
    )
    form = QuotaForm(request.POST or None, townships=townships, quotas=quotas)
    if request.method == "POST":
        if form.is_valid():
            done = attempt(
                request,
                services.set_quotas,
                county.pk,
                year,
                form.quotas(),
                user,
                success=lambda n: _("Quotas saved (%(n)d changed).") % {"n": n},
            )
            if done is not None:
                return redirect(_link("staff:assessment_settings", county, year))
        else:
            form_errors(request, form)
    context = {"county": county, "year": year, "form": form, "years": (year - 1, year + 1)}
    return render(request, "assessment/settings.html", context, status=400 if form.errors else 200)


@require_POST
@perm_required(services.PERM_FREEZE)
def freeze(request):
    county = _county(request)
    _require_county_staff(request.user, county)
    form = FreezeForm(request.POST)
    if not form.is_valid():
        form_errors(request, form)
        return redirect(_link("staff:assessment", county, _year(request)))
    year = form.cleaned_data["year"]
    attempt(
        request,
        services.freeze_year,
        county.pk,
        year,
        request.user,
        success=_("The assessment of %(year)d is frozen.") % {"year": year},
    )
    return redirect(_link("staff:assessment", county, year))


@require_POST
@perm_required("casework.triage_report")
def report_open_case(request, pk):
    """受理 with a new case, from the report page: the assessment's rule that a report the system
    suggests as a repeat needs a reason (triage.open_case) stands in front of the core's
    open_case, so the view that asks for the reason is the assessment's."""
    report = access.get_report(request.user, pk, perm="casework.triage_report")
    form = OpenCaseForm(request.POST)
    why = RepeatReasonForm(request.POST)
    if not (form.is_valid() and why.is_valid()):
        form_errors(request, form)
        form_errors(request, why)
        return redirect("staff:report", pk=report.pk)
    try:
        case = attempt(
            request,
            triage.open_case,
            report.pk,
            request.user,
            title=form.cleaned_data["title"],
            involves_birth_permit=form.cleaned_data["involves_birth_permit"],
            repeat_reason=why.cleaned_data["repeat_reason"],
            repeat_note=why.cleaned_data["repeat_note"],
            success=lambda c: _("Case %(number)s opened.") % {"number": c.number},
            show_at_field=(triage.RepeatReasonRequired,),
        )
    except triage.RepeatReasonRequired as exc:
        # The page again, with what was typed and the error at its field: nothing changed.
        why.add_error(exc.field, str(exc))
        context = report_context(request, report, open_form=form, repeat_form=why)
        return render(request, "casework/report_detail.html", context, status=400)
    if case is None:
        return redirect("staff:report", pk=report.pk)
    return redirect("staff:case", pk=case.pk)


@require_POST
@perm_required(PERM_TRIAGE)
def dismiss_repeat(request, pk, case_pk):
    rep = access.get_report(request.user, pk, perm=PERM_TRIAGE)
    attempt(
        request,
        services.dismiss_suggestion,
        rep.pk,
        case_pk,
        request.user,
        success=_("The suggestion was dismissed."),
    )
    return redirect("staff:report", pk=rep.pk)


@require_POST
@perm_required(services.PERM_FALSIFY)
def falsify(request, pk):
    case = access.get_case(request.user, pk, perm=services.PERM_FALSIFY)
    form = FalsifyForm(request.POST, request.FILES)
    if form.is_valid():
        attempt(
            request,
            services.mark_falsified,
            case.pk,
            request.user,
            form.cleaned_data["reason"],
            form.cleaned_data["file"],
            form.cleaned_data["title"],
            success=_("The case is marked as falsified (弄虚作假)."),
        )
    else:
        form_errors(request, form)
    return redirect("staff:case", pk=case.pk)


# --- the 1000-point sheet: entries, adjustments, evidence, template --------------------------


def _inspectable(request, code) -> Township:
    """A township the inspector may enter: of their county (404 outside it, 403 for township
    staff, who only read their own sheet)."""
    township = Township.objects.filter(code=code).select_related("county").first()
    if township is None or not townships_for(request.user).filter(pk=township.pk).exists():
        raise Http404
    _require_county_staff(request.user, township.county)
    return township


def _round(request) -> str:
    value = request.POST.get("round") or request.GET.get("round") or sheet.Q2
    return value if value in sheet.ROUND_ORDER else sheet.Q2


def _entry_page(request, township, year, round_, form, adjustment_form, status=200):
    current = {
        e.item.code: e
        for e in InspectionEntry.objects.filter(
            township=township, item__year=year, round=round_
        ).select_related("item")
    }
    if form is None:
        form = RoundForm(items=inputs.template(township.county, year), current=current)
    frozen = AssessmentFreeze.objects.filter(county=township.county, year=year).exists()
    context = {
        "township": township,
        "county": township.county,
        "year": year,
        "round": round_,
        "rounds": InspectionRound.choices,
        "form": form,
        "adjustment_form": adjustment_form or AdjustmentForm(),
        "frozen": frozen,
        "query": urlencode({"county": township.county.code, "year": year}),
    }
    return render(request, "assessment/inspect.html", context, status=status)


@perm_required(inspections.PERM_INSPECT)
def inspect(request, code):
    """督查录入: the inspector's points of one township for one round (GET the form, POST it)."""
    township = _inspectable(request, code)
    year, round_ = _year(request), _round(request)
    if request.method != "POST":
        return _entry_page(request, township, year, round_, None, None)
    items = inputs.template(township.county, year)
    form = RoundForm(request.POST, request.FILES, items=items)
    if form.is_valid():
        try:
            saved = attempt(
                request,
                inspections.enter_round,
                township.pk,
                year,
                round_,
                form.values(),
                request.user,
                success=lambda rows: _("%(n)d items saved.") % {"n": len(rows)},
                show_at_field=(inspections.EntryRefused,),
            )
        except inspections.EntryRefused as exc:
            if exc.field in form.fields:
                form.add_error(exc.field, str(exc))
            else:
                form.add_error(None, str(exc))
            saved = None
        if saved is not None:
            return redirect(
                f"{reverse('staff:assessment_inspect', kwargs={'code': code})}?"
                + urlencode({"year": year, "round": round_})
            )
    if not form.errors:
        return redirect(
            f"{reverse('staff:assessment_inspect', kwargs={'code': code})}?"
            + urlencode({"year": year, "round": round_})
        )
    return _entry_page(request, township, year, round_, form, None, status=400)


@require_POST
@perm_required(inspections.PERM_INSPECT)
def add_adjustment(request, code):
    township = _inspectable(request, code)
    year, round_ = _year(request), _round(request)
    form = AdjustmentForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            done = attempt(
                request,
                inspections.add_adjustment,
                township.pk,
                year,
                form.cleaned_data["kind"],
                form.cleaned_data["date"],
                form.cleaned_data["note"],
                form.cleaned_data["files"],
                request.user,
                success=_("Saved on the sheet."),
                show_at_field=(inspections.EntryRefused,),
            )
        except inspections.EntryRefused as exc:
            form.add_error(exc.field if exc.field in form.fields else None, str(exc))
            done = None
        if done is not None or not form.errors:
            return redirect(
                f"{reverse('staff:assessment_inspect', kwargs={'code': code})}?"
                + urlencode({"year": year, "round": round_})
            )
    return _entry_page(request, township, year, round_, None, form, status=400)


@perm_required(PERM_VIEW)
def evidence(request, pk):
    """An inspection record, decrypted, for anyone who sees the township's sheet (audited)."""
    ev = (
        SheetEvidence.objects.filter(pk=pk)
        .select_related("entry__township", "adjustment__township")
        .first()
    )
    township = ev and (ev.entry.township if ev.entry_id else ev.adjustment.township)
    if township is None or not townships_for(request.user).filter(pk=township.pk).exists():
        raise Http404
    audit.record(request.user, Action.SHEET_EVIDENCE_VIEWED, ev, township=township.code)
    return file_response(ev, f"{township.code}-{str(ev.pk)[:8]}.{ev.extension}")


@perm_required(inspections.PERM_TEMPLATE)
def template_page(request):
    """The county's sheet of a year: each item's rule, maximum and scoring (before freezing)."""
    user = request.user
    county, year = _county(request), _year(request)
    _require_county_staff(user, county)
    items = inputs.template(county, year)
    form = TemplateForm(request.POST or None, items=items)
    if request.method == "POST":
        if form.is_valid():
            try:
                done = attempt(
                    request,
                    inspections.change_template,
                    county.pk,
                    year,
                    form.changes(),
                    user,
                    success=lambda n: _("Sheet saved (%(n)d items changed).") % {"n": n},
                    show_at_field=(inspections.EntryRefused,),
                )
            except inspections.EntryRefused as exc:
                form.add_error(exc.field if exc.field in form.fields else None, str(exc))
                done = None
            if done is not None or not form.errors:
                return redirect(_link("staff:assessment_template", county, year))
        else:
            form_errors(request, form)
    context = {
        "county": county,
        "year": year,
        "form": form,
        "total": sheet.template_max(items),
        "frozen": AssessmentFreeze.objects.filter(county=county, year=year).exists(),
        "years": (year - 1, year + 1),
    }
    return render(request, "assessment/template.html", context, status=400 if form.errors else 200)


@require_POST
@perm_required(inspections.PERM_INSPECT)
def withdraw_adjustment(request, pk):
    """An adjustment entered by mistake stops counting (kept on the sheet as withdrawn)."""
    row = SheetAdjustment.objects.filter(pk=pk).select_related("township__county").first()
    if row is None:
        raise Http404
    township = _inspectable(request, row.township.code)
    try:
        attempt(
            request,
            inspections.withdraw_adjustment,
            row.pk,
            request.POST.get("reason", ""),
            request.user,
            success=_("Withdrawn: it no longer counts."),
            show_at_field=(inspections.EntryRefused,),
        )
    except inspections.EntryRefused as exc:
        messages.error(request, str(exc))
    return redirect(
        _link("staff:assessment_township", township.county, row.year, code=township.code)
    )
