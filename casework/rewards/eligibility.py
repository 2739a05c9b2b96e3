"""Who earns a case's reward: the first eligible report by the time it was received (首报).

The time a report really arrived decides who reported first: for a tip entered by staff, the
arrival time the clerk typed, not the time the clerk got round to accepting it. Equal times are
broken by the report's id (the order the system stored them).

A report is passed over when it was marked falsified, when its reporter was marked as staff of
the investigating units or as an involved party, or when the reporter has no way to claim (a tip
entered by staff whose receipt was never handed over). Later reports never earn a second reward;
one by the same reporter as the chosen report is recognised through the identity blind indexes
(phone, ID number), never by decrypting. Each verdict is a list of reason codes, stored with the
proposal and rendered in words when a supervisor reads it.
"""

from dataclasses import dataclass, field
from datetime import datetime

from django.utils.translation import gettext_lazy as _

from tipline.models import Channel, Report, ReporterIdentity

from .models import ReportEligibility

# Channels where staff took the tip: the receipt exists only if the clerk handed it over.
STAFF_CHANNELS = (Channel.PHONE, Channel.MAILBOX, Channel.LETTER, Channel.WALK_IN)

REASONS = {
    "chosen": _("Chosen: the first eligible report by the time it was received (首报)."),
    "falsified": _("Passed over: the report was found falsified."),
    "staff": _("Passed over: the reporter is staff of the investigating units."),
    "involved": _("Passed over: the reporter is an involved party."),
    "no_receipt": _(
        "Passed over: no way to claim (a tip entered by staff whose receipt was not handed to "
        "the reporter)."
    ),
    "same_reporter": _(
        "Passed over: the same reporter (recognised by phone or ID number) already holds the "
        "reward for this case through an earlier report."
    ),
    "later": _("Passed over: a later report; a case earns one reward, for its first report."),
}
EXCLUSIONS = ("falsified", "staff", "involved", "no_receipt")


@dataclass
class Verdict:
    report: Report
    reasons: list[str] = field(default_factory=list)

    @property
    def chosen(self) -> bool:
        return self.reasons == ["chosen"]

    def as_json(self) -> dict:
        return {
            "report": str(self.report.pk),
            "received_at": self.report.received_at.isoformat(),
            "accepted_at": self.report.accepted_at.isoformat() if self.report.accepted_at else "",
            "channel": self.report.channel,
            "reasons": self.reasons,
        }


def receipt_handed_by_staff(report: Report) -> bool:
    """A tip staff entered: its receipt reaches the reporter only if the clerk hands it over.
    An online report's receipt was shown to the reporter by the site itself."""
    return report.channel in STAFF_CHANNELS


def exclusions(report: Report, marks: ReportEligibility | None) -> list[str]:
    reasons = []
    if marks is not None:
        if marks.falsified:
            reasons.append("falsified")
        if marks.reporter_is_staff:
            reasons.append("staff")
        if marks.reporter_is_involved:
            reasons.append("involved")
    if receipt_handed_by_staff(report) and not (marks is not None and marks.receipt_issued):
        reasons.append("no_receipt")
    return reasons


def _indexes(identity: ReporterIdentity | None) -> set[tuple[str, str]]:
    if identity is None:
        return set()
    return {(k, v) for k, v in (("p", identity.phone_index), ("i", identity.id_number_index)) if v}


def assess(case) -> list[Verdict]:
    """Every accepted report of the case in the order received, with why it was chosen or not."""
    reports = list(
        Report.objects.filter(case=case, accepted_at__isnull=False).order_by("received_at", "pk")
    )
    marks = {m.report_id: m for m in ReportEligibility.objects.filter(report__in=reports)}
    identities = {i.report_id: i for i in ReporterIdentity.objects.filter(report__in=reports)}
    verdicts, chosen_indexes, chosen = [], set(), None
    for report in reports:
        verdict = Verdict(report, exclusions(report, marks.get(report.pk)))
        if not verdict.reasons:
            if chosen is None:
                chosen = verdict
                verdict.reasons = ["chosen"]
                chosen_indexes = _indexes(identities.get(report.pk))
            elif chosen_indexes & _indexes(identities.get(report.pk)):
                verdict.reasons = ["same_reporter"]
            else:
                verdict.reasons = ["later"]
        verdicts.append(verdict)
    return verdicts


def first_eligible(verdicts: list[Verdict]) -> Verdict | None:
    return next((v for v in verdicts if v.chosen), None)


def _moment(value: str) -> datetime | None:
    """A stored time (ISO, with its offset) as an aware datetime: pages show it local."""
    return datetime.fromisoformat(value) if value else None


def explain(selection: list[dict]) -> list[dict]:
    """The stored selection in words, for the reward page and the approval form; its times as
    datetimes (``received``, ``accepted``), which the templates show in local time."""
    return [
        {
            **item,
            "received": _moment(item.get("received_at", "")),
            "accepted": _moment(item.get("accepted_at", "")),
            "words": [str(REASONS.get(code, code)) for code in item["reasons"]],
        }
        for item in selection
    ]
