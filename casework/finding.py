"""Finding things on the staff lists: the search and filter forms of the report queue and the
case list, and what each filter means in SQL.

A form narrows the queryset it is given, which is the user's own scope (casework.access): no
filter widens what the user sees. Townships offered are the user's own (another id is a form
error), and a card's condition (?work=) is the one the staff home counts (casework.worklists).

Numbers are looked up exactly (case number, any case; the reference a staff member recorded
for a tip: call log number, letter number), never by receipt: the receipt is the reporter's
secret and only its hash is stored. Words are looked for in the report text (stored in plain
text): every word must appear, anywhere, in any case (PostgreSQL serves this from a trigram
index, see tipline migration 0006; SQLite scans).
"""

from datetime import date, datetime, time, timedelta

from django import forms
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from org import roles
from org.models import Township
from org.people import display_name
from org.scope import township_list, townships_for
from tipline.models import Report

from . import access, word_search, worklists
from .models import Case, IdentityRequest
from .select_widget import QuickSelect
from .states import State

MAX_WORDS = 5
NOBODY = "none"  # ?person=none: no investigator yet
ALL = "all"
# Dates a person may mean; beyond them a date is a typing slip (and 9999-12-31 has no next day).
EARLIEST, LATEST = date(2000, 1, 1), date(2099, 12, 31)


def _date_field(label):
    return forms.DateField(
        label=label,
        required=False,
        # ISO in the value: a type=date input drops anything else (e.g. 2026/12/07).
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )


def _likely_day(day: date | None) -> date | None:
    if day is not None and not EARLIEST <= day <= LATEST:
        raise ValidationError(
            _("Enter a date between %(first)s and %(last)s."),
            code="out_of_range",
            params={"first": EARLIEST.isoformat(), "last": LATEST.isoformat()},
        )
    return day


def _start_of(day: date) -> datetime:
    """Local midnight at the start of `day`, as an aware datetime."""
    return timezone.make_aware(datetime.combine(day, time.min))


def people_for(user):
    """Who may be a case's investigator (承办人) in the user's townships: investigators and
    supervisors of those townships and of their counties, former staff included (their cases
    stay findable)."""
    townships = townships_for(user)
    counties = Township.objects.filter(pk__in=townships.values("pk")).values("county_id")
    return (
        get_user_model()
        .objects.filter(groups__name__in=(roles.INVESTIGATOR, roles.SUPERVISOR))
        .filter(
            Q(staff_profile__unit__township__in=townships.values("pk"))
            | Q(
                staff_profile__unit__township__isnull=True,
                staff_profile__unit__county_id__in=counties,
            )
        )
        .distinct()
        .order_by("last_name", "first_name", "username")
    )


class ScopedSearchForm(forms.Form):
    """A staff list's search: the case number, and the township among the user's own. Bound
    to request.GET, always: an empty query is a valid one (the list's default)."""

    number = forms.CharField(
        label=_("Case number or reference"),
        required=False,
        max_length=100,
        help_text=_("The whole case number, or the call or letter number."),
    )
    # Options written in Python: a province's hundreds of townships (select_widget).
    township = forms.TypedChoiceField(
        label=_("Township"), coerce=int, required=False, widget=QuickSelect
    )

    def __init__(self, data, *, user, **kwargs):
        super().__init__(data, **kwargs)
        self.user = user
        # Read once, for the choices and to check the one chosen: the user's own townships.
        self.townships = {t.pk: t for t in township_list(user)}
        self.fields["township"].choices = [
            ("", _("All your townships")),
            *((pk, t.name) for pk, t in self.townships.items()),
        ]

    # Shown at once; the others under "More filters", open when one of them is used.
    FIRST = ("status", "state", "number", "words")

    def first_fields(self):
        return [self[name] for name in self.fields if name in self.FIRST]

    def more_fields(self):
        return [self[name] for name in self.fields if name not in self.FIRST]

    def more_in_use(self) -> bool:
        return any(self.data.get(f.name) or f.errors for f in self.more_fields())

    def clean_township(self):
        pk = self.cleaned_data["township"]
        return self.townships[pk] if pk not in ("", None) else None

    def clean_number(self):
        return self.cleaned_data["number"].strip()

    def in_township(self, queryset):
        if township := self.cleaned_data.get("township"):
            queryset = queryset.filter(township=township)
        return queryset


class ListSearchForm(ScopedSearchForm):
    """What the report queue and the case list share."""

    words = forms.CharField(label=_("Words in the report"), required=False, max_length=100)
    since = _date_field(_("From"))
    until = _date_field(_("Until"))
    overdue = forms.BooleanField(label=_("Overdue only"), required=False)

    def count_cap(self) -> int | None:
        """How far the list counts: a word search no further than casework.word_search's cap
        (a common word matches a sixth of a county's rows); else the lists' own (None)."""
        searched = self.is_valid() and self.cleaned_data.get("words")
        return word_search.COUNT_CAP if searched else None

    def clean_words(self):
        words = self.cleaned_data["words"].split()
        if len(words) > MAX_WORDS:
            raise ValidationError(
                _("At most %(n)d words, please."), code="too_many", params={"n": MAX_WORDS}
            )
        return words

    def clean_since(self):
        return _likely_day(self.cleaned_data.get("since"))

    def clean_until(self):
        return _likely_day(self.cleaned_data.get("until"))

    def clean(self):
        data = super().clean()
        since, until = data.get("since"), data.get("until")
        if since and until and since > until:
            self.add_error("until", _("The end date is before the start date."))
        return data

    # --- what each filter means ---------------------------------------------------------------

    def _dates(self, field: str) -> Q:
        q = Q()
        if since := self.cleaned_data.get("since"):
            q &= Q(**{f"{field}__gte": _start_of(since)})
        if until := self.cleaned_data.get("until"):
            q &= Q(**{f"{field}__lt": _start_of(until + timedelta(days=1))})
        return q

    def _common(self, queryset, *, date_field):
        return self.in_township(queryset).filter(self._dates(date_field))


def text_matches(words, field="description") -> Q:
    """Every word somewhere in the text, in any case."""
    q = Q()
    for word in words:
        q &= Q(**{f"{field}__icontains": word})
    return q


class ReportSearchForm(ListSearchForm):
    status = forms.ChoiceField(
        label=_("Status"),
        required=False,
        choices=[*Report.Status.choices, (ALL, _("All"))],
    )
    field_order = ["status", "number", "words", "township", "since", "until"]

    def __init__(self, data, **kwargs):
        super().__init__(data, **kwargs)
        self.fields["since"].label = _("Received from")
        self.fields["until"].label = _("Received until")
        self.fields["overdue"].label = _("Past the acceptance deadline")

    def chosen_status(self) -> str:
        return (self.cleaned_data.get("status") if self.is_valid() else "") or (
            Report.Status.RECEIVED
        )

    def apply(self, reports):
        data = self.cleaned_data
        status = self.chosen_status()
        if status != ALL:
            reports = reports.filter(status=status)
        if number := data["number"]:
            # The case looked up first: two indexed equalities, combined (no join).
            cases = list(Case.objects.filter(number=number.upper()).values_list("pk", flat=True))
            reports = reports.filter(Q(channel_reference=number) | Q(case_id__in=cases))
        if data["words"] and not word_search.planned(data["words"]):
            reports = reports.filter(text_matches(data["words"]))  # else in ids()
        if data["overdue"]:
            reports = reports.filter(worklists.reports_overdue(timezone.localdate()))
        return self._common(reports, date_field="received_at")

    def ids(self, reports, order):
        """The ids of `reports` (as apply() left them) in `order`, for the pager: with words
        that have them, the two plans of casework.word_search (counted up to its cap)."""
        words = self.cleaned_data.get("words") if self.is_valid() else None
        if not word_search.planned(words):
            return reports.order_by(*order).values_list("pk", flat=True)
        common, rare = word_search.plans(
            reports, words, text_matches(words), word_search.as_typed(words)
        )
        return word_search.Matches(common, rare, words, order)


class CaseSearchForm(ListSearchForm):
    state = forms.ChoiceField(
        label=_("State"),
        required=False,
        choices=[("", _("Open cases")), (ALL, _("All")), *State.choices],
    )
    work = forms.ChoiceField(label=_("Your work"), required=False)
    person = forms.ChoiceField(label=_("Investigator (承办人)"), required=False, widget=QuickSelect)
    field_order = ["state", "work", "number", "words", "township", "person", "since", "until"]

    def __init__(self, data, **kwargs):
        super().__init__(data, **kwargs)
        self.fields["since"].label = _("Opened from")
        self.fields["until"].label = _("Opened until")
        self.fields["work"].choices = [("", _("Any")), *self.work_choices()]
        self.fields["person"].choices = [
            ("", _("Anyone")),
            (NOBODY, _("Nobody yet")),
            *((str(p.pk), display_name(p)) for p in people_for(self.user)),
        ]

    def work_choices(self):
        labels = {
            "unassigned": _("Awaiting assignment"),
            "mine": _("Open cases assigned to you"),
            "awaiting_decision": _("Awaiting your approval (查处)"),
            "feedback": _("Reporters not yet told the outcome"),
            "to_archive": _("Decided, not yet archived"),
        }
        return [(name, labels[name]) for name in worklists.case_work(self.user)]

    def apply(self, cases):
        data = self.cleaned_data
        state = data["state"]
        if state in State.values:
            cases = cases.filter(state=state)
        elif state != ALL:
            cases = cases.exclude(state=State.ARCHIVED)
        if work := data["work"]:
            cases = cases.filter(
                worklists.work_filter(self.user, work, overdue_only=data["overdue"])
            )
        elif data["overdue"]:
            cases = cases.filter(worklists.overdue(timezone.localdate()))
        # Reports are looked for among the user's own: the subquery stays as narrow as the list.
        reports = access.reports_for(self.user).filter(case__isnull=False)
        if number := data["number"]:
            # Cases of reports recorded under that reference, looked up first: then two
            # indexed equalities, combined.
            linked = list(
                reports.filter(channel_reference=number).values_list("case_id", flat=True)
            )
            cases = cases.filter(Q(number=number.upper()) | Q(pk__in=linked))
        if data["words"]:
            cases = cases.filter(
                pk__in=reports.filter(text_matches(data["words"])).values("case_id")
            )
        if data["person"] == NOBODY:
            cases = cases.filter(investigator__isnull=True)
        elif data["person"]:
            cases = cases.filter(investigator_id=int(data["person"]))
        return self._common(cases, date_field="accepted_at")


class IdentitySearchForm(forms.Form):
    """Identity requests of one status (the custodian's card: the pending ones)."""

    status = forms.ChoiceField(
        label=_("Status"),
        required=False,
        choices=[("", _("All")), *IdentityRequest.Status.choices],
    )

    def apply(self, requests):
        if status := self.cleaned_data["status"]:
            requests = requests.filter(status=status)
        return requests


class AuditDayForm(forms.Form):
    """The audit log from one local day on (the auditor's card: today's entries)."""

    since = _date_field(_("From"))

    def clean_since(self):
        return _likely_day(self.cleaned_data.get("since"))

    def start(self):
        """The aware start of the day chosen, or None."""
        day = self.cleaned_data.get("since") if self.is_valid() else None
        return _start_of(day) if day else None
