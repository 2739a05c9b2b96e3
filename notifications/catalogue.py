"""The kinds of event of the workflow, who hears of each, and what a notice may say of it.

Registered from the app config. A notice names a reference (a case number, the township and
date of a report) and links to the staff site; it never carries a reporter's identity, a
receipt, a subject's name or what a report says. Reporters hear only that there is news.
"""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from casework.models import Case, IdentityRequest
from casework.rewards.models import Reward
from casework.rewards.states import RewardState
from casework.steps import STEPS
from org import roles as role
from org.scope import staff_for_township
from tipline.models import Report

from . import deadline_scan, digest
from .models import Delivery
from .outbox import EMAIL, Kind, Recipient, object_left, register, reporters, roles
from .references import case_reference, report_reference

# --- what a notice may say of an event's object ---------------------------------------------------


def _case_context(case) -> dict:
    return {
        "reference": case_reference(case),
        "link": reverse("staff:case", args=[case.pk]),
        "due": case.next_due or "",
    }


def describe(event) -> dict:
    """Reference, link, township and due date of the event's object."""
    out = {"township": event.township.name if event.township_id else ""}
    kind, pk = event.object_type, event.object_id
    if kind == "tipline.report":
        report = Report.objects.filter(pk=pk).first()
        if report is not None:
            out["reference"] = report_reference(report)
            out["link"] = reverse("staff:report", args=[report.pk])
            out["due"] = report.acceptance_due or ""
    elif kind == "rewards.reward":
        # The case's reference, and the reward's own page: finance, who is told of claims,
        # opens rewards, not cases.
        reward = Reward.objects.select_related("case").filter(pk=pk).first()
        if reward is not None:
            out.update(_case_context(reward.case))
            out["link"] = reverse("staff:reward", args=[reward.pk])
    elif kind == "casework.case" or event.data.get("case"):
        case = Case.objects.filter(pk=pk if kind == "casework.case" else event.data["case"]).first()
        if case is not None:
            out.update(_case_context(case))
    elif kind == "casework.identityrequest":
        out["reference"] = _("identity request no. %(number)s") % {"number": pk}
        out["link"] = reverse("staff:identity_list")
    elif kind == "notifications.delivery":
        out["link"] = reverse("admin:notifications_delivery_changelist") + "?status__exact=failed"
    if event.data.get("due"):
        out["due"] = event.data["due"]
    rule = deadline_scan.RULES.get(event.data.get("deadline", ""))
    if rule is not None:
        out["deadline"] = rule.label
    return out


# --- recipients and relevance -------------------------------------------------------------------


def _report_still_received(event) -> bool:
    return Report.objects.filter(pk=event.object_id, status=Report.Status.RECEIVED).exists()


def _assigned_investigator(event):
    user = get_user_model().objects.filter(pk=event.data.get("investigator")).first()
    return [Recipient(user=user)] if user is not None else []


def _still_assigned(event) -> bool:
    return Case.objects.filter(
        pk=event.object_id, investigator_id=event.data.get("investigator")
    ).exists()


def _still_awaiting(event) -> bool:
    return Case.objects.filter(pk=event.object_id, state=event.data.get("state")).exists()


def _decided(events) -> set:
    """``done`` of "awaits your decision": the case has left the state it waited in."""
    states = dict(
        Case.objects.filter(pk__in={e.object_id for e in events}).values_list("pk", "state")
    )
    return {e.pk for e in events if states.get(int(e.object_id)) != e.data.get("state")}


_decided.bulk = True


def _awaiting_context(event) -> dict:
    names = [str(STEPS[n].label) for n in event.data.get("steps", []) if n in STEPS]
    return {"steps": "、".join(names)}


def _custodians(event):
    request = IdentityRequest.objects.filter(pk=event.object_id).first()
    if request is None or event.township_id is None:
        return []
    return [
        Recipient(user=u)
        for u in staff_for_township(event.township, role.CUSTODIAN)
        if u.pk != request.requested_by_id  # nobody decides on their own request
    ]


def _reward_approvers(event):
    """The supervisors who may approve the reward: not the one who proposed it (four eyes)."""
    reward = Reward.objects.filter(pk=event.object_id).only("proposed_by_id").first()
    if reward is None or event.township_id is None:
        return []
    return [
        Recipient(user=u)
        for u in staff_for_township(event.township, role.SUPERVISOR)
        if u.pk != reward.proposed_by_id
    ]


def _identity_pending(event) -> bool:
    return IdentityRequest.objects.filter(
        pk=event.object_id, status=IdentityRequest.Status.PENDING
    ).exists()


def _reporters(event):
    """The reporter of the report, or of every report of the case."""
    if event.object_type == "casework.case":
        ids = Report.objects.filter(case_id=event.object_id).values_list("pk", flat=True)
        return [Recipient(report_id=str(pk)) for pk in ids]
    return reporters(event)


def _reporter_context(event) -> dict:
    return {"receipt_url": settings.TIPLINE_SITE_URL + reverse("tipline:receipt")}


def _administrators(event):
    users = get_user_model().objects.filter(is_active=True, groups__name=role.ADMINISTRATOR)
    if event.township_id is not None:
        users = staff_for_township(event.township, role.ADMINISTRATOR)
    return [Recipient(user=u) for u in users]


def _failed_context(event) -> dict:
    return {
        "channel": Delivery.Channel(event.data.get("channel", "email")).label,
        "attempts": event.data.get("attempts", ""),
    }


# --- the kinds ----------------------------------------------------------------------------------

REPORTER_NEWS_TEXT = gettext_lazy(
    "Tipline: there is news about your report. Check it with your receipt at %(receipt_url)s"
)


def reporter_kind(name: str, label) -> Kind:
    """A reporter hears only that there is news, whatever the news."""
    return Kind(
        name=name,
        label=label,
        subject=gettext_lazy("News about your report"),
        body=REPORTER_NEWS_TEXT,
        recipients=_reporters,
        channels=(),
        inbox=False,
        for_reporters=True,
        context=_reporter_context,
    )


def register_all() -> None:
    register(
        Kind(
            name="report.received",
            label=gettext_lazy("A new report in my townships"),
            subject=gettext_lazy("New report awaiting review in %(township)s"),
            body=gettext_lazy(
                "A new report was received for %(township)s. Please review it by %(due)s "
                "(the acceptance deadline). For the reporter's safety, no details are sent "
                "outside the system."
            ),
            recipients=roles(role.CLERK),
            relevant=_report_still_received,
            done=object_left(Report, status=Report.Status.RECEIVED),  # accepted, rejected, linked
        )
    )
    register(
        Kind(
            name="case.assigned",
            label=gettext_lazy("A case assigned to me"),
            subject=gettext_lazy("You were assigned %(reference)s"),
            body=gettext_lazy(
                "You were assigned %(reference)s in %(township)s. Its next deadline is %(due)s."
            ),
            recipients=_assigned_investigator,
            relevant=_still_assigned,
        )
    )
    register(
        Kind(
            name="case.awaiting_approval",
            label=gettext_lazy("A case awaiting a supervisor's decision"),
            subject=gettext_lazy("%(reference)s awaits your decision"),
            body=gettext_lazy(
                "%(reference)s in %(township)s is ready for a supervisor's decision: %(steps)s."
            ),
            recipients=roles(role.SUPERVISOR),
            relevant=_still_awaiting,
            done=_decided,  # by anyone
            context=_awaiting_context,
        )
    )
    register(
        Kind(
            name="identity.requested",
            label=gettext_lazy("A request to see a reporter's identity"),
            subject=gettext_lazy("An identity request awaits your decision"),
            body=gettext_lazy(
                "A colleague asked to see the identity of a reporter in %(township)s "
                "(%(reference)s). Please decide on the request."
            ),
            recipients=_custodians,
            relevant=_identity_pending,
            done=object_left(IdentityRequest, status=IdentityRequest.Status.PENDING),
        )
    )
    register(reporter_kind("reporter.news", gettext_lazy("News for the reporter")))
    deadline_scan.register_kinds()
    digest.register_kind()
    register(
        Kind(
            name="notification.failed",
            label=gettext_lazy("A notification that could not be delivered"),
            subject=gettext_lazy("A notification could not be delivered"),
            body=gettext_lazy(
                "A notice by %(channel)s could not be delivered after %(attempts)s attempts. "
                "Administrators can send it again from the admin (notifications, failed)."
            ),
            recipients=_administrators,
            channels=(),  # the inbox only: e-mail may be what is failing
            context=_failed_context,
        )
    )
    # Rewards (casework.rewards) records these; see the README section on notifications.
    register(
        Kind(
            name="reward.proposed",
            label=gettext_lazy("A reward proposed for approval"),
            subject=gettext_lazy("Reward proposed for %(reference)s"),
            body=gettext_lazy(
                "A reward was proposed for %(reference)s in %(township)s and awaits approval."
            ),
            recipients=_reward_approvers,
            channels=(EMAIL,),
            done=object_left(Reward, state=RewardState.PROPOSED),  # approved or cancelled
        )
    )
    register(
        Kind(
            name="reward.claimed",
            label=gettext_lazy("A reward claimed, awaiting payment"),
            subject=gettext_lazy("Reward claimed for %(reference)s"),
            body=gettext_lazy(
                "The reward for %(reference)s in %(township)s was claimed and awaits payment."
            ),
            recipients=roles(role.FINANCE),
            channels=(EMAIL,),
            done=object_left(Reward, state=RewardState.CLAIMED),  # paid or cancelled
        )
    )
    register(reporter_kind("reward.offered", gettext_lazy("A reward offered to the reporter")))
    register(reporter_kind("reward.lapsing", gettext_lazy("A reward claim about to lapse")))
