"""Staff pages of rewards (/staff/rewards/): the list, a reward, approving, cancelling, the
payment page behind the step-up, the ledger and its exports, eligibility marks."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_GET, require_POST

from org.scope import OutOfScope, in_townships, township_ids, townships_for

from .. import access, audit
from ..audit_catalogue import Action, sentence
from ..decorators import perm_required
from ..models import AuditEntry
from ..views.common import (
    COUNT_CAP,
    PAGE_SIZE,
    CappedPaginator,
    attempt,
    form_errors,
    query_without_page,
)
from . import eligibility, ledger, listing, services, steps, stepup
from .forms import (
    ApproveForm,
    CancelForm,
    LedgerForm,
    MarksForm,
    PayForm,
    RewardSearchForm,
    StepUpForm,
)
from .models import Reward
from .states import (
    PERM_APPROVE,
    PERM_CANCEL,
    PERM_LEDGER,
    PERM_MARK,
    PERM_PAY,
    PERM_PROPOSE,
    PERM_VIEW,
    Method,
    RewardState,
)


def rewards_for(user):
    # The township ids in the query (none for a superuser): no subquery over the townships.
    return in_townships(Reward.objects.all(), user)


def get_reward(user, pk, *, perm: str | None = None) -> Reward:
    """404 outside the user's townships; 403 without the permission."""
    try:
        reward = (
            rewards_for(user)
            .select_related("case", "township", "report", "proposed_by", "approved_by")
            .get(pk=pk)
        )
    except (Reward.DoesNotExist, ValueError, TypeError):
        raise Http404 from None
    if perm and not user.has_perm(perm):
        raise PermissionDenied
    return reward


# Rows of the ledger's figures on a page.
LEDGER_ROWS = 100


def _back(reward):
    return reverse("staff:reward", kwargs={"pk": reward.pk})


class ListPaginator(CappedPaginator):
    """Pages of ``listing.ordered(…)``, counted on the plain ``rewards`` (the parts of the union
    are cut at the page, so counting the union would count only what the page needed)."""

    def __init__(self, object_list, per_page, *, counted):
        super().__init__(object_list, per_page)
        self.counted = counted

    @cached_property
    def count(self):
        return self.capped_count(self.counted.order_by()[: self.cap + 1].count())


def page_of_rewards(rewards, user, page, *, first=None):
    """The page ``page`` (the request's value, maybe junk) of ``rewards`` in ``user``'s order
    (listing); ``first``: the states first (default: what the user acts on)."""
    first = listing.acted_on(user) if first is None else first
    size = PAGE_SIZE
    try:
        number = max(1, int(page))
    except (TypeError, ValueError):
        number = 1
    # Each part is read no further than this page's end. A page past the end is shown as the
    # last one, which ends before.
    upto = min(number, COUNT_CAP // size + 1) * size
    paginator = ListPaginator(listing.ordered(rewards, first, upto=upto), size, counted=rewards)
    return paginator.get_page(page)


class CountedPaginator(Paginator):
    """Pages a queryset whose number of rows is known already (the ledger's rewards: the sum of
    its totals), without a COUNT query of its own."""

    capped = False

    def __init__(self, object_list, per_page, *, count: int):
        super().__init__(object_list, per_page)
        self.known = count

    @cached_property
    def count(self):
        return self.known


@perm_required(PERM_VIEW)
def reward_list(request):
    user = request.user
    form = RewardSearchForm(request.GET, user=user)
    rewards = rewards_for(user).select_related("case", "township")
    valid = form.is_valid()
    rewards = form.apply(rewards) if valid else rewards.none()
    # What this person acts on comes first, unless the search asks for one state.
    first = None if valid and not form.cleaned_data["state"] else []
    return render(
        request,
        "rewards/reward_list.html",
        {
            "page": page_of_rewards(rewards, user, request.GET.get("page"), first=first),
            "form": form,
            "query": query_without_page(request),
            "today": timezone.localdate(),
        },
        status=400 if form.errors else 200,
    )


def _history(reward):
    entries = AuditEntry.objects.filter(
        object_type="rewards.reward", object_id=str(reward.pk)
    ).select_related("actor")
    return [(e, sentence(e)) for e in entries]  # "刘建国 批准奖励": who did what


@perm_required(PERM_VIEW)
def reward_detail(request, pk):
    user = request.user
    reward = get_reward(user, pk)
    offered = {step.name: blocked for step, blocked in steps.offered(reward, user)}
    record = getattr(reward, "claim_record", None)
    context = {
        "reward": reward,
        "selection": eligibility.explain(reward.selection),
        "history": _history(reward),
        "offered": offered,
        "approve_form": ApproveForm(auto_id="id_approve_%s"),
        "cancel_form": CancelForm(auto_id="id_cancel_%s"),
        "claim": record,
        "payment": getattr(reward, "payment", None),
    }
    return render(request, "rewards/reward_detail.html", context)


@require_POST
@perm_required(PERM_APPROVE)
@sensitive_post_parameters("otp_code")
def reward_approve(request, pk):
    reward = get_reward(request.user, pk, perm=PERM_APPROVE)
    form = ApproveForm(request.POST)
    if not form.is_valid():
        form_errors(request, form)
        return redirect(_back(reward))
    attempt(
        request,
        services.approve,
        reward.pk,
        request.user,
        otp_code=form.cleaned_data["otp_code"],
        success=_("The reward is approved; the reporter sees the offer on their receipt page."),
    )
    return redirect(_back(reward))


@require_POST
@perm_required(PERM_CANCEL)
def reward_cancel(request, pk):
    reward = get_reward(request.user, pk, perm=PERM_CANCEL)
    form = CancelForm(request.POST)
    if not form.is_valid():
        form_errors(request, form)
        return redirect(_back(reward))
    attempt(
        request,
        services.cancel,
        reward.pk,
        request.user,
        form.cleaned_data["reason"],
        success=_("The reward was cancelled."),
    )
    return redirect(_back(reward))


def _no_store(response):
    response["Cache-Control"] = "no-store"
    return response


@never_cache
@require_GET
@perm_required(PERM_PAY)
def reward_payment(request, pk):
    """The only page that shows a claim's payee, after a fresh step-up; every view audited."""
    user = request.user
    reward = get_reward(user, pk, perm=PERM_PAY)
    context = {"reward": reward, "payment": getattr(reward, "payment", None)}
    if reward.state == RewardState.CLAIMED:
        if not stepup.is_fresh(user, reward):
            context["step_up_form"] = StepUpForm(auto_id="id_stepup_%s")
        else:
            try:
                context["payee"] = services.payee_details(reward.pk, user)
            except OutOfScope:
                raise Http404 from None
            except services.ServiceError as exc:
                messages.error(request, str(exc))
                return redirect(_back(reward))
            context["pay_form"] = PayForm(
                in_person=context["payee"]["method"] == Method.IN_PERSON, auto_id="id_pay_%s"
            )
            # Four eyes: the approver may not pay (the claim code is checked with the form).
            context["pay_blocked"] = next(
                (g.refused for g in steps.PAY.guards if not g.check(reward, user)), None
            )
    return _no_store(render(request, "rewards/reward_payment.html", context))


@require_POST
@perm_required(PERM_PAY)
@sensitive_post_parameters("otp_code")
def reward_step_up(request, pk):
    reward = get_reward(request.user, pk, perm=PERM_PAY)
    form = StepUpForm(request.POST)
    if not form.is_valid():
        form_errors(request, form)
    else:
        attempt(
            request,
            stepup.verify,
            request.user,
            reward.pk,
            form.cleaned_data["otp_code"],
            success=_("Confirmed: the payee is shown for the next few minutes."),
        )
    return redirect("staff:reward_payment", pk=reward.pk)


@require_POST
@perm_required(PERM_PAY)
@sensitive_post_parameters("claim_code")
def reward_pay(request, pk):
    reward = get_reward(request.user, pk, perm=PERM_PAY)
    record = getattr(reward, "claim_record", None)
    form = PayForm(request.POST, in_person=record is not None and record.method == Method.IN_PERSON)
    if not form.is_valid():
        form_errors(request, form)
        return redirect("staff:reward_payment", pk=reward.pk)
    payment = attempt(
        request,
        services.pay,
        reward.pk,
        request.user,
        voucher_number=form.cleaned_data["voucher_number"],
        paid_on=form.cleaned_data["paid_on"],
        claim_code=form.cleaned_data.get("claim_code") or None,
    )
    if payment is None:
        return redirect("staff:reward_payment", pk=reward.pk)
    if payment.already_paid:
        messages.warning(
            request,
            _(
                "This reward was already paid on %(date)s (voucher %(voucher)s). Nothing was "
                "changed."
            )
            % {"date": payment.paid_on, "voucher": payment.voucher_number},
        )
    else:
        messages.success(request, _("Payment recorded. The case is now 奖励."))
    return redirect(_back(reward))


def _year(request) -> int:
    form = LedgerForm(request.GET)
    year = form.cleaned_data.get("year") if form.is_valid() else None
    return year or timezone.localdate().year


@perm_required(PERM_LEDGER)
def reward_ledger(request):
    year = _year(request)
    townships = township_ids(request.user)  # None: every township, no filter
    # Grouped and totalled in SQL; the rows shown a page at a time (a province has thousands).
    figures = ledger.Figures(year, townships)
    rows = Paginator(figures, LEDGER_ROWS).get_page(request.GET.get("rows"))
    # The rewards a page at a time too, their number known from the totals (no COUNT).
    page = CountedPaginator(
        ledger.rewards_of(year, townships).select_related("township", "case", "payment"),
        PAGE_SIZE,
        count=figures.count,
    ).get_page(request.GET.get("page"))
    return render(
        request,
        "rewards/ledger.html",
        {
            "rows": rows.object_list,
            "rows_page": rows,
            "totals": figures.totals,
            "lines": ledger.labelled(rows.object_list),
            "total_lines": ledger.labelled_totals(figures.totals),
            "page": page,
            "rewards": ledger.labelled(ledger.detail(r) for r in page),
            "year": year,
            "form": LedgerForm(initial={"year": year}),
            # Each pager keeps the other's page.
            "query": f"rows={rows.number}" if rows.number > 1 else "",
            "rewards_page": page.number,
        },
    )


@never_cache
@perm_required(PERM_LEDGER)
def reward_ledger_export(request, fmt):
    year = _year(request)
    figures = ledger.build(year, townships_for(request.user))
    audit.record(
        request.user,
        Action.REWARD_LEDGER_EXPORTED,
        object_type="rewards.ledger",
        object_id=str(year),
        format=fmt,
        rows=len(figures.rows),
    )
    if fmt == "csv":
        response = HttpResponse(
            "\ufeff" + ledger.to_csv(figures), content_type="text/csv; charset=utf-8"
        )
    else:
        response = HttpResponse(
            ledger.to_xlsx(figures),
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
    response["Content-Disposition"] = f'attachment; filename="reward-ledger-{year}.{fmt}"'
    return response


@require_POST
@perm_required(PERM_PROPOSE)
def reward_propose(request, case_pk):
    case = access.get_case(request.user, case_pk, perm=PERM_PROPOSE)

    def done(reward):
        if reward is None:
            return _("No report of this case is eligible for a reward; the case page says why.")
        return _("A reward of %(amount)s yuan is proposed.") % {"amount": reward.amount}

    attempt(request, services.propose, case.pk, request.user, success=done)
    return redirect("staff:case", pk=case.pk)


@require_POST
@perm_required(PERM_MARK)
def report_marks(request, pk):
    report = access.get_report(request.user, pk, perm=PERM_MARK)
    form = MarksForm(request.POST, report=report)
    if not form.is_valid():
        form_errors(request, form)
        return redirect("staff:report", pk=report.pk)
    only = request.POST.get("only")
    if only in services.MARKS:
        # One mark set by its own button; one the form does not offer for this report (the
        # receipt of an online report) is asked of the service, which says why not.
        marks = {only: form.cleaned_data.get(only, True)}
    else:
        marks = {name: form.cleaned_data[name] for name in services.MARKS if name in form.fields}
    attempt(
        request,
        services.mark_report,
        report.pk,
        request.user,
        note=None if only else form.cleaned_data["note"],
        **marks,
        success=_("Saved. Marks bear on a reward proposed from now on."),
    )
    return redirect("staff:report", pk=report.pk)
